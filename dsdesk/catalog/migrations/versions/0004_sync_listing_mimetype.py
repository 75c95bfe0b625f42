"""sync_listing.mimetype: guessed from the key's name while staging

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

New blobs are inserted from the staged listing in one INSERT ... SELECT; the mimetype
(from the file name, as uploads do) has to be in the staged row for that.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_listing') as b:
        b.add_column(sa.Column('mimetype', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_listing') as b:
        b.drop_column('mimetype')
