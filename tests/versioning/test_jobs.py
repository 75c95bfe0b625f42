"""Versioning as jobs: progress events, cancellation between batches rolls everything back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import dsdesk as dd
from dsdesk.catalog.models import Dataset, Job
from dsdesk.jobs.runner import prepare, run_job
from dsdesk.versioning import jobs

from .conftest import full_dump


def _small_batches(monkeypatch):
    import importlib

    mod = importlib.import_module("dsdesk.versioning.clone")
    common = importlib.import_module("dsdesk.versioning._common")
    monkeypatch.setattr(mod, "boundaries", lambda s, d: common.boundaries(s, d, 2))


def test_clone_job_reports_progress_and_records_the_result(cat, master, monkeypatch):
    _, ds, _ = master
    _small_batches(monkeypatch)
    events = []
    res = run_job(cat.db, "clone", jobs.clone_job, ds.id, clone_name="c", on_event=events.append)
    assert res.items == 6
    running = [e.done for e in events if e.status == "running" and e.done]
    assert running[:3] == [2, 4, 6]
    assert events[-1].status == "succeeded"
    with cat.db.session() as s:
        job = s.execute(select(Job).order_by(Job.id.desc())).scalars().first()
        assert job.status == "succeeded" and job.result["items"] == 6


def test_cancelled_clone_rolls_back(cat, master, monkeypatch):
    _, ds, _ = master
    _small_batches(monkeypatch)
    before = full_dump(cat.db)
    ctx = prepare(cat.db, "clone")

    def on_event(e):
        if e.status == "running" and e.done >= 2:
            ctx.cancel()  # noticed before the next batch

    ctx.on_event = on_event
    with pytest.raises(dd.JobCancelledError):
        run_job(cat.db, "clone", jobs.clone_job, ds.id, clone_name="c", ctx=ctx)
    assert full_dump(cat.db) == before
    with cat.db.session() as s:
        assert s.execute(select(Dataset).where(Dataset.name == "c")).first() is None
        assert s.get(Job, ctx.job_id).status == "cancelled"


def test_other_jobs_run(cat, master):
    _, ds, _ = master
    run_job(cat.db, "snapshot", jobs.snapshot_job, ds.id, "v1")
    a = run_job(cat.db, "clone", jobs.clone_job, ds.id, clone_name="a")
    b = run_job(cat.db, "clone", jobs.clone_job, ds.id, clone_name="b")
    m = run_job(cat.db, "merge", jobs.merge_job, "m", [a.dataset_id, b.dataset_id])
    assert m.items == 6
    d = run_job(cat.db, "diff", jobs.diff_job, ds.id, "v1")
    assert d.counts == {"added": 0, "removed": 0, "changed": 0}
    r = run_job(cat.db, "rollback", jobs.rollback_job, ds.id, "v1")
    assert r.items == 6
    g = run_job(cat.db, "gc", jobs.gc_job, True)
    assert g.candidate_count == 0
