"""The datasets page inside the main window: keys and wiring (uses tests/ui's window fixture)."""

from __future__ import annotations

from PySide6.QtCore import Qt


def test_f5_and_double_click_inside_the_main_window(qtbot, window):
    page = window.datasets_page
    window.show_page("datasets")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.loading, timeout=20000)
    loads = []
    page.table_loaded.connect(lambda: loads.append(1))
    page.view.setFocus()
    page.view.setCurrentIndex(page.model.index(0, 0))
    # The window's Refresh and the page's F5 must not be two shortcuts on one key (Qt
    # would fire neither): F5 refreshes the page exactly once.
    qtbot.keyClick(page.view, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: len(loads) >= 1 and not page.loading, timeout=20000)
    qtbot.wait(200)
    assert len(loads) == 1
    ds_id = page.model.dataset_id(0)
    rect = page.view.visualRect(page.model.index(0, 0))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.current_dataset_id == ds_id, timeout=20000)
