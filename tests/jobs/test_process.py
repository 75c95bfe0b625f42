"""The process job runner: success, progress events, cancel, failure text, worker crash."""

from __future__ import annotations

import os
import threading
import time

import pytest

from dsdesk.jobs.process import ProcessJob, can_run_in_process, function_path, run_in_process
from dsdesk.jobs.runner import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED
from tests.jobs import jobfns

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the crash tests use POSIX signals")


def _row(catalog, job_id):
    return next(j for j in catalog.jobs(limit=50) if j["id"] == job_id)


def test_success_returns_the_result_and_records_the_job(catalog):
    events = []
    final = run_in_process(catalog.db, "test", jobfns.add_job, 2, 3, on_event=events.append)
    assert final.status == SUCCEEDED
    assert final.result["sum"] == 5
    assert final.result["pid"] != os.getpid()  # it really ran elsewhere
    assert final.job_id and _row(catalog, final.job_id)["status"] == SUCCEEDED


def test_progress_events_arrive_in_order(catalog):
    events = []
    final = run_in_process(catalog.db, "test", jobfns.add_job, 1, 1, on_event=events.append)
    statuses = [e.status for e in events]
    assert statuses[0] == QUEUED and statuses[-1] == SUCCEEDED
    running = [e for e in events if e.status == RUNNING and e.done]
    assert [e.done for e in running] == sorted(e.done for e in running)
    assert running[-1].done == 5 and running[-1].total == 5 and running[-1].message == "step 5"
    assert final.done == 5 and all(e.job_id == final.job_id for e in events)


def test_cancel_stops_the_job(catalog):
    events = []
    job = ProcessJob(catalog.db, "test", jobfns.slow_job, on_event=events.append)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("final", job.run()))
    t.start()
    deadline = time.monotonic() + 30
    while not any(e.status == RUNNING and e.done > 5 for e in list(events)):
        assert time.monotonic() < deadline, "the job never reported progress"
        time.sleep(0.02)
    job.cancel()
    t.join(20)
    final = result["final"]
    assert final.status == CANCELLED and "cancelled" in final.error
    assert 0 < final.done < 2000
    assert _row(catalog, final.job_id)["status"] == CANCELLED


def test_cancel_before_start_never_runs_the_function(catalog):
    job = ProcessJob(catalog.db, "test", jobfns.slow_job)
    job.cancel()
    final = job.run()
    assert final.status == CANCELLED and final.done == 0


def test_failure_carries_the_error_text_and_traceback(catalog):
    final = run_in_process(catalog.db, "test", jobfns.failing_job)
    assert final.status == FAILED
    assert final.error == "ValueError: the bucket exploded"
    assert "Traceback" in final.details and "failing_job" in final.details
    row = _row(catalog, final.job_id)
    assert row["status"] == FAILED and "the bucket exploded" in row["error"]


def test_worker_crash_is_a_failed_job_with_its_stderr(catalog):
    final = run_in_process(catalog.db, "test", jobfns.crashing_job)
    assert final.status == FAILED
    assert "exited with code 3" in final.error and "corrupted heap" in final.error
    assert "libfoo: fatal: corrupted heap" in final.details
    assert final.done == 1 and final.total == 2  # the last progress it reported
    row = _row(catalog, final.job_id)
    assert row["status"] == FAILED and "exited with code 3" in row["error"]


def test_segfault_is_reported_with_the_dumped_stack(catalog):
    final = run_in_process(catalog.db, "test", jobfns.segfault_job)
    assert final.status == FAILED
    assert "SIGSEGV" in final.error
    assert "Segmentation fault" in final.details and "segfault_job" in final.details
    assert _row(catalog, final.job_id)["status"] == FAILED


def test_kill_after_cancel_reports_cancelled(catalog):
    events = []
    job = ProcessJob(catalog.db, "test", jobfns.slow_job, on_event=events.append)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("final", job.run()))
    t.start()
    deadline = time.monotonic() + 30
    while job.job_id is None or not events or events[-1].status != RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    job.cancel()
    job.kill()
    t.join(20)
    assert result["final"].status == CANCELLED


def test_the_worker_sees_the_parents_environment_and_folders(catalog, monkeypatch):
    monkeypatch.setenv("DSDESK_TEST_SECRET_NAME", "from-the-parent")
    final = run_in_process(catalog.db, "test", jobfns.env_job, "DSDESK_TEST_SECRET_NAME")
    assert final.status == SUCCEEDED
    assert final.result == {"value": "from-the-parent", "blob_root": str(catalog.db.blob_root)}


def test_the_worker_reads_the_same_catalog(catalog, dataset, photos):
    dataset.items.upload(str(photos))
    final = run_in_process(catalog.db, "test", jobfns.count_items_job, dataset.id)
    assert final.status == SUCCEEDED and final.result == 4


def test_an_unpicklable_result_arrives_as_text(catalog):
    final = run_in_process(catalog.db, "test", jobfns.unpicklable_result_job)
    assert final.status == SUCCEEDED
    assert "lock" in str(final.result)


def test_a_bad_function_path_fails_cleanly(catalog):
    final = run_in_process(catalog.db, "test", "tests.jobs.jobfns:no_such_job")
    assert final.status == FAILED and "cannot start the job" in final.error and "no_such_job" in final.error


def test_what_can_run_in_a_process():
    assert function_path(jobfns.add_job) == "tests.jobs.jobfns:add_job"
    assert function_path(lambda ctx: None) is None
    assert can_run_in_process(jobfns.add_job, (1, 2))
    assert not can_run_in_process(jobfns.add_job, (threading.Event(),))
    with pytest.raises(ValueError):
        ProcessJob(None, "test", lambda ctx: None)

