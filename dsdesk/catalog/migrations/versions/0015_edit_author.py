"""edit_author: who saved an item's or a dataset's metadata last, at which row version

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04

Two clients saving the same item's metadata merge their changes; when both changed the same
key the second save shows a conflict with "theirs": the value, who wrote it and when.  The
writer is kept beside the object (one row per object, keyed by kind and id) instead of in an
item column that every clone, merge and snapshot would copy.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | Sequence[str] | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'edit_author',
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('object_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('row_version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('user_name', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'object_id', name=op.f('pk_edit_author')),
    )


def downgrade() -> None:
    op.drop_table('edit_author')
