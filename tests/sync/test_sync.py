"""Sync against real servers: every case on S3 (moto), GCS (fake-gcs-server), Azure
(Azurite) and a local folder.  The bucket is edited behind the catalog's back by a
second client (``store``), as a user's other tools would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from emulators import TcpProxy, jpeg
from sqlalchemy import func, select

from dsdesk.catalog.models import Annotation, Blob, Dataset, Folder, Item, SyncListing, SyncState
from dsdesk.errors import ReadOnlyError, StorageError
from dsdesk.storage.thumbnails import ThumbnailCache

pytestmark = pytest.mark.emulators

RED, GREEN, BLUE = (220, 20, 20), (20, 200, 20), (20, 20, 220)


def make_ds(project, store, name="ds", **extra):
    drv = project.drivers.create(f"drv-{name}", **store.driver_kwargs(**extra))
    return project.datasets.create(name, driver=drv)


def items(catalog, ds) -> dict[str, dict]:
    """path -> facts of every item of the dataset."""
    with catalog.db.session() as s:
        rows = s.execute(select(Item.id, Item.dir, Item.name, Item.changed_at, Blob.storage_key, Blob.etag,
                                Blob.size, Blob.missing_since, Blob.mimetype)
                         .join(Blob, Blob.id == Item.blob_id).where(Item.dataset_id == ds.id)).all()
    out = {}
    for r in rows:
        path = (r.dir.rstrip("/") + "/" + r.name) if r.dir != "/" else "/" + r.name
        assert path not in out
        out[path] = r._asdict()
    return out


def folders(catalog, ds) -> set[str]:
    with catalog.db.session() as s:
        return set(s.execute(select(Folder.path).where(Folder.dataset_id == ds.id)).scalars())


def annotate(catalog, ds, item_id, label="cat"):
    with catalog.db.session() as s:
        s.add(Annotation(item_id=item_id, dataset_id=ds.id, type="box", label=label,
                         coordinates=[{"x": 1, "y": 2}, {"x": 5, "y": 6}], attributes={}, meta={}))


def annotation_labels(catalog, item_id) -> list[str]:
    with catalog.db.session() as s:
        return list(s.execute(select(Annotation.label).where(Annotation.item_id == item_id)).scalars())


def seed(store, n=3):
    store.put("a/one.jpg", jpeg(RED))
    store.put("a/b/two.jpg", jpeg(GREEN, (40, 30)))
    store.put("three.png", b"\x89PNG not really")
    for i in range(3, n):
        store.put(f"more/f{i:03d}.jpg", jpeg((i % 255, 10, 10)))


# ------------------------------------------------------------------------------- cases
def test_new_keys_become_items_with_folders(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    r = ds.sync()
    assert (r.new, r.changed, r.missing, r.renamed, r.error_count) == (3, 0, 0, 0, 0)
    got = items(catalog, ds)
    assert set(got) == {"/a/one.jpg", "/a/b/two.jpg", "/three.png"}
    assert got["/a/one.jpg"]["storage_key"] == store.full("a/one.jpg")
    assert got["/a/one.jpg"]["size"] == len(jpeg(RED))
    assert got["/a/one.jpg"]["mimetype"] == "image/jpeg"
    assert got["/a/one.jpg"]["etag"]
    assert {"/a", "/a/b"} <= folders(catalog, ds)
    assert ds.refresh().items_count == 3


def test_no_change_resync_reports_nothing(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    ds.sync()
    before = items(catalog, ds)
    r = ds.sync()
    assert (r.new, r.changed, r.missing, r.renamed, r.restored, r.deleted) == (0, 0, 0, 0, 0, 0)
    assert r.unchanged == 3
    assert items(catalog, ds) == before


def test_changed_object_updates_blob_keeps_item(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    ds.sync()
    it = items(catalog, ds)["/a/one.jpg"]
    annotate(catalog, ds, it["id"])
    drv_id = ds.driver_id
    cache = ThumbnailCache(catalog.db.cache_root)
    cache.put(drv_id, it["storage_key"], it["etag"], b"old thumbnail")
    time.sleep(1.1)  # S3 and Azure mtimes have one-second resolution
    store.put("a/one.jpg", jpeg(BLUE, (80, 60)))
    r = ds.sync()
    assert (r.changed, r.new, r.missing, r.renamed) == (1, 0, 0, 0)
    now = items(catalog, ds)["/a/one.jpg"]
    assert now["id"] == it["id"]
    assert now["etag"] != it["etag"] and now["size"] == len(jpeg(BLUE, (80, 60)))
    assert now["changed_at"] is not None
    assert annotation_labels(catalog, it["id"]) == ["cat"]
    assert cache.get(drv_id, it["storage_key"], it["etag"]) is None  # thumbnail invalidated


def test_vanished_marked_missing_then_deleted_on_request(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    ds.sync()
    store.rm("a/b/two.jpg")
    r = ds.sync()
    assert (r.missing, r.deleted, r.new) == (1, 0, 0)
    got = items(catalog, ds)
    assert got["/a/b/two.jpg"]["missing_since"] is not None  # kept, visible, filterable
    assert got["/a/one.jpg"]["missing_since"] is None
    r = ds.sync()
    assert r.missing == 0  # already marked
    r = ds.sync(delete_missing=True)
    assert r.deleted == 1
    assert "/a/b/two.jpg" not in items(catalog, ds)
    assert len(items(catalog, ds)) == 2


def test_missing_object_coming_back_is_restored(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    ds.sync()
    data = jpeg(RED)
    store.rm("a/one.jpg")
    ds.sync()
    store.put("a/one.jpg", data)
    r = ds.sync()
    assert r.new == 0 and (r.restored + r.changed) == 1
    assert items(catalog, ds)["/a/one.jpg"]["missing_since"] is None


def test_rename_moves_item_and_keeps_annotations(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    ds.sync()
    it = items(catalog, ds)["/a/one.jpg"]
    annotate(catalog, ds, it["id"], "dog")
    store.mv("a/one.jpg", "moved/uno.jpg")
    r = ds.sync()
    assert (r.renamed, r.new, r.missing, r.deleted) == (1, 0, 0, 0)
    got = items(catalog, ds)
    assert "/a/one.jpg" not in got
    assert got["/moved/uno.jpg"]["id"] == it["id"]
    assert got["/moved/uno.jpg"]["storage_key"] == store.full("moved/uno.jpg")
    assert annotation_labels(catalog, it["id"]) == ["dog"]
    assert len(got) == 3  # no duplicate
    assert "/moved" in folders(catalog, ds)


def test_item_moved_in_catalog_stays_put_when_object_is_renamed(catalog, project, store):
    from dsdesk.catalog import tree

    seed(store)
    ds = make_ds(project, store)
    ds.sync()
    it = items(catalog, ds)["/a/one.jpg"]
    with catalog.db.session() as s:
        tree.make_dir(s, ds.id, "/curated")
        tree.move_items(s, ds.id, [it["id"]], "/curated")
    store.mv("a/one.jpg", "z/one-renamed.jpg")
    r = ds.sync()
    assert r.renamed == 1 and r.new == 0
    got = items(catalog, ds)
    assert got["/curated/one.jpg"]["id"] == it["id"]  # the user's placement wins
    assert got["/curated/one.jpg"]["storage_key"] == store.full("z/one-renamed.jpg")


def test_folder_markers_make_empty_folders(catalog, project, store):
    store.marker("empty")
    store.marker("deep/er")
    store.put("deep/file.jpg", jpeg())
    ds = make_ds(project, store)
    r = ds.sync()
    assert r.new == 1
    assert {"/empty", "/deep", "/deep/er"} <= folders(catalog, ds)
    assert set(items(catalog, ds)) == {"/deep/file.jpg"}


def test_generated_prefix_is_never_synced(catalog, project, store):
    store.put(".dsdesk/thumbnails/ab/abc.jpg", jpeg())
    store.put(".dsdesk/test-write", b"x")
    store.put("real.jpg", jpeg())
    ds = make_ds(project, store)
    r = ds.sync()
    assert r.new == 1
    assert set(items(catalog, ds)) == {"/real.jpg"}
    assert not any(f.startswith("/.dsdesk") for f in folders(catalog, ds))


def test_dry_run_reports_and_changes_nothing(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    r = ds.sync(dry_run=True)
    assert r.dry_run and r.new == 3 and r.folders >= 2
    assert items(catalog, ds) == {} and folders(catalog, ds) == set()
    with catalog.db.session() as s:
        assert s.execute(select(func.count()).select_from(SyncListing)).scalar_one() == 0
    ds.sync()
    store.rm("three.png")
    store.put("new.jpg", jpeg(GREEN))
    before = items(catalog, ds)
    r = ds.sync(dry_run=True, delete_missing=True)
    assert (r.new, r.deleted) == (1, 1)
    assert items(catalog, ds) == before


def test_read_only_dataset_refuses_sync_but_allows_dry_run(catalog, project, store):
    seed(store)
    ds = make_ds(project, store)
    ds.set_readonly(True)
    with pytest.raises(ReadOnlyError):
        ds.sync()
    assert ds.sync(dry_run=True).new == 3


def test_upload_writes_object_at_prefix_and_sync_sees_no_change(catalog, project, store, tmp_path):
    ds = make_ds(project, store)
    local = tmp_path / "up" / "pic.jpg"
    local.parent.mkdir()
    local.write_bytes(jpeg(BLUE))
    ds.items.upload(local_path=str(local), remote_path="/uploads")
    assert store.exists("uploads/pic.jpg")
    r = ds.sync()
    assert (r.new, r.changed, r.missing) == (0, 0, 0)
    assert set(items(catalog, ds)) == {"/uploads/pic.jpg"}


@pytest.mark.parametrize("allow", [False, True])
def test_delete_item_removes_object_only_with_permission(catalog, project, store, allow):
    from dsdesk.transfer.release import delete_items

    seed(store)
    ds = make_ds(project, store, allow_external_delete=allow)
    ds.sync()
    it = items(catalog, ds)["/a/one.jpg"]
    delete_items(catalog.db, ds.id, [it["id"]])
    assert store.exists("a/one.jpg") is (not allow)


def test_delete_keeps_object_a_snapshot_still_uses(catalog, project, store):
    from dsdesk.transfer.release import delete_items

    seed(store)
    ds = make_ds(project, store, allow_external_delete=True)
    ds.sync()
    it = items(catalog, ds)["/a/one.jpg"]
    with catalog.db.session() as s:  # a snapshot is a hidden dataset whose items share blobs
        snap = Dataset(project_id=project.id, name="ds@v1", kind="snapshot", driver_id=ds.driver_id,
                       readonly=True, meta_system={}, meta_user={})
        s.add(snap)
        s.flush()
        blob_id = s.get(Item, it["id"]).blob_id
        s.add(Item(dataset_id=snap.id, dir="/a", name="one.jpg", blob_id=blob_id, meta_system={}, meta_user={}))
    delete_items(catalog.db, ds.id, [it["id"]])
    assert store.exists("a/one.jpg")


# ------------------------------------------------------------------- interruptions
@pytest.mark.parametrize("mode", ["first", "resync"])
def test_resume_after_kill_mid_sync(catalog, project, store, tmp_path, mode):
    n = 14
    ds = make_ds(project, store)
    if mode == "resync":  # a dataset with items: the listing is staged and diffed
        store.put("already.bin", b"there before")
        ds.sync()
    for i in range(n):
        store.put(f"k/{i:02d}.bin", f"object {i}".encode())
    marker = tmp_path / "paused"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    child = subprocess.Popen([sys.executable, str(Path(__file__).with_name("sync_child.py")),
                              str(tmp_path / "catalog.sqlite"), str(ds.id), "3", str(marker), "2"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the child never reached the second page"
            time.sleep(0.05)
        time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stderr.close()
    with catalog.db.session() as s:
        st = s.get(SyncState, ds.id)
        # A first sync writes items page by page (no diff needed); later syncs stage keys.
        done = s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == ds.id)).scalar_one()
        staged = s.execute(select(func.count()).select_from(SyncListing)
                           .where(SyncListing.dataset_id == ds.id, SyncListing.is_dir.is_(False))).scalar_one()
        assert st.phase == "listing" and st.cursor is not None
        if mode == "resync":
            assert done == 1 and 0 < staged < n + 1
        else:
            assert 0 < done < n
            # The cached counts committed with the rows (they said 0 until the sync ended).
            row = s.get(Dataset, ds.id)
            size = s.execute(select(func.coalesce(func.sum(Blob.size), 0)).select_from(Item)
                             .join(Blob, Blob.id == Item.blob_id).where(Item.dataset_id == ds.id)).scalar_one()
            assert (row.item_count, row.bytes_total) == (done, size)
            assert row.folder_count == s.execute(select(func.count()).select_from(Folder)
                                                 .where(Folder.dataset_id == ds.id)).scalar_one()
    from dsdesk.jobs.runner import mark_interrupted

    mark_interrupted(catalog.db)
    r = ds.sync()
    assert r.resumed
    assert r.new == n
    got = items(catalog, ds)
    expect = {f"/k/{i:02d}.bin" for i in range(n)} | ({"/already.bin"} if mode == "resync" else set())
    assert set(got) == expect  # no loss, no duplicate
    assert ds.sync().new == 0


@pytest.mark.parametrize("mode", ["first", "resync"])
def test_resume_after_server_stops_mid_listing(catalog, project, cloud_store, emu, mode):
    store = cloud_store
    n = 30  # 10 pages of 3: well beyond the pages the listing thread fetches ahead
    proxy = TcpProxy(emu.server(store.kind).port)
    proxy.start()
    try:
        ds = make_ds(project, store, endpoint=emu.endpoint(store.kind, port=proxy.port))
        if mode == "resync":
            store.put("already.bin", b"there before")
            ds.sync()
        for i in range(n):
            store.put(f"p/{i:02d}.bin", f"object {i}".encode())
        pages = {"n": 0}

        def on_event(ev):
            if ev.message.startswith("listed"):
                pages["n"] += 1
                if pages["n"] == 2:
                    proxy.stop()  # the server goes away mid-listing

        from dsdesk.jobs.runner import run_job
        from dsdesk.sync.engine import sync_job

        t0 = time.monotonic()
        with pytest.raises(StorageError, match="unreachable|cannot"):
            run_job(catalog.db, "sync", sync_job, ds.id, on_event=on_event, page_size=3)
        assert time.monotonic() - t0 < 30  # a clear error, not a hang
        with catalog.db.session() as s:
            st = s.get(SyncState, ds.id)
            assert st.phase == "listing" and st.cursor and st.last_error
        proxy.start()
        r = run_job(catalog.db, "sync", sync_job, ds.id, page_size=3)
        assert r.resumed and r.new == n
        expect = {f"/p/{i:02d}.bin" for i in range(n)} | ({"/already.bin"} if mode == "resync" else set())
        assert set(items(catalog, ds)) == expect
    finally:
        proxy.stop()


@pytest.mark.parametrize("mode", ["first", "resync"])
def test_cancel_stops_and_next_run_resumes(catalog, project, store, mode):
    from dsdesk.errors import JobCancelledError
    from dsdesk.jobs.runner import prepare, run_job
    from dsdesk.sync.engine import sync_job

    ds = make_ds(project, store)
    if mode == "resync":
        store.put("already.bin", b"there before")
        ds.sync()
    for i in range(9):
        store.put(f"c/{i}.bin", b"x%d" % i)
    holder = {}

    def on_event(ev):
        if ev.message.startswith("listed"):
            holder["ctx"].cancel()

    ctx = prepare(catalog.db, "sync", dataset_id=ds.id, on_event=on_event)
    holder["ctx"] = ctx
    with pytest.raises(JobCancelledError):
        run_job(catalog.db, "sync", sync_job, ds.id, ctx=ctx, page_size=2)
    extra = 1 if mode == "resync" else 0
    assert len(items(catalog, ds)) < 9 + extra
    r = ds.sync()
    assert r.resumed and r.new == 9
    assert len(items(catalog, ds)) == 9 + extra


# ---------------------------------------------------------------------- bad input
ILLEGAL = {
    # What each server can hold at all: Azurite rejects "..", turns "\" into "/" and
    # cannot list control characters; the others keep keys byte for byte.
    "s3": ["x/../escape.jpg", "back\\slash.jpg", "ctl\x01.jpg", "a//b.jpg"],
    "gcs": ["x/../escape.jpg", "back\\slash.jpg", "ctl\x01.jpg", "a//b.jpg"],
    "azure": ["a//b.jpg"],
    "local": ["back\\slash.jpg", "ctl\x01.jpg"],
}


def test_illegal_keys_are_reported_never_items(catalog, project, store):
    store.put("fine.jpg", jpeg())
    bad = ILLEGAL[store.kind]
    for k in bad:
        store.put(k, b"evil")
    ds = make_ds(project, store)
    r = ds.sync()
    assert r.new == 1
    assert r.error_count == len(bad)
    assert {e["key"] for e in r.errors} == {store.full(k) for k in bad}
    got = items(catalog, ds)
    assert set(got) == {"/fine.jpg"}
    for path in list(got) + list(folders(catalog, ds)):
        assert ".." not in path.split("/") and "\\" not in path and "//" not in path
    # Nothing was written to the storage by the sync.
    assert sorted(store.keys()) == sorted(["fine.jpg", *[k for k in bad]]) or store.kind == "local"


def test_sync_of_internal_dataset_is_refused(catalog, project):
    from dsdesk.errors import InvalidInputError

    ds = project.datasets.create("internal-ds")
    with pytest.raises(InvalidInputError, match="internal store"):
        ds.sync()


def test_cli_sync(catalog, project, store, capsys):
    from dsdesk.cli.main import main

    seed(store)
    ds = make_ds(project, store)
    url = catalog.db.url.replace("sqlite:///", "")
    assert main(["--catalog", url, "-q", "sync", ds.name, "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert main(["--catalog", url, "-q", "sync", ds.name]) == 0
    assert "new 3" in capsys.readouterr().out
    assert main(["--catalog", url, "-q", "sync", ds.name, "--delete-missing"]) == 0
