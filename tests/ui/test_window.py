"""Jobs (cancel, failure), read-only, search, thumbnails, state restore and the app entry point."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from dsdesk.errors import ReadOnlyError
from dsdesk.jobs.spec import JobSpec
from dsdesk.ui.dialogs import common as dialogs
from tests.ui.conftest import wait_idle

#: Steps of :func:`_slow_job` (10 ms each): every test cancels it, and it must still be running
#: then, however slow the machine (600 steps, 6 s, left little room on a busy VM).
SLOW_STEPS = 6000


def _slow_job(ctx, started: threading.Event):
    started.set()
    for i in range(SLOW_STEPS):
        ctx.check_cancelled()
        ctx.progress(i, SLOW_STEPS, f"step {i}")
        time.sleep(0.01)
    return "finished"


def _failing_job(ctx):
    ctx.progress(1, 3, "about to fail")
    raise ValueError("the bucket exploded")


def test_cancel_a_running_job(qtbot, window):
    started = threading.Event()
    h = window.jobs.submit(JobSpec("test", "Slow job", _slow_job, (started,)))
    qtbot.waitUntil(started.is_set, timeout=20000)
    qtbot.waitUntil(lambda: h.last is not None and h.last.done > 0, timeout=20000)
    assert window.jobs_status.text() == "1 job running"
    row = window.jobs_panel.row(h.uid)
    cancel = window.jobs_panel._cancel[h.uid]
    cancel.click()
    qtbot.waitUntil(lambda: h.status == "cancelled", timeout=20000)
    assert row.text(1) == "cancelled"
    assert window.jobs_status.text() == "No jobs running"
    # The catalog recorded it too.
    assert window.cat.jobs(limit=1)[0]["status"] == "cancelled"


def test_failed_job_shows_its_error(qtbot, window, monkeypatch):
    h = window.jobs.submit(JobSpec("test", "Doomed job", _failing_job))
    qtbot.waitUntil(lambda: h.status == "failed", timeout=20000)
    row = window.jobs_panel.row(h.uid)
    assert "the bucket exploded" in row.text(1)
    msg, details = window.jobs_panel.error_text(h.uid)
    assert "ValueError: the bucket exploded" in msg and "Traceback" in details
    assert "Traceback" in row.toolTip(1)
    assert window.jobs_panel._cancel[h.uid].text() == "Details"
    assert "failed" in window.statusBar().currentMessage()


def test_progress_rate_and_eta_shown(qtbot, window):
    started = threading.Event()
    h = window.jobs.submit(JobSpec("test", "Slow job", _slow_job, (started,)))
    qtbot.waitUntil(lambda: h.last is not None and h.last.done > 20, timeout=20000)
    row = window.jobs_panel.row(h.uid)
    qtbot.waitUntil(lambda: row.text(3).endswith("/s") and row.text(4).endswith("s"), timeout=20000)
    assert f"/ {SLOW_STEPS:,}" in window.jobs_panel._bars[h.uid].format()
    window.jobs.cancel(h.uid)
    qtbot.waitUntil(lambda: h.finished, timeout=20000)


def test_read_only_dataset_refuses_edits(qtbot, window, monkeypatch):
    errors = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text, details="": errors.append(text))
    ds = window.current_dataset_id
    window.cat.dataset_by_id(ds).set_readonly(True)
    window.reload_library()
    wait_idle(qtbot, window)
    window.update_actions()
    assert not window.act_new_folder.isEnabled() and not window.act_upload.isEnabled()
    window.grid.view.setCurrentIndex(window.grid.model.index(0))
    qtbot.waitUntil(lambda: window.inspector.details is not None, timeout=20000)
    assert window.inspector.editor.read_only
    assert not window.inspector.editor.add_button.isEnabled()
    assert "read-only" in window.inspector.readonly_label.text()
    # Below the UI the API refuses too, and the window shows why.
    item_id = window.inspector.details.item.id
    window.inspection.save_metadata(item_id, {"x": 1})
    qtbot.waitUntil(lambda: "read-only" in window.inspector.error_label.text(), timeout=20000)
    window.item_handlers.items_dropped_on_folder(type("P", (), {"dataset_id": ds, "item_ids": [item_id]})(),
                                          "/incoming", False)
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert "read-only" in errors[0]
    try:
        window.cat.dataset_by_id(ds).items.make_dir("/nope")
        raise AssertionError("make_dir on a read-only dataset must raise")
    except ReadOnlyError:
        pass


def test_metadata_edit_keeps_types(qtbot, window):
    window.grid.view.setCurrentIndex(window.grid.model.index(0))
    qtbot.waitUntil(lambda: window.inspector.details is not None, timeout=20000)
    ed = window.inspector.editor
    it = ed.add_key()
    it.setText(0, "count")
    it.setText(1, "42")
    it.setText(2, "int")
    value = ed.value()
    assert value["count"] == 42 and isinstance(value["score"], float) and isinstance(value["reviewed"], bool)
    item_id = window.inspector.details.item.id
    ed.save_button.click()
    qtbot.waitUntil(lambda: window.cat.dataset_by_id(window.current_dataset_id).items.get(item_id=item_id)
                    .metadata["user"].get("count") == 42, timeout=20000)


def test_search_bar_filters_the_grid(qtbot, window):
    total = window.grid.model.rowCount()
    window.grid.search.setText("split:train label:car")
    window.grid.search.returnPressed.emit()
    wait_idle(qtbot, window)
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    expected = ds.items.list(filters="split:train label:car").items_count
    assert 0 < window.grid.model.rowCount() == expected < total
    window.grid.search.setText("\"unterminated")
    window.grid.search.returnPressed.emit()
    wait_idle(qtbot, window)
    assert not window.grid.error_label.isHidden()


def test_folder_selection_and_thumbnails(qtbot, window):
    window.library.select_folder("/val")
    wait_idle(qtbot, window)
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    assert window.grid.model.rowCount() == ds.items.list(filters='dir:"/val/**"').items_count
    window.grid.view.viewport().repaint()
    first = window.grid.model.item_id(0)
    qtbot.waitUntil(lambda: window.grid.loader.pixmap(first) is not None, timeout=60000)
    pm = window.grid.loader.pixmap(first)
    assert pm is not None and max(pm.width(), pm.height()) == 256


def test_viewer_draws_annotations(qtbot, window):
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    annotated = next(i for i in ds.items.list().all() if i.annotated)
    v = window.inspection.open_item(annotated.id)
    qtbot.waitUntil(lambda: v.canvas.pixmap is not None, timeout=20000)
    assert v.canvas.annotations and v.canvas.pixmap.width() == annotated.width
    v.grab()  # paints the boxes without error
    v.close()


def test_state_restored_after_restart(qtbot, make_window, demo_catalog):
    win = make_window(demo_catalog)
    win.library.select_folder("/train/city")
    wait_idle(qtbot, win)
    win.grid.set_cell_size(224)
    win.grid.cell_size_changed.emit(224)
    win.inspector_dock.hide()
    win.resize(700, 520)  # fits the offscreen screen (800x600): restoreGeometry clamps to it
    width = win.size().width()
    assert width < 790
    win.close()
    win2 = make_window(demo_catalog, resize=False)
    assert win2.current_dataset_id == win.current_dataset_id
    assert win2.library.current_folder == "/train/city"
    assert win2.grid.slider.value() == 224
    assert win2.inspector_dock.isHidden()
    assert win2.size().width() == width


def test_icons_fail_loudly():
    import pytest

    from dsdesk.ui.icons import UnknownIconError, icon

    assert not icon("clone").isNull()
    with pytest.raises(UnknownIconError):
        icon("no-such-icon")


def test_run_app_entry_point(tmp_path, demo_catalog):
    code = ("import sys; from PySide6.QtCore import QTimer; from PySide6.QtWidgets import QApplication;"
            "from dsdesk.ui.app import make_application, run_app; app = make_application();"
            "assert QApplication.platformName() == 'offscreen', QApplication.platformName();"
            "QTimer.singleShot(2500, app.quit); sys.exit(run_app(sys.argv[1]))")
    path = demo_catalog.db.url.replace("sqlite:///", "")
    r = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([sys.executable, "-m", "dsdesk.ui.app", "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "--catalog" in r.stdout
