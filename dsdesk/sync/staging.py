"""Staging: each listed page and the run's cursor, written in one transaction.

A page goes into ``sync_listing`` (the diff reads it later), or, on a first sync, through
a sink that writes blobs, items and folders directly (:mod:`dsdesk.sync.first_sync`).
Either way the cursor (the page's last key) moves in the same transaction as the rows it
covers: a kill between pages loses nothing and repeats nothing, and the next run lists
from the cursor on.  The writes run on a thread of their own (:class:`PageWriter`) while
the next page is listed and mapped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.orm import Session

from dsdesk.catalog.models import SyncState
from dsdesk.catalog.sql import chunked, insert_rows
from dsdesk.catalog.write_lock import yield_lock
from dsdesk.sync.listing import COLS, ERROR, PageMapper, pages
from dsdesk.sync.report import SyncReport
from dsdesk.sync.session import sync_session

# Rows per write transaction on SQLite, whose one write lock a page's transaction holds: at
# 2,000 rows another client's edit waits ~20 ms for it, at a local page of 20,000 ~200 ms.
SQLITE_WRITE_ROWS = 2000
_NO_CURSOR = object()  # a part before a page's last: the cursor stays where it was


class PageSink(Protocol):
    """Where a first sync writes a page's good rows instead of the staging table."""

    def write(self, s: Session, rows: list[tuple]) -> None:
        """Write the page's files and folders in the page's transaction."""


def _sqlite_datetime(v) -> str:
    """SQLAlchemy's SQLite DATETIME text form, ``YYYY-MM-DD HH:MM:SS.ffffff``, made in C,
    so the ORM reads the raw-inserted value back unchanged."""
    return v.isoformat(" ", "microseconds")


def _as_is(v):
    return v


def stage(db, dataset_id: int, driver, run_id: str, cursor, ctx, report: SyncReport, page_size: int,
          sink: PageSink | None = None) -> None:
    """List *driver* from *cursor* on, writing each page with the new cursor in one
    transaction: into ``sync_listing``, or through *sink* (first sync; only refused keys
    are staged then, their reasons outlive a resume).  Counts ``report.listed``, reports
    progress and checks cancellation per page.  Raises what the driver or the writes raise
    (the pages committed so far stay: the next run resumes after them)."""
    mapper = PageMapper(dataset_id, run_id, driver.prefix, _sqlite_datetime if db.dialect == "sqlite" else _as_is)

    def write_part(rows: list[tuple], page_cursor) -> None:
        with sync_session(db) as s:
            if sink is not None:
                sink.write(s, rows)
                rows = [r for r in rows if r[ERROR] is not None]
            insert_rows(s, "sync_listing", COLS, rows, conflict=("dataset_id", "storage_key"))
            if page_cursor is not _NO_CURSOR:
                s.execute(update(SyncState).where(SyncState.dataset_id == dataset_id).values(cursor=page_cursor))

    def write_page(rows: list[tuple], page_cursor) -> None:
        # On SQLite a big page is written in parts, the cursor with the last: killed between
        # two parts, the next run lists the page again and its inserts skip what is there
        # (ON CONFLICT DO NOTHING; the sink recounts a page that was partly there).
        sqlite = db.dialect == "sqlite"
        parts = list(chunked(rows, SQLITE_WRITE_ROWS)) if sqlite and rows else [rows]
        for k, part in enumerate(parts):
            if sqlite:
                yield_lock()  # another client's edit goes between two parts (and two pages)
            write_part(part, page_cursor if k == len(parts) - 1 else _NO_CURSOR)

    writer = PageWriter(write_page)
    ok = False
    try:
        for page in pages(driver, cursor, page_size):
            ctx.check_cancelled()
            writer.put(mapper.rows(page.entries), page.cursor)
            report.listed += mapper.listed(page.entries)
            ctx.progress(report.listed, None, f"listed {report.listed} objects")
        ok = True
    finally:
        writer.close(raise_error=ok)


class PageWriter:
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
