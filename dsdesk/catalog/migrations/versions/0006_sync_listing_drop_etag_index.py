"""sync_listing: drop the (dataset_id, etag, size) index

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21

Every staged row paid for this index twice (insert, then the cleanup delete) while the
only query that groups by etag and size (rename pairing) reads the few rows of one run
and sorts them cheaply; at a million keys the index cost a tenth of the sync.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_sync_listing_etag', table_name='sync_listing')


def downgrade() -> None:
    op.create_index('ix_sync_listing_etag', 'sync_listing', ['dataset_id', 'etag', 'size'])
