"""item name index: a pause switch so bulk inserts index names in one statement

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21

The FTS5 trigger of 0002 indexes one name per inserted row; for bulk inserts (ingest,
sync, clone, merge, rollback) that costs ~6x what one set-based INSERT into the index
does afterwards.  The trigger now stays quiet while ``item_name_fts_pause`` has a row;
``dsdesk.catalog.namesearch.deferred_name_index`` sets it inside the bulk transaction
and indexes the new rows in one statement before the transaction commits.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE item_name_fts_pause (k INTEGER PRIMARY KEY)")
    op.execute("DROP TRIGGER IF EXISTS item_name_fts_ai")
    op.execute("CREATE TRIGGER item_name_fts_ai AFTER INSERT ON item "
               "WHEN NOT EXISTS (SELECT 1 FROM item_name_fts_pause) BEGIN "
               "INSERT INTO item_name_fts(rowid, name) VALUES (new.id, new.name); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS item_name_fts_ai")
    op.execute("CREATE TRIGGER item_name_fts_ai AFTER INSERT ON item BEGIN "
               "INSERT INTO item_name_fts(rowid, name) VALUES (new.id, new.name); END")
    op.execute("DROP TABLE IF EXISTS item_name_fts_pause")
