"""Fixtures for the GUI tests: offscreen Qt, config/QSettings/catalog in tmp_path, a demo
catalog of real Pillow images, and a main window that must not outlive its test."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

import pytest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _job_worker_server():
    """Start the job processes' fork server once per session, before any timed wait: it
    imports dsdesk (seconds on a busy machine) and a test's 20 s wait must not pay that."""
    from dsdesk.api.jobs import WORKER_PRELOAD
    from dsdesk.jobs import process

    process.warm_up(wait=True, preload=WORKER_PRELOAD)


@pytest.fixture(autouse=True)
def _ui_isolation(tmp_path, monkeypatch):
    """Offscreen, config and QSettings in tmp_path; fail when a window outlives the test."""
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    monkeypatch.setenv("DSDESK_CONFIG_DIR", str(tmp_path / "ui-config"))
    monkeypatch.setenv("DSDESK_DATA_DIR", str(tmp_path / "ui-data"))
    yield
    app = QApplication.instance()
    if app is not None:
        for _ in range(3):
            app.processEvents()
        left = [w for w in app.topLevelWidgets() if w.isVisible()]
        for w in left:
            w.close()
        assert not left, f"windows outlived the test: {[type(w).__name__ + ':' + w.windowTitle() for w in left]}"


@pytest.fixture
def demo_catalog(tmp_path):
    """A catalog with the demo project (real JPEGs in folders, annotations, two datasets)."""
    import dsdesk
    from dsdesk.demo import build_demo

    cat = dsdesk.open_catalog(tmp_path / "catalog.sqlite")
    build_demo(cat, n_images=24)
    yield cat
    cat.close()


def wait_idle(qtbot, win, timeout=20000):
    """Wait until the window has no task, no job and no grid loading under way."""
    qtbot.waitUntil(lambda: not win.tasks.busy and win.jobs.running_count == 0 and not win.grid.model.loading,
                    timeout=timeout)


@pytest.fixture
def make_window(qtbot):
    """Factory of main windows; each is shut down after the test and its workers must stop."""
    from dsdesk.ui.main_window import MainWindow

    made = []

    def make(cat, resize: bool = True):
        win = MainWindow(cat)
        qtbot.addWidget(win)
        if resize:
            win.resize(1200, 800)
        win.show()
        made.append(win)
        qtbot.waitUntil(lambda: win.current_dataset_id is not None, timeout=20000)
        wait_idle(qtbot, win)
        return win

    yield make
    for win in made:
        win.close()  # saves state and shuts the pools down
        assert win.shutdown(), "a worker pool did not stop in time"
        assert win.grid.model.pool.activeThreadCount() == 0
        assert not win.grid.loader.processes.alive and not win.grid.loader.processes.pids


@pytest.fixture
def window(make_window, demo_catalog):
    """The main window on the demo catalog, idle, the 'cars' dataset selected."""
    return make_window(demo_catalog)
