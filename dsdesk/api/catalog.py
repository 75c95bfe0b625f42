"""The entry point of the public API: an open catalog and its repositories."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, select, update

from dsdesk.catalog.engine import Database, open_database
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Job
from dsdesk.errors import InvalidInputError, NotFoundError
from dsdesk.jobs import runner
from dsdesk.jobs.runner import JobContext, JobEvent
from dsdesk.jobs.spec import JobSpec

#: SQLite page cache of each of the GUI process's connections, in KiB (the engine's default,
#: 64 MiB, is sized for bulk jobs, which run in worker processes with the default).
GUI_SQLITE_CACHE_KIB = 8192


class Catalog:
    """An open dsdesk catalog (``dd.open_catalog()``).

    Thread-safe: entities hold ids and re-read the catalog through short sessions, so one
    Catalog may be shared by the GUI thread and job threads.  Long operations are
    described by :mod:`dsdesk.api.jobs` and run by :meth:`run`; they accept an
    ``on_event`` callback (a :class:`~dsdesk.jobs.runner.JobEvent` per progress step, on
    the job's thread).
    """

    def __init__(self, db: Database):
        self.db = db
        from dsdesk.api.dataset_repos import CatalogDatasets
        from dsdesk.api.projects import Projects

        self.projects = Projects(self)
        self.datasets = CatalogDatasets(self)

    @classmethod
    def open(cls, path_or_url=None, *, read_only: bool = False, internal_store=None) -> Catalog:
        """Open (creating if needed) the catalog at *path_or_url*.

        A server URL without a password takes the one remembered in the OS keyring for it
        (else libpq's ``~/.pgpass``).  *read_only* opens without creating or upgrading and
        refuses every write; a catalog a newer dsdesk upgraded can only be opened that way.
        *internal_store* chooses, for a new catalog, where its internal binaries live (see
        :mod:`dsdesk.api.internal_store`); it is recorded in the catalog and every client
        that opens it uses the same store.
        """
        from dsdesk.api import catalog_locations
        from dsdesk.api import internal_store as stores

        url = catalog_locations.with_keyring_password(path_or_url)
        if internal_store is not None and read_only:
            raise InvalidInputError("a read-only catalog cannot take an internal store")
        location = None
        if internal_store is not None:
            location = stores.checked_location(internal_store, must_be_empty=stores.is_new_catalog(url))
        db = open_database(url, read_only=read_only)
        if location is not None:
            try:
                stores.record(db, location)
            except BaseException:
                db.close()
                raise
        return cls(db)

    @property
    def url(self) -> str:
        """The catalog's SQLAlchemy URL (password hidden)."""
        from sqlalchemy.engine import make_url

        return make_url(self.db.url).render_as_string(hide_password=True)

    @property
    def raw_url(self) -> str:
        """The URL that reopens this catalog, without a password (which never goes into
        settings): reopening takes it from the OS keyring, ``~/.pgpass`` or the user."""
        from dsdesk.api.catalog_locations import location

        return location(self.db.url)

    def run(self, job: JobSpec, on_event: Callable[[JobEvent], None] | None = None,
            ctx: JobContext | None = None, raise_errors: bool = True):
        """Run the described *job* (see :mod:`dsdesk.api.jobs`) as a recorded job on the
        calling thread and return its result.  Pass a *ctx* from :meth:`prepare_job` to be
        able to cancel it from another thread; with ``raise_errors=False`` a failure is
        recorded and reported to *on_event* only."""
        return runner.run_spec(self.db, job, on_event=on_event, ctx=ctx, raise_errors=raise_errors)

    def prepare_job(self, job: JobSpec, on_event: Callable[[JobEvent], None] | None = None) -> JobContext:
        """Record *job* as queued and return its context (``cancel()`` from any thread), for
        :meth:`run` on another thread."""
        return runner.prepare_spec(self.db, job, on_event=on_event)

    def process_job(self, job: JobSpec, on_event: Callable[[JobEvent], None] | None = None, niceness: int = 0):
        """A :class:`~dsdesk.jobs.process.ProcessJob` that runs *job* in a worker process
        on this catalog when its ``run()`` is called (cancel and kill from any thread)."""
        from dsdesk.jobs.process import ProcessJob

        return ProcessJob.of(self.db, job, on_event=on_event, niceness=niceness)

    def mark_interrupted_jobs(self) -> int:
        """Mark jobs left queued or running by a process that died 'interrupted' (jobs of
        live processes are left alone); returns how many."""
        return runner.mark_interrupted(self.db)

    def interrupted_jobs(self, limit: int = 20) -> list[dict]:
        """The interrupted jobs not yet resumed or dismissed, newest first, as :meth:`jobs`
        gives them, with ``dataset_name`` and ``resumable`` (a sync or an upload whose dataset
        still exists)."""
        from dsdesk.api.jobs import RESUMABLE

        with self.db.session() as s:
            rows = s.execute(select(Job, DatasetRow.name).outerjoin(DatasetRow, (DatasetRow.id == Job.dataset_id)
                                                                       & DatasetRow.deleted_at.is_(None))
                             .where(Job.status == runner.INTERRUPTED).order_by(Job.id.desc()).limit(limit)).all()
            return [{**_job_dict(j), "dataset_name": name, "resumable": j.kind in RESUMABLE and name is not None}
                    for j, name in rows]

    def jobs_elsewhere(self, exclude: set[int] | frozenset[int] = frozenset()) -> list[dict]:
        """The jobs other processes are running on this catalog now (another window, a CLI
        sync, another machine on a team catalog), as :meth:`jobs` gives them, with
        ``owner`` (``host:pid``); jobs in *exclude* (the caller's own) and jobs whose
        process is gone are left out."""
        from dsdesk.catalog.models import utcnow
        from dsdesk.jobs import owner

        me, now = owner.this_process(), utcnow()
        with self.db.session() as s:
            rows = s.execute(select(Job, DatasetRow.name).outerjoin(DatasetRow, DatasetRow.id == Job.dataset_id)
                             .where(Job.status.in_([runner.QUEUED, runner.RUNNING])).order_by(Job.id)).all()
            return [{**_job_dict(j), "dataset_name": name, "owner": ":".join((j.owner or "?").split(":")[:2])}
                    for j, name in rows
                    if j.id not in exclude and j.owner != me
                    and not owner.is_gone(j.owner, j.heartbeat_at, now, self.db.dialect != "sqlite")]

    def resume_job(self, job_id: int) -> JobSpec:
        """The job that continues interrupted job *job_id* (run it with :meth:`run` or the
        GUI's job manager); the old row is marked resumed so it is offered once."""
        from dsdesk.api import jobs as job_builders

        with self.db.session() as s:
            j = s.get(Job, job_id)
            if j is None:
                raise NotFoundError(f"no job with id {job_id}")
            if j.status != runner.INTERRUPTED:
                raise InvalidInputError(f"job {job_id} is {j.status}, not interrupted: there is nothing to resume")
            spec = job_builders.resume(j.kind, dict(j.spec or {}))
            j.status = RESUMED
        return spec

    def dismiss_job(self, job_id: int) -> None:
        """Stop offering interrupted job *job_id* for resuming (it stays in the history)."""
        with self.db.session() as s:
            s.execute(update(Job).where(Job.id == job_id, Job.status == runner.INTERRUPTED)
                      .values(status=DISMISSED))

    def tune_for_gui(self) -> None:
        """Give this process's SQLite connections small memory settings (no-op elsewhere).

        Measured on the 1M-item catalog, streaming the grid's million ids: with the engine's
        defaults (mmap 256 MiB, cache 64 MiB) the process grew by 120 MB of mapped file and
        64 MB of page cache per connection that read; with mmap off and an 8 MiB cache it
        grew by 18 MB and the stream was as fast (1.2-2.0 s either way; the OS page cache
        keeps the file's pages, shared with the job processes).  Jobs and the API/CLI keep
        the engine's defaults.  Connections already open are replaced.
        """
        db = self.db
        if db.dialect != "sqlite" or event.contains(db.engine, "connect", _gui_pragmas):
            return
        event.listen(db.engine, "connect", _gui_pragmas)
        db.engine.dispose()  # pooled connections have the old settings; checked-out ones close on return

    def changes(self):
        """A :class:`~dsdesk.api.change_feed.ChangeFeed` of the writes committed on this
        catalog from now on, by other clients and this one ("dataset X: items changed");
        close it when done.  Raises CatalogError when a server refuses to LISTEN."""
        from dsdesk.api.change_feed import ChangeFeed

        return ChangeFeed(self.db)

    def jobs(self, limit: int = 50) -> list[dict]:
        """The most recent jobs, newest first, as dicts."""
        with self.db.session() as s:
            rows = s.execute(select(Job).order_by(Job.id.desc()).limit(limit)).scalars().all()
            return [_job_dict(j) for j in rows]

    def gc(self, dry_run: bool = True, on_event: Callable[[JobEvent], None] | None = None):
        """Binaries no item anywhere (snapshots included) points at, with sizes; unless
        *dry_run*, delete them (external objects only where the driver allows external
        delete).  Returns a :class:`~dsdesk.versioning.GcReport`."""
        from dsdesk.api import jobs

        return self.run(jobs.gc(dry_run), on_event=on_event)

    def dataset_by_id(self, dataset_id: int):
        """Any live dataset by id, whatever its project."""
        from dsdesk.api.datasets import Dataset

        with self.db.session() as s:
            row = s.get(DatasetRow, int(dataset_id))
            if row is None or row.deleted_at is not None:
                from dsdesk.errors import NotFoundError

                raise NotFoundError(f"dataset {dataset_id} not found")
            return Dataset._from_row(self, row)

    def close(self) -> None:
        """Close the catalog's connections; a closed catalog stops being the default one of
        ``dd.projects`` ... (see :mod:`dsdesk.api.defaults`)."""
        from dsdesk.api.defaults import forget

        forget(self)
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Catalog {self.url}>"


def _gui_pragmas(dbapi_con, _record) -> None:
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA mmap_size=0")
    cur.execute(f"PRAGMA cache_size=-{GUI_SQLITE_CACHE_KIB}")
    cur.close()


# An interrupted job's row once it was resumed (a new job continues it) or dismissed.
RESUMED, DISMISSED = "resumed", "dismissed"


def _job_dict(j: Job) -> dict:
    return {"id": j.id, "kind": j.kind, "status": j.status, "progress": j.progress, "done": j.done,
            "total": j.total, "message": j.message, "error": j.error, "dataset_id": j.dataset_id,
            "created_at": j.created_at, "finished_at": j.finished_at}
