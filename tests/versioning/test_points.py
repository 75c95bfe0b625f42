"""Snapshots as version points (issue 18) on both databases: no row is copied, archived
states keep their binaries and go when no snapshot sees them, and on PostgreSQL a point
waits for the writes in flight so it is an exact cut."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select, text, update

from dsdesk.catalog.models import ITEM_HISTORY, Blob, Item
from dsdesk.storage.blobstore import BlobStore
from dsdesk.versioning import delete_snapshot, diff, gc, list_snapshots, rollback, snapshot
from tests.versioning.conftest import build_master, dataset_dump, make_images
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture of catalog_on_both


@pytest.fixture
def master(catalog_on_both, tmp_path):
    cat = catalog_on_both
    return cat, *build_master(cat, make_images(tmp_path / "img"), project_name=f"p-{uuid.uuid4().hex[:8]}")


def _rows(db, table) -> int:
    with db.session() as s:
        return s.execute(select(func.count()).select_from(table)).scalar()


def _snap(db, d, name):
    with db.session(write=True) as s:
        return snapshot(s, d, name)


def test_a_snapshot_copies_no_row_and_keeps_the_binaries_it_sees(master):
    cat, _, ds, items = master
    n_items = _rows(cat.db, Item.__table__)
    _snap(cat.db, ds.id, "v1")
    assert _rows(cat.db, Item.__table__) == n_items  # nothing copied
    gone = items["/a/img3.png"]
    with cat.db.session() as s:
        key = s.execute(select(Blob.storage_key).join(Item, Item.blob_id == Blob.id)
                        .where(Item.id == gone.id)).scalar()
    gone.delete()
    gc(cat.db, dry_run=False)
    # the snapshot still sees the deleted item, so its binary stays
    assert BlobStore(cat.db.blob_root).exists(key)
    with cat.db.session(write=True) as s:
        rollback(s, ds.id, "v1")
    assert ds.items.get("/a/img3.png").open().read()[:4] == b"\x89PNG"


def test_deleting_a_snapshot_frees_only_what_no_other_one_sees(master):
    cat, _, ds, items = master
    it = ds.items.get("/img0.png")
    start = dataset_dump(cat.db, ds.id)
    _snap(cat.db, ds.id, "v1")
    it.metadata["user"]["split"] = "first"
    it = it.update()
    middle = dataset_dump(cat.db, ds.id)
    _snap(cat.db, ds.id, "v2")
    it.metadata["user"]["split"] = "second"
    it.update()
    with cat.db.session(write=True) as s:
        delete_snapshot(s, ds.id, "v1")
        # v2 still sees the middle state: kept; the first state only v1 saw: gone
        states = s.execute(select(ITEM_HISTORY.c.meta_user).where(ITEM_HISTORY.c.id == it.id)).scalars().all()
        assert [m["split"] for m in states] == ["first"]
        rollback(s, ds.id, "v2")
    assert dataset_dump(cat.db, ds.id) == middle != start
    with cat.db.session(write=True) as s:
        for info in list_snapshots(s, ds.id):
            delete_snapshot(s, ds.id, info.id)
        assert s.execute(select(func.count()).select_from(ITEM_HISTORY)
                         .where(ITEM_HISTORY.c.dataset_id == ds.id)).scalar() == 0
        assert s.execute(text("SELECT cow_point FROM dataset WHERE id = :d"), {"d": ds.id}).scalar() is None


def test_diff_between_two_points_reads_their_states(master):
    cat, _, ds, items = master
    _snap(cat.db, ds.id, "v1")
    ds.items.get("/img1.png").move("/moved/img1.png")
    _snap(cat.db, ds.id, "v2")
    ds.items.get("/a/img2.png").delete()
    with cat.db.session() as s:
        d12 = diff(s, ds.id, "v1", "v2")
        d21 = diff(s, ds.id, "v2", "v1")
        d2 = diff(s, ds.id, "v2")
    assert d12.counts == {"added": 0, "removed": 0, "changed": 1}
    assert d12.changed == [{"id": items["/img1.png"].id, "filename": "/moved/img1.png", "changes": ["path"]}]
    assert d21.changed[0]["filename"] == "/img1.png"
    assert d2.counts == {"added": 0, "removed": 1, "changed": 0}


@pytest.fixture
def two_pg_clients(pg_url, tmp_path, monkeypatch):  # noqa: F811 - the fixture imported above
    """Two clients of one PostgreSQL catalog (SQLite has one writer at a time: there a
    point is always a cut)."""
    import dsdesk

    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
    a = dsdesk.open_catalog(pg_url)
    b = dsdesk.open_catalog(pg_url)
    yield a, b
    b.close()
    a.close()


def test_a_point_waits_for_writes_in_flight_on_postgres(two_pg_clients, tmp_path):
    a, b = two_pg_clients
    _, ds, items = build_master(a, make_images(tmp_path / "img"), project_name=f"p-{uuid.uuid4().hex[:8]}")
    item_id = items["/img0.png"].id
    done = threading.Event()

    def take():
        with b.db.session(write=True) as s:
            snapshot(s, ds.id, "cut")
        done.set()

    with a.db.session(write=True) as s:
        s.execute(update(Item).where(Item.id == item_id).values(meta_user={"split": "in flight"}))
        t = threading.Thread(target=take)
        t.start()
        time.sleep(0.5)
        assert not done.is_set()  # the point waits for this transaction
    t.join(10)
    assert done.is_set()
    with a.db.session() as s:
        # the point came after the commit: it sees the write, so nothing changed since
        assert diff(s, ds.id, "cut").counts == {"added": 0, "removed": 0, "changed": 0}
