"""item: a partial index of the hidden items, in the grid order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

``items.list(page_offset=9000)`` walked 9,000 keyset pages (1.5-2.9 s at 1M items); one
OFFSET over the unique (dataset_id, dir, name) index is 36 ms, but only when no table row
is read, and "hidden = false" needs the row.  Hidden items are few: this index holds only
them, so the walk can count all items from the index and correct for the hidden ones
before the position (see ``dsdesk.query.offsets``).  Tiny, and it costs nothing to the
inserts of visible items.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_item_hidden', 'item', ['dataset_id', 'dir', 'name', 'id'],
                    sqlite_where=sa.text('hidden = 1'), postgresql_where=sa.text('hidden'))


def downgrade() -> None:
    op.drop_index('ix_item_hidden', table_name='item')
