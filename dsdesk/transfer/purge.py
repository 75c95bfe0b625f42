"""Purging trashed datasets for good (a background job).

Trashing is instant (a timestamp); purging is the slow part and runs here, one dataset
per transaction, deleting its rows with set-based statements, then releasing binaries
that nothing references any more.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from dsdesk.catalog.bulkdelete import bulk_item_delete
from dsdesk.catalog.models import Annotation, Dataset, Folder, Item, Snapshot, TaskStatus
from dsdesk.transfer.release import release_blobs


def purge_datasets(ctx, dataset_ids: list[int]) -> int:
    """Job: delete trashed datasets (and their snapshots) with everything in them; returns the count."""
    db = ctx.db
    done = 0
    ctx.progress(0, len(dataset_ids), "purging")
    for ds_id in dataset_ids:
        ctx.check_cancelled()
        with db.session(write=True) as s:
            row = s.get(Dataset, ds_id)
            if row is None or row.deleted_at is None:
                continue
            frozen = list(s.execute(select(Snapshot.frozen_dataset_id).where(Snapshot.dataset_id == ds_id)).scalars())
            targets = [ds_id, *frozen]
            blob_ids = list(s.execute(select(Item.blob_id).where(Item.dataset_id.in_(targets)).distinct()).scalars())
            s.execute(delete(Snapshot).where(Snapshot.dataset_id == ds_id))
            items = select(Item.id).where(Item.dataset_id.in_(targets))
            s.execute(delete(TaskStatus).where(TaskStatus.item_id.in_(items)))
            s.execute(delete(Annotation).where(Annotation.dataset_id.in_(targets)))
            n_items = s.execute(select(func.sum(Dataset.item_count)).where(Dataset.id.in_(targets))).scalar() or 0
            with bulk_item_delete(s, n_items):
                s.execute(delete(Item).where(Item.dataset_id.in_(targets)))
            s.execute(delete(Folder).where(Folder.dataset_id.in_(targets)))
            s.execute(update(Dataset).where(Dataset.src_dataset_id.in_(targets)).values(src_dataset_id=None))
            s.execute(delete(Dataset).where(Dataset.id.in_(targets)))
        release_blobs(db, blob_ids, on_progress=lambda d, t, n=done: ctx.progress(
            n, len(dataset_ids), f"purging {n + 1}/{len(dataset_ids)}: released {d:,} of {t:,} binaries"))
        done += 1
        ctx.progress(done, len(dataset_ids), f"purged {done}/{len(dataset_ids)}")
    return done
