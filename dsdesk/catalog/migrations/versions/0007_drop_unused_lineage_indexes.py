"""item: drop the lineage indexes; blob: drop the (driver_id, etag, size) index

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21

No statement looks an item up by ``master_item_id`` or ``parent_item_id`` (merge groups
by ``COALESCE(master_item_id, id)``, which no plain index serves; the inspector follows
lineage by primary key), and no statement looks a blob up by etag (rename pairing reads
one dataset's vanished items and sorts them).  The three indexes were paid for on every
ingested and cloned row: about a third of a bulk ingest's time at a million items.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_item_master', table_name='item')
    op.drop_index('ix_item_parent', table_name='item')
    op.drop_index('ix_blob_etag_size', table_name='blob')


def downgrade() -> None:
    op.create_index('ix_blob_etag_size', 'blob', ['driver_id', 'etag', 'size'])
    op.create_index('ix_item_parent', 'item', ['parent_item_id'])
    op.create_index('ix_item_master', 'item', ['master_item_id'])
