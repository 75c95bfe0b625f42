"""Run a job function in a worker process of its own (Qt-free).

Why a process: a job thread in the GUI's process runs Python (ORM rows, JSON, report
building) that holds the GIL, and the GUI thread then waits for the GIL between two
events — the window stalls for hundreds of milliseconds during a clone.  A job in its
own process cannot take the GUI's GIL; a crash in it (a C extension, out of memory)
cannot take the window down either.

:class:`ProcessJob` starts a worker process that opens the catalog by its URL, imports
the job function by its path (``module:qualname``) and runs it through
:func:`dsdesk.jobs.runner.run_job` exactly as a thread would, so the job is recorded in
the catalog the same way.  :class:`~dsdesk.jobs.runner.JobEvent` values come back over a
pipe; :meth:`ProcessJob.run` reads them on the calling thread and hands each to
``on_event`` (the GUI's job bridge re-emits them as a queued signal).  Cancel sets a
multiprocessing Event that the worker's ``ctx.check_cancelled()`` reads.  A worker that
dies without reporting an end (a segfault, ``os._exit``, a kill) gives a ``failed``
event whose details are the worker's stderr, and the job's row is marked failed.

Workers are started from a fork server on POSIX (``forkserver``): the server imports
the modules its clients name (:func:`add_preload`: the modules of their job functions)
once, then each job starts in ~50 ms instead of the ~1 s a fresh interpreter needs to
import SQLAlchemy and the catalog.  The server is itself a fresh process (never a
fork of a threaded GUI), which is what makes forking from it safe.  As with any
multiprocessing start method but ``fork``, each worker imports the parent's main module
(as ``__mp_main__``): an entry script must keep its work under
``if __name__ == "__main__":`` (dsdesk's entry points do).
"""

from __future__ import annotations

import faulthandler
import importlib
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait as _wait_ready
from pathlib import Path
from typing import Any

from dsdesk.jobs.runner import CANCELLED, FAILED, FINAL, RUNNING, JobEvent, _jsonable, prepare, run_job
from dsdesk.jobs.spec import JobSpec

EVENT_INTERVAL = 0.05  # seconds: the worker coalesces progress events faster than this
STDERR_TAIL = 20_000  # characters of a dead worker's stderr kept in the failure's details

_ctx_lock = threading.Lock()
_ctx: multiprocessing.context.BaseContext | None = None
#: Modules the fork server imports once, so that each worker starts with them loaded.  The
#: runner names only itself: its clients add theirs (:func:`add_preload`), since the
#: generic runner must not know which operations exist.
_preload: list[str] = ["dsdesk.jobs.process"]


def add_preload(modules) -> None:
    """Have the fork server import *modules* (dotted names) once, for every worker.

    Call it before the first worker starts (:func:`warm_up` takes them too): a fork
    server that already runs keeps the modules it started with.
    """
    with _ctx_lock:
        for m in modules:
            if m not in _preload:
                _preload.append(m)
        if _ctx is not None and _ctx.get_start_method() == "forkserver":
            _ctx.set_forkserver_preload(list(_preload))


def preloaded() -> tuple[str, ...]:
    """The modules the fork server imports (or will, once it starts)."""
    with _ctx_lock:
        return tuple(_preload)


def mp_context() -> multiprocessing.context.BaseContext:
    """The multiprocessing context dsdesk starts workers with: ``forkserver`` where the
    platform has it (importing the modules given to :func:`add_preload`), else ``spawn``.
    Never ``fork``: forking a process that runs Qt or other threads copies locks held by them."""
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(list(_preload))
            else:
                ctx = multiprocessing.get_context("spawn")
            _ctx = ctx
        return _ctx


def _noop() -> None:
    """A worker that does nothing (starting it proves the fork server is ready)."""


def warm_up(wait: bool = False, preload=()) -> None:
    """Start the fork server now, so the first job does not wait for it to import dsdesk
    (seconds on a busy machine), with *preload* added to the modules it imports
    (:func:`add_preload`).  In the background unless *wait*; then this returns once a
    worker could be started.  Safe to call many times."""
    add_preload(preload)
    ctx = mp_context()

    def start() -> None:
        try:
            p = ctx.Process(target=_noop, name="dsdesk-warm-up", daemon=True)
            p.start()
            p.join()
        except OSError:
            pass  # the first job will try again and report a real error

    if wait:
        start()
    elif ctx.get_start_method() == "forkserver":
        threading.Thread(target=start, name="dsdesk-forkserver-warm-up", daemon=True).start()


def function_path(fn: Callable) -> str | None:
    """``module:qualname`` of a module-level function a worker can import, else None
    (lambdas, closures, functions of ``__main__``)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def resolve(path: str) -> Callable:
    """The function named by a ``module:qualname`` path."""
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def can_run_in_process(fn: Callable, args: tuple = (), kwargs: dict | None = None) -> bool:
    """True when *fn* is importable by path and its arguments survive pickling."""
    if function_path(fn) is None:
        return False
    try:
        pickle.dumps((args, kwargs or {}), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any pickling failure means "run it on a thread"
        return False
    return True


@dataclass
class _WorkerSpec:
    """Everything the worker needs, sent once when it starts."""

    url: str = field(repr=False)  # may carry the catalog's password: never in a repr
    blob_root: str
    cache_root: str
    env: dict[str, str]
    kind: str
    fn_path: str
    args: tuple
    kwargs: dict
    spec: dict | None
    dataset_id: int | None
    stderr_path: str
    event_interval: float = EVENT_INTERVAL
    niceness: int = 0


class _Sender:
    """The worker's ``on_event``: sends JobEvents to the parent, at most one progress event
    per interval (the pipe and the GUI's queue stay short however often a job reports).

    A progress event held back is not lost: a flusher thread sends the newest one when the
    interval has passed, so the parent always knows how far a job got (even if it dies)."""

    def __init__(self, conn, interval: float):
        self._conn, self._interval, self._last = conn, interval, 0.0
        self._lock = threading.Lock()
        self._pending: JobEvent | None = None
        self._wake = threading.Event()
        self._closed = False
        threading.Thread(target=self._flusher, name="dsdesk-job-events", daemon=True).start()

    def __call__(self, ev: JobEvent) -> None:
        with self._lock:
            now = time.monotonic()
            if ev.status == RUNNING and ev.done != ev.total and now - self._last < self._interval:
                self._pending = ev
                self._wake.set()
                return
            self._pending = None
            self._send(ev, now)

    def _send(self, ev: JobEvent, now: float) -> None:  # under self._lock
        self._last = now
        try:
            self._conn.send(ev)
        except (pickle.PicklingError, TypeError, AttributeError):
            # A result that does not pickle (a lock, an open file in a report) travels as JSON.
            ev.result = _jsonable(ev.result)
            self._conn.send(ev)

    def _flusher(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(self._interval)
            with self._lock:
                self._wake.clear()
                if self._closed:
                    return
                if self._pending is not None:
                    ev, self._pending = self._pending, None
                    try:
                        self._send(ev, time.monotonic())
                    except OSError:
                        return  # the parent went away

    def close(self) -> None:
        """Stop the flusher and close the pipe (after the final event)."""
        with self._lock:
            self._closed = True
            self._pending = None
            self._wake.set()
            self._conn.close()


def _worker_main(conn, cancel_event, w: _WorkerSpec) -> None:
    """Entry point of the worker process."""
    # Everything written to fd 2 (Python tracebacks, faulthandler's dump on a segfault,
    # C libraries' messages) goes to a file the parent reads if we die.
    fd = os.open(w.stderr_path, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.close(fd)
    faulthandler.enable()
    if w.niceness > 0 and hasattr(os, "nice"):
        # A background job yields the CPU to the window the user is working in.
        os.nice(w.niceness)
    # The fork server's environment is the one it started with; the job must see the
    # parent's current one (credentials named by environment variables, data directories).
    os.environ.clear()
    os.environ.update(w.env)
    send = _Sender(conn, w.event_interval)
    db = None
    try:
        fn = resolve(w.fn_path)
        from dsdesk.catalog.engine import open_database

        db = open_database(w.url, upgrade=False)
        db.blob_root, db.cache_root = Path(w.blob_root), Path(w.cache_root)
        ctx = prepare(db, w.kind, spec=w.spec, dataset_id=w.dataset_id, on_event=send)
    except BaseException as e:  # noqa: BLE001 - reported to the parent as a failed start
        send(JobEvent(0, w.kind, FAILED, error=f"cannot start the job: {type(e).__name__}: {e}",
                      details=traceback.format_exc()))
        send.close()
        if db is not None:
            db.close()
        return
    ctx.cancel_event = cancel_event  # check_cancelled() now reads the parent's flag
    try:
        run_job(db, w.kind, fn, *w.args, ctx=ctx, raise_errors=False, **w.kwargs)
    finally:
        send.close()
        db.close()


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class ProcessJob:
    """One job function run in a worker process; see the module docstring.

    Create it on any thread; call :meth:`run` on the thread that should read the events
    (it blocks until the job ends and returns the final event).  :meth:`cancel` and
    :meth:`kill` may be called from any thread.  ``on_event`` runs on the reading thread —
    never touch widgets in it.
    """

    db: Any
    kind: str
    fn: Callable | str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    spec: dict | None = None
    dataset_id: int | None = None
    on_event: Callable[[JobEvent], None] | None = None
    event_interval: float = EVENT_INTERVAL
    niceness: int = 0  # added to the worker's nice value (POSIX): >0 lets interactive processes go first
    job_id: int | None = None
    last: JobEvent | None = None
    _process: Any = field(default=None, repr=False)
    _cancel: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _cancel_requested: bool = False
    _killed: bool = False

    @classmethod
    def of(cls, db, job: JobSpec, on_event: Callable[[JobEvent], None] | None = None,
           niceness: int = 0) -> ProcessJob:
        """The worker-process run of a described *job*."""
        return cls(db, job.kind, job.fn, tuple(job.args), dict(job.kwargs), spec=dict(job.spec),
                   dataset_id=job.dataset_id, on_event=on_event, niceness=niceness)

    def __post_init__(self) -> None:
        self.fn_path = self.fn if isinstance(self.fn, str) else function_path(self.fn)
        if self.fn_path is None:
            raise ValueError(f"{self.fn!r} cannot run in a worker process: it is not a module-level function")

    # ---- any thread ------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop at its next ``ctx.check_cancelled()`` (before it starts: at once)."""
        with self._lock:
            self._cancel_requested = True
            if self._cancel is not None:
                self._cancel.set()

    @property
    def cancelled(self) -> bool:
        """True once cancellation was asked for."""
        return self._cancel_requested

    def kill(self) -> None:
        """Stop the worker now (SIGKILL): for a job that ignores Cancel when the app closes.
        The job is then reported as cancelled if Cancel had been asked for, else failed."""
        with self._lock:
            self._killed = True
            p = self._process
        if p is not None and p.is_alive():
            p.kill()

    @property
    def pid(self) -> int | None:
        """The worker's process id once it started."""
        p = self._process
        return p.pid if p is not None else None

    # ---- the reading thread -----------------------------------------------------------
    def run(self) -> JobEvent:
        """Start the worker, deliver its events to ``on_event`` and return the final one."""
        ctx = mp_context()
        fd, stderr_path = tempfile.mkstemp(prefix="dsdesk-job-", suffix=".stderr")
        os.close(fd)
        try:
            return self._run(ctx, stderr_path)
        finally:
            try:
                os.unlink(stderr_path)
            except OSError:
                pass

    def _run(self, ctx, stderr_path: str) -> JobEvent:
        w = _WorkerSpec(url=self.db.url, blob_root=str(self.db.blob_root), cache_root=str(self.db.cache_root),
                        env=dict(os.environ), kind=self.kind, fn_path=self.fn_path, args=tuple(self.args),
                        kwargs=dict(self.kwargs), spec=self.spec, dataset_id=self.dataset_id,
                        stderr_path=stderr_path, event_interval=self.event_interval, niceness=self.niceness)
        recv_conn, send_conn = ctx.Pipe(duplex=False)
        with self._lock:
            self._cancel = ctx.Event()
            if self._cancel_requested:
                self._cancel.set()
            self._process = p = ctx.Process(target=_worker_main, args=(send_conn, self._cancel, w),
                                            name=f"dsdesk-job-{self.kind}", daemon=True)
        try:
            p.start()
        except BaseException as e:  # noqa: BLE001 - e.g. arguments that do not pickle
            send_conn.close()
            recv_conn.close()
            return self._deliver(JobEvent(0, self.kind, FAILED, error=f"cannot start the job's process: {e}",
                                          details=traceback.format_exc()))
        send_conn.close()  # ours: so that the worker's exit gives EOF on recv_conn
        final = None
        try:
            final = self._pump(recv_conn, p)
        finally:
            recv_conn.close()
        p.join(10)
        if p.is_alive():  # reported its end but hangs on exit (a non-daemon thread of the job)
            p.kill()
            p.join(5)
        if final is None:
            final = self._deliver(self._died(p, stderr_path))
        return final

    def _pump(self, conn, p) -> JobEvent | None:
        """Deliver events until the final one (returned) or the worker's exit (None)."""
        while True:
            ready = _wait_ready([conn, p.sentinel], timeout=1.0)
            if conn in ready or (ready and conn.poll()):
                final, closed = self._take(conn)
                if final is not None or closed:
                    return final
            elif p.sentinel in ready:
                # Exited: read what it sent before going, then give up.
                while conn.poll():
                    final, closed = self._take(conn)
                    if final is not None or closed:
                        return final
                return None

    def _take(self, conn) -> tuple[JobEvent | None, bool]:
        """Receive and deliver one event: (the event if it is the final one, whether the pipe closed)."""
        try:
            ev = conn.recv()
        except (EOFError, OSError):
            return None, True
        self._deliver(ev)
        return (ev if ev.status in FINAL else None), False

    def _deliver(self, ev: JobEvent) -> JobEvent:
        if ev.job_id:
            self.job_id = ev.job_id
        self.last = ev
        if self.on_event is not None:
            self.on_event(ev)
        return ev

    def _died(self, p, stderr_path: str) -> JobEvent:
        """The event (and the catalog row) of a worker that exited without reporting an end."""
        p.join(1)
        try:
            with open(stderr_path, encoding="utf-8", errors="replace") as f:
                err = f.read()[-STDERR_TAIL:]
        except OSError:
            err = ""
        if self._killed and self._cancel_requested:
            status, msg = CANCELLED, f"{self.kind} job was cancelled (its worker process was stopped)"
        else:
            status = FAILED
            msg = f"the {self.kind} job's worker process {_describe_exit(p.exitcode)}"
            lines = [ln for ln in err.strip().splitlines() if ln.strip()]
            if lines:
                msg += f": {lines[-1].strip()}"
        last = self.last
        ev = JobEvent(self.job_id or 0, self.kind, status, last.done if last else 0, last.total if last else None,
                      last.message if last else "", error=msg, details=err or None)
        if self.job_id:
            _record_end(self.db, self.job_id, status, msg)
        return ev


def _record_end(db, job_id: int, status: str, error: str) -> None:
    """Mark a job whose worker died as ended (unless the worker managed to record it)."""
    from sqlalchemy import update

    from dsdesk.catalog.models import Job, utcnow

    try:
        with db.session() as s:
            s.execute(update(Job).where(Job.id == job_id, Job.status.not_in(list(FINAL)))
                      .values(status=status, error=error[:2000], finished_at=utcnow()))
    except Exception:  # noqa: BLE001 - the event still tells the user; mark_interrupted cleans up later
        pass


def run_in_process(db, kind: str, fn: Callable | str, *args, spec: dict | None = None,
                   dataset_id: int | None = None, on_event: Callable[[JobEvent], None] | None = None,
                   **kwargs) -> JobEvent:
    """Run ``fn(ctx, *args, **kwargs)`` as a recorded job in a worker process; blocks and
    returns the final :class:`JobEvent` (its ``result`` on success, ``error``/``details``
    on failure).  Use :class:`ProcessJob` directly to be able to cancel."""
    return ProcessJob(db, kind, fn, args, kwargs, spec=spec, dataset_id=dataset_id, on_event=on_event).run()
