"""Auto-sync: the per-dataset interval and the Qt-free scheduler thread."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from emulators import Store, jpeg

from dsdesk.errors import InvalidInputError
from dsdesk.sync.engine import datasets_due
from dsdesk.sync.scheduler import SyncScheduler


def test_interval_and_due(catalog, project, tmp_path):
    st = Store("local", None, root=tmp_path / "bucket")
    st.put("a.jpg", jpeg())
    drv = project.drivers.create("f", "local", st.bucket, path=st.prefix)
    ds = project.datasets.create("auto", driver=drv)
    assert datasets_due(catalog.db) == []
    with pytest.raises(InvalidInputError):
        ds.set_auto_sync(1)
    ds.set_auto_sync(60)
    assert datasets_due(catalog.db) == [ds.id]  # never synced: due now
    ds.sync()
    assert datasets_due(catalog.db) == []
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=61)
    assert datasets_due(catalog.db, later) == [ds.id]
    assert ds.sync_status["interval_seconds"] == 60 and ds.sync_status["last_sync_at"] is not None
    ds.set_auto_sync(None)
    assert datasets_due(catalog.db, later) == []


def test_scheduler_thread_syncs_due_datasets(catalog, project, tmp_path):
    st = Store("local", None, root=tmp_path / "bucket")
    st.put("a.jpg", jpeg())
    drv = project.drivers.create("f", "local", st.bucket, path=st.prefix)
    ds = project.datasets.create("auto", driver=drv)
    ds.set_auto_sync(10)
    events = []
    sched = SyncScheduler(catalog.db, on_event=events.append, poll_seconds=0.1).start()
    try:
        deadline = time.monotonic() + 20
        while ds.refresh().items_count == 0:
            assert time.monotonic() < deadline, "the scheduler did not sync"
            time.sleep(0.1)
    finally:
        sched.stop()
    assert not sched.running
    assert any(e.kind == "sync" and e.status == "succeeded" for e in events)
    assert ds.sync_status["last"]["new"] == 1


def test_scheduler_survives_a_failing_dataset(catalog, project, tmp_path):
    drv = project.drivers.create("gone", "local", str(tmp_path / "missing-folder"))
    ds = project.datasets.create("broken", driver=drv)
    ds.set_auto_sync(10)
    sched = SyncScheduler(catalog.db, poll_seconds=0.1)
    assert sched.run_due() == [ds.id]
    assert "does not exist" in ds.sync_status["last_error"]
    assert sched.run_due() == []  # the failed attempt counts for the interval
