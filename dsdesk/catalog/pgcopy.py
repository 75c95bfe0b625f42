"""PostgreSQL: bulk tuple writes through ``COPY`` (psycopg 3 ``cursor.copy``).

``COPY ... FROM STDIN`` streams rows to the server in one protocol exchange, where the
driver's ``executemany`` sends a statement per row (pipelined).  ``COPY`` knows no
``ON CONFLICT``, so a write that must skip taken keys first tries the straight ``COPY``
inside a savepoint (a fresh import: nothing is taken) and, only when a unique key is
violated, copies into a temporary table and moves the rows on with one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.

The statements go to the psycopg connection under the session's, so SQLAlchemy's
statement events do not see them: the change feed and the background ANALYZE are told
here what was written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from psycopg import errors, sql
from sqlalchemy.orm import Session

from dsdesk.catalog import changes, pg_analyze


def _copy(cur, table: str, cols: Sequence[str], rows: Sequence[tuple]) -> None:
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table),
                                                     sql.SQL(", ").join(map(sql.Identifier, cols)))
    with cur.copy(stmt) as cp:
        for r in rows:
            cp.write_row(r)


def _staging_table(cur, table: str, cols: Sequence[str]) -> str:
    """A temporary table with *cols* of *table* (their types, no constraints), emptied."""
    tag = hashlib.sha1(",".join(cols).encode()).hexdigest()[:10]
    name = f"dsdesk_copy_{table}_{tag}"
    tmp = sql.Identifier(name)
    cols_sql = sql.SQL(", ").join(map(sql.Identifier, cols))
    cur.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} AS SELECT {} FROM {} WITH NO DATA")
                .format(tmp, cols_sql, sql.Identifier(table)))
    cur.execute(sql.SQL("TRUNCATE {}").format(tmp))
    return name


def copy_rows(session: Session, table: str, cols: Sequence[str], rows: Sequence[tuple],
              conflict: Sequence[str] | None = None) -> int:
    """Write *rows* (values in *cols* order) into *table* by ``COPY``; with *conflict*
    (the unique columns) rows whose key is taken are skipped.  Returns how many went in.
    Runs in the session's transaction."""
    if not rows:
        return 0
    con = session.connection()
    changes.note_write(con.info, table)
    cur = con.connection.driver_connection.cursor()
    try:
        if not conflict:
            _copy(cur, table, cols, rows)
            written = len(rows)
        else:
            # A savepoint of our own on the driver's connection: SQLAlchemy's begin_nested()
            # did not roll back to it when the COPY failed (the transaction stayed aborted).
            cur.execute("SAVEPOINT dsdesk_copy")
            try:
                _copy(cur, table, cols, rows)
                cur.execute("RELEASE SAVEPOINT dsdesk_copy")
                written = len(rows)
            except errors.UniqueViolation:  # some key is taken: stage, then skip the taken ones
                cur.execute("ROLLBACK TO SAVEPOINT dsdesk_copy")
                cur.execute("RELEASE SAVEPOINT dsdesk_copy")
                tmp = _staging_table(cur, table, cols)
                _copy(cur, tmp, cols, rows)
                cols_sql = sql.SQL(", ").join(map(sql.Identifier, cols))
                cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} ON CONFLICT ({}) DO NOTHING")
                            .format(sql.Identifier(table), cols_sql, cols_sql, sql.Identifier(tmp),
                                    sql.SQL(", ").join(map(sql.Identifier, conflict))))
                written = max(cur.rowcount, 0)
    finally:
        cur.close()
    pg_analyze.note_rows(con.info, table, written)
    return written
