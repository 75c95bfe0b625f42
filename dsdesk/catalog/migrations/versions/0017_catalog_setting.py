"""catalog_setting: facts about the whole catalog every client must agree on (the internal store)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04

A team catalog's internal binaries must be reachable by every client, so where they live (a
folder beside the catalog, or an S3 / GCS / Azure prefix with a credentials reference, never
a secret) is chosen when the catalog is created and recorded here, under the key
``internal_store``; every client that opens the catalog reads it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | Sequence[str] | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'catalog_setting',
        sa.Column('key', sa.String(64), primary_key=True),
        sa.Column('value', sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('catalog_setting')
