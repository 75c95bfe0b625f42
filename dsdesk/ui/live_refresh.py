"""Seeing other clients' changes: poll the catalog's change feed off the GUI thread and say
which views of the window a batch of changes affects.

:class:`LiveRefresh` asks ``Catalog.changes()`` every *interval_ms* on the window's
:class:`~dsdesk.ui.tasks.TaskRunner` (on a team catalog the feed is a LISTEN connection,
on SQLite a pragma and maybe one small query: neither may run on the GUI thread) and emits
:attr:`LiveRefresh.changes_arrived` with the other clients' changes.  :func:`affected_views`
turns them into the few views to read again, so a change of another dataset refreshes its
row in the datasets table and never the grid.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from dsdesk.api.change_feed import DatasetChange, merged
from dsdesk.errors import DsdeskError

POLL_MS = 500  # well inside the 2 s a team expects to see each other's edits in
# At most one refresh a second: a sync elsewhere commits a page every few milliseconds, and
# re-reading the grid on each would keep resetting what the user looks at.
MIN_GAP_S = 1.0
_now = time.monotonic  # the clock of the gap (tests set it)


def affected_views(changes: list[DatasetChange], current_dataset_id: int | None,
                   known_datasets) -> set[str]:
    """The views to read again for *changes* (other clients' only), as the window's words:
    ``datasets`` (library tree and datasets table), ``folders``, ``items`` (the grid),
    ``annotations`` (overlays and legend) and ``inspector``.

    Only the dataset on show touches the grid, the folder tree and the inspector; any
    dataset's change touches the datasets table (its counts and dates); a dataset the window
    does not know yet (created elsewhere) or a catalog-wide change reloads the library.
    """
    views: set[str] = set()
    for c in changes:
        if c.own:
            continue
        if c.catalog_wide:
            views.add("datasets")
            if c.kinds & {"recipes", "meta"} and current_dataset_id is not None:
                views.update({"annotations", "inspector"})
            continue
        views.add("datasets")
        if c.dataset_id not in known_datasets:
            continue
        if c.dataset_id != current_dataset_id:
            continue
        if c.kinds & {"items", "folders"}:
            views.update({"items", "folders", "inspector"})  # the folder tree shows counts
        if c.kinds & {"annotations", "recipes"}:
            views.update({"annotations", "inspector"})
        if "meta" in c.kinds:
            views.add("inspector")
    return views


class LiveRefresh(QObject):
    """Polls the change feed on *tasks* (a TaskRunner) and emits other clients' changes,
    merged, at most once per :data:`MIN_GAP_S`.

    GUI thread only; the feed is opened, read and closed in the runner's worker threads
    (never touch widgets there).  A failed poll (the server went away) is reported once
    through :attr:`poll_failed` and retried on the next tick with a new feed.
    """

    changes_arrived = Signal(list)  # list[DatasetChange], other clients' only
    poll_failed = Signal(str)

    def __init__(self, cat, tasks, parent: QObject | None = None, interval_ms: int = POLL_MS):
        super().__init__(parent)
        self._cat, self._tasks = cat, tasks
        self._feed = None
        self._failing = False
        # One poll at a time: a poll consumes what it read, so a newer one must never make
        # the runner drop an older one's result (a key would); a slow tick is skipped instead.
        self._in_flight = False
        self._pending: list[DatasetChange] = []
        self._last_emit = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timer_timeout)

    def start(self) -> None:
        """Open the feed (in a worker) and start polling."""
        self._in_flight = True
        self._tasks.run(self._open, lambda _r: self._on_polled([]), self._on_poll_error)
        self._timer.start()

    def _open(self) -> None:
        if self._feed is None:
            self._feed = self._cat.changes()

    def _poll(self) -> list[DatasetChange]:
        self._open()
        try:
            return [c for c in self._feed.poll() if not c.own]
        except DsdeskError:
            feed, self._feed = self._feed, None
            feed.close()
            raise

    def _on_timer_timeout(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        self._tasks.run(self._poll, self._on_polled, self._on_poll_error)

    def _on_polled(self, changes: list[DatasetChange]) -> None:
        self._in_flight = False
        self._failing = False
        self._pending += changes
        now = _now()
        if self._pending and now - self._last_emit >= MIN_GAP_S:
            batch, self._pending = merged(self._pending), []
            self._last_emit = now
            self.changes_arrived.emit(batch)

    def _on_poll_error(self, e: BaseException) -> None:
        self._in_flight = False
        if not self._failing:
            self._failing = True
            self.poll_failed.emit(str(e))

    def stop(self) -> None:
        """Stop polling and close the feed (call after the task runner has shut down)."""
        self._timer.stop()
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.close()
