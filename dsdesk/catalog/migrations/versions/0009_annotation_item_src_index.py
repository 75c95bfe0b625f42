"""annotation: one (item_id, src_annotation_id) index instead of two

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21

Every lookup of annotations is by item (the item's list, deletes, the annotated flag),
and merge's duplicate probe is by (merged item, copy-chain root).  One index on
(item_id, src_annotation_id) answers both; the separate copy-chain index cost every
cloned annotation a third index insert (a quarter of a 3M-annotation clone's copy).
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_annotation_src', table_name='annotation')
    op.drop_index('ix_annotation_item', table_name='annotation')
    op.create_index('ix_annotation_item', 'annotation', ['item_id', 'src_annotation_id'])


def downgrade() -> None:
    op.drop_index('ix_annotation_item', table_name='annotation')
    op.create_index('ix_annotation_item', 'annotation', ['item_id'])
    op.create_index('ix_annotation_src', 'annotation', ['src_annotation_id', 'item_id'])
