"""Annotation overlays in the grid: the read model, the toolbar toggle and the painted pixels."""

from __future__ import annotations

import pytest
from PIL import Image
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor

from dsdesk.api import overlays
from tests.ui.conftest import wait_idle

GREEN = "#00ff00"


@pytest.fixture
def boxed_catalog(tmp_path):
    """One dataset of three grey 200x100 images; the first has a big 'car' box (pure green)."""
    import dsdesk

    cat = dsdesk.open_catalog(tmp_path / "catalog.sqlite")
    ds = cat.projects.create("p").datasets.create("boxes", labels=[{"tag": "car", "color": (0, 255, 0)},
                                                                   {"tag": "sign", "color": "#ff00ff"}])
    for n in range(3):
        path = tmp_path / "img" / f"{n}.png"
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (200, 100), (90, 90, 90)).save(path)
        item = ds.items.upload(str(path))
        if n == 0:
            item.annotations.upload([
                {"type": "box", "label": "car", "coordinates": [{"x": 20, "y": 10}, {"x": 180, "y": 90}]},
                {"type": "point", "label": "sign", "coordinates": {"x": 100, "y": 50}},
                {"type": "class", "label": "sign"}])
    yield cat
    cat.close()


def test_fetch_overlays_scales_to_the_image_in_one_query(boxed_catalog):
    ds = boxed_catalog.projects.list()[0].datasets.list()[0]
    ids = [it.id for it in ds.items.list().all()]
    got = overlays.fetch_overlays(boxed_catalog, ids)
    assert set(got) == set(ids)
    first = got[ids[0]]
    assert first.sized
    box, point, cls = first.shapes
    assert (box.kind, box.label, box.color) == ("box", "car", GREEN)
    assert box.rings == (((0.1, 0.1), (0.9, 0.9)),)
    assert point.kind == "point" and point.rings == (((0.5, 0.5),),) and point.color == "#ff00ff"
    assert cls.kind == "class" and cls.rings == ()
    assert got[ids[1]].shapes == ()


def test_label_search_is_a_grid_query(boxed_catalog):
    ds = boxed_catalog.projects.list()[0].datasets.list()[0]
    text = overlays.label_search("car")
    assert text == 'label:"car"'
    assert [it.name for it in ds.items.list(filters=text).all()] == ["0.png"]
    assert overlays.label_search('say "hi"') == 'label:"say \\"hi\\""'


def _thumb_rect(grid, row: int, pm) -> QRect:
    """Where the delegate drew the thumbnail pixmap of *row* (its paint() geometry)."""
    r = grid.view.visualRect(grid.model.index(row)).adjusted(3, 3, -3, -3)
    side = min(grid.delegate.cell, r.width() - 8)
    thumb = QRect(r.x() + (r.width() - side) // 2, r.y() + 4, side, side)
    return QRect(thumb.x() + (thumb.width() - pm.width()) // 2, thumb.y() + (thumb.height() - pm.height()) // 2,
                 pm.width(), pm.height())


def _is_green(c: QColor) -> bool:
    return c.green() > 200 and c.red() < 80 and c.blue() < 80


def test_overlays_painted_over_thumbnails_when_toggled(qtbot, make_window, boxed_catalog):
    win = make_window(boxed_catalog)
    grid = win.grid
    item_id = grid.model.item_id(0)
    qtbot.waitUntil(lambda: grid.loader.pixmap(item_id, grid.delegate.thumb_side()) is not None, timeout=20000)
    pm = grid.loader.pixmap(item_id, grid.delegate.thumb_side())
    rect = _thumb_rect(grid, 0, pm)
    # The box's left edge is at 10 % of the thumbnail's width, its vertical middle at 50 %.
    edge_x, mid_y = rect.x() + round(0.1 * rect.width()), rect.y() + rect.height() // 2

    def edge_pixels():
        img = grid.view.viewport().grab().toImage()
        return [img.pixelColor(x, mid_y) for x in range(edge_x - 2, edge_x + 3)]

    assert not any(_is_green(c) for c in edge_pixels()), "no overlay before the toggle"
    action = win.actions["toggle_overlays"]
    assert action.isCheckable() and action.shortcut().toString() == "A"
    action.trigger()
    assert grid.overlays_visible
    qtbot.waitUntil(lambda: grid.model.overlay(item_id) is not None, timeout=20000)
    qtbot.waitUntil(lambda: any(_is_green(c) for c in edge_pixels()), timeout=20000)
    # Inside the box, away from its edges and the point, the image stays grey.
    img = grid.view.viewport().grab().toImage()
    inside = img.pixelColor(rect.x() + round(0.3 * rect.width()), mid_y)
    assert abs(inside.red() - 90) < 20 and abs(inside.green() - 90) < 20
    action.trigger()
    assert not grid.overlays_visible
    qtbot.waitUntil(lambda: not any(_is_green(c) for c in edge_pixels()), timeout=20000)
    wait_idle(qtbot, win)


def test_overlays_read_again_after_forget(qtbot, make_window, boxed_catalog):
    win = make_window(boxed_catalog)
    grid = win.grid
    grid.set_overlays_visible(True)
    item_id = grid.model.item_id(0)
    grid.view.viewport().update()
    qtbot.waitUntil(lambda: grid.model.overlay(item_id) is not None, timeout=20000)
    assert len(grid.model.overlay(item_id).shapes) == 3
    ds = boxed_catalog.dataset_by_id(win.current_dataset_id)
    item = ds.items.get(item_id=item_id)
    item.annotations.delete(annotation="all")
    grid.model.forget_overlays([item_id])
    assert grid.model.overlay(item_id) is None
    grid.view.viewport().update()
    qtbot.waitUntil(lambda: grid.model.overlay(item_id) is not None, timeout=20000)
    assert grid.model.overlay(item_id).shapes == ()
    wait_idle(qtbot, win)


def test_a_key_toggles_overlays_from_the_grid(qtbot, make_window, boxed_catalog):
    win = make_window(boxed_catalog)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    win.grid.view.setFocus()
    qtbot.keyClick(win.grid.view, Qt.Key.Key_A)
    assert win.grid.overlays_visible and win.actions["toggle_overlays"].isChecked()
    # Typing in the search bar is typing, not the shortcut.
    win.grid.search.setFocus()
    qtbot.keyClick(win.grid.search, Qt.Key.Key_A)
    assert win.grid.search.text() == "a" and win.grid.overlays_visible
    win.grid.view.setFocus()
    qtbot.keyClick(win.grid.view, Qt.Key.Key_A)
    assert not win.grid.overlays_visible
    wait_idle(qtbot, win)


def test_overlays_toggle_remembered_after_restart(qtbot, make_window, boxed_catalog):
    win = make_window(boxed_catalog)
    assert not win.actions["toggle_overlays"].isChecked()
    win.actions["toggle_overlays"].trigger()
    win.close()
    win2 = make_window(boxed_catalog)
    assert win2.actions["toggle_overlays"].isChecked() and win2.grid.overlays_visible


def test_inspector_preview_shows_the_overlay(qtbot, make_window, boxed_catalog):
    win = make_window(boxed_catalog)
    grid = win.grid
    grid.view.setCurrentIndex(grid.model.index(0))
    qtbot.waitUntil(lambda: win.inspector.details is not None and win.inspector.preview.pixmap() is not None
                    and not win.inspector.preview.pixmap().isNull(), timeout=20000)

    def green_in_preview() -> bool:
        img = win.inspector.preview.pixmap().toImage()
        y = img.height() // 2
        return any(_is_green(img.pixelColor(x, y)) for x in range(img.width() // 4))

    assert not green_in_preview()
    grid.set_overlays_visible(True)
    qtbot.waitUntil(green_in_preview, timeout=20000)
    grid.set_overlays_visible(False)
    qtbot.waitUntil(lambda: not green_in_preview(), timeout=20000)
    wait_idle(qtbot, win)
