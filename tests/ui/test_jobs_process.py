"""Jobs that run in a worker process, seen through the window: progress, cancel, failure, crash."""

from __future__ import annotations

import threading

import pytest

from dsdesk.jobs.spec import JobSpec
from tests.jobs import jobfns


def test_in_process_jobs_run_in_a_process_and_others_on_a_thread(qtbot, window):
    h = window.jobs.submit(JobSpec("clone", "Process job", jobfns.add_job, (2, 3), in_process=True))
    t = window.jobs.submit(JobSpec("test", "Thread job", jobfns.add_job, (1, 1)))
    qtbot.waitUntil(lambda: h.finished and t.finished, timeout=30000)
    assert h.in_process and not t.in_process
    assert h.status == "succeeded" and h.last.result["sum"] == 5
    import os

    assert h.last.result["pid"] != os.getpid() and t.last.result["pid"] == os.getpid()
    assert window.jobs_panel.row(h.uid).text(1).startswith("done")


def test_a_job_that_cannot_cross_a_process_boundary_runs_on_a_thread(qtbot, window):
    started = threading.Event()
    from tests.ui.test_window import _slow_job

    h = window.jobs.submit(JobSpec("clone", "Unpicklable arguments", _slow_job, (started,)))
    assert not h.in_process
    qtbot.waitUntil(started.is_set, timeout=20000)
    window.jobs.cancel(h.uid)
    qtbot.waitUntil(lambda: h.finished, timeout=20000)
    with pytest.raises(ValueError):
        window.jobs.submit(JobSpec("clone", "Forced", _slow_job, (started,), in_process=True))


def test_cancel_a_process_job_from_the_panel(qtbot, window):
    h = window.jobs.submit(JobSpec("sync", "Slow process job", jobfns.slow_job, in_process=True))
    qtbot.waitUntil(lambda: h.last is not None and h.last.done > 3, timeout=30000)
    assert window.jobs_status.text() == "1 job running"
    window.jobs_panel._cancel[h.uid].click()
    qtbot.waitUntil(lambda: h.status == "cancelled", timeout=10000)
    assert window.jobs_panel.row(h.uid).text(1) == "cancelled"
    assert window.cat.jobs(limit=1)[0]["status"] == "cancelled"
    assert window.jobs_status.text() == "No jobs running"


def test_a_failed_process_job_shows_its_error(qtbot, window):
    h = window.jobs.submit(JobSpec("clone", "Doomed process job", jobfns.failing_job, in_process=True))
    qtbot.waitUntil(lambda: h.status == "failed", timeout=30000)
    msg, details = window.jobs_panel.error_text(h.uid)
    assert msg == "ValueError: the bucket exploded" and "Traceback" in details
    assert "the bucket exploded" in window.jobs_panel.row(h.uid).text(1)


def test_a_crashed_worker_is_a_failed_job_with_its_stderr(qtbot, window):
    h = window.jobs.submit(JobSpec("merge", "Crashing job", jobfns.crashing_job, in_process=True))
    qtbot.waitUntil(lambda: h.status == "failed", timeout=30000)
    msg, details = window.jobs_panel.error_text(h.uid)
    assert "exited with code 3" in msg and "libfoo: fatal: corrupted heap" in details
    assert "failed" in window.statusBar().currentMessage()


def test_shutdown_kills_a_worker_that_ignores_cancel(qtbot, make_window, demo_catalog):
    win = make_window(demo_catalog)
    h = win.jobs.submit(JobSpec("sync", "Deaf job", jobfns.deaf_job, in_process=True))
    qtbot.waitUntil(lambda: h.last is not None and h.last.status == "running", timeout=30000)
    assert win.jobs.shutdown(timeout_ms=500)
    assert h.ctx.last.status == "cancelled"
