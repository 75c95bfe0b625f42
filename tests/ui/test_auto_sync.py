"""Staying in sync: a dataset with an auto-sync interval is re-synced by the window, as a job."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from dsdesk.catalog.models import SyncState, utcnow
from tests.conftest import make_image
from tests.ui.conftest import wait_idle


def test_auto_sync_picks_up_new_files_while_the_window_runs(qtbot, make_window, catalog, tmp_path):
    bucket = tmp_path / "bucket"
    make_image(bucket / "cams" / "a.jpg")
    project = catalog.projects.create("demo")
    drv = project.drivers.create("folder", driver_type="local", bucket_name=str(bucket), path="cams")
    ds = project.datasets.create("watched", driver=drv)
    ds.sync()
    ds.set_auto_sync(10)
    with catalog.db.session(write=True) as s:  # the last sync was an hour ago: due now
        s.execute(update(SyncState).where(SyncState.dataset_id == ds.id)
                  .values(last_sync_at=utcnow() - dt.timedelta(hours=1)))
    make_image(bucket / "cams" / "new" / "b.jpg")  # arrives while dsdesk runs

    window = make_window(catalog)
    window.auto_sync_timer.setInterval(200)
    qtbot.waitUntil(lambda: any(h.kind == "sync" and h.dataset_id == ds.id for h in window.jobs.handles.values()),
                    timeout=15000)
    qtbot.waitUntil(lambda: ds.refresh().items_count == 2, timeout=30000)
    window.auto_sync_timer.stop()
    wait_idle(qtbot, window)
    assert ds.items.get(filepath="/new/b.jpg").size == (bucket / "cams" / "new" / "b.jpg").stat().st_size
    titles = [h.title for h in window.jobs.handles.values()]
    assert any(t.startswith("Auto-sync") for t in titles)


def test_a_dataset_without_interval_is_left_alone(qtbot, make_window, catalog, tmp_path):
    bucket = tmp_path / "bucket"
    make_image(bucket / "a.jpg")
    project = catalog.projects.create("demo")
    drv = project.drivers.create("folder", driver_type="local", bucket_name=str(bucket))
    project.datasets.create("manual", driver=drv)
    window = make_window(catalog)
    window.auto_sync_timer.setInterval(100)
    qtbot.wait(800)
    assert not any(h.kind == "sync" for h in window.jobs.handles.values())
