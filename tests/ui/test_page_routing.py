"""Window-wide shortcuts act on the page the user sees (datasets table or item grid)."""

from __future__ import annotations

from dsdesk.ui.dialogs import common as dialogs
from tests.ui.conftest import wait_idle


def test_delete_key_on_the_datasets_page_trashes_datasets_not_hidden_items(qtbot, window, monkeypatch):
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **kw: asked.append(a[2]) or True)
    cars = window.cat.projects.get("demo").datasets.get(dataset_name="cars")
    window.grid.view.selectAll()  # items selected in the hidden grid must stay untouched
    window.show_page("datasets")
    page = window.datasets_page
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10000)
    monkeypatch.setattr(page, "selected_dataset_ids", lambda: [cars.id])
    window.act_delete_items.trigger()
    wait_idle(qtbot, window)
    assert asked and "dataset" in asked[0].lower()
    trashed = [d.id for d in window.cat.projects.get("demo").datasets.trash()]
    assert trashed == [cars.id]
    restored = window.cat.projects.get("demo").datasets.restore(cars.id)
    assert restored.items_count == 24


def test_find_focuses_the_search_box_of_the_page_on_show(qtbot, window):
    window.show()
    window.show_page("datasets")
    window.act_focus_search.trigger()
    qtbot.waitUntil(lambda: window.datasets_page.search.hasFocus(), timeout=20000)
    window.show_page("browser")
    window.act_focus_search.trigger()
    qtbot.waitUntil(lambda: window.grid.search.hasFocus(), timeout=20000)


def test_column_settings_reachable_from_the_menu(qtbot, window, monkeypatch):
    opened = []
    monkeypatch.setattr(window.datasets_page, "open_column_settings", lambda: opened.append(True))
    window.act_columns.trigger()
    assert opened == [True] and window.pages.currentWidget() is window.datasets_page
