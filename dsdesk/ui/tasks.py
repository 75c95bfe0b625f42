"""Short background operations with callbacks on the GUI thread (Anki's QueryOp pattern).

The GUI thread never waits on the catalog: listing projects, reading a folder tree,
loading an item for the inspector or renaming a folder all go through
:meth:`TaskRunner.run`, which calls the function on a worker thread and the callback on
the GUI thread.  Long operations with progress and cancellation are jobs instead
(:mod:`dsdesk.ui.jobs`).
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal


class _Call(QRunnable):
    def __init__(self, runner: TaskRunner, token: int, fn: Callable[[], Any]):
        super().__init__()
        self._runner, self._token, self._fn = runner, token, fn

    def run(self) -> None:  # worker thread: never touch widgets here
        try:
            result, error = self._fn(), None
        except BaseException as e:  # noqa: BLE001 - delivered to the GUI thread's error callback
            e.details = traceback.format_exc()
            result, error = None, e
        self._runner.finished.emit(self._token, result, error)


class TaskRunner(QObject):
    """Run ``fn()`` off the GUI thread; ``on_done(result)`` / ``on_error(exc)`` run on the GUI thread.

    Owns its QThreadPool (shut down by :meth:`shutdown` with a timeout).  With *key*, a
    newer call with the same key makes the older one's result be dropped (new work
    replaces old: the user clicked another folder before the first one loaded).
    """

    finished = Signal(int, object, object)  # token, result, error (emitted on worker threads)

    def __init__(self, parent: QObject | None = None, threads: int = 2,
                 on_unhandled_error: Callable[[BaseException], None] | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._pool.setExpiryTimeout(2000)
        self._tokens = itertools.count(1)
        self._pending: dict[int, tuple[Callable | None, Callable | None, str | None]] = {}
        self._latest: dict[str, int] = {}
        self.on_unhandled_error = on_unhandled_error
        self._closed = False
        self.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)

    def run(self, fn: Callable[[], Any], on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None, key: str | None = None) -> int:
        """Schedule *fn*; returns a token."""
        token = next(self._tokens)
        if self._closed:
            return token  # shut down: the window is closing, nothing new starts
        self._pending[token] = (on_done, on_error, key)
        if key is not None:
            self._latest[key] = token
        self._pool.start(_Call(self, token, fn))
        return token

    @property
    def busy(self) -> bool:
        """True while some task has not delivered its result yet."""
        return bool(self._pending)

    def _on_finished(self, token: int, result: Any, error: BaseException | None) -> None:
        on_done, on_error, key = self._pending.pop(token, (None, None, None))
        if key is not None:
            if self._latest.get(key) != token:
                return  # superseded by a newer call with the same key
            del self._latest[key]
        if error is not None:
            if on_error is not None:
                on_error(error)
            elif self.on_unhandled_error is not None:
                self.on_unhandled_error(error)
            return
        if on_done is not None:
            on_done(result)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Drop queued work and wait for running work; False if it did not finish in time."""
        self._closed = True
        self._pool.clear()
        ok = self._pool.waitForDone(timeout_ms)
        self._pending.clear()
        return ok
