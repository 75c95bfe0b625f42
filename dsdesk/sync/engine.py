"""The reconcile engine: list the driver's prefix, stage it, diff it against the catalog, apply.

Phases, recorded in ``sync_state`` so a sync interrupted anywhere resumes without
duplicates or losses:

1. **listing** — pages from the driver are written to ``sync_listing`` together with the
   cursor (the last key of the page) in one transaction per page.  A killed process or a
   dropped connection leaves the staged pages and the cursor; the next run lists from the
   cursor on.  Each row also carries the folder and name its key maps to (or why the key
   cannot be an item), computed here once, so the later steps are plain SQL.
2. **listed** — the listing is complete; the apply step has not committed yet.
3. **apply** — one transaction of set-based statements (never a Python loop over items):
   renames (a vanished key and a new key with the same etag and size: the item moves and
   keeps everything), new keys (blobs, items, folders), changed keys (blob updated, item
   kept and flagged), vanished keys (blob marked missing, or items deleted with
   ``delete_missing``), folder markers.  It commits with the cleanup of the staging rows,
   so it happens exactly once.

Keys the user deleted from the dataset while their object stayed in storage are
tombstoned (:mod:`dsdesk.catalog.tombstones`) and skipped, never re-added:

* A tombstoned key is skipped as long as the listed object has the etag and size it had
  when the user deleted it (``SyncReport.skipped`` counts them, a dry run included).
* If the object changed (another etag or size), it is new content and the user's
  deletion no longer applies: it comes back as a new item and its tombstone is cleared.
* A tombstoned key that vanished while a new key appeared with the same etag and size is
  a rename, as for items: the tombstone follows the object to its new key (an item's own
  rename is paired first, so it is never taken by a tombstone).
* A tombstoned key that vanished with no such new key keeps its tombstone (the same
  bytes reappearing under that key stay deleted).
* A key that has an item in the dataset again (a rollback restored it, or it came back
  changed) drops its tombstone.
* ``restore_deleted=True`` clears the dataset's tombstones first, so the run brings every
  still-present object back (``SyncReport.undeleted`` counts the cleared tombstones).

A dry run stages the listing the same way, applies inside a transaction that is rolled
back, and so reports exactly what a real run would do.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import JSON, and_, bindparam, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from dsdesk.catalog import paths, stats, tombstones
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.models import (
    Blob,
    Dataset,
    Driver,
    Folder,
    Item,
    SyncListing,
    SyncState,
    SyncTombstone,
    utcnow,
)
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.catalog.sql import chunked, insert_ignore, written
from dsdesk.errors import DsdeskError, InvalidInputError, InvalidPathError, StorageError
from dsdesk.storage.drivers import GENERATED_PREFIX, open_driver
from dsdesk.sync.session import sync_session
from dsdesk.sync.state import record_error

PAGE_SIZE = 1000
LOCAL_PAGE_SIZE = 20000
MAX_REPORTED_ERRORS = 200
STALE_RUN = dt.timedelta(hours=6)  # an interrupted listing older than this is restarted, not resumed
_DIR_MEMO_LIMIT = 200_000

_running: set[int] = set()
_running_lock = threading.Lock()


@dataclass
class SyncReport:
    """What a sync did (or, for a dry run, would do)."""

    dataset_id: int
    dry_run: bool = False
    delete_missing: bool = False
    listed: int = 0  # objects seen (folder markers included, .dsdesk/ excluded)
    new: int = 0
    changed: int = 0
    renamed: int = 0
    missing: int = 0  # newly marked missing
    restored: int = 0  # marked missing before, present again
    deleted: int = 0  # items deleted because their key vanished (delete_missing)
    unchanged: int = 0
    skipped: int = 0  # listed keys the user deleted from the dataset (tombstoned, object unchanged)
    undeleted: int = 0  # tombstones cleared by restore_deleted (their objects come back as new items)
    folders: int = 0  # folders created
    conflicts: int = 0  # new keys whose path was taken: item created under a suffixed name
    error_count: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    resumed: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (job results, the CLI's output)."""
        return asdict(self)

    def summary(self) -> str:
        """One line for a progress bar or a log."""
        kinds = ("new", "changed", "renamed", "missing", "restored", "deleted", "undeleted", "folders",
                 "conflicts")
        parts = [f"{k} {getattr(self, k)}" for k in kinds if getattr(self, k)]
        if self.skipped:
            parts.append(f"skipped {self.skipped} deleted by the user")
        head = "dry run: " if self.dry_run else ""
        errs = f", {self.error_count} error(s)" if self.error_count else ""
        return f"{head}{self.listed} listed: " + (", ".join(parts) or "no change") + errs


# ------------------------------------------------------------------------ key mapping
def map_key(rel: str) -> tuple[str | None, str | None, str | None]:
    """(dir, name, error) for a key relative to the driver's prefix.

    A key whose segments are not legal item names (``..``, ``.``, backslash, control
    characters, empty segments such as ``a//b``) is refused with a reason instead of
    being "fixed": a mapped path must never let an item escape its folder, and two keys
    must never land on one path.
    """
    is_dir = rel.endswith("/")
    parts = (rel[:-1] if is_dir else rel).split("/")
    try:
        for p in parts:
            if p == "":
                raise InvalidPathError(f"empty path segment in {rel!r}")
            paths.check_name(p)
    except InvalidPathError as e:
        return None, None, str(e)
    if is_dir:
        return "/" + "/".join(parts), None, None
    return ("/" + "/".join(parts[:-1])) if len(parts) > 1 else "/", parts[-1], None


def _guess_mimetype(name: str) -> str:
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


# ----------------------------------------------------------------------------- public
def sync_job(ctx, dataset_id: int, dry_run: bool = False, delete_missing: bool = False,
             page_size: int | None = None, restore_deleted: bool = False) -> SyncReport:
    """Job function (see :mod:`dsdesk.jobs.runner`): sync one dataset with its driver."""
    return sync_dataset(ctx.db, dataset_id, dry_run=dry_run, delete_missing=delete_missing,
                        ctx=ctx, page_size=page_size, restore_deleted=restore_deleted)


def run_sync(db, dataset_id: int, dry_run: bool = False, delete_missing: bool = False,
             on_event=None, page_size: int | None = None, restore_deleted: bool = False) -> SyncReport:
    """Sync *dataset_id* as a recorded job on this thread and return the report."""
    from dsdesk.jobs.runner import run_job

    return run_job(db, "sync", sync_job, dataset_id, dry_run=dry_run, delete_missing=delete_missing,
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
        driver_id, prefix = row.id, row.prefix
        driver = open_driver(db, row)
        state = s.get(SyncState, dataset_id)
        if state is None:
            state = SyncState(dataset_id=dataset_id, stats={})
            s.add(state)
            s.flush()
        started = (state.stats or {}).get("run_started")
        fresh = started is not None and utcnow() - dt.datetime.fromisoformat(started) < STALE_RUN
        resumable = (state.run_id is not None and state.phase in ("listing", "listed") and fresh
                     and not (state.stats or {}).get("run_dry") and not dry_run)
        if resumable:
            run_id, cursor, phase = state.run_id, state.cursor, state.phase
            bulk = bool((state.stats or {}).get("run_bulk"))
            report.resumed = True
            report.listed = s.execute(select(func.count()).select_from(SyncListing)
                                      .where(SyncListing.dataset_id == dataset_id)).scalar_one()
        else:
            run_id, cursor, phase = uuid.uuid4().hex, None, "listing"
            # A dataset with no item yet has nothing to diff against: its first sync writes
            # blobs, items and folders page by page (still resumable from the cursor) and
            # skips the staging table, the cost of which dominates a million-key import.
            # Not when the user deleted keys that must stay out (tombstones): those are
            # diffed like any re-sync.
            bulk = not dry_run and s.execute(select(Item.id).where(Item.dataset_id == dataset_id)
                                             .limit(1)).first() is None \
                and (restore_deleted or not tombstones.exist(s, dataset_id))
            s.execute(delete(SyncListing).where(SyncListing.dataset_id == dataset_id))
            state.run_id, state.cursor, state.phase = run_id, None, phase
            state.stats = {**(state.stats or {}), "run_started": utcnow().isoformat(), "run_dry": dry_run,
                           "run_bulk": bulk}
            state.last_error = None
        if restore_deleted and bulk:
            # No diff step will run: the tombstones go now, with the run's start.
            report.undeleted = tombstones.clear(s, dataset_id)
            restore_deleted = False
    prefix = driver.prefix
    if phase == "listing":
        sink = _BulkSink(db, dataset_id, driver_id) if bulk else None
        try:
            _stage(db, dataset_id, driver, prefix, run_id, cursor, ctx, report,
                   page_size or (LOCAL_PAGE_SIZE if row.kind == "local" else PAGE_SIZE), sink)
        except StorageError as e:
            record_error(db, dataset_id, str(e))
            raise
        if bulk:
            ctx.check_cancelled()
            _finish_bulk(db, dataset_id, report)
            return report
        with sync_session(db) as s:
            s.execute(update(SyncState).where(SyncState.dataset_id == dataset_id)
                      .values(phase="listed", cursor=None))
    ctx.check_cancelled()
    ctx.progress(report.listed, report.listed, f"reconciling {report.listed} objects")
    _analyze_listing(db)
    changed_keys = _apply(db, dataset_id, driver_id, delete_missing, dry_run, report, restore_deleted)
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


# ---------------------------------------------------------------------------- staging
def _pages(driver, cursor, page_size):
    """The driver's pages, fetched one ahead on a thread so the network and the catalog
    writes overlap (a listing is a chain of requests; the inserts fit in between).

    Not for a local folder: its walk is CPU-bound Python; measured, a second thread only
    adds GIL hand-offs."""
    if driver.kind == "local":
        yield from driver.list_pages(cursor, page_size)
        return
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for page in driver.list_pages(cursor, page_size):
                while not stop.is_set():
                    try:
                        q.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=produce, name="sync-list", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


_ILLEGAL_CHARS = re.compile(r"[\x00-\x1f\x7f\\/]")
_COLS = ("dataset_id", "storage_key", "run_id", "size", "etag", "last_modified", "is_dir", "dir", "name",
         "error", "mimetype")


class _KeyMapper:
    """:func:`map_key` with memory of the folders already seen: a folder is validated and
    its ancestors staged once per run, not once per file (bounded, see _DIR_MEMO_LIMIT)."""

    def __init__(self):
        self.dirs: dict[str, str | None] = {}  # "a/b/" -> error (None when legal)
        self.mimes: dict[str, str] = {}

    def mimetype(self, name: str) -> str:
        ext = name[name.rfind("."):].lower() if "." in name else ""
        m = self.mimes.get(ext)
        if m is None:
            m = self.mimes[ext] = _guess_mimetype(name)
        return m

    def folder(self, rel_dir: str) -> tuple[bool, str | None]:
        """(first time seen, error) for a folder part ``a/b/`` of a key."""
        if rel_dir in self.dirs:
            return False, self.dirs[rel_dir]
        if len(self.dirs) > _DIR_MEMO_LIMIT:
            self.dirs.clear()  # memory stays bounded; duplicates are ignored by the insert
        _, _, err = map_key(rel_dir) if rel_dir else (None, None, None)
        self.dirs[rel_dir] = err
        return True, err


def _stage(db, dataset_id, driver, prefix, run_id, cursor, ctx, report, page_size, sink=None) -> None:
    """List from *cursor* on, writing each page and the new cursor in one transaction:
    into ``sync_listing`` (the diff runs later), or through *sink* (first sync)."""
    gen = prefix + GENERATED_PREFIX
    plen = len(prefix)
    km = _KeyMapper()
    fast = db.dialect == "sqlite"
    if fast:
        # SQLite: plain tuples through the DB-API (SQLAlchemy's per-row parameter handling
        # costs more than the insert itself at a million rows); datetimes converted once
        # with the dialect's own processor so the ORM reads them back unchanged.
        # SQLAlchemy's SQLite DATETIME text form, "YYYY-MM-DD HH:MM:SS.ffffff", made in C.
        def to_db(v):
            return v.isoformat(" ", "microseconds")
        sql = (f"INSERT OR IGNORE INTO sync_listing ({', '.join(_COLS)}) "
               f"VALUES ({', '.join('?' for _ in _COLS)})")
    else:
        def to_db(v):
            return v

    def write_page(rows: list[tuple], page_cursor) -> None:
        with sync_session(db) as s:
            if sink is not None:
                sink.write(s, rows)
                # Only refused keys are staged: their reasons outlive a resume.
                rows = [r for r in rows if r[9] is not None]
            if rows:
                if fast:
                    s.connection().exec_driver_sql(sql, rows)
                else:
                    s.execute(insert_ignore(s, SyncListing.__table__, ["dataset_id", "storage_key"]),
                              [dict(zip(_COLS, r, strict=True)) for r in rows])
            # The cursor moves in the same transaction as the rows it covers: a kill
            # between pages loses nothing and repeats nothing.
            s.execute(update(SyncState).where(SyncState.dataset_id == dataset_id).values(cursor=page_cursor))

    writer = _PageWriter(write_page)
    ok = False
    try:
        _stage_pages(driver, cursor, page_size, ctx, gen, prefix, plen, km, to_db, dataset_id, run_id, writer,
                     report)
        ok = True
    finally:
        writer.close(raise_error=ok)


def _stage_pages(driver, cursor, page_size, ctx, gen, prefix, plen, km, to_db, dataset_id, run_id, writer,
                 report) -> None:
    for page in _pages(driver, cursor, page_size):
        ctx.check_cancelled()
        rows: list[tuple] = []
        add = rows.append
        for e in page.entries:
            key = e.key
            if key.startswith(gen) or not key.startswith(prefix) or key == prefix:
                continue
            rel = key[plen:]
            cut = rel.rfind("/", 0, len(rel) - 1) + 1  # the folder part, "" at the top
            rel_dir, last = rel[:cut], rel[cut:]
            first, err = km.folder(rel_dir)
            if first and err is None and rel_dir:
                # Every folder of every key, ancestors included, is staged as a folder row
                # (keyed like the marker it would have) so the apply step makes them in SQL.
                parts = rel_dir[:-1].split("/")
                for i in range(1, len(parts) + 1):
                    sub = "/".join(parts[:i]) + "/"
                    if i == len(parts) or km.folder(sub)[0]:
                        add((dataset_id, prefix + sub, run_id, 0, None, None, True, "/" + sub[:-1], None, None, None))
            if err is None:
                if e.is_dir:
                    err = map_key(last)[2]
                elif not (last.isascii() and len(last) <= paths.MAX_NAME and last not in (".", "..")
                          and last.strip() and not _ILLEGAL_CHARS.search(last)):
                    # The common case passes the line above; the rest gets the full check
                    # and its message.
                    try:
                        paths.check_name(last)
                    except InvalidPathError as ex:
                        err = str(ex)
            elif e.is_dir or last:
                err = f"{err} (in {rel!r})"
            lm = to_db(e.last_modified) if e.last_modified is not None else None
            if err:
                add((dataset_id, key, run_id, e.size, e.etag, lm, e.is_dir, None, None, err, None))
            elif e.is_dir:
                add((dataset_id, key, run_id, 0, None, lm, True, "/" + rel[:-1], None, None, None))
            else:
                add((dataset_id, key, run_id, e.size, e.etag, lm, False, "/" + rel_dir[:-1] if rel_dir else "/",
                     last, None, km.mimetype(last)))
        writer.put(rows, page.cursor)
        report.listed += sum(1 for e in page.entries if not e.key.startswith(gen))
        ctx.progress(report.listed, None, f"listed {report.listed} objects")


class _PageWriter:
    """Writes the staged pages on a thread of its own, in order, one transaction each.

    Staging a page is Python (key checks, folder memo, tuples) and holds the GIL; writing
    it is mostly SQLite statements, which release it.  With the writes on their own
    thread the next page is listed and staged while the previous one is written.  One
    page waits at most (the queue holds one), so memory stays a page or two, and a page's
    rows and its cursor still commit together: a kill loses or repeats nothing.  The first
    error stops the writing; :meth:`put` and :meth:`close` raise it on the staging thread.
    """

    def __init__(self, write: Callable[[list[tuple], Any], None]):
        self._write = write
        self._q: queue.Queue = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sync-write", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._q.get()
            if job is None:
                return
            if self._error is None:
                try:
                    self._write(*job)
                except BaseException as e:  # noqa: BLE001 - raised on the staging thread
                    self._error = e

    def put(self, rows: list[tuple], cursor) -> None:
        """Queue a page (waits while the previous one is still queued)."""
        self._raise()
        self._q.put((rows, cursor))

    def close(self, raise_error: bool = True) -> None:
        """Write what is queued, stop the thread, and raise its error if *raise_error*
        (False when the staging itself failed: that error is the one to see)."""
        self._q.put(None)
        self._thread.join()
        if raise_error:
            self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


class _BulkSink:
    """First sync of an empty dataset: a page's keys become blobs, items and folders
    directly, in the page's transaction (the cursor moves with them, so a resumed run
    neither repeats nor skips a key)."""

    def __init__(self, db, dataset_id: int, driver_id: int):
        self.db, self.d, self.drv = db, dataset_id, driver_id
        self.sqlite = db.dialect == "sqlite"
        dialect = db.engine.dialect
        from sqlalchemy import DateTime

        self.to_db = (DateTime().dialect_impl(dialect).bind_processor(dialect) if self.sqlite else None) \
            or (lambda v: v)
        with sync_session(db) as s:
            # Only if some blob of this driver is marked missing can a first sync revive one.
            self.any_missing = s.execute(select(Blob.id).where(Blob.driver_id == driver_id,
                                                               Blob.missing_since.is_not(None)).limit(1)).first() \
                is not None

    def write(self, s: Session, rows: list[tuple]) -> None:
        """Insert the page's files (blob + item) and folders; refused keys are left to the caller."""
        good = [r for r in rows if r[9] is None]
        if not good:
            return
        now = self.to_db(utcnow())
        if self.sqlite:
            self._write_sqlite(s, good, now)
        else:
            self._write_portable(s, good, now)

    def _write_sqlite(self, s: Session, rows: list[tuple], now) -> None:
        # The page goes into a TEMP table (memory, no index) with one executemany, then
        # into blob / item / folder with INSERT ... SELECT: SQLite runs an insert program
        # with triggers, foreign keys and seven item indexes about four times faster once
        # per statement than once per executemany row.
        con = s.connection()
        con.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS dsdesk_sync_page (storage_key TEXT, size INTEGER, "
                            "etag TEXT, last_modified TEXT, is_dir INTEGER, dir TEXT, name TEXT, mimetype TEXT)")
        con.exec_driver_sql("DELETE FROM dsdesk_sync_page")
        con.exec_driver_sql("INSERT INTO dsdesk_sync_page VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [(r[1], r[3], r[4], r[5], r[6], r[7], r[8], r[10]) for r in rows])
        con.exec_driver_sql("INSERT OR IGNORE INTO folder (dataset_id, path, created_at) "
                            "SELECT ?, dir, ? FROM dsdesk_sync_page WHERE is_dir AND dir != '/'", (self.d, now))
        con.exec_driver_sql("INSERT OR IGNORE INTO blob (driver_id, storage_key, size, etag, last_modified, mimetype, "
                            "created_at) SELECT ?, storage_key, size, etag, last_modified, mimetype, ? "
                            "FROM dsdesk_sync_page WHERE NOT is_dir", (self.drv, now))
        # Blobs another dataset on this driver knew (and maybe saw vanish) are present again.
        if self.any_missing:
            con.exec_driver_sql("UPDATE blob SET missing_since = NULL WHERE driver_id = ? AND missing_since IS NOT "
                                "NULL AND storage_key IN (SELECT storage_key FROM dsdesk_sync_page WHERE NOT is_dir)",
                                (self.drv,))
        with deferred_name_index(s):
            con.exec_driver_sql(
                "INSERT OR IGNORE INTO item (dataset_id, dir, name, blob_id, meta_system, meta_user, created_at, "
                "updated_at) SELECT ?, p.dir, p.name, b.id, '{}', '{}', ?, ? FROM dsdesk_sync_page p "
                "JOIN blob b ON b.driver_id = ? AND b.storage_key = p.storage_key WHERE NOT p.is_dir",
                (self.d, now, now, self.drv))
        con.exec_driver_sql("DELETE FROM dsdesk_sync_page")

    def _write_portable(self, s: Session, rows: list[tuple], now) -> None:
        from dsdesk.catalog.sql import lookup_ids

        files = [r for r in rows if not r[6]]
        dirs = [r[7] for r in rows if r[6] and r[7] != "/"]
        if dirs:
            s.execute(insert_ignore(s, Folder.__table__, ["dataset_id", "path"]),
                      [{"dataset_id": self.d, "path": p, "created_at": now} for p in dirs])
        if not files:
            return
        s.execute(insert_ignore(s, Blob.__table__, ["driver_id", "storage_key"]),
                  [{"driver_id": self.drv, "storage_key": r[1], "size": r[3], "etag": r[4], "last_modified": r[5],
                    "mimetype": r[10], "created_at": now} for r in files])
        ids = lookup_ids(s, Blob.id, Blob.storage_key, [r[1] for r in files], Blob.driver_id == self.drv)
        s.execute(update(Blob).where(Blob.id.in_(list(ids.values())), Blob.missing_since.is_not(None))
                  .values(missing_since=None).execution_options(synchronize_session=False))
        s.execute(insert_ignore(s, Item.__table__, ["dataset_id", "dir", "name"]),
                  [{"dataset_id": self.d, "dir": r[7], "name": r[8], "blob_id": ids[r[1]], "meta_system": {},
                    "meta_user": {}, "created_at": now, "updated_at": now} for r in files])


def _finish_bulk(db, dataset_id: int, report: SyncReport) -> None:
    """Close a first sync: counts from the catalog (earlier runs of a resumed sync
    included), refused keys from the staging rows, bookkeeping reset."""
    now = utcnow()
    with sync_session(db) as s:
        stats.refresh(s, dataset_id)
        ds = s.get(Dataset, dataset_id)
        report.new = ds.item_count
        report.folders = ds.folder_count
        _collect_errors(s, dataset_id, report)
        _close_run(s, dataset_id, report, now)


def _close_run(s, dataset_id: int, report, now) -> None:
    """End a successful run: drop its staged listing, clear the cursor, keep the summary."""
    s.execute(delete(SyncListing).where(SyncListing.dataset_id == dataset_id))
    st = s.get(SyncState, dataset_id)
    st.run_id = st.cursor = st.phase = None
    st.last_sync_at = now
    st.last_error = None
    keep = {k: v for k, v in (st.stats or {}).items() if not k.startswith("run_")}
    summary = report.to_json()
    summary.pop("errors", None)
    st.stats = {**keep, "last": summary}


# ------------------------------------------------------------------------------ apply
def _apply(db, dataset_id, driver_id, delete_missing, dry_run, report,
           restore_deleted: bool = False) -> list[tuple[str, str | None]]:
    """Diff the staged listing against the catalog and apply it in one transaction."""
    now = utcnow()
    with sync_session(db, commit=not dry_run) as s:
        if restore_deleted:
            # In the apply's transaction: a dry run rolls it back with the rest.
            report.undeleted = tombstones.clear(s, dataset_id)
        changed_keys = _reconcile(s, dataset_id, driver_id, delete_missing, now, report)
        _collect_errors(s, dataset_id, report)
        if not dry_run:
            stats.refresh(s, dataset_id)
            _close_run(s, dataset_id, report, now)
    if dry_run:
        # The staged listing of a dry run is not a resumable real run: clear it.
        with sync_session(db) as s2:
            s2.execute(delete(SyncListing).where(SyncListing.dataset_id == dataset_id))
            s2.execute(update(SyncState).where(SyncState.dataset_id == dataset_id)
                       .values(run_id=None, cursor=None, phase=None))
    return changed_keys


def _reconcile(s: Session, d: int, drv: int, delete_missing: bool, now, report) -> list[tuple[str, str | None]]:
    L = SyncListing
    files = and_(L.dataset_id == d, L.is_dir.is_(False), L.error.is_(None))
    listed_key = select(L.storage_key).where(L.dataset_id == d, L.is_dir.is_(False), L.error.is_(None))

    # The catalog side: the keys (and blob ids) this dataset's items point at.  Written as
    # uncorrelated IN (subquery) so the database materialises each set once; a correlated
    # EXISTS lets SQLite (without ANALYZE statistics) scan the dataset's items per row.
    ds_keys = (select(Blob.storage_key).join(Item, Item.blob_id == Blob.id)
               .where(Item.dataset_id == d, Blob.driver_id == drv))
    # "+ 0" keeps SQLite from using this IN list as an index constraint next to another
    # IN on (driver_id, storage_key): it would probe the cross product of both lists.
    in_ds = (Blob.id + 0).in_(select(Item.blob_id).where(Item.dataset_id == d))

    # --- tombstones: listed keys the user deleted stay out while their object is unchanged.
    # Their staged rows are dropped here (inside this transaction), so every step below
    # sees the listing as if those objects were not there.
    tomb = _screen_tombstones(s, d, drv) if tombstones.exist(s, d, drv) else None

    # --- renames: vanished (item's key not listed) x new (listed key with no item), same etag+size
    vb = aliased(Blob)
    vanished = (select(Item.id.label("item_id"), Item.dir, Item.name, vb.id.label("blob_id"),
                       vb.storage_key.label("old_key"), vb.etag, vb.size,
                       func.row_number().over(partition_by=(vb.etag, vb.size), order_by=(vb.storage_key, Item.id))
                       .label("rn"))
                .join(vb, vb.id == Item.blob_id)
                .where(Item.dataset_id == d, vb.driver_id == drv, vb.etag.is_not(None),
                       ~select(L.storage_key).where(L.dataset_id == d, L.storage_key == vb.storage_key,
                                                    L.is_dir.is_(False), L.error.is_(None)).exists())
                .subquery())
    new = (select(L.storage_key, L.dir, L.name, L.etag, L.size, L.last_modified,
                  func.row_number().over(partition_by=(L.etag, L.size), order_by=L.storage_key).label("rn"))
           .where(files, L.etag.is_not(None), ~L.storage_key.in_(ds_keys))
           .subquery())
    # Cheap probe first: with no vanished key (a first sync, most re-syncs) there is
    # nothing to pair, and the windowed pairing query would rank every new key for nothing.
    any_vanished = s.execute(
        select(Item.id).join(Blob, Blob.id == Item.blob_id)
        .where(Item.dataset_id == d, Blob.driver_id == drv, Blob.etag.is_not(None),
               ~Blob.storage_key.in_(listed_key)).limit(1)).first() is not None
    pairs = [] if not any_vanished else s.execute(
        select(vanished.c.item_id, vanished.c.dir, vanished.c.name, vanished.c.blob_id, vanished.c.old_key,
               new.c.storage_key, new.c.dir.label("new_dir"), new.c.name.label("new_name"), new.c.last_modified)
        .join(new, and_(new.c.etag == vanished.c.etag, new.c.size == vanished.c.size, new.c.rn == vanished.c.rn))
    ).all()
    if pairs:
        prefix_len = _prefix_len(s, drv)
        taken_blobs = dict(s.execute(select(Blob.storage_key, Blob.id).where(
            Blob.driver_id == drv, Blob.storage_key.in_([p.storage_key for p in pairs]))).all()) if len(pairs) < 5000 else None
        for p in pairs:
            existing = taken_blobs.get(p.storage_key) if taken_blobs is not None else s.execute(
                select(Blob.id).where(Blob.driver_id == drv, Blob.storage_key == p.storage_key)).scalar()
            if existing is None:
                s.execute(update(Blob).where(Blob.id == p.blob_id).values(
                    storage_key=p.storage_key, last_modified=p.last_modified, missing_since=None))
                blob_id = p.blob_id
            else:
                blob_id = existing
                s.execute(update(Blob).where(Blob.id == existing).values(missing_since=None))
            # An item the user moved in the catalog stays where the user put it; one that
            # sat at its key's path follows the object to its new path.
            old_d, old_n, _ = map_key(p.old_key[prefix_len:])
            at_key_path = (old_d, old_n) == (p.dir, p.name)
            values: dict[str, Any] = {"blob_id": blob_id, "updated_at": now, "row_version": Item.row_version + 1}
            if at_key_path:
                new_dir, new_name = p.new_dir, _free_name(s, d, p.new_dir, p.new_name, exclude=p.item_id)
                values.update(dir=new_dir, name=new_name)
            s.execute(update(Item).where(Item.id == p.item_id).values(**values)
                      .execution_options(synchronize_session=False))
        report.renamed = len(pairs)

    if tomb is not None:
        tomb.follow_renames(s, files, ds_keys)
        report.skipped = tomb.kept

    # --- changed: an item's key is listed with another etag / size / mtime
    lk = aliased(L)
    differs = or_(and_(lk.etag.is_not(None), Blob.etag.is_not(None), lk.etag != Blob.etag),
                  lk.size != Blob.size,
                  and_(lk.last_modified.is_not(None), Blob.last_modified.is_not(None),
                       lk.last_modified != Blob.last_modified))
    changed_q = (select(Blob.id, Blob.storage_key, Blob.etag)
                 .join(lk, and_(lk.dataset_id == d, lk.storage_key == Blob.storage_key,
                                lk.is_dir.is_(False), lk.error.is_(None)))
                 .where(Blob.driver_id == drv, in_ds, differs))
    changed = s.execute(changed_q).all()
    if changed:
        ids = [r.id for r in changed]
        col = lambda c: (select(c).where(L.dataset_id == d, L.storage_key == Blob.storage_key)  # noqa: E731
                         .scalar_subquery())
        for part in chunked(ids, 5000):
            s.execute(update(Blob).where(Blob.id.in_(part)).values(
                etag=col(L.etag), size=col(L.size), last_modified=col(L.last_modified), mimetype=col(L.mimetype),
                content_hash=None, width=None, height=None, missing_since=None)
                .execution_options(synchronize_session=False))
            s.execute(update(Item).where(Item.dataset_id == d, Item.blob_id.in_(part)).values(
                changed_at=now, updated_at=now, row_version=Item.row_version + 1)
                .execution_options(synchronize_session=False))
        report.changed = len(changed)

    # --- restored: marked missing earlier, listed again (content unchanged)
    restored = (update(Blob).where(Blob.driver_id == drv, Blob.missing_since.is_not(None), in_ds,
                                   Blob.storage_key.in_(listed_key))
                .values(missing_since=None).execution_options(synchronize_session=False))
    report.restored = s.execute(restored).rowcount or 0

    # Blobs written by uploads carry no mtime yet: fill it in silently (not a change).
    s.execute(update(Blob).where(Blob.driver_id == drv, Blob.last_modified.is_(None), in_ds,
                                 Blob.storage_key.in_(listed_key))
              .values(last_modified=select(L.last_modified).where(L.dataset_id == d, L.storage_key == Blob.storage_key)
                      .scalar_subquery())
              .execution_options(synchronize_session=False))

    # --- vanished: items whose key is no longer listed
    gone_blobs = (select(Blob.id).where(Blob.driver_id == drv, in_ds, ~Blob.storage_key.in_(listed_key)))
    if delete_missing:
        blob_ids = list(s.execute(gone_blobs).scalars())
        n = 0
        for part in chunked(blob_ids, 5000):
            n += s.execute(delete(Item).where(Item.dataset_id == d, Item.blob_id.in_(part))
                           .execution_options(synchronize_session=False)).rowcount or 0
            # The object is already gone from storage; drop blob rows nothing else uses.
            used = select(Item.id).where(Item.blob_id == Blob.id).exists()
            s.execute(delete(Blob).where(Blob.id.in_(part), ~used).execution_options(synchronize_session=False))
        report.deleted = n
    else:
        # The conditions of gone_blobs on the updated rows themselves, not "id IN (SELECT id
        # FROM blob ...)": PostgreSQL without statistics nests that self-join per blob row
        # (measured: 21 s for 500 blob rows no longer listed).
        report.missing = s.execute(
            update(Blob).where(Blob.driver_id == drv, in_ds, ~Blob.storage_key.in_(listed_key),
                               Blob.missing_since.is_(None))
            .values(missing_since=now).execution_options(synchronize_session=False)).rowcount or 0

    # --- new keys: blobs (insert or refresh), items, folders
    newk = and_(files, ~L.storage_key.in_(ds_keys))
    blob_exists = select(Blob.id).where(Blob.driver_id == drv, Blob.storage_key == L.storage_key).exists()
    refreshed = s.execute(update(Blob).where(
        Blob.driver_id == drv,
        Blob.storage_key.in_(select(L.storage_key).where(newk)))
        .values(etag=select(L.etag).where(L.dataset_id == d, L.storage_key == Blob.storage_key).scalar_subquery(),
                size=select(L.size).where(L.dataset_id == d, L.storage_key == Blob.storage_key).scalar_subquery(),
                last_modified=select(L.last_modified).where(L.dataset_id == d, L.storage_key == Blob.storage_key)
                .scalar_subquery(),
                missing_since=None)
        .execution_options(synchronize_session=False))
    created = written(s, insert(Blob).from_select(
        ["driver_id", "storage_key", "size", "etag", "last_modified", "mimetype", "created_at"],
        select(literal(drv), L.storage_key, L.size, L.etag, L.last_modified, L.mimetype, literal(now))
        .where(newk, ~blob_exists)))
    candidates = created + (refreshed.rowcount or 0)
    ins_items = insert_ignore(s, Item.__table__, ["dataset_id", "dir", "name"]).from_select(
        ["dataset_id", "dir", "name", "blob_id", "meta_system", "meta_user", "created_at", "updated_at"],
        select(literal(d), L.dir, L.name, Blob.id, literal({}, JSON), literal({}, JSON), literal(now), literal(now))
        .join(Blob, and_(Blob.driver_id == drv, Blob.storage_key == L.storage_key))
        .where(newk))
    with deferred_name_index(s):
        report.new = written(s, ins_items)
        # Keys whose path is already taken by another item (one the user moved there): keep
        # both, the newcomer under a visible suffix, and say so in the report.
        leftovers = [] if report.new >= candidates else s.execute(
            select(L.storage_key, L.dir, L.name, Blob.id)
            .join(Blob, and_(Blob.driver_id == drv, Blob.storage_key == L.storage_key))
            .where(newk)).all()
        for r in leftovers:
            name = _free_name(s, d, r.dir, r.name)
            s.execute(insert(Item).values(dataset_id=d, dir=r.dir, name=name, blob_id=r.id, meta_system={},
                                          meta_user={}, created_at=now, updated_at=now))
            report.new += 1
            report.conflicts += 1
            _add_error(report, r.storage_key, f"path {paths.join(r.dir, r.name)} was taken; created as {name}")

    folder_rows = select(literal(d), L.dir, literal(now)).where(
        L.dataset_id == d, L.is_dir.is_(True), L.error.is_(None), L.dir != "/").distinct()
    gone_folders = _deleted_folders(s, d, files, tomb.kept_dirs) if tomb is not None and tomb.kept_dirs else []
    report.folders = written(s, insert_ignore(s, Folder.__table__, ["dataset_id", "path"]).from_select(
        ["dataset_id", "path", "created_at"], folder_rows))
    for part in chunked(gone_folders, 5000):
        report.folders -= s.execute(delete(Folder).where(Folder.dataset_id == d, Folder.path.in_(part))
                                    .execution_options(synchronize_session=False)).rowcount or 0

    if tomb is not None:
        tomb.drop_returned(s)

    total_files = s.execute(select(func.count()).select_from(L).where(files)).scalar_one()
    report.unchanged = max(0, total_files - report.new - report.changed - report.renamed - report.restored)
    return [(r.storage_key, r.etag) for r in changed]


def _tombstone_pages(s: Session, d: int, drv: int, cols, size: int = 5000):
    """The dataset's tombstones in key order, *size* at a time (keyset pages on the
    primary key: memory and each statement stay bounded whatever their number)."""
    T = SyncTombstone
    after = None
    while True:
        q = select(*cols).where(T.dataset_id == d, T.driver_id == drv).order_by(T.storage_key).limit(size)
        if after is not None:
            q = q.where(T.storage_key > after)
        rows = s.execute(q).all()
        if not rows:
            return
        yield rows
        after = rows[-1].storage_key


def _drop_revived_tombstones(s: Session, d: int, drv: int) -> int:
    """Forget the deletion of keys that have an item in the dataset again (a rollback
    restored it, or another item was pointed at it): they are not new to sync, and must
    not be counted as skipped nor kept out later.  Blob rows by their unique key, items
    by blob id, a page of tombstones at a time."""
    from dsdesk.catalog.sql import lookup_ids

    T = SyncTombstone
    # "+ 0": the item's blob index, never a walk of the dataset's items per blob.
    used = select(Item.blob_id).where(Item.blob_id.in_(bindparam("ids", expanding=True)),
                                      Item.dataset_id + 0 == d).distinct()
    revived: list[str] = []
    for page in _tombstone_pages(s, d, drv, (T.storage_key,)):
        key_of = {b: k for k, b in lookup_ids(s, Blob.id, Blob.storage_key, [r.storage_key for r in page],
                                              Blob.driver_id == drv).items()}
        if key_of:
            revived.extend(key_of[b] for b in s.execute(used, {"ids": list(key_of)}).scalars())
    return tombstones.forget(s, d, drv, revived)


def _same_object(t_etag, t_size, l_etag, l_size) -> bool:
    """The listed object is the one the user deleted: same size, same etag (an etag
    unknown on either side: the size decides)."""
    return t_size == l_size and (t_etag is None or l_etag is None or t_etag == l_etag)


class _Tombstones:
    """What the dataset's tombstones do to one reconcile (see the module docstring)."""

    def __init__(self, d: int, drv: int):
        self.d, self.drv = d, drv
        self.kept = 0  # listed keys kept out (their staged rows are dropped)
        self.kept_dirs: set[str] = set()  # folders of those keys
        self.changed: list[str] = []  # listed with other content: back as items, tombstone goes
        self.lost: list[tuple[str, str, int]] = []  # (key, etag, size) of tombstoned keys not listed

    def _drop_staged(self, s: Session, keys: list[str]) -> None:
        s.execute(delete(SyncListing).where(SyncListing.dataset_id == self.d, SyncListing.storage_key.in_(keys))
                  .execution_options(synchronize_session=False))

    def follow_renames(self, s: Session, files, ds_keys) -> int:
        """A tombstoned key that vanished and a new key with the same etag and size is a
        rename (the rule items follow): the tombstone moves to the new key, whose object
        the user deleted and which therefore stays out too.  Runs after the items' own
        renames took their pairs; pairs are made like theirs (etag and size, key order).
        Returns the number of tombstones moved."""
        if not self.lost:
            return 0
        L = SyncListing
        cand = (select(L.storage_key, L.etag, L.size, L.dir)
                .where(files, L.etag.in_(bindparam("etags", expanding=True)), ~L.storage_key.in_(ds_keys))
                .order_by(L.storage_key))
        changed = set(self.changed)  # tombstoned already (their own, changed, object)
        free: dict[tuple[str, int], list] = {}
        for part in chunked(sorted({e for _, e, _ in self.lost}), 5000):
            for r in s.execute(cand, {"etags": part}):
                if r.storage_key not in changed:
                    free.setdefault((r.etag, r.size), []).append(r)
        for rows in free.values():
            rows.reverse()  # pop() hands them out in key order
        pairs = []
        for key, etag, size in self.lost:
            rows = free.get((etag, size))
            if rows:
                r = rows.pop()
                pairs.append({"old_key": key, "new_key": r.storage_key})
                self.kept_dirs.add(r.dir)
        if pairs:
            t = SyncTombstone.__table__
            s.execute(update(t).where(t.c.dataset_id == self.d, t.c.driver_id == self.drv,
                                      t.c.storage_key == bindparam("old_key")).values(storage_key=bindparam("new_key")),
                      pairs)
            for part in chunked([p["new_key"] for p in pairs], 5000):
                self._drop_staged(s, part)
            self.kept += len(pairs)
        return len(pairs)

    def drop_returned(self, s: Session) -> None:
        """After the apply: the tombstones of keys that came back changed are void."""
        tombstones.forget(s, self.d, self.drv, self.changed)


def _screen_tombstones(s: Session, d: int, drv: int) -> _Tombstones:
    """Compare the dataset's tombstones with the staged listing and drop the staged rows
    of the keys they keep out.  Cost follows the tombstones, never the listing: pages of
    tombstones, each matched with its staged rows by primary key, so the plans are index
    lookups on SQLite and on a PostgreSQL whose fresh tables have no statistics yet."""
    T, L = SyncTombstone, SyncListing
    _drop_revived_tombstones(s, d, drv)
    out = _Tombstones(d, drv)
    staged = select(L.storage_key, L.etag, L.size, L.dir).where(
        L.dataset_id == d, L.is_dir.is_(False), L.error.is_(None),
        L.storage_key.in_(bindparam("keys", expanding=True)))
    for page in _tombstone_pages(s, d, drv, (T.storage_key, T.etag, T.size)):
        listed = {r.storage_key: r for r in s.execute(staged, {"keys": [t.storage_key for t in page]})}
        kept = []
        for t in page:
            r = listed.get(t.storage_key)
            if r is None:
                if t.etag is not None:
                    out.lost.append((t.storage_key, t.etag, t.size))
            elif _same_object(t.etag, t.size, r.etag, r.size):
                kept.append(t.storage_key)
                out.kept_dirs.add(r.dir)
            else:
                out.changed.append(t.storage_key)
        if kept:
            out._drop_staged(s, kept)
            out.kept += len(kept)
    return out


def _deleted_folders(s: Session, d: int, files, kept_dirs: set[str]) -> list[str]:
    """Listed folders sync must not recreate: not in the dataset (the user deleted them)
    and every listed file under them kept out by a tombstone.  Folders with no file under
    them (markers of empty folders) and folders the dataset still has are not touched.

    Works on folder paths, not items: the candidates are the listed folders missing from
    the dataset (usually none or a few); only if one of them held deleted keys are the
    folders of the remaining files read (one DISTINCT query).
    """
    L = SyncListing
    exists_now = select(Folder.id).where(Folder.dataset_id == d, Folder.path == L.dir).exists()
    candidates = list(s.execute(select(L.dir).where(L.dataset_id == d, L.is_dir.is_(True), L.error.is_(None),
                                                    L.dir != "/", ~exists_now).distinct()).scalars())

    def with_ancestors(dirs) -> set[str]:
        out: set[str] = set()
        for p in dirs:
            while p not in out and p != "/":
                out.add(p)
                p = p.rsplit("/", 1)[0] or "/"
        return out

    deleted = with_ancestors(kept_dirs)
    if not deleted.intersection(candidates):
        return []
    live = with_ancestors(s.execute(select(L.dir).where(files).distinct()).scalars())
    return [p for p in candidates if p in deleted and p not in live]


def _prefix_len(s: Session, drv: int) -> int:
    from dsdesk.storage.drivers import normalize_prefix

    return len(normalize_prefix(s.execute(select(Driver.prefix).where(Driver.id == drv)).scalar_one()))


def _free_name(s: Session, d: int, dir_: str, name: str, exclude: int | None = None) -> str:
    """*name*, or ``stem (2).ext`` ... the first name not taken in *dir_* of dataset *d*."""
    stem, ext = os.path.splitext(name)
    cand, i = name, 1
    while True:
        q = select(Item.id).where(Item.dataset_id == d, Item.dir == dir_, Item.name == cand)
        if exclude is not None:
            q = q.where(Item.id != exclude)
        if s.execute(q.limit(1)).first() is None:
            return cand
        i += 1
        cand = f"{stem} ({i}){ext}"


def _add_error(report: SyncReport, key: str, message: str) -> None:
    report.error_count += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append({"key": key, "error": message})


def _collect_errors(s: Session, d: int, report: SyncReport) -> None:
    n = s.execute(select(func.count()).select_from(SyncListing)
                  .where(SyncListing.dataset_id == d, SyncListing.error.is_not(None))).scalar_one()
    rows = s.execute(select(SyncListing.storage_key, SyncListing.error)
                     .where(SyncListing.dataset_id == d, SyncListing.error.is_not(None))
                     .order_by(SyncListing.storage_key).limit(MAX_REPORTED_ERRORS)).all()
    report.error_count += n
    room = MAX_REPORTED_ERRORS - len(report.errors)
    report.errors.extend({"key": k, "error": e} for k, e in rows[:max(0, room)])


def _invalidate_thumbnails(db, driver_id: int, keys: list[tuple[str, str | None]]) -> None:
    """Drop the cached thumbnails of objects whose bytes changed."""
    from dsdesk.storage.thumbnails import ThumbnailCache

    cache = ThumbnailCache(db.cache_root)
    for key, etag in keys:
        cache.invalidate(driver_id, key, etag)
