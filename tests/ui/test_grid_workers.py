"""The grid's workers: ids streamed in grid order, row facts by pages, thumbnails from worker processes."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from dsdesk.ui import grid as gridmod
from dsdesk.ui.grid import ItemGridModel
from dsdesk.ui.thumbnails import ThumbnailLoader
from tests.conftest import make_image


@pytest.fixture
def pictures(tmp_path, dataset):
    """A dataset with a red JPEG, a half-transparent blue PNG, a text file posing as a JPEG
    and 17 small grey JPEGs in two folders."""
    root = tmp_path / "pics"
    make_image(root / "red.jpg", (400, 300), (220, 20, 20))
    Image.new("RGBA", (300, 400), (0, 0, 255, 128)).save(root / "blue.png")
    (root / "notes.jpg").write_text("not an image at all")
    for i in range(17):
        make_image(root / ("a" if i % 2 else "b") / f"g{i:02d}.jpg", (32, 32), (120, 120, 120))
    dataset.items.upload(str(root))
    return dataset


def _ids_by_name(dataset):
    return {(it.dir, it.name): it.id for it in dataset.items.list().all()}


def test_ids_stream_in_grid_order_across_pages(qtbot, catalog, pictures, monkeypatch):
    monkeypatch.setattr(gridmod, "FIRST_PAGE", 4)
    monkeypatch.setattr(gridmod, "PAGE", 3)
    model = ItemGridModel(catalog.db)
    try:
        counts = []
        model.count_changed.connect(counts.append)
        model.set_query(pictures.id)
        qtbot.waitUntil(lambda: not model.loading, timeout=20000)
        expected = [i for _k, i in sorted(_ids_by_name(pictures).items())]
        assert list(model.loaded_ids) == expected and model.rowCount() == 20
        assert counts[1] == 4 and counts[-1] == 20  # the first page shows before the count
        model.set_query(pictures.id, gridmod.folder_filter("/pics/a", False))
        qtbot.waitUntil(lambda: not model.loading, timeout=20000)
        assert model.rowCount() == 8
    finally:
        assert model.shutdown()


def test_row_facts_arrive_by_pages(qtbot, catalog, pictures, monkeypatch):
    monkeypatch.setattr(gridmod, "INFO_PAGE", 8)
    model = ItemGridModel(catalog.db)
    try:
        model.set_query(pictures.id)
        qtbot.waitUntil(lambda: not model.loading, timeout=20000)
        assert model.data(model.index(9), ItemGridModel.InfoRole) is None  # a miss queues rows 8..15
        qtbot.waitUntil(lambda: model.data(model.index(9), ItemGridModel.InfoRole) is not None, timeout=10000)
        for row in range(8, 16):
            info = model.info(model.item_id(row), fetch=False)
            assert info is not None and info.id == model.item_id(row)
        assert model.info(model.item_id(0), fetch=False) is None  # other pages were not read
        name = model.data(model.index(9))
        assert name == model.info(model.item_id(9), fetch=False).name
    finally:
        assert model.shutdown()


def _center(pm):
    img = pm.toImage()
    c = img.pixelColor(img.width() // 2, img.height() // 2)
    return c.red(), c.green(), c.blue()


def test_thumbnails_come_from_worker_processes_with_the_right_colours(qtbot, catalog, pictures):
    ids = _ids_by_name(pictures)
    infos = gridmod.fetch_infos(catalog.db, ids.values())
    loader = ThumbnailLoader(catalog.db)
    try:
        for key in (("/pics", "red.jpg"), ("/pics", "blue.png"), ("/pics", "notes.jpg")):
            loader.request(infos[ids[key]].thumb_key)
        red, blue, bad = ids[("/pics", "red.jpg")], ids[("/pics", "blue.png")], ids[("/pics", "notes.jpg")]
        qtbot.waitUntil(lambda: loader.pixmap(red) is not None and loader.pixmap(blue) is not None and bad in loader.failed,
                        timeout=60000)
        pm = loader.pixmap(red)
        assert (pm.width(), pm.height()) == (256, 192)
        r, g, b = _center(pm)
        assert r > 180 and g < 60 and b < 60, (r, g, b)  # BGRX bytes read as RGB32: not swapped
        pm = loader.pixmap(blue)
        assert (pm.width(), pm.height()) == (192, 256)
        r, g, b = _center(pm)
        assert b > 200 and r > 100 and g > 100, (r, g, b)  # alpha flattened on white
        pids = {p.pid for p in loader.processes._executor._processes.values()}
        assert pids and os.getpid() not in pids
        # The disk cache serves the next request (no storage read): remove the blob and ask again.
        loader.forget([red])
        cached = list((catalog.db.cache_root / "thumbnails").rglob("*.jpg"))
        assert len(cached) == 2
        loader.request(infos[red].thumb_key)
        qtbot.waitUntil(lambda: loader.pixmap(red) is not None, timeout=30000)
    finally:
        assert loader.shutdown()
    assert loader.processes._executor is None


def test_a_missing_binary_is_a_broken_cell(qtbot, catalog, pictures):
    ids = _ids_by_name(pictures)
    infos = gridmod.fetch_infos(catalog.db, ids.values())
    victim = infos[ids[("/pics/a", "g01.jpg")]]
    for p in catalog.db.blob_root.rglob(victim.storage_key + "*"):
        p.unlink()
    loader = ThumbnailLoader(catalog.db)
    try:
        loader.request(victim.thumb_key)
        qtbot.waitUntil(lambda: victim.id in loader.failed, timeout=60000)
        assert loader.pixmap(victim.id) is None
    finally:
        assert loader.shutdown()
