"""Id lists of any length in SQL statements.

A statement that binds a Python list of ids as ``col IN (?, ?, ...)`` fails past the
driver's limit (SQLite: 32,766 bind variables, ``too many SQL variables``; psycopg: 65,535
parameters) and compiles slowly long before that.  :func:`id_set` keeps a short list inline
and loads a long one into a temporary table, returning a ``SELECT id`` to pass to
``col.in_(...)``; the table lives as long as the ``with`` block, on the session's own
connection, so nothing else sees it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Select, column, select, table, text
from sqlalchemy.orm import Session

from dsdesk.catalog.sql import chunked

#: Lists up to this long are bound inline (one statement, no temporary table); the
#: temporary table pays for itself beyond, and SQLite's variable limit is far above it.
INLINE_MAX = 5000
_LOAD_CHUNK = 10_000
_names = itertools.count(1)


@contextmanager
def id_set(session: Session, ids: Iterable[int] | Select) -> Iterator[Sequence[int] | Select]:
    """What to pass to ``col.in_()`` for *ids* (a list, a range, or already a SELECT).

    A SELECT comes back unchanged, a short list as a list; a long one is written into a
    temporary table (dropped when the block ends) and comes back as its ``SELECT id``.
    """
    if isinstance(ids, Select):
        yield ids
        return
    ids = list(ids)
    if len(ids) <= INLINE_MAX:
        yield ids
        return
    name = f"dsdesk_ids_{next(_names)}"
    pg = session.get_bind().dialect.name == "postgresql"
    # ON COMMIT DROP on PostgreSQL: a failed transaction cannot run the DROP below.
    session.execute(text(f"CREATE TEMPORARY TABLE {name} (id BIGINT PRIMARY KEY)"
                         + (" ON COMMIT DROP" if pg else "")))
    ph = "%s" if pg else "?"
    conn = session.connection()
    for part in chunked(sorted(set(ids)), _LOAD_CHUNK):
        conn.exec_driver_sql(f"INSERT INTO {name} (id) VALUES ({ph})", [(i,) for i in part])
    try:
        yield select(table(name, column("id")).c.id)
    finally:
        if not pg:
            try:
                session.execute(text(f"DROP TABLE IF EXISTS temp.{name}"))
            except Exception:  # the session is failing anyway; its connection's temp schema goes with it
                pass
