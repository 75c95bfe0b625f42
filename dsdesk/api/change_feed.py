"""Seeing other clients' writes: ``Catalog.changes()`` gives a feed of "dataset X changed".

Every committed write that changes what a view shows is recorded once per transaction by
:mod:`dsdesk.catalog.changes`.  A :class:`ChangeFeed` reads those records: on PostgreSQL
it LISTENs (the notification arrives at the writer's commit), on SQLite it polls the
change log (one ``PRAGMA data_version`` while nothing changed).  Qt-free; the window polls
it from a worker thread and refreshes only the views a change affects.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dsdesk.catalog.changes import KINDS, Change, LogReader, NotifyListener
from dsdesk.errors import CatalogError

__all__ = ["KINDS", "ChangeFeed", "DatasetChange", "merged"]


@dataclass(frozen=True)
class DatasetChange:
    """What changed: *dataset_id* (None: something catalog-wide, e.g. a project's recipe)
    in *kinds* (a subset of ``items``, ``folders``, ``annotations``, ``meta``, ``recipes``);
    *own* is True when this same open catalog wrote it."""

    dataset_id: int | None
    kinds: frozenset[str]
    own: bool

    @property
    def catalog_wide(self) -> bool:
        """True when no dataset was named: every view of the catalog may be affected."""
        return self.dataset_id is None


def merged(changes: list[DatasetChange]) -> list[DatasetChange]:
    """One change per (dataset, own) with the union of their kinds, in first-seen order."""
    out: dict[tuple[int | None, bool], set[str]] = {}
    for c in changes:
        out.setdefault((c.dataset_id, c.own), set()).update(c.kinds)
    return [DatasetChange(d, frozenset(k), own) for (d, own), k in out.items()]


class ChangeFeed:
    """The changes other clients (and this one) committed since the feed opened.

    Thread-safe.  :meth:`poll` never waits on other writers: on PostgreSQL it drains what
    the listener thread queued, on SQLite it reads the log on a connection of its own.
    Close it (or use it as a context manager) to release that connection.
    """

    def __init__(self, db):
        self._origin = db.change_origin
        self._reader: LogReader | NotifyListener
        if db.dialect == "postgresql":
            try:
                self._reader = NotifyListener(db.url)
            except Exception as e:  # noqa: BLE001 - psycopg's errors: the server said no
                raise CatalogError(f"cannot listen for changes on the catalog server: {e}") from e
        else:
            self._reader = LogReader(db.engine)
        self._closed = False
        self._lock = threading.Lock()

    def poll(self) -> list[DatasetChange]:
        """The changes committed since the previous poll, merged per dataset (never blocks
        on a writer).  Raises CatalogError when the PostgreSQL listener lost its connection."""
        with self._lock:
            if self._closed:
                return []
            if isinstance(self._reader, NotifyListener) and self._reader.failed:
                raise CatalogError("the catalog server closed the change listener's connection")
            raw: list[Change] = self._reader.read()
        return merged([DatasetChange(c.dataset_id, c.kinds, c.origin == self._origin) for c in raw])

    def wait(self, timeout: float, until: Callable[[list[DatasetChange]], bool] | None = None,
             interval: float = 0.05) -> list[DatasetChange]:
        """Poll until some change arrives (or *until* accepts what arrived so far), at most
        *timeout* seconds; returns everything seen meanwhile (maybe nothing)."""
        deadline = time.monotonic() + timeout
        seen: list[DatasetChange] = []
        while True:
            seen.extend(self.poll())
            if (until(seen) if until is not None else bool(seen)) or time.monotonic() >= deadline:
                return merged(seen)
            time.sleep(interval)

    def close(self) -> None:
        """Stop listening and release the feed's connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._reader.close()

    def __enter__(self) -> ChangeFeed:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
