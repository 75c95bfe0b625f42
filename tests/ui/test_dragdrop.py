"""Drag-and-drop onto the library's trees, with real QMimeData delivered as Qt drop events."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from dsdesk.ui.mime import folder_mime, items_mime
from tests.ui.conftest import wait_idle


def drop(view, index, md: QMimeData, ctrl: bool = False) -> bool:
    """Deliver enter, move and drop events for *md* over *index* of *view*; True if accepted."""
    rect = view.visualRect(index)
    pos = QPointF(rect.center())
    mods = Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier
    action = Qt.DropAction.CopyAction if ctrl else Qt.DropAction.MoveAction
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    vp = view.viewport()
    QApplication.sendEvent(vp, QDragEnterEvent(pos.toPoint(), actions, md, Qt.MouseButton.LeftButton, mods))
    QApplication.sendEvent(vp, QDragMoveEvent(pos.toPoint(), actions, md, Qt.MouseButton.LeftButton, mods))
    ev = QDropEvent(pos, actions, md, Qt.MouseButton.LeftButton, mods)
    ev.setDropAction(action)
    QApplication.sendEvent(vp, ev)
    return ev.isAccepted()


def items_in(cat, ds_id, folder):
    ds = cat.dataset_by_id(ds_id)
    return sorted(i.name for i in ds.items.list(filters=f'dir:"{folder}"').all())


def _some_ids(cat, ds_id, folder, n=2):
    ds = cat.dataset_by_id(ds_id)
    return [i.id for i in ds.items.list(filters=f'dir:"{folder}"').all()][:n]


def test_drop_items_on_folder_moves_them(qtbot, window):
    cat, ds = window.cat, window.current_dataset_id
    ids = _some_ids(cat, ds, "/val")
    names = sorted(cat.dataset_by_id(ds).items.get(item_id=i).name for i in ids)
    idx = window.library.folder_index("/incoming")
    assert drop(window.library.folders, idx, items_mime(ds, ids))
    wait_idle(qtbot, window)
    assert items_in(cat, ds, "/incoming") == names
    assert not set(names) & set(items_in(cat, ds, "/val"))


def test_ctrl_drop_clones_items_into_the_folder(qtbot, window):
    cat, ds = window.cat, window.current_dataset_id
    ids = _some_ids(cat, ds, "/val")
    names = sorted(cat.dataset_by_id(ds).items.get(item_id=i).name for i in ids)
    before_val = items_in(cat, ds, "/val")
    assert drop(window.library.folders, window.library.folder_index("/incoming"), items_mime(ds, ids), ctrl=True)
    wait_idle(qtbot, window)
    assert items_in(cat, ds, "/incoming") == names  # the clones, right in the folder
    assert items_in(cat, ds, "/val") == before_val  # the originals stay
    clones = list(cat.dataset_by_id(ds).items.list(filters='dir:"/incoming"').all())
    assert {c.parent_item_id for c in clones} == set(ids)


def test_drop_folder_on_folder_moves_it(qtbot, window):
    cat, ds = window.cat, window.current_dataset_id
    n = len(items_in(cat, ds, "/train/night"))
    assert drop(window.library.folders, window.library.folder_index("/val"), folder_mime(ds, "/train/night"))
    wait_idle(qtbot, window)
    assert len(items_in(cat, ds, "/val/night")) == n > 0
    assert items_in(cat, ds, "/train/night") == []
    assert window.library.folder_index("/val/night").isValid()  # the tree was refreshed


def test_drop_items_on_another_dataset_clones_them(qtbot, window):
    cat, ds = window.cat, window.current_dataset_id
    # A clone of cars can receive clones of its items (same internal store).
    other = cat.projects.get(project_name="demo").datasets.create("cars-review")
    window.reload_library()
    wait_idle(qtbot, window)
    ids = _some_ids(cat, ds, "/test", 3)
    assert drop(window.library.datasets, window.library.dataset_index(other.id), items_mime(ds, ids))
    wait_idle(qtbot, window)
    got = list(cat.dataset_by_id(other.id).items.list().all())
    assert sorted(i.parent_item_id for i in got) == sorted(ids)
    assert window.library.rows[other.id].items_count == 3  # the library was refreshed


def test_drop_on_own_dataset_is_refused(qtbot, window):
    ds = window.current_dataset_id
    assert not drop(window.library.datasets, window.library.dataset_index(ds), items_mime(ds, [1]))


def test_drop_desktop_files_uploads_them(qtbot, window, tmp_path):
    from PIL import Image

    files = []
    for i in range(2):
        p = tmp_path / f"dropped_{i}.png"
        Image.new("RGB", (32, 24), (i * 100, 50, 50)).save(p)
        files.append(p)
    md = QMimeData()
    md.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    assert drop(window.library.folders, window.library.folder_index("/incoming"), md)
    wait_idle(qtbot, window)
    assert items_in(window.cat, window.current_dataset_id, "/incoming") == ["dropped_0.png", "dropped_1.png"]
