"""Auto-sync: the per-dataset interval and the one due rule (``dsdesk.api.autosync.AutoSync``)."""

from __future__ import annotations

import datetime as dt

import pytest
from emulators import Store, jpeg

from dsdesk.api.autosync import AutoSync
from dsdesk.errors import DsdeskError, InvalidInputError
from dsdesk.sync import datasets_due


def _later(seconds: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=seconds)


def test_interval_and_due(catalog, project, tmp_path):
    st = Store("local", None, root=tmp_path / "bucket")
    st.put("a.jpg", jpeg())
    drv = project.drivers.create("f", "local", st.bucket, path=st.prefix)
    ds = project.datasets.create("auto", driver=drv)
    auto = AutoSync(catalog)
    assert auto.due() == []
    with pytest.raises(InvalidInputError):
        ds.set_auto_sync(1)
    ds.set_auto_sync(60)
    assert auto.due() == [ds.id]  # never synced: due now
    ds.sync()
    assert auto.due() == []
    later = _later(61)
    assert auto.due(later) == [ds.id]
    assert datasets_due(catalog.db, later) == [ds.id]  # the facade and the rule agree
    assert ds.sync_status["interval_seconds"] == 60 and ds.sync_status["last_sync_at"] is not None
    ds.set_auto_sync(None)
    assert auto.due(later) == []


def test_due_datasets_are_synced_as_jobs_and_a_running_one_is_not_due(catalog, project, tmp_path):
    st = Store("local", None, root=tmp_path / "bucket")
    st.put("a.jpg", jpeg())
    drv = project.drivers.create("f", "local", st.bucket, path=st.prefix)
    ds = project.datasets.create("auto", driver=drv)
    ds.set_auto_sync(10)
    auto = AutoSync(catalog, poll_seconds=0.1)
    assert auto.poll_seconds == 0.1
    events, due_while_running = [], []

    def on_event(e):
        events.append(e)
        if e.status == "running":
            due_while_running.append(auto.due(_later(3600)))

    for dataset_id in auto.due():
        catalog.dataset_by_id(dataset_id).sync(on_event=on_event)
    assert ds.refresh().items_count == 1
    assert any(e.kind == "sync" and e.status == "succeeded" for e in events)
    assert due_while_running and all(d == [] for d in due_while_running)  # one sync of a dataset at a time
    assert ds.sync_status["last"]["new"] == 1
    assert auto.due() == []


def test_a_failed_auto_sync_counts_as_an_attempt(catalog, project, tmp_path):
    drv = project.drivers.create("gone", "local", str(tmp_path / "missing-folder"))
    ds = project.datasets.create("broken", driver=drv)
    ds.set_auto_sync(10)
    auto = AutoSync(catalog)
    assert auto.due() == [ds.id]
    with pytest.raises(DsdeskError):
        ds.sync()
    auto.record_failure(ds.id)
    assert "does not exist" in ds.sync_status["last_error"]
    assert auto.due() == []  # the failed attempt counts for the interval
    assert auto.due(_later(11)) == [ds.id]  # and is retried after it
