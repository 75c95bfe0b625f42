"""The viewer's editing: draw a box, a polygon and a point, add a class tag, select and
relabel, delete, undo and redo; every step is checked in what the API returns."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence

from dsdesk.ui.viewer import ItemViewerDialog, load_image
from tests.ui.conftest import wait_idle


@pytest.fixture
def one_image(tmp_path, catalog):
    """A dataset with labels car (red) and sign (blue) and one 400x200 image, no annotations."""
    ds = catalog.projects.create("p").datasets.create("street", labels=[{"tag": "car", "color": "#ff0000"},
                                                                        {"tag": "sign", "color": "#0000ff"}])
    path = tmp_path / "img" / "street.png"
    path.parent.mkdir()
    Image.new("RGB", (400, 200), (120, 120, 120)).save(path)
    return ds, ds.items.upload(str(path))


def open_viewer(qtbot, catalog, ds, item) -> ItemViewerDialog:
    dlg = ItemViewerDialog()
    qtbot.addWidget(dlg)
    dlg.resize(900, 600)
    dlg.show()
    qtbot.waitExposed(dlg)
    dlg.set_loaded(load_image(catalog, ds.id, item.id))
    return dlg


def at(dlg, x: float, y: float) -> QPoint:
    """The canvas position of image pixel (x, y)."""
    return dlg.canvas.to_widget(QPointF(x, y)).toPoint()


def saved(qtbot, dlg) -> None:
    qtbot.waitUntil(lambda: not dlg.doc.busy, timeout=20000)


def listed(item) -> list[tuple]:
    return [(a.type, a.label) for a in item.annotations.list()]


def draw_box(qtbot, dlg, x0, y0, x1, y1) -> None:
    dlg.set_tool("box")
    qtbot.mousePress(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, x0, y0))
    qtbot.mouseMove(dlg.canvas, at(dlg, (x0 + x1) / 2, (y0 + y1) / 2))
    qtbot.mouseMove(dlg.canvas, at(dlg, x1, y1))
    qtbot.mouseRelease(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, x1, y1))


def test_draw_a_box_then_undo_and_redo(qtbot, catalog, one_image):
    ds, item = one_image
    dlg = open_viewer(qtbot, catalog, ds, item)
    assert dlg.current_label == "car"
    draw_box(qtbot, dlg, 40, 20, 200, 120)
    saved(qtbot, dlg)
    (box,) = item.annotations.list()
    assert (box.type, box.label) == ("box", "car")
    (p0, p1) = box.coordinates[:2]
    assert abs(p0["x"] - 40) <= 2 and abs(p0["y"] - 20) <= 2 and abs(p1["x"] - 200) <= 2 and abs(p1["y"] - 120) <= 2
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert item.annotations.list() == []
    dlg.act_redo.trigger()
    saved(qtbot, dlg)
    assert listed(item) == [("box", "car")]
    # Undo again after the redo: the box's new id is the one deleted.
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert item.annotations.list() == []


def test_draw_a_polygon_and_a_point(qtbot, catalog, one_image):
    ds, item = one_image
    dlg = open_viewer(qtbot, catalog, ds, item)
    dlg.set_tool("polygon")
    for x, y in ((50, 50), (150, 40), (120, 150)):
        qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, x, y))
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Return)
    saved(qtbot, dlg)
    (poly,) = item.annotations.list()
    assert poly.type == "segment" and len(poly.coordinates) == 1 and len(poly.coordinates[0]) == 3
    assert abs(poly.coordinates[0][1]["x"] - 150) <= 2
    # A second polygon closed by clicking its first corner.
    for x, y in ((250, 50), (350, 50), (300, 150), (250, 50)):
        qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, x, y))
    dlg.set_tool("point")
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 300, 180))
    saved(qtbot, dlg)
    anns = item.annotations.list()
    assert [a.type for a in anns] == ["segment", "segment", "point"]
    assert len(anns[1].coordinates[0]) == 3
    assert abs(anns[2].coordinates["x"] - 300) <= 2 and abs(anns[2].coordinates["y"] - 180) <= 2
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert [a.type for a in item.annotations.list()] == ["segment", "segment"]


def test_select_relabel_delete_with_undo(qtbot, catalog, one_image):
    ds, item = one_image
    item.annotations.upload([{"type": "box", "label": "car", "coordinates": [{"x": 20, "y": 20}, {"x": 380, "y": 180}]},
                             {"type": "point", "label": "car", "coordinates": {"x": 100, "y": 100}}])
    dlg = open_viewer(qtbot, catalog, ds, item)
    assert dlg.tool_actions["select"].isChecked()
    assert not dlg.act_delete.isEnabled()
    # A click on the point picks the point, not the box around it.
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 100, 100))
    assert dlg.selected_record().type == "point"
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 300, 60))
    assert dlg.selected_record().type == "box"
    assert dlg.act_delete.isEnabled()
    i = dlg.label_box.findData("sign")
    dlg.label_box.setCurrentIndex(i)
    dlg.label_box.activated.emit(i)
    saved(qtbot, dlg)
    assert listed(item) == [("box", "sign"), ("point", "car")]
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert listed(item) == [("box", "car"), ("point", "car")]
    dlg.act_redo.trigger()
    saved(qtbot, dlg)
    assert listed(item) == [("box", "sign"), ("point", "car")]
    # Del deletes the selection; undo brings it back where it was, and its label.
    assert QKeySequence(QKeySequence.StandardKey.Delete) in dlg.act_delete.shortcuts()
    dlg.act_delete.trigger()
    saved(qtbot, dlg)
    assert listed(item) == [("point", "car")]
    assert dlg.selected_record() is None
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    # The catalog lists by id (the box came back under a new one); the viewer keeps its place.
    assert sorted(listed(item)) == [("box", "sign"), ("point", "car")]
    assert [r.label for r in dlg.doc.records] == ["sign", "car"]
    # The relabel before the delete still undoes on the re-uploaded box (its new id).
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert sorted(listed(item)) == [("box", "car"), ("point", "car")]


def test_keyboard_delete_undo_redo(qtbot, catalog, one_image):
    ds, item = one_image
    item.annotations.upload([{"type": "box", "label": "car", "coordinates": [{"x": 20, "y": 20}, {"x": 200, "y": 180}]}])
    dlg = open_viewer(qtbot, catalog, ds, item)
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=5000)
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 100, 100))
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Delete)
    saved(qtbot, dlg)
    assert item.annotations.list() == []
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    saved(qtbot, dlg)
    assert listed(item) == [("box", "car")]
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    saved(qtbot, dlg)
    assert item.annotations.list() == []


def test_class_tag(qtbot, catalog, one_image):
    ds, item = one_image
    dlg = open_viewer(qtbot, catalog, ds, item)
    i = dlg.label_box.findData("sign")
    dlg.label_box.setCurrentIndex(i)
    dlg.label_box.activated.emit(i)
    dlg.act_class.trigger()
    saved(qtbot, dlg)
    assert listed(item) == [("class", "sign")]
    # The tag in the corner can be clicked to select it.
    (key, rect), = dlg.canvas.painter_for().class_tag_rects(dlg.canvas.fontMetrics(),
                                                            [s for _r, s in dlg.doc.shapes()])
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    assert dlg.canvas.selected_key == key
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert item.annotations.list() == []


def test_read_only_dataset_shows_but_refuses(qtbot, catalog, one_image):
    ds, item = one_image
    item.annotations.upload([{"type": "box", "label": "car", "coordinates": [{"x": 20, "y": 20}, {"x": 200, "y": 180}]}])
    ds.set_readonly(True)
    dlg = open_viewer(qtbot, catalog, ds, item)
    assert len(dlg.doc.shapes()) == 1  # shown
    assert not dlg.banner.isHidden() and "read-only" in dlg.banner.text()
    for tool in ("box", "polygon", "point"):
        assert not dlg.tool_actions[tool].isEnabled()
        assert "read-only" in dlg.tool_actions[tool].toolTip()
    assert not dlg.act_class.isEnabled() and not dlg.act_undo.isEnabled()
    assert not dlg.label_box.isEnabled() and "read-only" in dlg.label_box.toolTip()
    dlg.set_tool("box")
    assert dlg.canvas.tool == "select"
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 100, 100))
    assert dlg.selected_record() is not None  # selecting still works
    assert not dlg.act_delete.isEnabled() and "read-only" in dlg.act_delete.toolTip()
    dlg.delete_selected()
    dlg.add_class_tag()
    assert not dlg.doc.busy
    assert listed(item) == [("box", "car")]


def test_refused_save_is_shown_and_the_list_read_again(qtbot, catalog, one_image):
    ds, item = one_image
    dlg = open_viewer(qtbot, catalog, ds, item)
    ds.set_readonly(True)  # behind the viewer's back: the API refuses the save
    errors = []
    dlg.error_shown.connect(errors.append)
    draw_box(qtbot, dlg, 40, 20, 200, 120)
    saved(qtbot, dlg)
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert "read-only" in errors[0] and "read-only" in dlg.banner.text()
    qtbot.waitUntil(lambda: dlg.doc.records == [], timeout=20000)
    assert item.annotations.list() == []
    assert dlg.undo_stack.count() == 0


def test_viewer_edit_refreshes_grid_inspector_and_legend(qtbot, window):
    window.grid.set_overlays_visible(True)
    window.grid.view.setCurrentIndex(window.grid.model.index(0))
    qtbot.waitUntil(lambda: window.inspector.details is not None, timeout=20000)
    qtbot.waitUntil(lambda: window.inspector.legend.counts != [], timeout=20000)
    before = {c.label: c.annotations for c in window.inspector.legend.counts}
    item_id = window.inspector.details.item.id
    n = len(window.inspector.details.annotations)
    dlg = window.inspection.open_item(item_id)
    qtbot.waitUntil(lambda: dlg.doc is not None, timeout=20000)
    i = dlg.label_box.findData("bike")
    dlg.label_box.setCurrentIndex(i)
    dlg.label_box.activated.emit(i)
    dlg.act_class.trigger()
    qtbot.waitUntil(lambda: len(window.inspector.details.annotations) == n + 1, timeout=20000)
    qtbot.waitUntil(lambda: {c.label: c.annotations for c in window.inspector.legend.counts}.get("bike")
                    == before.get("bike", 0) + 1, timeout=20000)
    assert window.inspector.tabs.tabText(1) == f"Annotations ({n + 1})"
    dlg.close()
    wait_idle(qtbot, window)


def test_double_click_in_the_inspector_opens_the_annotation(qtbot, window):
    window.grid.view.setCurrentIndex(window.grid.model.index(0))
    qtbot.waitUntil(lambda: window.inspector.details is not None, timeout=20000)
    lst = window.inspector.annotations
    assert lst.count() == len(window.inspector.details.annotations) > 0
    li = lst.item(lst.count() - 1)
    ann_id = li.data(Qt.ItemDataRole.UserRole)
    lst.itemDoubleClicked.emit(li)
    dlg = window.inspection.viewers[-1]
    qtbot.waitUntil(lambda: dlg.doc is not None, timeout=20000)
    assert dlg.selected_record() is not None and dlg.selected_record().id == ann_id
    dlg.close()
    wait_idle(qtbot, window)


def test_context_menu_relabels_and_deletes(qtbot, catalog, one_image):
    ds, item = one_image
    item.annotations.upload([{"type": "point", "label": "car", "coordinates": {"x": 100, "y": 100}}])
    dlg = open_viewer(qtbot, catalog, ds, item)
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 100, 100))
    menu = dlg.selection_menu()
    labels = next(a.menu() for a in menu.actions() if a.menu() is not None)
    checked = [a.text() for a in labels.actions() if a.isChecked()]
    assert checked == ["car"]
    next(a for a in labels.actions() if a.text() == "sign").trigger()
    saved(qtbot, dlg)
    assert listed(item) == [("point", "sign")]
    next(a for a in menu.actions() if a.text() == "Delete").trigger()
    saved(qtbot, dlg)
    assert item.annotations.list() == []


def test_backspace_takes_back_a_polygon_corner(qtbot, catalog, one_image):
    ds, item = one_image
    dlg = open_viewer(qtbot, catalog, ds, item)
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=5000)
    dlg.set_tool("point")
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 10, 10))  # drawn, so selected
    saved(qtbot, dlg)
    dlg.set_tool("polygon")
    for x, y in ((50, 50), (150, 40), (390, 190), (120, 150)):
        qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, x, y))
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Backspace)  # takes back the (120, 150) corner
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Return)
    saved(qtbot, dlg)
    point, poly = item.annotations.list()
    assert point.type == "point"  # Backspace did not delete the selection
    assert [round(p["x"]) for p in poly.coordinates[0]] == [50, 150, 390]
