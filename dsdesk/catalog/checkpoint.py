"""WAL checkpoints off the committing thread (SQLite catalogs).

In WAL mode SQLite copies the log back into the database file ("checkpoint").  By
default the connection that commits does it when the log passes 1000 pages, so whoever
commits after a bulk write waits for it: after a million-item import that is seconds of
copying, on the thread of the import, or worse on the GUI thread's next small commit.
SQLite's documentation suggests the alternative used here: automatic checkpoints are
off on every dsdesk connection (``PRAGMA wal_autocheckpoint=0``), and after a commit
that left the log large, a short-lived background thread runs a PASSIVE checkpoint on its
own connection.  PASSIVE never blocks readers or writers; what it cannot copy yet (a
reader still needs old pages) is copied by the next one.  Data is committed and visible
before any of this starts; only the copy into the main file moves.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CHECKPOINT_BYTES = 4 * 1024 * 1024  # SQLite's own default: 1000 pages of 4 KiB
WAL_KEEP_BYTES = 64 * 1024 * 1024  # after a checkpoint, a larger log file is truncated to this


class Checkpointer:
    """Runs PASSIVE checkpoints of one SQLite file in a background thread, on demand."""

    def __init__(self, db_path: Path):
        self.db_path = Path(db_path)
        self.wal_path = Path(str(db_path) + "-wal")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self.runs = 0  # checkpoints done (tests and benchmarks read it)

    def wal_size(self) -> int:
        """Current size of the write-ahead log in bytes (0 when there is none)."""
        try:
            return os.stat(self.wal_path).st_size
        except OSError:
            return 0

    def after_commit(self) -> None:
        """Call after a commit: starts a checkpoint when the log has grown past the threshold."""
        if self.wal_size() < CHECKPOINT_BYTES:
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True  # the running thread goes round once more
                return
            self._again = False
            self._thread = threading.Thread(target=self._run, name="dsdesk-wal-checkpoint", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            con = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:  # the file went away (a test's tmp dir, a closed catalog)
            log.debug("checkpoint: cannot open %s: %s", self.db_path, e)
            return
        try:
            con.execute(f"PRAGMA journal_size_limit={WAL_KEEP_BYTES}")
            while True:
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.runs += 1
                with self._lock:
                    if not self._again:
                        self._thread = None
                        return
                    self._again = False
        except sqlite3.Error as e:
            log.debug("checkpoint of %s failed: %s", self.db_path, e)
            with self._lock:
                self._thread = None
        finally:
            con.close()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a running checkpoint to finish (closing the catalog does)."""
        t = self._thread
        if t is not None:
            t.join(timeout)
