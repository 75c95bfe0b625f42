"""sync_listing: the item path a key maps to, and the reason a key was refused

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21

The reconcile step is set-based SQL (INSERT ... SELECT from the staged listing), so the
folder and name each key maps to are computed once in Python while staging and stored
beside the key; a key that cannot become an item (``..``, backslash, control characters)
keeps its reason in ``error`` so a resumed sync still reports it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sync_listing') as b:
        b.add_column(sa.Column('dir', sa.String(length=2048), nullable=True))
        b.add_column(sa.Column('name', sa.String(length=1024), nullable=True))
        b.add_column(sa.Column('error', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sync_listing') as b:
        b.drop_column('error')
        b.drop_column('name')
        b.drop_column('dir')
