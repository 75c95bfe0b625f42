"""gc: only binaries no item anywhere (snapshots included) points at; external ones only
when the driver allows external delete."""

from __future__ import annotations

import os
import time

from sqlalchemy import delete, insert, select

from dsdesk.catalog.models import Blob, Driver, Item
from dsdesk.storage.blobstore import BlobStore
from dsdesk.versioning import clone, delete_snapshot, gc, snapshot


def _drop_items(db, dataset_id, names):
    with db.session() as s:
        s.execute(delete(Item).where(Item.dataset_id == dataset_id, Item.name.in_(names)))


def _blob(db, dataset_id, name):
    with db.session() as s:
        return s.execute(select(Blob).join(Item, Item.blob_id == Blob.id)
                         .where(Item.dataset_id == dataset_id, Item.name == name)).scalars().first()


def test_gc_keeps_what_clones_and_snapshots_use(cat, master):
    _, ds, _ = master
    store = BlobStore(cat.db.blob_root)
    b0, b1, b2 = (_blob(cat.db, ds.id, f"img{i}.png") for i in range(3))
    with cat.db.session() as s:
        clone(s, ds.id, "c1", filters={"filter": {"name": "img0.png"}})
        snapshot(s, ds.id, "v1")
    _drop_items(cat.db, ds.id, ["img0.png", "img1.png", "img2.png"])
    assert gc(cat.db, dry_run=True).candidate_count == 0  # the clone and the snapshot still point at them
    with cat.db.session() as s:
        delete_snapshot(s, ds.id, "v1")
    rep = gc(cat.db, dry_run=True)
    assert rep.dry_run and {c["blob_id"] for c in rep.candidates} == {b1.id, b2.id}
    assert rep.candidate_bytes == b1.size + b2.size
    assert store.exists(b1.storage_key)  # dry run deletes nothing
    rep = gc(cat.db, dry_run=False)
    assert rep.deleted_count == 2 and rep.deleted_bytes == b1.size + b2.size
    assert not store.exists(b1.storage_key) and not store.exists(b2.storage_key)
    assert store.exists(b0.storage_key)
    with cat.db.session() as s:
        assert s.get(Blob, b1.id) is None and s.get(Blob, b0.id) is not None
    assert gc(cat.db, dry_run=False).deleted_count == 0


def test_gc_external_only_when_allowed(cat, master):
    project, _, _ = master
    with cat.db.session() as s:
        d = s.execute(insert(Driver.__table__).values(project_id=project.id, name="bucket", kind="s3", bucket="b",
                                                      allow_external_delete=False)).inserted_primary_key[0]
        s.execute(insert(Blob.__table__).values(driver_id=d, storage_key="x/y.jpg", size=7))
    rep = gc(cat.db, dry_run=False)
    assert rep.deleted_count == 0 and rep.candidate_count == 1
    assert rep.kept[0]["key"] == "x/y.jpg" and "does not allow external delete" in rep.kept[0]["reason"]
    with cat.db.session() as s:
        assert s.execute(select(Blob.id).where(Blob.storage_key == "x/y.jpg")).first() is not None


def test_gc_removes_old_orphan_files_only(cat, master):
    store = BlobStore(cat.db.blob_root)
    old_key, _ = store.put_bytes(b"orphan from a crashed upload")
    new_key, _ = store.put_bytes(b"an upload in progress")
    past = time.time() - 2 * 3600
    os.utime(store.path_of(old_key), (past, past))
    rep = gc(cat.db, dry_run=True)
    assert [os.path.basename(p) for p in rep.orphan_files] == [old_key]
    gc(cat.db, dry_run=False)
    assert not store.exists(old_key) and store.exists(new_key)


def test_purging_the_master_keeps_binaries_a_clone_uses(cat, master):
    project, ds, _ = master
    store = BlobStore(cat.db.blob_root)
    c = ds.clone(clone_name="keep", filters={"filter": {"dir": "/a"}})
    kept = [_blob(cat.db, c.id, n) for n in ("img2.png", "img3.png")]
    gone = _blob(cat.db, ds.id, "img0.png")
    ds.snapshot("v1")
    ds.delete()
    project.datasets.purge(ds.id)
    assert all(store.exists(b.storage_key) for b in kept)
    assert c.items.get("/a/img2.png").open().read()[:4] == b"\x89PNG"
    # what only the master (and its snapshot) used is released by the purge or by gc
    gc(cat.db, dry_run=False)
    assert not store.exists(gone.storage_key)
    assert gc(cat.db, dry_run=True).candidate_count == 0
