"""SQLite: taking the write lock promptly while a long job writes in short transactions.

SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100 ms between
attempts.  Against a job that commits a part every ~20 ms and begins the next one at
once, a waiting writer keeps waking while the lock is held: a one-row edit of another
client waited 150-230 ms during a first sync.  :func:`begin_immediate` polls every
millisecond instead, and a job that writes part after part calls :func:`yield_lock`
between two, which leaves such a poll a window to take the lock in.
"""

from __future__ import annotations

import sqlite3
import time

BUSY_TIMEOUT_MS = 30000  # the connections' busy_timeout (dsdesk.catalog.engine)
POLL_S = 0.001
YIELD_S = 0.003  # a few of a waiting writer's 1 ms polls


def begin_immediate(dbapi_con: sqlite3.Connection, timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """``BEGIN IMMEDIATE`` on *dbapi_con*, retried every millisecond while another
    connection holds the write lock, for at most *timeout_ms* (then SQLite's own
    "database is locked" error is raised)."""
    deadline = time.monotonic() + timeout_ms / 1000
    dbapi_con.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_con.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) and "busy" not in str(e) or time.monotonic() >= deadline:
                    raise
            time.sleep(POLL_S)
    finally:
        dbapi_con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def yield_lock() -> None:
    """Between two write transactions of a long job: let a waiting writer in first."""
    time.sleep(YIELD_S)
