"""The sync of one dataset: list the driver's prefix, stage it, diff it against the catalog, apply.

Phases, recorded in ``sync_state`` (:mod:`dsdesk.sync.state`) so a sync interrupted
anywhere resumes without duplicates or losses; each has its module:

1. **listing** (:mod:`~dsdesk.sync.listing`, :mod:`~dsdesk.sync.staging`) — pages from the
   driver are mapped to rows (each key's folder and name, or why it cannot be an item) and
   written to ``sync_listing`` together with the cursor (the last key of the page) in one
   transaction per page.  A killed process or a dropped connection leaves the staged pages
   and the cursor; the next run lists from the cursor on.  A first sync of an empty
   dataset writes its pages straight into the catalog instead
   (:mod:`~dsdesk.sync.first_sync`) and ends there.
2. **listed** — the listing is complete; the apply step has not committed yet.
3. **apply** (:mod:`~dsdesk.sync.reconcile`) — one transaction of set-based statements:
   tombstones (:mod:`~dsdesk.sync.tombstones`: keys the user deleted stay out), renames,
   changed, restored, vanished, new keys, folders.  It commits with the cleanup of the
   staging rows, so it happens exactly once.

A dry run stages the listing the same way, applies inside a transaction that is rolled
back, and so reports exactly what a real run would do.
"""

from __future__ import annotations

import threading
import time

from dsdesk.catalog import tombstones
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.models import Driver
from dsdesk.errors import DsdeskError, InvalidInputError, StorageError
from dsdesk.storage.drivers import open_driver
from dsdesk.sync import reconcile
from dsdesk.sync.first_sync import FirstSyncSink, finish_first_sync
from dsdesk.sync.report import SyncReport
from dsdesk.sync.session import sync_session
from dsdesk.sync.staging import stage
from dsdesk.sync.state import SYNC_JOB_KIND, mark_listed, open_run, record_error

PAGE_SIZE = 1000
LOCAL_PAGE_SIZE = 20000

_running: set[int] = set()  # datasets being synced by this process
_running_lock = threading.Lock()


def sync_job(ctx, dataset_id: int, dry_run: bool = False, delete_missing: bool = False,
             page_size: int | None = None, restore_deleted: bool = False) -> SyncReport:
    """Job function (see :mod:`dsdesk.jobs.runner`): sync one dataset with its driver."""
    return sync_dataset(ctx.db, dataset_id, dry_run=dry_run, delete_missing=delete_missing,
                        ctx=ctx, page_size=page_size, restore_deleted=restore_deleted)


def run_sync(db, dataset_id: int, dry_run: bool = False, delete_missing: bool = False,
             on_event=None, page_size: int | None = None, restore_deleted: bool = False) -> SyncReport:
    """Sync *dataset_id* as a recorded job on this thread and return the report."""
    from dsdesk.jobs.runner import run_job

    return run_job(db, SYNC_JOB_KIND, sync_job, dataset_id, dry_run=dry_run, delete_missing=delete_missing,
                   page_size=page_size, restore_deleted=restore_deleted,
                   spec={"dataset_id": dataset_id, "dry_run": dry_run, "delete_missing": delete_missing,
                         "restore_deleted": restore_deleted},
                   dataset_id=dataset_id, on_event=on_event)


class _NoCtx:
    """Progress and cancellation when no job context is given."""

    def progress(self, *a, **k):
        pass

    def check_cancelled(self):
        pass


def sync_dataset(db, dataset_id: int, *, dry_run: bool = False, delete_missing: bool = False,
                 ctx=None, page_size: int | None = None, restore_deleted: bool = False) -> SyncReport:
    """Reconcile dataset *dataset_id* with its external driver; return a :class:`SyncReport`.

    Keys the user deleted from the dataset (tombstones) are skipped while their object is
    unchanged; *restore_deleted* forgets those deletions first, so this run brings the
    objects back (in a dry run: reports that it would, and keeps the tombstones).

    Raises StorageError when the storage cannot be listed (the staged part is kept: the
    next run resumes), ReadOnlyError for a read-only dataset (dry runs excepted),
    InvalidInputError for a dataset on the internal store or one that is not a master.
    """
    ctx = ctx or _NoCtx()
    t0 = time.monotonic()
    dataset_id = int(dataset_id)
    with _running_lock:
        if dataset_id in _running:
            raise DsdeskError(f"dataset {dataset_id} is already being synced")
        _running.add(dataset_id)
    try:
        report = _sync(db, dataset_id, dry_run, delete_missing, ctx, page_size, restore_deleted)
    finally:
        with _running_lock:
            _running.discard(dataset_id)
    report.seconds = round(time.monotonic() - t0, 3)
    return report


def _sync(db, dataset_id, dry_run, delete_missing, ctx, page_size, restore_deleted=False) -> SyncReport:
    report = SyncReport(dataset_id, dry_run=dry_run, delete_missing=delete_missing)
    with sync_session(db) as s:
        ds = live_dataset(s, dataset_id) if dry_run else writable_dataset(s, dataset_id, "sync")
        if ds.kind != "master":
            raise InvalidInputError(f"dataset '{ds.name}' is a {ds.kind}; only master datasets are synced "
                                    "with their storage (sync the master, then update the clone)")
        row = s.get(Driver, ds.driver_id)
        if row.kind == "internal":
            raise InvalidInputError(f"dataset '{ds.name}' lives in the internal store; only datasets on an "
                                    "external driver (local folder, S3, GCS, Azure) can be synced")
        driver_id = row.id
        driver = open_driver(db, row)
        run = open_run(s, dataset_id, dry_run, restore_deleted)
        report.resumed, report.listed = run.resumed, run.staged
        if restore_deleted and run.first_sync:
            # No diff step will run: the tombstones go now, with the run's start.
            report.undeleted = tombstones.clear(s, dataset_id)
            restore_deleted = False
    if run.phase == "listing":
        sink = FirstSyncSink(db, dataset_id, driver_id) if run.first_sync else None
        try:
            stage(db, dataset_id, driver, run.run_id, run.cursor, ctx, report,
                  page_size or (LOCAL_PAGE_SIZE if row.kind == "local" else PAGE_SIZE), sink)
        except StorageError as e:
            record_error(db, dataset_id, str(e))
            raise
        if run.first_sync:
            ctx.check_cancelled()
            finish_first_sync(db, dataset_id, report)
            return report
        mark_listed(db, dataset_id)
    ctx.check_cancelled()
    ctx.progress(report.listed, report.listed, f"reconciling {report.listed} objects")
    _analyze_listing(db)
    changed_keys = reconcile.apply(db, dataset_id, driver_id, delete_missing, dry_run, report, restore_deleted)
    if changed_keys and not dry_run:
        _invalidate_thumbnails(db, driver_id, changed_keys)
    return report


def _analyze_listing(db) -> None:
    """PostgreSQL: fresh planner statistics for the tables the diff joins.

    The listing was just rewritten (thousands to millions of rows) and autovacuum has not
    looked at it yet; planned on missing or stale statistics, the diff's joins become
    nested loops: a re-sync of 3,000 keys on a new catalog took 11.9 s, 0.4 s after
    ``ANALYZE``.  The listing is analysed every time; blob and item when autovacuum's own
    rule says so (never analysed, or over 10 % of the rows changed since).  ``ANALYZE``
    samples a bounded number of rows (30,000 at the default target), a fraction of a
    second at any size.  SQLite plans without statistics (see dsdesk.query.indexes).
    """
    if db.dialect != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
        stale = con.exec_driver_sql(
            "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('blob', 'item') AND "
            "(coalesce(last_analyze, last_autoanalyze) IS NULL "
            "OR n_mod_since_analyze > 0.1 * greatest(n_live_tup, 1000))").scalars().all()
        con.exec_driver_sql("ANALYZE " + ", ".join(["sync_listing", *sorted(stale)]))


def _invalidate_thumbnails(db, driver_id: int, keys: list[tuple[str, str | None]]) -> None:
    """Drop the cached thumbnails of objects whose bytes changed."""
    from dsdesk.storage.thumbnails import ThumbnailCache

    cache = ThumbnailCache(db.cache_root)
    for key, etag in keys:
        cache.invalidate(driver_id, key, etag)
