"""A job whose process is killed becomes 'interrupted' when the catalog is next opened, and a
sync or an upload can be resumed from it.

Before: the row stayed 'running' forever, and opening the window marked every running job
failed, a live job of another process included.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

import dsdesk
from dsdesk.api import jobs as job_builders
from dsdesk.catalog.models import Item, Job, utcnow
from dsdesk.errors import InvalidInputError
from dsdesk.jobs import owner
from tests.conftest import make_image

ROOT = Path(__file__).resolve().parents[2]

# Runs a sync of a local-folder dataset with 2-key pages and freezes the listing at its second
# page.  The "listed" event follows a page's hand-off to the writer thread, not its commit
# (dsdesk.sync.staging.PageWriter): the writer goes on committing the pages handed to it.
SYNC_CHILD = r"""
import sys, time
import dsdesk
from dsdesk.api import jobs
cat = dsdesk.open_catalog(sys.argv[1])
marker, seen = sys.argv[3], []
def on_event(ev):
    if ev.message.startswith("listed"):
        seen.append(1)
        if len(seen) >= 2:
            open(marker, "w").write("paused")
            while True:
                time.sleep(1)
spec = jobs.sync(int(sys.argv[2]))
spec = type(spec)(**{**spec.__dict__, "kwargs": {**spec.kwargs, "page_size": 2}})
cat.run(spec, on_event=on_event)
"""

# Records a running job and then waits, alive, until killed.
LIVE_CHILD = r"""
import sys, time
import dsdesk
from dsdesk.jobs.runner import create_job
cat = dsdesk.open_catalog(sys.argv[1])
print(create_job(cat.db, "gc"), flush=True)
time.sleep(600)
"""


def _child(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _status(cat, job_id: int) -> str:
    with cat.db.session() as s:
        return s.get(Job, job_id).status


def _item_count(cat, dataset_id: int) -> int:
    """How many items of *dataset_id* are committed (what another process sees)."""
    with cat.db.session() as s:
        return len(s.execute(select(Item.id).where(Item.dataset_id == dataset_id)).all())


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def test_killed_sync_is_interrupted_and_resumes(tmp_path, catalog, project):
    folder = tmp_path / "bucket"
    for i in range(9):
        make_image(folder / f"k/{i}.jpg", (16, 16))
    ds = project.datasets.create("local", driver=project.drivers.create("lf", "local", str(folder)))
    marker = tmp_path / "paused"
    child = _child(SYNC_CHILD, str(tmp_path / "catalog.sqlite"), str(ds.id), str(marker))
    deadline = time.monotonic() + 60
    # Killed at the pause alone, the child could die before its writer committed the first
    # page (0 items, the flake): the kill waits for a committed page as well.
    while not (marker.exists() and _item_count(catalog, ds.id)):
        assert child.poll() is None, child.stderr.read()[-2000:]
        assert time.monotonic() < deadline, "the child never committed a page and reached its second"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    with catalog.db.session() as s:
        job = s.execute(select(Job).where(Job.kind == "sync")).scalar_one()
        assert job.status == "running" and job.owner.split(":")[1] == str(child.pid)
    done = _item_count(catalog, ds.id)
    assert 0 < done < 9

    reopened = dsdesk.open_catalog(tmp_path / "catalog.sqlite")
    try:
        assert reopened.mark_interrupted_jobs() == 1
        assert _status(reopened, job.id) == "interrupted"
        offered = reopened.interrupted_jobs()
        assert [(j["id"], j["kind"], j["resumable"]) for j in offered] == [(job.id, "sync", True)]
        spec = reopened.resume_job(job.id)
        assert reopened.interrupted_jobs() == []  # offered once
        report = reopened.run(spec)
        assert report.resumed
        assert {it.name for it in reopened.projects.get("demo").datasets.get("local").items.list().all()} == \
            {f"{i}.jpg" for i in range(9)}
        with pytest.raises(InvalidInputError, match="not interrupted"):
            reopened.resume_job(job.id)
    finally:
        reopened.close()


def test_a_live_job_of_another_process_is_left_running(tmp_path, catalog):
    child = _child(LIVE_CHILD, str(tmp_path / "catalog.sqlite"))
    try:
        job_id = int(child.stdout.readline())
        with catalog.db.session() as s:  # and one recorded before owners were
            s.add(Job(kind="sync", status="running", spec={}))
        assert catalog.mark_interrupted_jobs() == 1
        assert _status(catalog, job_id) == "queued"
    finally:
        child.kill()
        child.wait()
    assert catalog.mark_interrupted_jobs() == 1
    assert _status(catalog, job_id) == "interrupted"


def test_interrupted_upload_resumes_without_duplicates(tmp_path, catalog, dataset):
    src = tmp_path / "upload"
    for i in range(6):
        make_image(src / f"p{i}.jpg", (16, 16))
    spec = job_builders.upload(dataset, str(src), "/in")
    # what the killed run had committed: the folder's first files, where the folder upload puts them
    catalog.run(job_builders.upload(dataset, [str(src / "p0.jpg"), str(src / "p1.jpg")], "/in/upload"))
    with catalog.db.session() as s:  # the full upload's row, as a killed process leaves it
        row = Job(kind="upload", status="running", spec=dict(spec.spec), dataset_id=dataset.id,
                  owner=f"{socket.gethostname()}:{_dead_pid()}:")
        s.add(row)
        s.flush()
        job_id = row.id
    assert catalog.mark_interrupted_jobs() == 1
    (offered,) = catalog.interrupted_jobs()
    assert offered["resumable"] and offered["kind"] == "upload"
    catalog.run(catalog.resume_job(job_id))
    paths = sorted(it.filename for it in dataset.items.list().all())
    assert paths == [f"/in/upload/p{i}.jpg" for i in range(6)]


def test_dismissed_and_other_kinds_are_not_offered(catalog, dataset):
    with catalog.db.session() as s:
        rows = [Job(kind="merge", status="interrupted", spec={}), Job(kind="sync", status="interrupted",
                                                                     spec={"dataset_id": dataset.id},
                                                                     dataset_id=dataset.id)]
        s.add_all(rows)
        s.flush()
        merge_id, sync_id = rows[0].id, rows[1].id
    assert {j["id"]: j["resumable"] for j in catalog.interrupted_jobs()} == {merge_id: False, sync_id: True}
    with pytest.raises(InvalidInputError, match="cannot be resumed"):
        catalog.resume_job(merge_id)
    catalog.dismiss_job(sync_id)
    catalog.dismiss_job(merge_id)
    assert catalog.interrupted_jobs() == []


def test_owner_liveness_rules():
    now = utcnow()
    me = owner.this_process()
    host, pid, start = me.split(":")
    assert int(pid) == os.getpid() and (start or not os.path.exists("/proc"))
    assert not owner.is_gone(me, None, now)
    assert owner.is_gone(None, None, now)  # recorded before owners were: only a dead process leaves one
    assert owner.is_gone(f"{host}:{_dead_pid()}:", None, now)
    if start:  # a recycled pid: alive, but not the process that ran the job
        assert owner.is_gone(f"{host}:{pid}:{int(start) + 1}", None, now)
    other = "elsewhere.example:1234:99"
    assert not owner.is_gone(other, now - dt.timedelta(minutes=5), now)
    assert owner.is_gone(other, now - dt.timedelta(minutes=16), now)
    assert not owner.is_gone(other, now - dt.timedelta(minutes=16), now, judge_other_hosts=False)
