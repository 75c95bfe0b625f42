"""Automatic re-sync while dsdesk runs: a small Qt-free scheduler thread.

Each dataset may have ``sync_state.interval_seconds``; the scheduler wakes every few
seconds, finds the datasets whose interval has elapsed since their last sync, and syncs
them one at a time as recorded jobs (so they show in the jobs panel and can be
cancelled).  A failing dataset is retried after its interval like any other: the error
is kept in ``sync_state.last_error`` and reported through *on_event*.  No cloud-side
function is deployed: a no-change re-sync is a listing plus one cheap SQL diff.

The GUI starts one with ``SyncScheduler(db, on_event=bridge).start()`` and calls
``stop()`` on exit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from dsdesk.errors import DsdeskError, JobCancelledError
from dsdesk.sync.engine import datasets_due, sync_job

log = logging.getLogger(__name__)


def mark_attempt(db, dataset_id: int) -> None:
    """Record a failed auto-sync as an attempt: it counts for the interval (or a dead bucket
    would be retried every poll) without pretending to be a successful sync."""
    from dsdesk.catalog.models import SyncState, utcnow

    with db.session(write=True) as s:
        st = s.get(SyncState, dataset_id)
        if st is not None:
            st.stats = {**(st.stats or {}), "last_attempt_at": utcnow().isoformat()}


class SyncScheduler:
    """A daemon thread that runs due auto-syncs.  ``start()``/``stop()`` from any thread."""

    def __init__(self, db, on_event: Callable | None = None, poll_seconds: float = 5.0):
        self.db = db
        self.on_event = on_event
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ctx = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SyncScheduler:
        """Start the thread (idempotent)."""
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="dsdesk-auto-sync", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread, cancelling a sync in progress (it resumes next time)."""
        self._stop.set()
        with self._lock:
            if self._ctx is not None:
                self._ctx.cancel()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_due(self) -> list[int]:
        """Sync every dataset that is due, now, on this thread; returns their ids."""
        from dsdesk.jobs.runner import prepare, run_job

        done = []
        for dataset_id in datasets_due(self.db):
            if self._stop.is_set():
                break
            ctx = prepare(self.db, "sync", spec={"dataset_id": dataset_id, "auto": True},
                          dataset_id=dataset_id, on_event=self.on_event)
            with self._lock:
                self._ctx = ctx
            try:
                run_job(self.db, "sync", sync_job, dataset_id, ctx=ctx)
            except JobCancelledError:
                break
            except DsdeskError as e:
                # Recorded on the job and in sync_state; the next interval retries.
                log.warning("auto-sync of dataset %s failed: %s", dataset_id, e)
                self._mark_attempt(dataset_id)
            except Exception:  # noqa: BLE001 - the scheduler must outlive one bad dataset
                log.exception("auto-sync of dataset %s failed", dataset_id)
                self._mark_attempt(dataset_id)
            finally:
                with self._lock:
                    self._ctx = None
            done.append(dataset_id)
        return done

    def _mark_attempt(self, dataset_id: int) -> None:
        mark_attempt(self.db, dataset_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - keep polling (e.g. catalog briefly locked)
                log.exception("auto-sync poll failed")
            self._stop.wait(self.poll_seconds)
