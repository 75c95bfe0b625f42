"""The dataset properties dialog: user metadata editable, system area read-only."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from dsdesk.ui.dialogs.properties import DatasetPropertiesDialog
from tests.ui.datasets.conftest import reload


def test_edit_user_metadata_and_see_it_in_the_table(qtbot, page, project):
    project.columns.add("owner", "Owner", "user.owner")
    reload(qtbot, page)
    cars = project.datasets.get("cars")
    dlg = page.open_properties(cars.id)
    qtbot.waitExposed(dlg)
    assert dlg.system_view.isReadOnly() and not dlg.user_edit.isReadOnly()
    user = json.loads(dlg.user_edit.toPlainText())
    assert user["owner"] == "vision-team"
    user["owner"] = "perception"
    dlg.user_edit.setPlainText(json.dumps(user))
    with qtbot.waitSignals([dlg.accepted, page.table_loaded], timeout=10000):
        dlg.accept()
    assert project.datasets.get("cars").metadata["user"]["owner"] == "perception"
    col = page.model.column_index("owner")
    row = [page.model.index(r, 0).data() for r in range(page.model.rowCount())].index("cars")
    assert page.model.index(row, col).data() == "perception"  # the page refreshed


def test_invalid_json_is_refused_with_a_message(qtbot, cat, project):
    dlg = DatasetPropertiesDialog.for_dataset(cat, project.datasets.get("bikes").id)
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.user_edit.setPlainText('{"owner": ')
    dlg.accept()
    assert dlg.isVisible() and "not valid JSON" in dlg.message.text()
    dlg.user_edit.setPlainText("[1, 2]")
    dlg.accept()
    assert dlg.isVisible() and "JSON object" in dlg.message.text()
    assert project.datasets.get("bikes").metadata["user"]["owner"] == "ml-ops"


def test_a_read_only_dataset_cannot_be_edited(qtbot, cat, project):
    ds = project.datasets.get("people")
    ds.set_readonly(True)
    dlg = DatasetPropertiesDialog.for_dataset(cat, ds.id)
    qtbot.addWidget(dlg)
    assert dlg.user_edit.isReadOnly()
    qtbot.keyClicks(dlg.user_edit, "x")
    assert json.loads(dlg.user_edit.toPlainText()) == {"owner": "vision-team"}
    dlg.close()


def test_a_stale_edit_is_refused(qtbot, cat, project, monkeypatch):
    from dsdesk.ui.conflict_dialog import ConflictDialog

    # The same key changed by both opens the conflict dialog (modal): the user goes back.
    monkeypatch.setattr(ConflictDialog, "ask", classmethod(lambda cls, parent, error: None))
    dlg = DatasetPropertiesDialog.for_dataset(cat, project.datasets.get("trucks").id)
    qtbot.addWidget(dlg)
    dlg.show()
    other = project.datasets.get("trucks")
    other.metadata["user"]["owner"] = "someone-else"
    other.update()
    dlg.user_edit.setPlainText('{"owner": "me"}')
    dlg.accept()
    assert dlg.isVisible() and "changed by someone else" in dlg.message.text()
    assert project.datasets.get("trucks").metadata["user"]["owner"] == "someone-else"
    qtbot.mouseClick(dlg.button_box.buttons()[-1], Qt.MouseButton.LeftButton)


def test_one_dataset_shows_one_size_in_the_table_and_in_the_properties_dialog(qtbot, window, monkeypatch):
    """The datasets table and the window's Properties dialog format a dataset's size with
    the same formatter (decimal units): they once disagreed (1.4 MB against 1.5 MB)."""
    from PySide6.QtWidgets import QDialog

    page = window.datasets_page
    window.show_page("datasets")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0 and not page.loading, timeout=20000)
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    assert ds.bytes_total >= 1000  # large enough for a unit other than bytes
    row = page.model.row_of_dataset(ds.id)
    col = page.model.column_index("size")
    assert row >= 0 and col >= 0
    in_table = page.model.index(row, col).data()

    shown = []

    def fake_exec(dlg):
        shown.append({lab.text() for lab in dlg.findChildren(QLabel)})
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(DatasetPropertiesDialog, "exec", fake_exec)
    window.dataset_actions["properties"].trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert in_table and in_table in shown[0]
