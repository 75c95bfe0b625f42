"""item name substring search: FTS5 trigram (SQLite) / pg_trgm (PostgreSQL)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

The search bar's free text is a case-insensitive substring of item names; a plain LIKE
'%x%' scans every item.  SQLite gets an external-content FTS5 table with the trigram
tokenizer, kept in step with ``item`` by triggers (only a change of ``name`` touches
it); PostgreSQL gets a pg_trgm GIN index that serves ILIKE.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_UP = [
    "CREATE VIRTUAL TABLE item_name_fts USING fts5(name, content='item', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER item_name_fts_ai AFTER INSERT ON item BEGIN "
    "INSERT INTO item_name_fts(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER item_name_fts_ad AFTER DELETE ON item BEGIN "
    "INSERT INTO item_name_fts(item_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER item_name_fts_au AFTER UPDATE OF name ON item BEGIN "
    "INSERT INTO item_name_fts(item_name_fts, rowid, name) VALUES ('delete', old.id, old.name); "
    "INSERT INTO item_name_fts(rowid, name) VALUES (new.id, new.name); END",
    "INSERT INTO item_name_fts(item_name_fts) VALUES ('rebuild')",
]
_SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS item_name_fts_au",
    "DROP TRIGGER IF EXISTS item_name_fts_ad",
    "DROP TRIGGER IF EXISTS item_name_fts_ai",
    "DROP TABLE IF EXISTS item_name_fts",
]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in _SQLITE_UP:
            op.execute(stmt)
    elif bind.dialect.name == "postgresql":
        # CREATE EXTENSION needs a privileged role on some servers; without it the search
        # still works (ILIKE), only without the index, so a refusal must not fail the upgrade.
        sp = bind.begin_nested()
        try:
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
            sp.commit()
        except sa.exc.DBAPIError:
            sp.rollback()
        have = bind.execute(sa.text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first()
        if have:
            op.execute("CREATE INDEX IF NOT EXISTS ix_item_name_trgm ON item USING gin (name gin_trgm_ops)")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for stmt in _SQLITE_DOWN:
            op.execute(stmt)
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_item_name_trgm")
