"""PostgreSQL: fresh planner statistics after a bulk write, in the background.

A bulk import, clone or merge adds up to millions of rows in one transaction, and
autovacuum looks at the table only a minute or so later.  Planned meanwhile on missing
statistics (a new catalog: 70 rows guessed for 100,000), the grid's deep page sorted the
whole dataset on disk instead of walking the unique index: 205 ms instead of 26 ms at
100k items.  So a committed transaction that wrote at least :data:`BIG_WRITE` rows into
one of the tables the views read is followed by an ``ANALYZE`` of those tables on a
thread of its own (sampled: a fraction of a second at any size; it takes no lock that
blocks readers or writers).  SQLite plans without statistics (see dsdesk.query.indexes).

The rows are counted per statement (the driver's rowcount) on the connection; the count
moves to "to analyse" at commit, is dropped at rollback, and the thread starts when the
connection goes back to the pool, after the commit is complete.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import event
from sqlalchemy.engine import Engine

from dsdesk.catalog.sql import written_table

BIG_WRITE = 10_000
TABLES = ("item", "annotation", "blob", "folder")
_ROWS = "dsdesk_rows_written"  # connection info: {table: rows} in the open transaction
_DUE = "dsdesk_analyze_due"  # connection info: tables a committed transaction made stale
log = logging.getLogger(__name__)


def note_rows(info: dict, table: str, rows: int) -> None:
    """Count *rows* written into *table* by a path the driver's rowcount misses (``COPY``)."""
    if table in TABLES and rows > 0:
        counts = info.setdefault(_ROWS, {})
        counts[table] = counts.get(table, 0) + rows


class Analyzer:
    """Runs ``ANALYZE`` of the tables bulk writes made stale, one run at a time, off the
    committing thread.  :meth:`wait` lets a running one finish."""

    def __init__(self, engine: Engine):
        self._engine = engine
        self._lock = threading.Lock()
        self._due: set[str] = set()
        self._thread: threading.Thread | None = None

    def request(self, tables: set[str]) -> None:
        """Analyse *tables* soon (merged with a run already waiting)."""
        with self._lock:
            self._due |= tables
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dsdesk-pg-analyze", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                tables, self._due = self._due, set()
                if not tables:
                    self._thread = None
                    return
            try:
                with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
                    con.exec_driver_sql("ANALYZE " + ", ".join(sorted(tables)))
            except Exception as e:  # noqa: BLE001 - statistics are an optimisation; autovacuum catches up
                log.warning("background ANALYZE of %s failed: %s", sorted(tables), e)

    def wait(self, timeout: float = 30.0) -> None:
        """Let a running ANALYZE finish (closing the catalog)."""
        t = self._thread
        if t is not None:
            t.join(timeout)


def install(engine: Engine) -> Analyzer | None:
    """Watch *engine*'s bulk writes (PostgreSQL only; None elsewhere)."""
    if engine.dialect.name != "postgresql":
        return None
    analyzer = Analyzer(engine)

    @event.listens_for(engine, "after_cursor_execute")
    def _count(conn, cursor, statement, _params, _context, _many):
        table = written_table(statement)
        if table is not None:
            note_rows(conn.info, table, cursor.rowcount or 0)

    @event.listens_for(engine, "commit")
    def _committing(conn):
        counts = conn.info.pop(_ROWS, None)
        if counts:
            big = {t for t, n in counts.items() if n >= BIG_WRITE}
            if big:
                conn.info.setdefault(_DUE, set()).update(big)

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn):
        conn.info.pop(_ROWS, None)

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi_con, record):
        due = record.info.pop(_DUE, None)
        if due:
            analyzer.request(due)

    return analyzer
