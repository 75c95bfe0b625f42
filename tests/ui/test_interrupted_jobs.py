"""The jobs panel offers what a killed session left: Resume for an upload or a sync, Dismiss
for the rest (issue 17: a killed job stayed 'running' forever)."""

from __future__ import annotations

import socket
import subprocess

from dsdesk.api import jobs as job_builders
from dsdesk.catalog.models import Job
from tests.conftest import make_image
from tests.ui.conftest import wait_idle


def _dead_owner() -> str:
    p = subprocess.Popen(["true"])
    p.wait()
    return f"{socket.gethostname()}:{p.pid}:"


def test_resume_and_dismiss_from_the_jobs_panel(qtbot, make_window, demo_catalog, tmp_path):
    cat = demo_catalog
    ds = cat.projects.list()[0].datasets.get("cars")
    src = tmp_path / "more"
    for i in range(4):
        make_image(src / f"m{i}.jpg", (24, 24))
    upload = job_builders.upload(ds, str(src), "/resumed")
    with cat.db.session() as s:  # rows as a killed session leaves them
        up = Job(kind="upload", status="running", spec=dict(upload.spec), dataset_id=ds.id, owner=_dead_owner())
        merge = Job(kind="merge", status="queued", spec={"merge_name": "m"}, owner=_dead_owner())
        s.add_all([up, merge])
        s.flush()
        up_id, merge_id = up.id, merge.id
    assert cat.mark_interrupted_jobs() == 2  # what the app does on open
    win = make_window(cat)
    panel = win.jobs_panel
    up_row, merge_row = panel.interrupted_row(up_id), panel.interrupted_row(merge_id)
    assert up_row.text(0) == "Upload of cars" and up_row.text(1).startswith("interrupted")
    assert panel.tree.itemWidget(up_row, 5).text() == "Resume"
    assert panel.tree.itemWidget(merge_row, 5).text() == "Dismiss"
    win.jobs_dock.show()
    panel.grab().save(str(tmp_path / "jobs-panel.png"))

    panel.tree.itemWidget(up_row, 5).click()
    assert panel.interrupted_row(up_id) is None
    wait_idle(qtbot, win, timeout=60000)
    (h,) = win.jobs.handles.values()
    assert h.status == "succeeded" and h.kind == "upload"
    got = {it.filename for it in ds.items.list(filters=None).all() if it.dir == "/resumed/more"}
    assert got == {f"/resumed/more/m{i}.jpg" for i in range(4)}

    panel.tree.itemWidget(merge_row, 5).click()
    assert panel.interrupted_row(merge_id) is None
    assert cat.interrupted_jobs() == []
    statuses = {j["id"]: j["status"] for j in cat.jobs()}
    assert statuses[up_id] == "resumed" and statuses[merge_id] == "dismissed"


LIVE_JOB = r"""
import sys, time
import dsdesk
from dsdesk.jobs.runner import create_job
cat = dsdesk.open_catalog(sys.argv[1])
ds = cat.projects.list()[0].datasets.get("cars")
print(create_job(cat.db, "sync", {"dataset_id": ds.id}, dataset_id=ds.id), flush=True)
time.sleep(600)
"""


def test_the_panel_shows_jobs_other_processes_run(qtbot, make_window, demo_catalog, tmp_path):
    import os
    import sys
    from pathlib import Path

    win = make_window(demo_catalog)
    changed = []
    win.jobs.catalog_changed.connect(changed.append)
    child = subprocess.Popen([sys.executable, "-c", LIVE_JOB, str(tmp_path / "catalog.sqlite")],
                             env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])),
                             stdout=subprocess.PIPE, text=True)
    try:
        job_id = int(child.stdout.readline())
        qtbot.waitUntil(lambda: win.jobs_panel.elsewhere_row(job_id) is not None, timeout=10000)
        row = win.jobs_panel.elsewhere_row(job_id)
        assert row.text(0) == "Sync of cars" and row.text(1).startswith("queued in another process")
        assert f":{child.pid}" in row.text(1)
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    # its process is gone: the row goes, and the window is told the catalog may have changed
    qtbot.waitUntil(lambda: win.jobs_panel.elsewhere_row(job_id) is None, timeout=10000)
    assert changed and "items" in changed[-1]
