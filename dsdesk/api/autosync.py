"""Automatic re-sync: which datasets are due, for whoever drives the syncs.

dsdesk has one auto-sync mechanism.  The rule (a dataset's interval has elapsed since its
last sync or failed attempt, and no sync of it is queued or running) lives in
:func:`dsdesk.sync.state.datasets_due`; this facade is what a driver of it calls.  The
window polls :meth:`AutoSync.due` every :attr:`AutoSync.poll_seconds` off the GUI thread,
runs each due dataset's sync as a job like any other, and reports a failed one with
:meth:`AutoSync.record_failure`.  No thread or timer lives here: the caller owns the clock.
"""

from __future__ import annotations

import datetime as dt

from dsdesk.sync.state import datasets_due, mark_attempt

POLL_SECONDS = 30.0  # how often a driver looks for due datasets; intervals are at least 10 s


class AutoSync:
    """The auto-sync schedule of one open catalog (``AutoSync(cat)``).

    Thread-safe (each call opens its own short session); call it off the GUI thread.
    """

    def __init__(self, cat, poll_seconds: float = POLL_SECONDS):
        self._cat = cat
        self.poll_seconds = float(poll_seconds)

    def due(self, now: dt.datetime | None = None) -> list[int]:
        """Ids of the datasets to sync now: their interval has elapsed (at naive UTC *now*,
        default the current time) and no sync of them is queued or running."""
        return datasets_due(self._cat.db, now)

    def record_failure(self, dataset_id: int) -> None:
        """Count a failed auto-sync of *dataset_id* as an attempt, so it is retried after
        its interval rather than at every poll (its error stays in ``sync_status``)."""
        mark_attempt(self._cat.db, dataset_id)
