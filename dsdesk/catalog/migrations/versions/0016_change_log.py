"""change_log: one row per dataset a committed transaction changed, for other clients to see

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Two windows on one catalog see each other's writes within seconds: every transaction that
wrote items, folders, annotations, dataset rows or recipes appends one row per dataset it
touched (``dsdesk.catalog.changes``), once at commit, never a trigger per item row (bulk
paths write millions).  Readers poll ``seq > last`` (SQLite) or LISTEN (PostgreSQL, which
also gets a NOTIFY in the same transaction).  No foreign key: a change of a dataset that is
deleted afterwards still tells its readers to look again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | Sequence[str] | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'change_log',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), primary_key=True,
                  autoincrement=True),
        sa.Column('dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('kinds', sa.String(length=64), nullable=False),
        sa.Column('origin', sa.String(length=128), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('seq', name=op.f('pk_change_log')),
    )


def downgrade() -> None:
    op.drop_table('change_log')
