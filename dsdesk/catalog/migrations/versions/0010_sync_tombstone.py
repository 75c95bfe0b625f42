"""sync_tombstone: keys the user deleted from a synced dataset while the object stays

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22

Deleting an item of a dataset synced from external storage removes its catalog row; the
object stays in the bucket when the driver does not allow external delete (or a clone or
snapshot still uses it), and the next sync took the key for new and brought the item back.
A tombstone per (dataset, driver, key) with the object's etag and size at the time lets
sync skip the key while the object is unchanged.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sync_tombstone',
        sa.Column('dataset_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('driver_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('storage_key', sa.String(length=2048), nullable=False),
        sa.Column('etag', sa.String(length=255), nullable=True),
        sa.Column('size', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('deleted_at', sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
        sa.ForeignKeyConstraint(['dataset_id'], ['dataset.id'], name=op.f('fk_sync_tombstone_dataset_id_dataset'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['driver_id'], ['driver.id'], name=op.f('fk_sync_tombstone_driver_id_driver'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('dataset_id', 'driver_id', 'storage_key', name=op.f('pk_sync_tombstone')),
    )


def downgrade() -> None:
    op.drop_table('sync_tombstone')
