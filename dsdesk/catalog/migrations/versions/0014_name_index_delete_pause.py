"""item name index: a pause switch for the delete trigger, so a bulk delete rebuilds it once

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

Purging a million-item dataset spent about a third of its time in the FTS5 delete trigger
(one 'delete' command per row).  The trigger now stays quiet while
``item_name_fts_delete_pause`` has a row; ``dsdesk.catalog.bulkdelete`` sets it for a
delete of most of the table and rebuilds the index from the remaining rows before the
transaction commits.  A table of its own: the insert trigger's pause (0005) must never
silence deletes, or a delete inside a bulk insert would leave stale index rows.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | Sequence[str] | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE item_name_fts_delete_pause (k INTEGER PRIMARY KEY)")
    op.execute("DROP TRIGGER IF EXISTS item_name_fts_ad")
    op.execute("CREATE TRIGGER item_name_fts_ad AFTER DELETE ON item "
               "WHEN NOT EXISTS (SELECT 1 FROM item_name_fts_delete_pause) BEGIN "
               "INSERT INTO item_name_fts(item_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TRIGGER IF EXISTS item_name_fts_ad")
    op.execute("CREATE TRIGGER item_name_fts_ad AFTER DELETE ON item BEGIN "
               "INSERT INTO item_name_fts(item_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END")
    op.execute("DROP TABLE IF EXISTS item_name_fts_delete_pause")
