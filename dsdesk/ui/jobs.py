"""Long operations in worker processes (or threads), their events carried to the GUI thread,
and the jobs panel.

A job is a :class:`~dsdesk.jobs.spec.JobSpec` built by :mod:`dsdesk.api.jobs` (a Qt-free
function ``fn(ctx, ...)`` with its arguments), so the catalog records every job the same
way whoever starts it.  A JobSpec with ``in_process`` runs in a worker process of its own
(``Catalog.process_job``): its Python then never holds the GIL the GUI thread needs,
which is what made the window stall for 200 ms during a clone.  A pool thread starts the
process and reads its events; other jobs run on the pool thread itself (``Catalog.run``).
Cancel is ``cancel()`` either way.  :class:`JobBridge` is the one object that carries
:class:`~dsdesk.jobs.runner.JobEvent` values to the GUI thread (a queued signal); widgets
are touched only in its slots, never in the job function.
"""

from __future__ import annotations

import itertools
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsdesk.errors import DsdeskError, InvalidInputError
from dsdesk.jobs import process as jobprocess
from dsdesk.jobs.runner import (
    CANCELLED,
    FAILED,
    FINAL,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    JobEvent,
)
from dsdesk.jobs.spec import JobSpec
from dsdesk.ui.icons import icon

_EVENT_INTERVAL = 0.05  # seconds: progress events faster than this are coalesced (keeps the GUI queue short)
#: Added to a job worker's nice value: on a machine with fewer cores than busy processes, the
#: GUI thread then waits less in the run queue behind the job (the job loses only what the
#: window actually uses).
JOB_NICENESS = 5


@dataclass
class JobHandle:
    """The GUI's view of one submitted job.  ``uid`` is the GUI's key (the catalog's job id
    is known only once the worker has created the job row)."""

    uid: int
    job: JobSpec
    on_success: Callable[[Any], None] | None = None
    on_failure: Callable[[JobEvent], None] | None = None
    status: str = QUEUED
    last: JobEvent | None = None
    job_id: int | None = None
    ctx: Any = None  # JobContext (thread) or ProcessJob (process): both have cancel()
    in_process: bool = False
    cancel_requested: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def finished(self) -> bool:
        """True once the job succeeded, failed or was cancelled."""
        return self.status in FINAL

    @property
    def kind(self) -> str:
        """The job's kind (``clone``, ``sync`` ...)."""
        return self.job.kind

    @property
    def title(self) -> str:
        """The job's title as the jobs panel shows it."""
        return self.job.title

    @property
    def dataset_id(self) -> int | None:
        """The dataset the job is recorded against, if any."""
        return self.job.dataset_id


class JobBridge(QObject):
    """Carries JobEvents from job threads onto the GUI thread.

    ``post`` is called on the job's thread; ``job_event`` is delivered through a queued
    connection, so its slots run on the GUI thread.  Never touch widgets in ``post`` or in
    the job function.
    """

    job_event = Signal(int, object)  # handle uid, JobEvent
    _posted = Signal(int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        # The hop through _posted with an explicit QueuedConnection makes the thread switch
        # independent of where the receivers of job_event live.
        self._posted.connect(self.job_event, Qt.ConnectionType.QueuedConnection)

    def post(self, uid: int, event: JobEvent) -> None:
        """Queue *event* for the GUI thread (thread-safe)."""
        self._posted.emit(uid, event)


class _JobRunnable(QRunnable):
    def __init__(self, manager: JobManager, handle: JobHandle):
        super().__init__()
        self._m, self._h = manager, handle
        self._last_post = 0.0

    def _forward(self, ev: JobEvent) -> None:  # job thread
        now = time.monotonic()
        if ev.status == RUNNING and now - self._last_post < _EVENT_INTERVAL and ev.done != ev.total:
            return
        self._last_post = now
        self._m.bridge.post(self._h.uid, ev)

    def run(self) -> None:  # job thread: never touch widgets here
        h, cat = self._h, self._m.cat
        try:
            ctx = cat.prepare_job(h.job, on_event=self._forward)
        except BaseException as e:  # noqa: BLE001 - the catalog could not even record the job
            self._m.bridge.post(h.uid, JobEvent(0, h.kind, FAILED, error=f"cannot start the job: {e}",
                                                details=traceback.format_exc()))
            return
        with h.lock:
            h.ctx = ctx
            if h.cancel_requested:
                ctx.cancel()
        cat.run(h.job, ctx=ctx, raise_errors=False)


class _ProcessJobRunnable(QRunnable):
    """Starts the job's worker process and relays its events (the pool thread only waits
    on a pipe, so it costs the GUI thread nothing)."""

    def __init__(self, manager: JobManager, handle: JobHandle):
        super().__init__()
        self._m, self._h = manager, handle
        self._job = manager.cat.process_job(handle.job, on_event=self._forward, niceness=JOB_NICENESS)

    def _forward(self, ev: JobEvent) -> None:  # reader thread
        self._m.bridge.post(self._h.uid, ev)

    def run(self) -> None:  # pool thread: never touch widgets here
        h = self._h
        with h.lock:
            h.ctx = self._job
            if h.cancel_requested:
                self._job.cancel()
        self._job.run()


class JobManager(QObject):
    """Submits jobs to its own QThreadPool and tracks them on the GUI thread.

    Signals (GUI thread): ``job_added(uid)``, ``job_updated(uid)``, ``job_finished(uid)``,
    ``running_count_changed(n)`` and ``catalog_changed(set)`` with the job's ``changes``
    after a job that changes something ended (succeeded, or failed/cancelled after
    partial work).  *preload*: the modules of the job functions, imported once by the
    worker processes' fork server.
    """

    job_added = Signal(int)
    job_updated = Signal(int)
    job_finished = Signal(int)
    running_count_changed = Signal(int)
    catalog_changed = Signal(object)

    def __init__(self, cat, parent: QObject | None = None, max_threads: int = 2, preload=()):
        super().__init__(parent)
        self.cat = cat
        self.bridge = JobBridge(self)
        self.bridge.job_event.connect(self._on_bridge_job_event)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._uids = itertools.count(1)
        self._closed = False
        self.handles: dict[int, JobHandle] = {}
        # The fork server imports the job modules once (seconds on a busy machine): start it
        # now, in the background, so the first clone does not wait for it.
        jobprocess.warm_up(preload=preload)

    def submit(self, job: JobSpec, on_success: Callable[[Any], None] | None = None,
               on_failure: Callable[[JobEvent], None] | None = None) -> JobHandle:
        """Run the described *job*; returns its handle at once.

        *on_success(result)* / *on_failure(event)* run on the GUI thread.  A job with
        ``in_process`` runs in a worker process: its function must be module-level and its
        arguments must pickle (InvalidInputError otherwise, before anything starts); any
        other job runs on a pool thread.
        """
        if self._closed:
            raise RuntimeError("the job manager was shut down; no new job can start")
        if job.in_process and not jobprocess.can_run_in_process(job.fn, job.args, dict(job.kwargs)):
            raise InvalidInputError(f"{getattr(job.fn, '__qualname__', job.fn)!r} cannot run in a worker process: "
                                    "it must be a module-level function with arguments that pickle")
        h = JobHandle(next(self._uids), job, on_success, on_failure, in_process=job.in_process)
        self.handles[h.uid] = h
        self.job_added.emit(h.uid)
        self._pool.start((_ProcessJobRunnable if job.in_process else _JobRunnable)(self, h))
        self.running_count_changed.emit(self.running_count)
        return h

    @property
    def running_count(self) -> int:
        """Jobs queued or running."""
        return sum(1 for h in self.handles.values() if not h.finished)

    def cancel(self, uid: int) -> None:
        """Ask a job to stop (at its next check); a queued job stops before it starts."""
        h = self.handles.get(uid)
        if h is None or h.finished:
            return
        with h.lock:
            h.cancel_requested = True
            if h.ctx is not None:
                h.ctx.cancel()
        self.job_updated.emit(uid)

    def cancel_all(self) -> None:
        """Cancel every job that has not finished."""
        for uid in list(self.handles):
            self.cancel(uid)

    def clear_finished(self) -> None:
        """Forget finished jobs (the panel removes their rows)."""
        for uid in [u for u, h in self.handles.items() if h.finished]:
            del self.handles[uid]
            self.job_updated.emit(uid)

    def _on_bridge_job_event(self, uid: int, ev: JobEvent) -> None:
        h = self.handles.get(uid)
        if h is None or h.finished:
            return
        h.last = ev
        h.status = ev.status
        if ev.job_id:
            h.job_id = ev.job_id
        self.job_updated.emit(uid)
        if ev.status in FINAL:
            self.running_count_changed.emit(self.running_count)
            if ev.status == SUCCEEDED:
                if h.on_success is not None:
                    h.on_success(ev.result)
            elif h.on_failure is not None:
                h.on_failure(ev)
            if h.job.changes:
                self.catalog_changed.emit(set(h.job.changes))
            self.job_finished.emit(uid)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything and wait for the workers; False when they did not stop in time.

        A worker process that ignores Cancel past the timeout is killed (the window is
        closing; its transaction rolls back), so only a job thread can make this False."""
        self._closed = True
        self.cancel_all()
        self._pool.clear()
        if self._pool.waitForDone(timeout_ms):
            return True
        for h in self.handles.values():
            if h.in_process and h.ctx is not None and not h.finished:
                h.ctx.kill()
        return self._pool.waitForDone(5000)


def _fmt_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def _fmt_rate(rate: float | None) -> str:
    if not rate:
        return ""
    return f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s"


ELSEWHERE_POLL_MS = 2000  # how often the panel looks for other processes' jobs


class JobsPanel(QWidget):
    """The jobs dock's content: one row per job with progress, rate, time left, Cancel and errors."""

    COLUMNS = ("Job", "Status", "Progress", "Rate", "Time left", "")

    def __init__(self, manager: JobManager, parent: QWidget | None = None, tasks=None):
        super().__init__(parent)
        self.manager = manager
        self._tasks = tasks  # a dsdesk.ui.tasks.TaskRunner for the catalog reads, if the window has one
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(len(self.COLUMNS))
        self.tree.setHeaderLabels(self.COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        hdr = self.tree.header()
        hdr.setStretchLastSection(False)
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 260), (2, 200), (3, 90), (4, 90), (5, 96)):
            hdr.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.tree.setColumnWidth(col, width)
        self.tree.itemDoubleClicked.connect(self._on_tree_item_double_clicked)
        self.clear_button = QToolButton(self)
        self.clear_button.setText("Clear finished")
        self.clear_button.clicked.connect(manager.clear_finished)
        self.summary = QLabel("No jobs", self)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.clear_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.tree)
        self._rows: dict[int, QTreeWidgetItem] = {}
        self._bars: dict[int, QProgressBar] = {}
        self._cancel: dict[int, QToolButton] = {}
        self._interrupted: dict[int, QTreeWidgetItem] = {}  # catalog job id -> its row
        self._elsewhere: dict[int, QTreeWidgetItem] = {}  # catalog job id -> row of another process's job
        # Jobs other processes run on this catalog (another window, a CLI sync, a teammate
        # on a shared catalog): polled, since they send this window no events.
        self._elsewhere_timer = QTimer(self)
        self._elsewhere_timer.setInterval(ELSEWHERE_POLL_MS)
        self._elsewhere_timer.timeout.connect(self.refresh_elsewhere)
        self._elsewhere_timer.start()
        manager.job_added.connect(self._on_manager_job_added)
        manager.job_updated.connect(self._on_manager_job_updated)
        manager.running_count_changed.connect(self._on_manager_running_count_changed)

    def row(self, uid: int) -> QTreeWidgetItem | None:
        """The tree row of job *uid* (for tests and for selection)."""
        return self._rows.get(uid)

    def show_interrupted(self) -> int:
        """List the jobs a stopped process left unfinished (as the catalog recorded them, see
        ``Catalog.interrupted_jobs``) with Resume for a sync or an upload, Dismiss otherwise;
        returns how many."""
        try:
            jobs = self.manager.cat.interrupted_jobs()
        except DsdeskError:
            return 0
        for j in reversed(jobs):
            where = f" of {j['dataset_name']}" if j.get("dataset_name") else ""
            item = QTreeWidgetItem([f"{j['kind'].capitalize()}{where}", "interrupted: its process stopped",
                                    f"{j['done']:,}" if j["done"] else "", "", "", ""])
            item.setIcon(0, icon("jobs"))
            item.setForeground(1, Qt.GlobalColor.darkYellow)
            item.setToolTip(1, f"Job {j['id']} was {j['status']} when the process running it stopped "
                               f"(started {j['created_at']:%Y-%m-%d %H:%M} UTC).")
            self.tree.insertTopLevelItem(0, item)
            button = QToolButton()
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            if j["resumable"]:
                button.setText("Resume")
                button.setIcon(icon("sync" if j["kind"] == "sync" else "upload"))
                button.setToolTip("Continue from what was committed; nothing done is repeated")
                button.clicked.connect(lambda _=False, jid=j["id"], it=item: self._resume(jid, it))
            else:
                button.setText("Dismiss")
                button.setIcon(icon("cancel"))
                button.setToolTip("Stop showing this job (it stays in the catalog's history)")
                button.clicked.connect(lambda _=False, jid=j["id"], it=item: self._dismiss(jid, it))
            self.tree.setItemWidget(item, 5, button)
            self._interrupted[j["id"]] = item
        return len(jobs)

    def refresh_elsewhere(self) -> None:
        """Show the jobs other processes are running on the catalog, drop the ones that
        ended (and tell the window the catalog changed: their results are someone else's
        edits).  The read runs on the window's task runner when it has one: on a team
        catalog it is a round trip to the server, which must not stall the GUI thread."""
        own = {h.job_id for h in self.manager.handles.values() if h.job_id}

        def read() -> dict:
            return {j["id"]: j for j in self.manager.cat.jobs_elsewhere(exclude=own)}

        if self._tasks is None:
            try:
                self._show_elsewhere(own, read())
            except DsdeskError:
                pass
            return
        self._tasks.run(read, lambda jobs: self._show_elsewhere(own, jobs), lambda _e: None, key="jobs-elsewhere")

    def _show_elsewhere(self, own: set[int], jobs: dict) -> None:
        ended = [jid for jid in self._elsewhere if jid not in jobs]
        for jid in ended:
            item = self._elsewhere.pop(jid)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        if any(jid not in own for jid in ended):  # not a job of ours seen before its first event
            self.manager.catalog_changed.emit({"datasets", "folders", "items"})
        for jid, j in jobs.items():
            item = self._elsewhere.get(jid)
            if item is None:
                where = f" of {j['dataset_name']}" if j.get("dataset_name") else ""
                item = QTreeWidgetItem([f"{j['kind'].capitalize()}{where}", "", "", "", "", ""])
                item.setIcon(0, icon("jobs"))
                item.setToolTip(0, f"Job {jid}, run by another process ({j['owner']}) on this catalog")
                item.setForeground(1, Qt.GlobalColor.darkCyan)
                self.tree.addTopLevelItem(item)
                self._elsewhere[jid] = item
            progress = f"{j['done']:,} / {j['total']:,}" if j["total"] else (f"{j['done']:,}" if j["done"] else "")
            item.setText(1, f"{j['status']} in another process ({j['owner']})")
            item.setText(2, progress)

    def elsewhere_row(self, job_id: int) -> QTreeWidgetItem | None:
        """The row of catalog job *job_id* run by another process, while it runs."""
        return self._elsewhere.get(job_id)

    def interrupted_row(self, job_id: int) -> QTreeWidgetItem | None:
        """The row of interrupted catalog job *job_id*, while it is offered."""
        return self._interrupted.get(job_id)

    def _resume(self, job_id: int, item: QTreeWidgetItem) -> None:
        try:
            self.manager.submit(self.manager.cat.resume_job(job_id))
        except DsdeskError as e:
            QMessageBox.warning(self, "Cannot resume the job", str(e))
            return
        self._drop_interrupted(job_id, item)

    def _dismiss(self, job_id: int, item: QTreeWidgetItem) -> None:
        self.manager.cat.dismiss_job(job_id)
        self._drop_interrupted(job_id, item)

    def _drop_interrupted(self, job_id: int, item: QTreeWidgetItem) -> None:
        self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        self._interrupted.pop(job_id, None)

    def _on_manager_job_added(self, uid: int) -> None:
        h = self.manager.handles[uid]
        item = QTreeWidgetItem([h.title, "queued", "", "", "", ""])
        item.setData(0, Qt.ItemDataRole.UserRole, uid)
        item.setIcon(0, icon("jobs"))
        self.tree.insertTopLevelItem(0, item)
        bar = QProgressBar()
        bar.setRange(0, 0)
        bar.setTextVisible(True)
        bar.setMaximumHeight(18)
        cancel = QToolButton()
        cancel.setIcon(icon("cancel"))
        cancel.setText("Cancel")
        cancel.setToolTip(f"Cancel {h.title}")
        cancel.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        cancel.clicked.connect(lambda _=False, u=uid: self.manager.cancel(u))
        self.tree.setItemWidget(item, 2, bar)
        self.tree.setItemWidget(item, 5, cancel)
        self._rows[uid], self._bars[uid], self._cancel[uid] = item, bar, cancel

    def _on_manager_job_updated(self, uid: int) -> None:
        item = self._rows.get(uid)
        h = self.manager.handles.get(uid)
        if item is None:
            return
        if h is None:  # cleared
            idx = self.tree.indexOfTopLevelItem(item)
            self.tree.takeTopLevelItem(idx)
            for d in (self._rows, self._bars, self._cancel):
                d.pop(uid, None)
            return
        ev, bar = h.last, self._bars[uid]
        status = h.status
        if h.cancel_requested and not h.finished:
            status = "cancelling…"
        text = status
        if ev is not None and ev.message and status == RUNNING:
            text = f"running: {ev.message}"
        if h.status == FAILED and ev is not None:
            text = f"failed: {ev.error}"
            item.setToolTip(1, (ev.error or "") + ("\n\n" + ev.details if ev.details else ""))
            item.setForeground(1, Qt.GlobalColor.red)
        elif h.status == CANCELLED:
            text = "cancelled"
        elif h.status == SUCCEEDED:
            text = "done" + (f": {ev.message}" if ev is not None and ev.message else "")
        item.setText(1, text)
        if ev is not None and ev.total:
            bar.setRange(0, 1000)
            bar.setValue(int(1000 * min(ev.done / ev.total, 1.0)))
            bar.setFormat(f"{ev.done:,} / {ev.total:,}")
        elif h.finished:
            bar.setRange(0, 1000)
            bar.setValue(1000 if h.status == SUCCEEDED else 0)
            bar.setFormat(f"{ev.done:,}" if ev is not None and ev.done else "")
        elif ev is not None and ev.done:
            bar.setFormat(f"{ev.done:,}")
        if h.finished:
            item.setText(3, "")
            item.setText(4, "")
            self._cancel[uid].setEnabled(False)
            if h.status == FAILED:
                self._cancel[uid].setText("Details")
                self._cancel[uid].setIcon(icon("properties"))
                self._cancel[uid].setEnabled(True)
                self._cancel[uid].clicked.disconnect()
                self._cancel[uid].clicked.connect(lambda _=False, u=uid: self.show_error_details(u))
        else:
            item.setText(3, _fmt_rate(ev.rate) if ev else "")
            item.setText(4, _fmt_eta(ev.eta) if ev else "")

    def _on_manager_running_count_changed(self, n: int) -> None:
        total = len(self.manager.handles)
        self.summary.setText(f"{n} running, {total - n} finished" if total else "No jobs")

    def _on_tree_item_double_clicked(self, item: QTreeWidgetItem, _col: int) -> None:
        uid = item.data(0, Qt.ItemDataRole.UserRole)
        h = self.manager.handles.get(uid)
        if h is not None and h.status == FAILED:
            self.show_error_details(uid)

    def error_text(self, uid: int) -> tuple[str, str]:
        """(message, details) of a failed job."""
        h = self.manager.handles[uid]
        ev = h.last
        return (ev.error or "failed") if ev else "failed", (ev.details or "") if ev else ""

    def show_error_details(self, uid: int) -> None:
        """Show a failed job's error with its traceback in a message box."""
        h = self.manager.handles.get(uid)
        if h is None:
            return
        msg, details = self.error_text(uid)
        box = QMessageBox(QMessageBox.Icon.Critical, f"{h.title} failed", msg, QMessageBox.StandardButton.Close, self)
        box.setDetailedText(details)
        box.exec()
