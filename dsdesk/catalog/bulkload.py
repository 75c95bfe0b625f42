"""Large loads into a table: its secondary indexes rebuilt once at the end, not row by row.

An insert keeps every index of its table up to date one row at a time: a B-tree descent
and a cell insert per row per index.  ``CREATE INDEX`` on the filled table sorts the rows
once and writes full pages.  Measured on this project's 2-core machine, a raw
``executemany`` of 1M items into a fresh catalog spends 7.6 s on the four secondary item
indexes; the same four built afterwards cost 1.8 s (100k items: 0.63 s against 0.1 s).

The rebuild sorts the whole table, though, not just the new rows, so it pays only for a
load at least as large as the table already is (and of at least :data:`MIN_ROWS`).
Measured into a catalog of 1M items: a 1M load took 25.4-25.8 s deferred against
26.1-27.2 s row by row, a 500k load 13.7-14.8 s against 13.0-13.2 s.  Copies between
datasets (clone, snapshot) do not use it: their rows arrive in index order, so row by row
costs little there, and rebuilding made a 1M clone 5-8 s slower.  Such a load drops the
table's non-unique indexes inside the caller's write transaction and creates them again
before it ends.  Why this is safe:

* It only happens on SQLite, where DDL is transactional: other connections (WAL readers)
  keep seeing the table with its indexes until the commit, and a rollback restores them.
* Unique indexes stay: the loads' ``ON CONFLICT`` clauses and the constraints need them.
* The indexes are recreated from their own SQL in ``sqlite_master``, so expression
  indexes (``dsdesk.query.indexes``) and indexes added by later migrations come back too.
* They are recreated even when the load fails, unless the transaction is already gone.

PostgreSQL is left alone: ``DROP INDEX`` takes a lock that would block every reader of
the table for the whole load.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Below this many rows a load keeps the indexes: dropping and creating them changes the
#: schema (every connection re-prepares its statements) for little gain.
MIN_ROWS = 20_000

_UNIQUE = re.compile(r"\s*CREATE\s+UNIQUE\s", re.IGNORECASE)


class IndexDeferral:
    """Decides whether a load into *table* drops its secondary indexes, and restores them."""

    def __init__(self, session: Session, table: str):
        self._session = session
        self._table = table
        self._dropped: list[tuple[str, str]] = []
        self._decided = session.get_bind().dialect.name != "sqlite"
        # max(id) stands in for the row count: it is one index seek, and it only ever
        # overestimates (deleted rows), which errs towards keeping the indexes.
        self._existing = 0 if self._decided else (session.execute(
            text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar() or 0)

    @property
    def active(self) -> bool:
        """True while the table's secondary indexes are dropped."""
        return bool(self._dropped)

    def consider(self, incoming: int) -> None:
        """Drop the secondary indexes now if a load of *incoming* rows is worth it.

        Call it with the expected size up front, or with the rows seen so far as a load of
        unknown size goes on; once the indexes are dropped (or the table is not SQLite's)
        further calls do nothing.
        """
        if self._decided or incoming < max(MIN_ROWS, self._existing):
            return
        self.drop_now()

    def drop_now(self) -> None:
        """Drop the table's secondary indexes now (SQLite only; once), whatever the sizes:
        for callers that decided themselves (a bulk delete, :mod:`dsdesk.catalog.bulkdelete`)."""
        if self._session.get_bind().dialect.name != "sqlite" or self._dropped:
            return
        self._decided = True
        con = self._session.connection()
        found = con.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"
                                 " AND sql IS NOT NULL"), {"t": self._table}).all()
        for name, sql in found:
            if _UNIQUE.match(sql):
                continue
            con.exec_driver_sql(f"DROP INDEX {_quote(name)}")
            self._dropped.append((name, sql))
        if self._dropped:
            log.info("a bulk change of %s: %d indexes rebuilt at the end", self._table, len(self._dropped))

    def restore(self) -> None:
        """Create the dropped indexes again (from their original SQL)."""
        con = self._session.connection()
        while self._dropped:
            _, sql = self._dropped[-1]
            # exec_driver_sql: the SQL is SQLite's own text, with no bind parameters to parse
            # (an expression index over a JSON key may contain a colon).
            con.exec_driver_sql(sql)
            self._dropped.pop()


@contextmanager
def deferred_indexes(session: Session, table: str, expected: int | None = None) -> Iterator[IndexDeferral]:
    """Run a load into *table* with its secondary indexes deferred when that pays (module doc).

    *expected* is the number of rows when known; otherwise call ``consider(rows_so_far)``
    on the yielded object between batches.
    """
    deferral = IndexDeferral(session, table)
    if expected:
        deferral.consider(expected)
    try:
        yield deferral
    except BaseException:
        # A caller that catches the error and commits must still find its indexes.  When
        # the transaction itself is gone the rollback has restored them already.
        try:
            deferral.restore()
        except SQLAlchemyError as e:
            log.debug("indexes of %s not recreated after a failed load: %s", table, e)
        raise
    deferral.restore()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
