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
