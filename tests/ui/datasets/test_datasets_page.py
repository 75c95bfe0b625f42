"""The datasets page, driven like a user would (pytest-qt, offscreen, real SQLite catalogs)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialogButtonBox

from dsdesk.api.catalog import Catalog
from dsdesk.ui.datasets.model import DATASET_ID_ROLE
from dsdesk.ui.datasets.page import DatasetsPage
from tests.ui.datasets.conftest import reload


def column_texts(page: DatasetsPage, name: str) -> list[str]:
    m = page.model
    c = m.column_index(name)
    return [m.index(r, c).data() for r in range(m.rowCount())]


def names(page: DatasetsPage) -> list[str]:
    return column_texts(page, "name")


def header_visual_names(page: DatasetsPage) -> list[str]:
    return [e["name"] for e in page.current_layout() if e["visible"]]


def test_page_lists_the_datasets_with_cached_counts(page):
    assert names(page) == ["bikes", "cars", "empty", "people", "trucks"]
    assert column_texts(page, "items") == ["40", "1,200", "0", "5,000", "3"]
    assert column_texts(page, "annotated_percent")[:3] == ["100.0 %", "50.0 %", ""]
    assert page.count_label.text() == "5 datasets"
    hh = page.view.horizontalHeader()
    assert hh.isSectionHidden(page.model.column_index("source"))  # hidden in the default layout
    assert not hh.isSectionHidden(page.model.column_index("items"))


def test_add_a_custom_column_through_the_dialog_and_see_its_values(qtbot, page, project):
    dlg = page.open_column_settings()
    qtbot.waitExposed(dlg)
    dlg.add_column()
    dlg.name_edit.selectAll()
    qtbot.keyClicks(dlg.name_edit, "owner")
    dlg.label_edit.selectAll()
    qtbot.keyClicks(dlg.label_edit, "Owner")
    dlg.field_edit.selectAll()
    qtbot.keyClicks(dlg.field_edit, "user.owner")
    assert dlg.error is None
    with qtbot.waitSignals([dlg.accepted, page.table_loaded], timeout=10000):
        qtbot.mouseClick(dlg.button_box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    col = project.columns.get("owner")
    assert (col.custom, col.label, col.field) == (True, "Owner", "user.owner")
    # The page reloaded on OK: the column shows each dataset's value.
    assert page.model.column_index("owner") >= 0
    assert column_texts(page, "owner") == ["ml-ops", "vision-team", "", "vision-team", ""]
    assert page.model.headerData(page.model.column_index("owner"), Qt.Orientation.Horizontal) == "Owner"
    assert "owner" in header_visual_names(page)


def test_the_dialog_edits_a_copy_cancel_changes_nothing(qtbot, page, project):
    before = project.columns.list()
    dlg = page.open_column_settings()
    dlg.add_column()
    dlg.tree.topLevelItem(1).setCheckState(0, Qt.CheckState.Unchecked)
    dlg.move_current(-1)
    qtbot.mouseClick(dlg.button_box.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert project.columns.list() == before


def test_the_field_completes_from_the_datasets_metadata(qtbot, page):
    dlg = page.open_column_settings()
    model = dlg.field_edit.completer().model()
    suggestions = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert {"user.owner", "user.stats.f1", "user.wiki"} <= set(suggestions)
    # Add prefills an unused leaf field and a name made from it.
    dlg.add_column()
    assert dlg.field_edit.text() in {"user.owner", "user.stats.f1", "user.wiki"}
    assert dlg.error is None
    dlg.reject()


def test_invalid_names_are_refused_in_the_dialog_with_a_message(qtbot, page, project):
    project.columns.add("owner", "Owner", "user.owner")
    reload(qtbot, page)
    before = project.columns.list()
    dlg = page.open_column_settings()
    qtbot.waitExposed(dlg)
    ok = dlg.button_box.button(QDialogButtonBox.StandardButton.Ok)

    dlg.add_column()
    dlg.name_edit.selectAll()
    qtbot.keyClicks(dlg.name_edit, "owner")  # taken by the existing custom column
    assert dlg.message.isVisible() and "already exists" in dlg.message.text()
    assert not ok.isEnabled()
    dlg.accept()  # even forced, OK refuses
    assert dlg.isVisible() and project.columns.list() == before

    dlg.name_edit.selectAll()
    qtbot.keyClick(dlg.name_edit, Qt.Key.Key_Backspace)  # empty
    assert dlg.message.isVisible() and "needs a name" in dlg.message.text()
    assert not ok.isEnabled()

    qtbot.keyClicks(dlg.name_edit, "items")  # a standard column's name
    assert "standard column" in dlg.message.text() and not ok.isEnabled()

    dlg.name_edit.selectAll()
    qtbot.keyClicks(dlg.name_edit, "f1")
    dlg.field_edit.selectAll()
    qtbot.keyClicks(dlg.field_edit, "owner")  # not a metadata path
    assert "field" in dlg.message.text() and not ok.isEnabled()
    dlg.field_edit.selectAll()
    qtbot.keyClicks(dlg.field_edit, "user.stats.f1")
    assert dlg.message.isHidden() and ok.isEnabled()
    with qtbot.waitSignals([dlg.accepted, page.table_loaded], timeout=10000):
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert project.columns.get("f1").field == "user.stats.f1"
    assert page.model.column_index("f1") >= 0


def test_hide_reorder_resize_then_restart_finds_the_same_layout(qtbot, page, project, catalog_path):
    hh = page.view.horizontalHeader()
    m = page.model
    page.set_column_visible("kind", False)
    hh.moveSection(hh.visualIndex(m.column_index("size")), 0)  # drag "Size" to the front
    hh.resizeSection(m.column_index("name"), 333)
    qtbot.waitUntil(lambda: project.columns.get("name").width == 333, timeout=20000)  # saved after a pause
    layout = page.current_layout()
    assert layout[0]["name"] == "size"
    assert not next(e for e in layout if e["name"] == "kind")["visible"]
    reload(qtbot, page)  # the same page reloaded from the catalog keeps it too
    assert page.current_layout() == layout
    assert not page._save_timer.isActive()  # and reloading wrote nothing back

    # "Restart": a new catalog connection and a new page.
    cat2 = Catalog.open(catalog_path)
    try:
        page2 = DatasetsPage(cat2)
        qtbot.addWidget(page2)
        page2.resize(1400, 500)
        with qtbot.waitSignal(page2.table_loaded, timeout=10000):
            page2.set_project(project.id)
        page2.show()
        assert page2.current_layout() == layout
        hh2 = page2.view.horizontalHeader()
        assert hh2.sectionSize(page2.model.column_index("name")) == 333
        assert hh2.isSectionHidden(page2.model.column_index("kind"))
        assert hh2.logicalIndex(0) == page2.model.column_index("size")
    finally:
        page2.close()
        cat2.close()


def _open_page(qtbot, catalog_path, project_id):
    """A new catalog connection and a new page, as after a restart."""
    cat2 = Catalog.open(catalog_path)
    page2 = DatasetsPage(cat2)
    qtbot.addWidget(page2)
    with qtbot.waitSignal(page2.table_loaded, timeout=20000):
        page2.set_project(project_id)
    return cat2, page2


def test_the_sort_is_remembered_per_project_across_restarts(qtbot, page, project, cat, catalog_path):
    page._on_header_section_clicked(page.model.column_index("items"))  # numbers: largest first
    assert names(page) == ["people", "cars", "bikes", "trucks", "empty"]
    other = cat.projects.create("other")
    other.datasets.create("zeta")
    other.datasets.create("alpha")

    cat2, page2 = _open_page(qtbot, catalog_path, project.id)
    try:
        assert page2.model.sort_state == ("items", False)
        assert names(page2) == ["people", "cars", "bikes", "trucks", "empty"]
        hh = page2.view.horizontalHeader()
        assert hh.sortIndicatorSection() == page2.model.column_index("items")
        assert hh.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
        # Another project has its own (none yet): by name.
        with qtbot.waitSignal(page2.table_loaded, timeout=20000):
            page2.set_project(other.id)
        assert page2.model.sort_state is None and names(page2) == ["alpha", "zeta"]
        # A sorted column that was deleted meanwhile: unsorted, no error.
        page2._on_header_section_clicked(page2.model.column_index("updated"))
    finally:
        page2.close()
        cat2.close()
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    reload(qtbot, page)
    page._on_header_section_clicked(page.model.column_index("f1"))
    project.columns.remove("f1")
    cat3, page3 = _open_page(qtbot, catalog_path, project.id)
    try:
        assert page3.model.sort_state is None
        assert page3.view.horizontalHeader().sortIndicatorSection() == -1
    finally:
        page3.close()
        cat3.close()


def test_restore_default_layout(qtbot, page, project):
    page.set_column_visible("items", False)
    hh = page.view.horizontalHeader()
    hh.moveSection(hh.visualIndex(page.model.column_index("updated")), 0)
    page.save_layout()
    page.restore_default_layout()
    assert header_visual_names(page)[:3] == ["name", "kind", "items"]
    assert project.columns.get("items").visible


def test_header_menu_shows_and_hides_columns(qtbot, page, project):
    menu = page.header_menu()
    acts = {a.data(): a for a in menu.actions() if a.data()}
    assert set(acts) >= {"name", "items", "source"}
    assert acts["items"].isChecked() and not acts["source"].isChecked()
    assert any(a.text() == "Column settings…" for a in menu.actions())
    assert any(a.text() == "Restore default layout" for a in menu.actions())
    acts["source"].setChecked(True)
    acts["items"].setChecked(False)
    hh = page.view.horizontalHeader()
    assert not hh.isSectionHidden(page.model.column_index("source"))
    assert hh.isSectionHidden(page.model.column_index("items"))
    assert project.columns.get("source").visible and not project.columns.get("items").visible
    menu.deleteLater()


def test_sort_a_numeric_custom_field_with_missing_values_last(qtbot, page, project):
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    reload(qtbot, page)
    hh = page.view.horizontalHeader()
    col = page.model.column_index("f1")
    x = hh.sectionViewportPosition(col) + 5
    qtbot.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, hh.height() // 2))
    # Numbers first click: largest first (10 > 0.91 > 0.5, not "0.5" < "0.91" < "10" as text).
    assert names(page) == ["trucks", "cars", "bikes", "empty", "people"]
    assert hh.sortIndicatorSection() == col and hh.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    qtbot.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, hh.height() // 2))
    assert names(page) == ["bikes", "cars", "trucks", "empty", "people"]  # missing still last


def test_a_column_that_is_not_sortable_does_not_sort(qtbot, page, project):
    project.columns.add("owner", "Owner", "user.owner", sortable=False)
    reload(qtbot, page)
    before = names(page)
    page._on_header_section_clicked(page.model.column_index("owner"))
    assert names(page) == before and page.model.sort_state is None


def test_search_hits_a_custom_column_value(qtbot, page, project):
    project.columns.add("owner", "Owner", "user.owner")
    reload(qtbot, page)
    qtbot.keyClicks(page.search, "ml-op")
    qtbot.waitUntil(lambda: names(page) == ["bikes"], timeout=20000)
    assert page.count_label.text() == "1 of 5 datasets"
    page.apply_search_now("")
    assert len(names(page)) == 5


def test_search_accepts_the_query_syntax(qtbot, page, project):
    page.apply_search_now("owner:vision-team items>1000")
    assert names(page) == ["cars", "people"]
    page.apply_search_now("owner:vision-team items>2000")
    assert names(page) == ["people"]
    page.apply_search_now('owner:"vision')  # malformed: searched as words, and said so
    assert page.search.property("error") is True
    assert "Query not understood" in page.search.toolTip()


def test_search_and_sort_keep_the_selection(qtbot, page):
    page.select_datasets([page.model.dataset_id(1)])  # cars
    cars = page.model.dataset_id(1)
    page.apply_search_now("c")  # cars, trucks (and more by recipe text)
    assert page.selected_dataset_ids() == [cars]
    page._on_header_section_clicked(page.model.column_index("items"))
    assert page.selected_dataset_ids() == [cars]


def test_a_link_column_opens_the_url(qtbot, page, project, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString()) or True))
    project.columns.add("wiki", "Wiki", "user.wiki", link=True)
    project.columns.save_layout(["name", "wiki", "items"])
    reload(qtbot, page)
    col = page.model.column_index("wiki")
    row = names(page).index("cars")
    idx = page.model.index(row, col)
    rect = page.view.visualRect(idx)
    assert rect.isValid()
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened == ["https://wiki.example.org/cars"]
    # A cell without a URL opens nothing.
    empty = page.model.index(names(page).index("empty"), col)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=page.view.visualRect(empty).center())
    assert opened == ["https://wiki.example.org/cars"]
    # Pressing on one cell and releasing on another is not a click on a link.
    bikes = page.model.index(names(page).index("bikes"), col)
    qtbot.mousePress(page.view.viewport(), Qt.MouseButton.LeftButton, pos=page.view.visualRect(empty).center())
    qtbot.mouseRelease(page.view.viewport(), Qt.MouseButton.LeftButton, pos=page.view.visualRect(bikes).center())
    assert opened == ["https://wiki.example.org/cars"]


def test_a_field_path_that_does_not_exist_shows_empty_cells(qtbot, page, project):
    project.columns.add("ghost", "Ghost", "user.no.such.path", value_type="number")
    reload(qtbot, page)
    assert column_texts(page, "ghost") == [""] * 5
    page._on_header_section_clicked(page.model.column_index("ghost"))  # sorting it is fine too
    assert len(names(page)) == 5


def test_refresh_keeps_selection_and_scroll(qtbot, cat, project):
    for i in range(80):
        project.datasets.create(f"extra-{i:03d}")
    page = DatasetsPage(cat)
    qtbot.addWidget(page)
    page.resize(900, 300)
    page.set_project(project.id, wait=True)
    page.show()
    qtbot.waitExposed(page)
    target = page.model.dataset_id(40)
    page.select_datasets([target], target)
    page.view.verticalScrollBar().setValue(25)
    project.datasets.create("aaa-new")  # sorts first: every row moves down by one
    page.view.setFocus()
    with qtbot.waitSignal(page.table_loaded, timeout=10000):
        qtbot.keyClick(page.view, Qt.Key.Key_F5)
    assert names(page)[0] == "aaa-new"
    assert page.selected_dataset_ids() == [target]
    assert page.model.dataset_id(page.view.currentIndex().row()) == target
    assert page.view.verticalScrollBar().value() == 25
    assert page.count_label.text() == "86 datasets"


def test_double_click_asks_to_open_the_dataset(qtbot, page):
    row = names(page).index("cars")
    rect = page.view.visualRect(page.model.index(row, 0))
    # QTest's double click carries no press before it, which item views need to know the
    # pressed index: click first, as a real double click does.
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(page.open_dataset_requested) as sig:
        qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == [page.model.dataset_id(row)]
    with qtbot.waitSignal(page.open_dataset_requested) as sig:
        qtbot.keyClick(page.view, Qt.Key.Key_Return)  # Enter opens the current row too
    assert sig.args == [page.model.dataset_id(row)]


def test_row_menu_emits_dataset_actions(qtbot, page):
    ids = [page.model.dataset_id(0), page.model.dataset_id(1)]
    menu = page.row_menu(ids)
    acts = {a.data(): a for a in menu.actions() if a.data()}
    assert set(acts) == {"clone", "merge", "snapshot", "rollback", "diff", "import_annotations", "export",
                         "edit_recipe", "switch_recipe", "sync", "sync_restore", "readonly", "delete", "properties"}
    assert acts["merge"].isEnabled() and not acts["clone"].isEnabled()  # two selected
    assert acts["readonly"].text() == "Set read-only" and not acts["readonly"].isChecked()
    with qtbot.waitSignal(page.dataset_action_requested) as sig:
        acts["merge"].trigger()
    assert sig.args == ["merge", ids]
    menu.deleteLater()


def test_properties_without_a_listener_opens_the_dialog(qtbot, page, monkeypatch):
    opened = []
    monkeypatch.setattr(page, "open_properties", lambda i: opened.append(i))
    ds_id = page.model.dataset_id(0)
    menu = page.row_menu([ds_id])
    next(a for a in menu.actions() if a.data() == "properties").trigger()
    assert opened == [ds_id]
    # With the main window listening, the page leaves it to the main window.
    page.dataset_action_requested.connect(lambda *a: None)
    next(a for a in menu.actions() if a.data() == "properties").trigger()
    assert opened == [ds_id]
    menu.deleteLater()


def test_rows_carry_their_dataset_ids(page, project):
    ids = [page.model.index(r, 0).data(DATASET_ID_ROLE) for r in range(page.model.rowCount())]
    assert ids == [project.datasets.get(n).id for n in names(page)]


def test_switching_projects_never_shows_the_old_rows(qtbot, page, cat):
    from tests.ui.datasets.conftest import fill_project

    other = fill_project(cat, "other", {"solo": ({}, 1, 0)})
    page.set_project(other.id)
    assert page.model.rowCount() == 0 and page.loading and page.count_label.text() == "Loading…"
    qtbot.waitUntil(lambda: not page.loading, timeout=10000)
    assert names(page) == ["solo"]


def test_a_column_that_is_not_resizable_has_a_fixed_width(qtbot, page, project):
    from PySide6.QtWidgets import QHeaderView

    project.columns.add("owner", "Owner", "user.owner", resizable=False)
    reload(qtbot, page)
    hh = page.view.horizontalHeader()
    assert hh.sectionResizeMode(page.model.column_index("owner")) == QHeaderView.ResizeMode.Fixed
    assert hh.sectionResizeMode(page.model.column_index("name")) == QHeaderView.ResizeMode.Interactive


def test_typed_custom_columns_display(qtbot, page, project):
    ds = project.datasets.get("cars")
    ds.metadata["user"].update({"ok": True, "tags": ["city", "night"], "due": "2025-03-01"})
    ds.update()
    project.columns.add("ok", "OK", "user.ok", value_type="bool")
    project.columns.add("tags", "Tags", "user.tags", value_type="list")
    project.columns.add("due", "Due", "user.due", value_type="date")
    reload(qtbot, page)
    row = names(page).index("cars")
    m = page.model
    assert m.index(row, m.column_index("ok")).data() == "✓"
    assert m.index(row, m.column_index("tags")).data() == "city, night"
    assert m.index(row, m.column_index("due")).data() == "2025-03-01"
    page.apply_search_now("night")
    assert names(page) == ["cars"]


def test_the_dialog_runs_by_hand(tmp_path, cat, project):
    import subprocess
    import sys

    shot = tmp_path / "dialog.png"
    cat.close()  # the child process opens the catalog itself
    r = subprocess.run([sys.executable, "-m", "dsdesk.ui.datasets.column_settings", "--catalog",
                        str(tmp_path / "catalog.sqlite"), "--screenshot", str(shot)],
                       capture_output=True, text=True, timeout=120, env={**__import__("os").environ,
                                                                         "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    assert shot.stat().st_size > 10_000
    r = subprocess.run([sys.executable, "-m", "dsdesk.ui.datasets.column_settings", "--catalog",
                        str(tmp_path / "typo.sqlite")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "no catalog" in r.stderr
    assert not (tmp_path / "typo.sqlite").exists()


def test_ctrl_f_focuses_the_search_and_escape_clears_it(qtbot, page):
    page.view.setFocus()
    qtbot.keyClick(page.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search.hasFocus() or page.focusWidget() is page.search
    qtbot.keyClicks(page.search, "cars")
    page.apply_search_now(page.search.text())
    qtbot.keyClick(page.search, Qt.Key.Key_Escape)
    assert page.search.text() == ""


def test_an_empty_table_says_why(qtbot, page, cat):
    page.apply_search_now("zzz-nothing")
    assert page.empty_label.isVisible() and "No dataset matches" in page.empty_label.text()
    page.apply_search_now("")
    assert not page.empty_label.isVisible()
    empty = cat.projects.create("empty-project")
    page.set_project(empty.id, wait=True)
    assert page.empty_label.isVisible() and "No datasets in this project yet" in page.empty_label.text()


def test_order_and_visibility_from_the_dialog_are_applied(qtbot, page, project):
    dlg = page.open_column_settings()
    tree = dlg.tree
    row = next(i for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(1) == "items")
    tree.setCurrentItem(tree.topLevelItem(row))
    dlg.move_current(-1)
    dlg.move_current(-1)  # now first
    src = next(i for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(1) == "source")
    tree.topLevelItem(src).setCheckState(0, Qt.CheckState.Checked)
    with qtbot.waitSignals([dlg.accepted, page.table_loaded], timeout=10000):
        qtbot.mouseClick(dlg.button_box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert header_visual_names(page)[0] == "items"
    assert "source" in header_visual_names(page)
    assert project.columns.list()[0].name == "items"


def test_f2_edits_a_custom_cell_with_its_type(qtbot, page, project, monkeypatch):
    from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a, **k: warnings.append(a[2])))
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    reload(qtbot, page)
    m = page.model
    row = names(page).index("people")  # has no f1 yet
    idx = m.index(row, m.column_index("f1"))
    assert m.flags(idx) & Qt.ItemFlag.ItemIsEditable
    assert not m.flags(m.index(row, m.column_index("items"))) & Qt.ItemFlag.ItemIsEditable
    page.view.setFocus()
    page.view.setCurrentIndex(idx)
    qtbot.keyClick(page.view, Qt.Key.Key_F2)
    editor = QApplication.focusWidget()
    assert isinstance(editor, QLineEdit)
    qtbot.keyClicks(editor, "0.42")
    with qtbot.waitSignal(m.dataset_edited):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert project.datasets.get("people").metadata["user"]["stats"] == {"f1": 0.42}
    assert idx.data() == "0.42"
    # A value of the wrong type is refused with a message and nothing is written.
    assert not m.setData(idx, "high")
    assert warnings and "not a number" in warnings[-1]
    assert project.datasets.get("people").metadata["user"]["stats"] == {"f1": 0.42}
    # Someone else edits meanwhile: the next edit here is refused, not lost.
    other = project.datasets.get("people")
    other.metadata["user"]["stats"]["f1"] = 0.1
    other.update()
    assert not m.setData(idx, "0.5")
    assert "changed by someone else" in warnings[-1]
