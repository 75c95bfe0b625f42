"""Job functions ``fn(ctx, ...)`` for the runner (:func:`dsdesk.jobs.runner.run_job`).

Each opens its own session, runs the operation in ONE transaction (committed when the
function returns, rolled back when it raises - a cancellation included) and returns the
operation's report.  The API, the CLI and the GUI all run versioning through these.
"""

from __future__ import annotations

from dsdesk.versioning._common import repeatable_read
from dsdesk.versioning.clone import clone
from dsdesk.versioning.diff import diff
from dsdesk.versioning.gc import gc
from dsdesk.versioning.merge import merge
from dsdesk.versioning.snapshots import rollback, snapshot


def _writer(ctx):
    # write=True: on SQLite the transaction takes the write lock up front (BEGIN IMMEDIATE),
    # so the reads that precede the first write cannot be invalidated by another writer.
    return ctx.db.session(write=True)


def clone_job(ctx, src_dataset_id: int, **kwargs):
    """Job: :func:`dsdesk.versioning.clone.clone`."""
    with _writer(ctx) as s:
        repeatable_read(s)
        return clone(s, src_dataset_id, ctx=ctx, **kwargs)


def merge_job(ctx, merge_name: str, dataset_ids: list[int], **kwargs):
    """Job: :func:`dsdesk.versioning.merge.merge`."""
    with _writer(ctx) as s:
        repeatable_read(s)
        return merge(s, merge_name, dataset_ids, ctx=ctx, **kwargs)


def snapshot_job(ctx, dataset_id: int, name: str, description: str = ""):
    """Job: :func:`dsdesk.versioning.snapshots.snapshot`."""
    with _writer(ctx) as s:
        repeatable_read(s)
        return snapshot(s, dataset_id, name, description, ctx=ctx)


def rollback_job(ctx, dataset_id: int, snapshot_ref):
    """Job: :func:`dsdesk.versioning.snapshots.rollback`."""
    with _writer(ctx) as s:
        repeatable_read(s)
        return rollback(s, dataset_id, snapshot_ref, ctx=ctx)


def diff_job(ctx, dataset_id: int, a=None, b=None, limit: int = 10000):
    """Job: :func:`dsdesk.versioning.diff.diff` (read-only)."""
    with ctx.db.session() as s:
        repeatable_read(s)
        ctx.progress(0, None, "diff: comparing")
        return diff(s, dataset_id, a, b, limit=limit)


def gc_job(ctx, dry_run: bool = True):
    """Job: :func:`dsdesk.versioning.gc.gc`."""
    return gc(ctx.db, dry_run=dry_run, ctx=ctx)


def clone_into_folder_job(ctx, src_dataset_id: int, item_ids: list[int], dst_dataset_id: int, folder: str):
    """Job: clone *item_ids* into *folder* of *dst_dataset_id*, each landing in the folder itself.

    ``clone`` keeps each item's relative folder below its target directory; a drop onto a
    folder means "put them here", so the clones are moved into *folder* in the same
    transaction (a name clash refuses the whole operation).
    """
    from sqlalchemy import func, select

    from dsdesk.catalog import paths, stats, tree
    from dsdesk.catalog.models import Item

    target = paths.normalize_dir(folder)
    with _writer(ctx) as s:
        repeatable_read(s)
        before = s.execute(select(func.max(Item.id))).scalar() or 0
        result = clone(s, src_dataset_id, filters={"filter": {"id": {"$in": [int(i) for i in item_ids]}}},
                       dst_dataset_id=dst_dataset_id, target_directory=target, ctx=ctx)
        moved = select(Item.id).where(Item.dataset_id == dst_dataset_id, Item.id > before, Item.dir != target)
        tree.move_items(s, dst_dataset_id, moved, target)
        stats.refresh(s, dst_dataset_id)
    return result
