"""The history of datasets' rows kept for their version points (migration 0018), as the
catalog layer sees it: forgetting all of it for datasets about to be purged.

The points themselves are :mod:`dsdesk.versioning.points`.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from dsdesk.catalog.models import ANNOTATION_HISTORY, ITEM_HISTORY, TASK_STATUS_HISTORY, Dataset, VersionPoint


def drop_all_points(session: Session, dataset_ids: list[int]) -> None:
    """Forget every point and all history of *dataset_ids* (before purging them: their
    rows then go without being archived)."""
    if not dataset_ids:
        return
    session.execute(update(Dataset).where(Dataset.id.in_(dataset_ids)).values(
        cow_point=None, cow_item_hwm=None, cow_ann_hwm=None, cow_task_hwm=None)
        .execution_options(synchronize_session=False))
    for t in (ITEM_HISTORY, ANNOTATION_HISTORY, TASK_STATUS_HISTORY):
        session.execute(t.delete().where(t.c.dataset_id.in_(dataset_ids)))
    session.execute(VersionPoint.__table__.delete().where(VersionPoint.dataset_id.in_(dataset_ids)))
