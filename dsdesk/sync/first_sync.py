"""The first sync of an empty dataset: listed pages become blobs, items and folders directly.

A dataset with no item yet has nothing to diff against, so its first sync skips the
staging table, whose cost dominates a million-key import: each page's keys are written
into blob / item / folder in the page's transaction, with the cursor (a resumed run
neither repeats nor skips a key).  Only refused keys are staged, for the report.
"""

from __future__ import annotations

from operator import itemgetter

from sqlalchemy import DateTime, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import stats
from dsdesk.catalog.models import Blob, Dataset, utcnow
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.catalog.sql import insert_rows, lookup_ids
from dsdesk.sync.listing import COLS, ERROR
from dsdesk.sync.report import SyncReport, collect_errors
from dsdesk.sync.session import sync_session
from dsdesk.sync.state import close_run

_PAGE_COLS = ("storage_key", "size", "etag", "last_modified", "is_dir", "dir", "name", "mimetype")
_page_fields = itemgetter(*(COLS.index(c) for c in _PAGE_COLS))  # a staged row -> a temp-table row
_KEY, _SIZE, _ETAG, _MTIME, _IS_DIR, _DIR, _NAME, _MIME = (COLS.index(c) for c in _PAGE_COLS)


class FirstSyncSink:
    """Writes a first sync's pages straight into the catalog (see the module docstring)."""

    def __init__(self, db, dataset_id: int, driver_id: int):
        self.d, self.drv = dataset_id, driver_id
        self.sqlite = db.dialect == "sqlite"
        dialect = db.engine.dialect
        self.to_db = (DateTime().dialect_impl(dialect).bind_processor(dialect) if self.sqlite else None) \
            or (lambda v: v)
        with sync_session(db) as s:
            # Only if some blob of this driver is marked missing can a first sync revive one.
            self.any_missing = s.execute(select(Blob.id).where(Blob.driver_id == driver_id,
                                                               Blob.missing_since.is_not(None)).limit(1)).first() \
                is not None

    def write(self, s: Session, rows: list[tuple]) -> None:
        """Insert the page's files (blob + item) and folders; refused keys are left to the caller."""
        good = [r for r in rows if r[ERROR] is None]
        if not good:
            return
        now = self.to_db(utcnow())
        files = [r for r in good if not r[_IS_DIR]]
        if self.sqlite:
            items, folders = self._write_sqlite(s, good, now)
        else:
            items, folders = self._write_portable(s, good, now)
        # The cached counts commit with the rows they count: a sync killed after this page
        # shows what it wrote, not 0 (they were recounted only at the end).  A page whose
        # keys were partly there already (a resumed run) is recounted instead.
        if items == len(files) and folders >= 0:
            stats.add_items(s, self.d, items, sum(r[_SIZE] or 0 for r in files), folders)
        else:
            stats.refresh(s, self.d)

    def _write_sqlite(self, s: Session, rows: list[tuple], now) -> tuple[int, int]:
        """Returns (items inserted, folders inserted)."""
        # The page goes into a TEMP table (memory, no index) with one executemany, then
        # into blob / item / folder with INSERT ... SELECT: SQLite runs an insert program
        # with triggers, foreign keys and seven item indexes about four times faster once
        # per statement than once per executemany row.
        con = s.connection()
        con.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS dsdesk_sync_page (storage_key TEXT, size INTEGER, "
                            "etag TEXT, last_modified TEXT, is_dir INTEGER, dir TEXT, name TEXT, mimetype TEXT)")
        con.exec_driver_sql("DELETE FROM dsdesk_sync_page")
        insert_rows(s, "dsdesk_sync_page", _PAGE_COLS, list(map(_page_fields, rows)))
        folders = con.exec_driver_sql("INSERT OR IGNORE INTO folder (dataset_id, path, created_at) "
                                      "SELECT ?, dir, ? FROM dsdesk_sync_page WHERE is_dir AND dir != '/'",
                                      (self.d, now)).rowcount
        con.exec_driver_sql("INSERT OR IGNORE INTO blob (driver_id, storage_key, size, etag, last_modified, mimetype, "
                            "created_at) SELECT ?, storage_key, size, etag, last_modified, mimetype, ? "
                            "FROM dsdesk_sync_page WHERE NOT is_dir", (self.drv, now))
        # Blobs another dataset on this driver knew (and maybe saw vanish) are present again.
        if self.any_missing:
            con.exec_driver_sql("UPDATE blob SET missing_since = NULL WHERE driver_id = ? AND missing_since IS NOT "
                                "NULL AND storage_key IN (SELECT storage_key FROM dsdesk_sync_page WHERE NOT is_dir)",
                                (self.drv,))
        with deferred_name_index(s):
            items = con.exec_driver_sql(
                "INSERT OR IGNORE INTO item (dataset_id, dir, name, blob_id, meta_system, meta_user, created_at, "
                "updated_at) SELECT ?, p.dir, p.name, b.id, '{}', '{}', ?, ? FROM dsdesk_sync_page p "
                "JOIN blob b ON b.driver_id = ? AND b.storage_key = p.storage_key WHERE NOT p.is_dir",
                (self.d, now, now, self.drv)).rowcount
        con.exec_driver_sql("DELETE FROM dsdesk_sync_page")
        return items, folders

    def _write_portable(self, s: Session, rows: list[tuple], now) -> tuple[int, int]:
        """Returns (items inserted, folders inserted); -1 when the driver cannot tell."""
        files = [r for r in rows if not r[_IS_DIR]]
        dirs = [(self.d, r[_DIR], now) for r in rows if r[_IS_DIR] and r[_DIR] != "/"]
        folders = insert_rows(s, "folder", ("dataset_id", "path", "created_at"), dirs,
                              conflict=("dataset_id", "path"))
        if not files:
            return 0, folders
        insert_rows(s, "blob", ("driver_id", "storage_key", "size", "etag", "last_modified", "mimetype", "created_at"),
                    [(self.drv, r[_KEY], r[_SIZE], r[_ETAG], r[_MTIME], r[_MIME], now) for r in files],
                    conflict=("driver_id", "storage_key"))
        ids = lookup_ids(s, Blob.id, Blob.storage_key, [r[_KEY] for r in files], Blob.driver_id == self.drv)
        s.execute(update(Blob).where(Blob.id.in_(list(ids.values())), Blob.missing_since.is_not(None))
                  .values(missing_since=None).execution_options(synchronize_session=False))
        items = insert_rows(s, "item", ("dataset_id", "dir", "name", "blob_id", "meta_system", "meta_user",
                                        "created_at", "updated_at"),
                            [(self.d, r[_DIR], r[_NAME], ids[r[_KEY]], "{}", "{}", now, now) for r in files],
                            conflict=("dataset_id", "dir", "name"))
        return items, folders


def finish_first_sync(db, dataset_id: int, report: SyncReport) -> None:
    """Close a first sync: counts from the catalog (earlier runs of a resumed sync
    included), refused keys from the staging rows, bookkeeping reset."""
    now = utcnow()
    with sync_session(db) as s:
        stats.refresh(s, dataset_id)
        ds = s.get(Dataset, dataset_id)
        report.new = ds.item_count
        report.folders = ds.folder_count
        collect_errors(s, dataset_id, report)
        close_run(s, dataset_id, report, now)
