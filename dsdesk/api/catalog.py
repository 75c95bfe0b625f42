"""The entry point of the public API: an open catalog and its repositories."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import select

from dsdesk.catalog.engine import Database, open_database
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Job
from dsdesk.jobs.runner import JobEvent, run_job


class Catalog:
    """An open dsdesk catalog (``dd.open_catalog()``).

    Thread-safe: entities hold ids and re-read the catalog through short sessions, so one
    Catalog may be shared by the GUI thread and job threads.  Long operations accept an
    ``on_event`` callback (a :class:`~dsdesk.jobs.runner.JobEvent` per progress step, on
    the job's thread).
    """

    def __init__(self, db: Database):
        self.db = db
        self._local = threading.local()
        from dsdesk.api.datasets import CatalogDatasets
        from dsdesk.api.projects import Projects

        self.projects = Projects(self)
        self.datasets = CatalogDatasets(self)

    @classmethod
    def open(cls, path_or_url=None) -> Catalog:
        """Open (creating if needed) the catalog at *path_or_url*."""
        return cls(open_database(path_or_url))

    @property
    def url(self) -> str:
        """The catalog's SQLAlchemy URL (password hidden)."""
        from sqlalchemy.engine import make_url

        return make_url(self.db.url).render_as_string(hide_password=True)

    def run(self, kind: str, fn: Callable, *args, on_event: Callable[[JobEvent], None] | None = None,
            dataset_id: int | None = None, spec: dict | None = None, **kwargs):
        """Run ``fn(ctx, *args, **kwargs)`` as a recorded job and return its result."""
        return run_job(self.db, kind, fn, *args, on_event=on_event, dataset_id=dataset_id, spec=spec, **kwargs)

    def jobs(self, limit: int = 50) -> list[dict]:
        """The most recent jobs, newest first, as dicts."""
        with self.db.session() as s:
            rows = s.execute(select(Job).order_by(Job.id.desc()).limit(limit)).scalars().all()
            return [{"id": j.id, "kind": j.kind, "status": j.status, "progress": j.progress, "done": j.done,
                     "total": j.total, "message": j.message, "error": j.error, "dataset_id": j.dataset_id,
                     "created_at": j.created_at, "finished_at": j.finished_at} for j in rows]

    def gc(self, dry_run: bool = True, on_event: Callable[[JobEvent], None] | None = None):
        """Binaries no item anywhere (snapshots included) points at, with sizes; unless
        *dry_run*, delete them (external objects only where the driver allows external
        delete).  Returns a :class:`~dsdesk.versioning.GcReport`."""
        from dsdesk.versioning.jobs import gc_job

        return self.run("gc", gc_job, dry_run, on_event=on_event, spec={"dry_run": dry_run})

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
        """Close the catalog's connections."""
        self.db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Catalog {self.url}>"
