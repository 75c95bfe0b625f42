"""Cached dataset statistics (items, annotated items, annotations, folders, bytes).

The datasets page reads these columns instead of scanning items; every operation that
changes a dataset's content calls :func:`refresh` for it before committing.  Each figure is
one aggregate over an index of that dataset only.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog.changes import touch
from dsdesk.catalog.models import Annotation, Blob, Dataset, Folder, Item
from dsdesk.catalog.sql import chunked


def refresh(session: Session, dataset_id: int) -> None:
    """Recompute the cached statistics of one dataset (and name it in the change feed).

    On PostgreSQL the dataset's row is locked first and the counts are taken by the next
    statement: under READ COMMITTED that statement sees whatever the lock's previous holder
    committed (a clone into the dataset, another delete).  Counted in the same statement
    as the lock wait, they would be of the snapshot before it, and the last writer would
    store a stale count (tests/versioning/test_races.py).  FOR NO KEY UPDATE, the lock an
    UPDATE takes anyway: a plain FOR UPDATE would also stop a clone's foreign-key check on
    the row (a clone of this dataset then fails to serialize).
    """
    touch(session, dataset_id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Dataset.id).where(Dataset.id == dataset_id).with_for_update(key_share=True))
    items = select(func.count()).select_from(Item).where(Item.dataset_id == dataset_id).scalar_subquery()
    annotated = (select(func.count()).select_from(Item)
                 .where(Item.dataset_id == dataset_id, Item.annotated.is_(True)).scalar_subquery())
    annotations = (select(func.count()).select_from(Annotation)
                   .where(Annotation.dataset_id == dataset_id).scalar_subquery())
    folders = select(func.count()).select_from(Folder).where(Folder.dataset_id == dataset_id).scalar_subquery()
    size = (select(func.coalesce(func.sum(Blob.size), 0)).select_from(Item).join(Blob, Blob.id == Item.blob_id)
            .where(Item.dataset_id == dataset_id).scalar_subquery())
    session.execute(
        update(Dataset).where(Dataset.id == dataset_id)
        .values(item_count=items, annotated_count=annotated, annotation_count=annotations,
                folder_count=folders, bytes_total=size, updated_at=func.current_timestamp())
        .execution_options(synchronize_session=False))


def add_items(session: Session, dataset_id: int, items: int, bytes_: int, folders: int) -> None:
    """Bump the cached statistics after new, unannotated items were added (no recount)."""
    touch(session, dataset_id)
    session.execute(
        update(Dataset).where(Dataset.id == dataset_id)
        .values(item_count=Dataset.item_count + items, bytes_total=Dataset.bytes_total + bytes_,
                folder_count=Dataset.folder_count + folders, updated_at=func.current_timestamp())
        .execution_options(synchronize_session=False))


def refresh_annotated(session: Session, item_ids: list[int]) -> None:
    """Recompute items' ``annotated`` flags from their annotations."""
    if not item_ids:
        return
    has = select(Annotation.id).where(Annotation.item_id == Item.id).exists()
    for part in chunked(item_ids, 5000):  # bound well below the driver's variable limit
        session.execute(update(Item).where(Item.id.in_(part)).values(annotated=has)
                        .execution_options(synchronize_session=False))
