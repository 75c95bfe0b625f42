"""job: the process that runs a job, and when it last showed life

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

A job whose process was killed stayed 'running' forever, and the window marked every
running job failed when it opened, a live sync in another process included.  ``owner``
names the process (``host:pid:start``) and ``heartbeat_at`` is written with its progress,
so a catalog open can tell a dead job (its process is gone, or its heartbeat is stale) from
a live one and mark only the dead 'interrupted'.  NULL for the jobs recorded before.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.add_column(sa.Column('owner', sa.String(length=255), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job') as batch:
        batch.drop_column('heartbeat_at')
        batch.drop_column('owner')
