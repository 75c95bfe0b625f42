"""Image sizes of synced items: the sync lists objects without reading them, the grid's
thumbnail workers decode them anyway, and the sizes they learn are written back to the
catalog on a thread of their own (real images, a real SQLite catalog, a local-folder sync)."""

from __future__ import annotations

import sqlite3

import pytest
from PIL import Image

from dsdesk.api import browse
from dsdesk.api.image_sizes import ImageSizeRecorder, MeasuredSize, record_image_sizes
from dsdesk.catalog.models import Blob
from dsdesk.storage.thumbnails import CHEAP_REMAKE_ENV
from dsdesk.ui.thumbnails import ThumbnailLoader
from tests.conftest import make_image
from tests.ui.conftest import wait_idle


@pytest.fixture
def synced(tmp_path, project):
    """A dataset synced from a local folder: a JPEG, a PNG, a big noisy PNG (its thumbnail
    is cached on disk) and a text file posing as a JPEG."""
    import os

    bucket = tmp_path / "bucket"
    make_image(bucket / "cams" / "wide.jpg", (640, 360), (200, 40, 40))
    Image.new("RGBA", (90, 120), (0, 0, 255, 128)).save(bucket / "cams" / "tall.png")
    Image.frombytes("RGB", (1200, 900), os.urandom(1200 * 900 * 3)).save(bucket / "cams" / "noise.png")
    (bucket / "cams" / "notes.jpg").write_text("not an image at all")
    drv = project.drivers.create("folder", driver_type="local", bucket_name=str(bucket), path="cams")
    ds = project.datasets.create("synced", driver=drv)
    ds.sync()
    return ds


def _item(ds, name):
    return ds.items.get(filepath=f"/{name}")


def _infos(catalog, ds):
    ids = [it.id for it in ds.items.list().all()]
    return {info.name: info for info in browse.fetch_infos(catalog, ids).values()}


def test_a_synced_image_gets_its_size_once_its_thumbnail_is_made(qtbot, catalog, synced):
    for name in ("wide.jpg", "tall.png", "noise.png", "notes.jpg"):
        it = _item(synced, name)
        assert (it.width, it.height) == (None, None)  # the sync did not read the bytes
    infos = _infos(catalog, synced)
    assert all(not i.sized and i.thumb_key.needs_size for i in infos.values())
    loader = ThumbnailLoader(catalog)
    recorded = []
    loader.image_sizes_recorded.connect(recorded.append)
    try:
        for info in infos.values():
            loader.request(info.thumb_key)
        qtbot.waitUntil(lambda: all(loader.pixmap(i.id) is not None for n, i in infos.items() if n != "notes.jpg")
                        and infos["notes.jpg"].id in loader.failed, timeout=60000)
        qtbot.waitUntil(lambda: _item(synced, "noise.png").width is not None
                        and _item(synced, "wide.jpg").width is not None
                        and _item(synced, "tall.png").width is not None, timeout=30000)
        # The header's size, as an upload records it.
        assert (_item(synced, "wide.jpg").width, _item(synced, "wide.jpg").height) == (640, 360)
        assert (_item(synced, "tall.png").width, _item(synced, "tall.png").height) == (90, 120)
        assert (_item(synced, "noise.png").width, _item(synced, "noise.png").height) == (1200, 900)
        assert _item(synced, "notes.jpg").width is None  # not an image: nothing to record
        qtbot.waitUntil(lambda: sum(len(r) for r in recorded) == 3, timeout=10000)
        got = {k: v for r in recorded for k, v in r.items()}
        assert got[infos["wide.jpg"].id] == (640, 360) and loader.measured_size(infos["tall.png"].id) == (90, 120)
        # The rows now say so: their thumbnails no longer ask.
        again = _infos(catalog, synced)
        assert again["wide.jpg"].sized and not again["wide.jpg"].thumb_key.needs_size
        assert not again["notes.jpg"].sized
    finally:
        assert loader.shutdown()


def test_a_cached_thumbnail_tells_the_size_too(qtbot, catalog, synced, tmp_path, monkeypatch):
    """A cached thumbnail keeps its original's size: a blob whose size is unknown again
    (cleared here, as a sync does for a changed file) gets it from the cache, without the
    original."""
    monkeypatch.setenv(CHEAP_REMAKE_ENV, "0")  # every thumbnail is cached (the workers inherit it)
    noise = _infos(catalog, synced)["noise.png"]
    loader = ThumbnailLoader(catalog)
    try:
        loader.request(noise.thumb_key)
        qtbot.waitUntil(lambda: _item(synced, "noise.png").width == 1200, timeout=60000)
    finally:
        assert loader.shutdown()
    assert len(list((catalog.db.cache_root / "thumbnails").rglob("*.jpg"))) == 1
    with catalog.db.session(write=True) as s:
        blob = s.get(Blob, noise.blob_id)
        blob.width = blob.height = None
    (tmp_path / "bucket" / "cams" / "noise.png").unlink()  # only the cache can tell now
    loader = ThumbnailLoader(catalog)
    try:
        loader.request(noise.thumb_key)
        qtbot.waitUntil(lambda: _item(synced, "noise.png").width == 1200, timeout=60000)
        assert _item(synced, "noise.png").height == 900 and loader.pixmap(noise.id) is not None
    finally:
        assert loader.shutdown()


def test_a_size_is_written_only_to_the_version_it_was_measured_on(catalog, synced):
    infos = _infos(catalog, synced)
    wide, tall, noise = infos["wide.jpg"], infos["tall.png"], infos["noise.png"]
    written = record_image_sizes(catalog, [
        MeasuredSize(wide.blob_id, wide.etag, 640, 360, wide.id),
        MeasuredSize(tall.blob_id, "an older version", 1, 1, tall.id),  # the blob changed meanwhile
        MeasuredSize(noise.blob_id, noise.etag, 1200, 900),
    ])
    assert [m.blob_id for m in written] == [wide.blob_id, noise.blob_id]
    assert _item(synced, "tall.png").width is None
    # A blob that has a size keeps it.
    assert record_image_sizes(catalog, [MeasuredSize(wide.blob_id, wide.etag, 1, 1)]) == []
    assert (_item(synced, "wide.jpg").width, _item(synced, "wide.jpg").height) == (640, 360)


def test_a_locked_catalog_delays_the_sizes_never_the_gui(qtbot, catalog, synced, tmp_path):
    """Another writer (a long sync, an import) holds the catalog's write lock: thumbnails
    keep arriving, the sizes wait on the recorder's thread and are written once the lock
    is free."""
    infos = _infos(catalog, synced)
    wide, tall = infos["wide.jpg"], infos["tall.png"]
    loader = ThumbnailLoader(catalog)
    loader.sizes.delay = 0.05
    other = sqlite3.connect(tmp_path / "catalog.sqlite", isolation_level=None, timeout=30)
    try:
        other.execute("BEGIN IMMEDIATE")  # the write lock, held by someone else
        for info in (wide, tall):
            loader.request(info.thumb_key)
        qtbot.waitUntil(lambda: loader.pixmap(wide.id) is not None and loader.pixmap(tall.id) is not None,
                        timeout=60000)
        qtbot.waitUntil(lambda: loader.sizes.pending == 2, timeout=10000)
        assert loader.sizes.written == 0 and _item(synced, "wide.jpg").width is None
        other.execute("COMMIT")
        qtbot.waitUntil(lambda: loader.sizes.written == 2, timeout=30000)
        assert (_item(synced, "wide.jpg").width, _item(synced, "tall.png").height) == (640, 120)
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        assert loader.shutdown()


def test_the_recorder_batches_and_writes_what_is_pending_when_it_stops(catalog, synced):
    infos = _infos(catalog, synced)
    wide, tall = infos["wide.jpg"], infos["tall.png"]
    batches = []
    rec = ImageSizeRecorder(catalog, batches.append, delay=60)  # nothing is written before shutdown
    assert rec.add(MeasuredSize(wide.blob_id, wide.etag, 640, 360, wide.id))
    assert rec.add(MeasuredSize(tall.blob_id, tall.etag, 90, 120, tall.id))
    assert not rec.add(MeasuredSize(wide.blob_id, wide.etag, 640, 360, wide.id))  # once per version
    assert rec.pending == 2 and _item(synced, "wide.jpg").width is None
    assert rec.shutdown(timeout=10)
    assert [len(b) for b in batches] == [2]  # one transaction for the batch
    assert _item(synced, "wide.jpg").width == 640 and _item(synced, "tall.png").width == 90
    assert not rec.add(MeasuredSize(infos["noise.png"].blob_id, None, 1, 1))  # closed


def test_the_inspector_shows_the_size_learnt_from_the_thumbnail(qtbot, make_window, catalog, synced):
    window = make_window(catalog)
    assert window.current_dataset_id == synced.id
    wide = _item(synced, "wide.jpg")
    row = next(r for r in range(window.grid.model.rowCount()) if window.grid.model.item_id(r) == wide.id)
    window.grid.view.setCurrentIndex(window.grid.model.index(row))
    dims = window.inspector._fact_labels["Dimensions"]
    qtbot.waitUntil(lambda: window.inspector.details is not None and dims.text() == "640 × 360", timeout=60000)
    wait_idle(qtbot, window)
    assert _item(synced, "wide.jpg").width == 640
