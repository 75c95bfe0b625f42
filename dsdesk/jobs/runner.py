"""The Qt-free job runner every long operation goes through.

A job is a plain function ``fn(ctx, *args, **kwargs)``, described with its arguments by a
:class:`~dsdesk.jobs.spec.JobSpec` (:func:`run_spec` runs one).  Its whole contract with the world
is :class:`JobContext`: ``ctx.progress(done, total, message)`` and ``ctx.check_cancelled()``.
It opens its own sessions with ``ctx.db.session()``.  The runner records the job in the
catalog (kind, status, progress, error) and forwards :class:`JobEvent` values to an
optional callback: the CLI draws a progress bar from them, the GUI's bridge re-emits them
as a queued Qt signal.  The callback runs on the job's thread — never touch widgets in it.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from dsdesk.catalog.models import Job, utcnow
from dsdesk.errors import DsdeskError, JobCancelledError
from dsdesk.jobs import owner
from dsdesk.jobs.spec import JobSpec

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
INTERRUPTED = "interrupted"  # its process died (found when a catalog is opened)
FINAL = {SUCCEEDED, FAILED, CANCELLED, INTERRUPTED}
_DB_WRITE_INTERVAL = 0.5  # seconds between progress writes to the catalog


@dataclass
class JobEvent:
    """One observation of a job: emitted on start, on progress, and once when it ends."""

    job_id: int
    kind: str
    status: str
    done: int = 0
    total: int | None = None
    message: str = ""
    rate: float | None = None  # units per second since the start
    eta: float | None = None  # seconds left, when total is known
    error: str | None = None
    details: str | None = None  # traceback for failures
    result: Any = None


@dataclass
class JobContext:
    """What a job function sees.  Thread-safe: ``cancel()`` may be called from any thread."""

    db: Any
    job_id: int
    kind: str
    on_event: Callable[[JobEvent], None] | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)
    _started: float = field(default_factory=time.monotonic)
    _last_db_write: float = 0.0
    done: int = 0
    total: int | None = None
    message: str = ""

    def cancel(self) -> None:
        """Ask the job to stop at its next ``check_cancelled()``."""
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        """True once cancellation was asked for."""
        return self.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise JobCancelledError if cancellation was asked for; call it between units of work."""
        if self.cancel_event.is_set():
            raise JobCancelledError(f"{self.kind} job {self.job_id} was cancelled")

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Report *done* units out of *total* (None: unknown).  Cheap: call it as often as you like."""
        self.done = done
        if total is not None:
            self.total = total
        if message is not None:
            self.message = message
        now = time.monotonic()
        # SQLite has one writer: a job usually holds the write lock while it reports progress,
        # so a progress row update from a second connection would wait for the job itself.
        # There, progress travels by events only; status changes are still recorded.
        if self.db.dialect != "sqlite" and now - self._last_db_write >= _DB_WRITE_INTERVAL:
            self._last_db_write = now
            self._write(status=RUNNING)
        self._emit(RUNNING)

    def event(self, status: str, **extra) -> JobEvent:
        """The current state as a JobEvent."""
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = self.done / elapsed if self.done else None
        eta = (self.total - self.done) / rate if rate and self.total else None
        return JobEvent(self.job_id, self.kind, status, self.done, self.total, self.message, rate, eta, **extra)

    def _emit(self, status: str, **extra) -> None:
        if self.on_event is not None:
            self.on_event(self.event(status, **extra))

    def _write(self, **values) -> None:
        frac = (self.done / self.total) if self.total else 0.0
        with self.db.session() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(
                done=self.done, total=self.total, progress=min(frac, 1.0), message=self.message[:2000],
                heartbeat_at=utcnow(), **values))


def create_job(db, kind: str, spec: dict | None = None, dataset_id: int | None = None) -> int:
    """Record a queued job and return its id."""
    with db.session() as s:
        job = Job(kind=kind, status=QUEUED, spec=_jsonable(spec or {}), dataset_id=dataset_id,
                  owner=owner.this_process(), heartbeat_at=utcnow())
        s.add(job)
        s.flush()
        return job.id


def run_job(db, kind: str, fn: Callable[..., Any], *args, spec: dict | None = None,
            dataset_id: int | None = None, on_event: Callable[[JobEvent], None] | None = None,
            ctx: JobContext | None = None, raise_errors: bool = True, **kwargs) -> Any:
    """Run ``fn(ctx, *args, **kwargs)`` as a recorded job on the calling thread.

    Returns fn's result.  A JobCancelledError or any exception marks the job cancelled or
    failed (with the message and the traceback) and is re-raised when *raise_errors*.
    Pass a prepared *ctx* (see :func:`prepare`) to be able to cancel from another thread.
    """
    if ctx is None:
        ctx = prepare(db, kind, spec=spec, dataset_id=dataset_id, on_event=on_event)
    return _execute(db, ctx, fn, args, kwargs, raise_errors)


def run_spec(db, job: JobSpec, on_event: Callable[[JobEvent], None] | None = None,
             ctx: JobContext | None = None, raise_errors: bool = True) -> Any:
    """Run the described *job* on the calling thread, as :func:`run_job` does.

    Its arguments never mix with the runner's own keywords (a job may take a
    ``dataset_id`` or a ``spec`` argument of its own).
    """
    if ctx is None:
        ctx = prepare_spec(db, job, on_event=on_event)
    return _execute(db, ctx, job.fn, job.args, dict(job.kwargs), raise_errors)


def _execute(db, ctx: JobContext, fn: Callable[..., Any], args: tuple, kwargs: dict, raise_errors: bool) -> Any:
    with db.session() as s:
        now = utcnow()
        s.execute(update(Job).where(Job.id == ctx.job_id).values(status=RUNNING, started_at=now, heartbeat_at=now))
    ctx._started = time.monotonic()
    ctx._emit(RUNNING)
    try:
        ctx.check_cancelled()
        result = fn(ctx, *args, **kwargs)
    except JobCancelledError as e:
        _finish(ctx, CANCELLED, error=str(e))
        if raise_errors:
            raise
        return None
    except BaseException as e:  # noqa: BLE001 - every failure must be recorded, then re-raised
        msg = str(e) if isinstance(e, DsdeskError) else f"{type(e).__name__}: {e}"
        _finish(ctx, FAILED, error=msg, details=traceback.format_exc())
        if raise_errors:
            raise
        return None
    _finish(ctx, SUCCEEDED, result=result)
    return result


def prepare_spec(db, job: JobSpec, on_event: Callable[[JobEvent], None] | None = None) -> JobContext:
    """Create the job row of *job* and its context without running it."""
    return prepare(db, job.kind, spec=dict(job.spec), dataset_id=job.dataset_id, on_event=on_event)


def prepare(db, kind: str, spec: dict | None = None, dataset_id: int | None = None,
            on_event: Callable[[JobEvent], None] | None = None) -> JobContext:
    """Create the job row and its context without running it (for runners on other threads)."""
    job_id = create_job(db, kind, spec, dataset_id)
    ctx = JobContext(db=db, job_id=job_id, kind=kind, on_event=on_event)
    ctx._emit(QUEUED)
    return ctx


def _finish(ctx: JobContext, status: str, error: str | None = None, details: str | None = None,
            result: Any = None) -> None:
    if status == SUCCEEDED and ctx.total is not None:
        ctx.done = ctx.total
    try:
        ctx._write(status=status, error=error, finished_at=utcnow(), result=_jsonable(result))
    finally:
        ctx._emit(status, error=error, details=details, result=result)


def _jsonable(value: Any) -> Any:
    """A JSON-safe rendering of a job's spec or result (reports are dataclasses or dicts)."""
    import dataclasses
    import json

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif hasattr(value, "to_json"):
        value = value.to_json()
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def mark_interrupted(db) -> int:
    """Mark the jobs whose process died while they were queued or running 'interrupted'
    (a live job of another process, a CLI sync beside the window, is left alone); returns
    how many.  See :mod:`dsdesk.jobs.owner` for how a dead process is told."""
    now = utcnow()
    with db.session() as s:
        rows = s.execute(select(Job.id, Job.owner, Job.heartbeat_at).where(Job.status.in_([QUEUED, RUNNING]))).all()
        dead = [r.id for r in rows if owner.is_gone(r.owner, r.heartbeat_at, now, db.dialect != "sqlite")]
        if dead:
            s.execute(update(Job).where(Job.id.in_(dead), Job.status.in_([QUEUED, RUNNING])).values(
                status=INTERRUPTED, error="interrupted: the process running it stopped", finished_at=now))
        return len(dead)
