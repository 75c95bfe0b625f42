"""Small portable SQL helpers shared by the set-based operations (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# The table a writing statement writes: INSERT [OR ...] INTO, UPDATE [OR ...], DELETE FROM,
# COPY; searched, so that a WITH ... INSERT is seen too.
_WRITTEN = re.compile(r'(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|COPY)\s+'
                      r'(?:"?\w+"?\.)?"?(\w+)"?', re.IGNORECASE)
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "WITH", "REPLACE", "COPY")


def written_table(statement: str) -> str | None:
    """The table *statement* writes (lower case), or None for a statement that writes none:
    the one reading of statements that the change feed and PostgreSQL's statistics both use."""
    if not statement.lstrip()[:7].upper().startswith(_WRITE_VERBS):
        return None
    m = _WRITTEN.search(statement)
    return m.group(1).lower() if m else None

def insert_ignore(session: Session, table: Table, index_elements: Sequence[str]):
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` for the session's dialect."""
    name = session.get_bind().dialect.name
    mod = postgresql if name == "postgresql" else sqlite
    return mod.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def written(session: Session, stmt) -> int:
    """Execute an INSERT/UPDATE ... SELECT and return how many rows it wrote.

    ``preserve_rowcount``: without it psycopg reports -1 for ``INSERT ... SELECT``.
    """
    n = session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount
    return max(n or 0, 0)


def chunked(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most *size* elements from *iterable*, lazily."""
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def lookup_ids(session: Session, id_col, key_col, keys: Sequence[Any], *where, size: int = 5000) -> dict:
    """``{key: id}`` for the rows whose *key_col* is in *keys* (queried in chunks)."""
    out: dict = {}
    # One cached statement with an expanding parameter: compiling thousands of literal
    # bind parameters per chunk would cost more than the lookup itself.
    q = select(key_col, id_col).where(key_col.in_(bindparam("keys", expanding=True)), *where)
    for part in chunked(keys, size):
        out.update(session.execute(q, {"keys": part}).tuples().all())
    return out


def _insert_sql(session: Session, table: str, cols: Sequence[str], conflict: Sequence[str] | None = None) -> str:
    """``INSERT INTO table (cols) VALUES (?, ...) [ON CONFLICT (...) DO NOTHING]`` in the
    driver's parameter style, for ``exec_driver_sql`` with pre-built tuples (bulk paths)."""
    ph = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))})"
    if conflict:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
    return sql


# From this many rows PostgreSQL takes COPY; a few rows (a page's folders, often there
# already) are cheaper as one INSERT ... ON CONFLICT than as a savepoint, a COPY and a retry.
COPY_MIN_ROWS = 500


def insert_rows(session: Session, table: str, cols: Sequence[str], rows: Sequence[tuple], *,
                conflict: Sequence[str] | None = None, chunk: int | None = None) -> int:
    """Insert pre-built tuples (values in *cols* order) into *table*: the bulk write of
    ingest and sync, on SQLite and PostgreSQL alike.

    The rows go through the driver's executemany with one plain ``INSERT`` (``ON CONFLICT
    (conflict) DO NOTHING`` when *conflict* names the unique columns): ORM or Core
    parameter processing per row would cost more than the insert itself at a million rows.
    Values must already be what the driver takes: JSON as text, and on SQLite datetimes
    in SQLAlchemy's text form (so the ORM reads them back unchanged).  *chunk* cuts *rows* into statements of at most that many
    rows (ignored where PostgreSQL writes them by ``COPY``: :mod:`dsdesk.catalog.pgcopy`).
    Returns how many rows the driver reports inserted (rows skipped by a conflict
    are not counted), or -1 when the driver cannot tell.
    """
    if not rows:
        return 0
    if len(rows) >= COPY_MIN_ROWS and session.get_bind().dialect.name == "postgresql":
        from dsdesk.catalog.pgcopy import copy_rows  # local: psycopg only on PostgreSQL

        return copy_rows(session, table, cols, rows, conflict)
    sql = _insert_sql(session, table, cols, conflict)
    con = session.connection()
    total = 0
    # A list, as the DB-API wants for executemany (a tuple of rows would be one row).
    for part in chunked(rows, chunk) if chunk else (rows if isinstance(rows, list) else list(rows),):
        n = con.exec_driver_sql(sql, part).rowcount
        if total >= 0:
            total = total + n if isinstance(n, int) and n >= 0 else -1
    return total


def allocate_ids(session: Session, table: str, n: int) -> Sequence[int]:
    """Reserve *n* primary keys of *table* for rows about to be inserted.

    SQLite has a single writer: once this transaction holds the write lock (taken here),
    ``max(id) + 1`` onwards is ours, so a ``range`` comes back.  PostgreSQL draws them
    from the table's sequence (a list, not necessarily consecutive under concurrency).
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        seq = session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}).scalar()
        # One array, not n rows: fetching 10,000 one-value rows cost more than drawing them.
        return session.execute(text("SELECT array_agg(nextval(:s)) FROM generate_series(1, :n)"),
                               {"s": seq, "n": n}).scalar() or []
    session.execute(text(f"UPDATE {table} SET id = id WHERE 0"))  # take the write lock
    first = (session.execute(text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar() or 0) + 1
    return range(first, first + n)


def id_in(col, ids: Sequence[int]):
    """``col`` among *ids*: a BETWEEN for a range, an IN list otherwise."""
    if isinstance(ids, range):
        return col.between(ids.start, ids.stop - 1)
    return col.in_(list(ids))
