"""The viewer's select tool reshapes and moves annotations (a box's corners and sides, a
polygon's corners, whole shapes), each drag one undoable command saved through the API;
zoom (wheel, + / -, 0 fits) and pan (middle drag, Space + drag) change the view only."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from dsdesk.ui.annotations.shape_edit import MOVE, dragged
from tests.ui.test_viewer_editing import at, draw_box, open_viewer, saved


@pytest.fixture
def street(tmp_path, catalog):
    """A dataset with the label car and one 400x200 grey image, no annotations."""
    ds = catalog.projects.create("p").datasets.create("street", labels=[{"tag": "car", "color": "#ff0000"}])
    path = tmp_path / "img" / "street.png"
    path.parent.mkdir()
    Image.new("RGB", (400, 200), (120, 120, 120)).save(path)
    return ds, ds.items.upload(str(path))


def drag(qtbot, dlg, a: tuple, b: tuple, button=Qt.MouseButton.LeftButton) -> None:
    """Press at image pixel *a*, move in two steps, release at *b*."""
    qtbot.mousePress(dlg.canvas, button, pos=at(dlg, *a))
    qtbot.mouseMove(dlg.canvas, at(dlg, (a[0] + b[0]) / 2, (a[1] + b[1]) / 2))
    qtbot.mouseMove(dlg.canvas, at(dlg, *b))
    qtbot.mouseRelease(dlg.canvas, button, pos=at(dlg, *b))


def box_of(item) -> tuple[float, float, float, float]:
    (box,) = item.annotations.list()
    p, q = box.coordinates[:2]
    return p["x"], p["y"], q["x"], q["y"]


def near(got, want, tol=2.5) -> bool:
    return all(abs(g - w) <= tol for g, w in zip(got, want, strict=True))


def test_resize_and_move_a_box_with_undo(qtbot, catalog, street):
    ds, item = street
    dlg = open_viewer(qtbot, catalog, ds, item)
    draw_box(qtbot, dlg, 40, 20, 200, 120)
    dlg.set_tool("select")  # the box just drawn is selected
    saved(qtbot, dlg)
    drag(qtbot, dlg, (200, 120), (260, 150))  # the bottom-right corner
    saved(qtbot, dlg)
    assert near(box_of(item), (40, 20, 260, 150))
    drag(qtbot, dlg, (40, 80), (10, 80))  # the left side
    saved(qtbot, dlg)
    assert near(box_of(item), (10, 20, 260, 150))
    drag(qtbot, dlg, (130, 90), (150, 100))  # inside: the whole box moves
    saved(qtbot, dlg)
    assert near(box_of(item), (30, 30, 280, 160))
    assert dlg.undo_stack.count() == 4  # drawn, resized twice, moved
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert near(box_of(item), (10, 20, 260, 150))
    dlg.act_undo.trigger()
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    assert near(box_of(item), (40, 20, 200, 120))
    dlg.act_redo.trigger()
    saved(qtbot, dlg)
    assert near(box_of(item), (40, 20, 260, 150))


def test_a_click_on_a_shape_selects_without_moving_it(qtbot, catalog, street):
    ds, item = street
    item.annotations.upload([{"type": "box", "label": "car", "coordinates": [{"x": 20, "y": 20}, {"x": 200, "y": 195}]}])
    dlg = open_viewer(qtbot, catalog, ds, item)
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 100, 100))
    assert dlg.selected_record() is not None and dlg.undo_stack.count() == 0 and not dlg.doc.busy
    dlg.canvas.select(None)
    drag(qtbot, dlg, (100, 100), (150, 110))  # an unselected shape is grabbed and moved at once
    saved(qtbot, dlg)
    assert dlg.selected_record() is not None
    assert near(box_of(item), (70, 25, 250, 200)), "the move stops at the image's bottom edge"


def test_drag_a_polygon_corner_then_escape_drops_a_drag(qtbot, catalog, street):
    ds, item = street
    dlg = open_viewer(qtbot, catalog, ds, item)
    dlg.set_tool("polygon")
    for x, y in ((50, 50), (150, 40), (120, 150)):
        qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, x, y))
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Return)
    dlg.set_tool("select")
    saved(qtbot, dlg)
    drag(qtbot, dlg, (150, 40), (180, 60))
    saved(qtbot, dlg)
    (poly,) = item.annotations.list()
    ring = [(p["x"], p["y"]) for p in poly.coordinates[0]]
    assert near(ring[0], (50, 50)) and near(ring[1], (180, 60)) and near(ring[2], (120, 150))
    # A drag given up with Esc leaves the shape where it was and saves nothing.
    qtbot.mousePress(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 120, 150))
    qtbot.mouseMove(dlg.canvas, at(dlg, 60, 180))
    qtbot.keyClick(dlg.canvas, Qt.Key.Key_Escape)
    qtbot.mouseRelease(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 60, 180))
    assert dlg.undo_stack.count() == 2 and not dlg.doc.busy
    assert near((dlg.doc.records[0].data["coordinates"][0][2]["x"],), (120,))
    dlg.act_undo.trigger()
    saved(qtbot, dlg)
    (poly,) = item.annotations.list()
    assert near((poly.coordinates[0][1]["x"], poly.coordinates[0][1]["y"]), (150, 40))


def _wheel(canvas, pos: QPoint, notches: int) -> None:
    ev = QWheelEvent(QPointF(pos), QPointF(canvas.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, 120 * notches),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, ev)


def test_zoom_about_the_pointer_pan_and_fit(qtbot, catalog, street):
    ds, item = street
    dlg = open_viewer(qtbot, catalog, ds, item)
    c = dlg.canvas
    fitted = c.image_rect()
    under = at(dlg, 300, 50)
    _wheel(c, under, 2)
    assert c.zoom == pytest.approx(1.25 ** 2)
    assert c.image_rect().width() == pytest.approx(fitted.width() * 1.5625)
    spot = c.to_widget(QPointF(300, 50))  # the pixel under the pointer stays under it
    assert abs(spot.x() - under.x()) <= 1 and abs(spot.y() - under.y()) <= 1
    qtbot.keyClick(c, Qt.Key.Key_Minus)
    assert c.zoom == pytest.approx(1.25)
    before = c.image_rect().topLeft()
    drag(qtbot, dlg, (200, 100), (150, 80), button=Qt.MouseButton.MiddleButton)
    moved = c.image_rect().topLeft() - before
    assert moved.x() < -20 and moved.y() < -5
    # Space + left drag pans too, and edits nothing.
    qtbot.keyPress(c, Qt.Key.Key_Space)
    before = c.image_rect().topLeft()
    start, end = c.to_widget(QPointF(100, 100)).toPoint(), c.to_widget(QPointF(140, 100)).toPoint()
    qtbot.mousePress(c, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(c, end)
    qtbot.mouseRelease(c, Qt.MouseButton.LeftButton, pos=end)
    qtbot.keyRelease(c, Qt.Key.Key_Space)
    assert c.image_rect().topLeft().x() - before.x() == pytest.approx(end.x() - start.x(), abs=1)
    assert dlg.undo_stack.count() == 0 and item.annotations.list() == []
    qtbot.keyClick(c, Qt.Key.Key_0)
    assert c.zoom == 1.0 and c.image_rect() == fitted
    # Drawing still lands on the right pixels when zoomed in.
    qtbot.keyClick(c, Qt.Key.Key_Plus)
    draw_box(qtbot, dlg, 150, 60, 250, 140)
    saved(qtbot, dlg)
    assert near(box_of(item), (150, 60, 250, 140))


def test_read_only_selects_but_drags_nothing(qtbot, catalog, street):
    ds, item = street
    item.annotations.upload([{"type": "box", "label": "car", "coordinates": [{"x": 20, "y": 20}, {"x": 200, "y": 180}]}])
    ds.set_readonly(True)
    dlg = open_viewer(qtbot, catalog, ds, item)
    qtbot.mouseClick(dlg.canvas, Qt.MouseButton.LeftButton, pos=at(dlg, 100, 100))
    assert dlg.selected_record() is not None
    drag(qtbot, dlg, (200, 180), (300, 190))
    drag(qtbot, dlg, (100, 100), (150, 120))
    assert dlg.doc.records[0].data["coordinates"][1] == {"x": 200, "y": 180}
    assert not dlg.doc.busy and near(box_of(item), (20, 20, 200, 180))


@pytest.mark.parametrize(("handle", "d", "want"), [
    (("box", 1, 1), (500, 500), (10, 10, 400, 200)),  # a corner stops at the image's border
    (("box", -1, 0), (100, 0), (50, 10, 110, 50)),  # the left side past the right one: turned over
    (("box", 0, -1), (0, -5), (10, 5, 50, 50)),
    (MOVE, (-30, 400), (0, 160, 40, 200)),  # the whole box stops at the border, its size kept
])
def test_box_geometry(handle, d, want):
    coords = [{"x": 10, "y": 10, "z": 0}, {"x": 50, "y": 50, "z": 0}]
    out = dragged("box", coords, handle, *d, 400, 200)
    assert (out[0]["x"], out[0]["y"], out[1]["x"], out[1]["y"]) == want
    assert out[0]["z"] == 0 and coords[1] == {"x": 50, "y": 50, "z": 0}  # a copy; other keys kept


def test_polygon_and_point_geometry():
    rings = [[{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 3, "y": 4}], [{"x": 7, "y": 7}, {"x": 8, "y": 9}]]
    out = dragged("segment", rings, ("vertex", 3), 2.5, -1, 20, 20)  # the second ring's first corner
    assert out[1][0] == {"x": 9.5, "y": 6} and out[0] == rings[0]
    assert dragged("point", {"x": 3, "y": 4}, MOVE, 100, -1, 10, 10) == {"x": 10, "y": 3}
