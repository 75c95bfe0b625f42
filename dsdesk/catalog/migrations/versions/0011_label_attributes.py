"""label: the names of the recipe attributes a label offers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

``dataset.add_label(label_name, color=..., children=..., attributes=[...])`` gives a label
the attributes its annotations may carry (Dataloop's label JSON ``attributes``).  A JSON
list per label, NULL for the labels made before.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('label') as batch:
        batch.add_column(sa.Column('attributes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('label') as batch:
        batch.drop_column('attributes')
