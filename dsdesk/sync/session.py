"""The session every phase of a sync does its catalog work in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def sync_session(db, commit: bool = True) -> Iterator[Session]:
    """A session for the sync's own work: committed (or, with *commit* False, rolled back)
    at the end, and on SQLite without memory-mapped I/O while it runs.

    The catalog maps up to 256 MiB of its file; a million-key sync touches most of it, and
    those mapped pages count in the process's resident size.  Through the page cache the
    speed is the same (measured), the resident size stays bounded, and the connection
    gets its setting back before it returns to the pool.

    Every sync session reads and then writes, so it is a write session (on SQLite the
    write lock is taken up front): a deferred one lost the lock to another client's commit
    between its read and its first write ("database is locked" at once, no wait; seen in
    tests/concurrency).  A session that will be rolled back only reads.
    """
    s = db.new_session(write=commit)
    lean = db.dialect == "sqlite"
    old = None
    try:
        if lean:
            con = s.connection()
            old = con.exec_driver_sql("PRAGMA mmap_size").scalar()
            con.exec_driver_sql("PRAGMA mmap_size=0")
        yield s
        if commit:
            s.commit()
        else:
            s.rollback()
    except BaseException:
        s.rollback()
        raise
    finally:
        if lean and old is not None:
            try:
                # close() below ends the transaction this opens; a rollback() here would
                # expire the objects the caller still reads.
                s.connection().exec_driver_sql(f"PRAGMA mmap_size={int(old)}")
            except Exception:  # noqa: BLE001 - a broken connection is discarded by the pool anyway
                pass
        s.close()
