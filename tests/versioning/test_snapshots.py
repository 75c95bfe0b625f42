"""Snapshots: read-only, listing, exact rollback with a safety snapshot, item-level diff."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import dsdesk as dd
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.models import Dataset, Item
from dsdesk.versioning import (
    clone,
    delete_snapshot,
    diff,
    get_snapshot,
    list_snapshots,
    rollback,
    set_readonly,
    snapshot,
)

from .conftest import BOX, dataset_dump, make_images


def _snap(cat, ds_id, name):
    with cat.db.session() as s:
        return snapshot(s, ds_id, name)


def _mutate(cat, ds, tmp_path):
    """Change everything a rollback must undo."""
    it = ds.items.get("/img0.png")
    it.metadata["user"]["split"] = "test"
    it.update()
    it.annotations.upload([{**BOX, "label": "person"}])
    ds.items.get("/a/img2.png").annotations.delete(annotation_id=ds.items.get("/a/img2.png").annotations.list()[0].id)
    ds.items.get("/a/b/img4.png").update_status("rejected", task="t1")
    ds.items.get("/img1.png").update_status("done", task="t2")
    ds.items.get("/a/img3.png").delete()
    ds.items.get("/a/b/img5.png").move("/moved/img5.png")
    ds.items.upload(str(make_images(tmp_path / "more", 1)[0]), remote_path="/new")
    ds.items.make_dir("/another-empty")
    ds.metadata["user"]["owner"] = "bob"
    ds.refresh()
    ds.metadata["user"]["owner"] = "bob"
    ds.update()


def test_snapshot_is_a_read_only_copy(cat, master):
    _, ds, _ = master
    info = _snap(cat, ds.id, "v1")
    assert info.name == "v1" and info.item_count == 6 and info.annotation_count == 3 and not info.auto
    with cat.db.session() as s:
        frozen = s.get(Dataset, info.frozen_dataset_id)
        assert frozen.kind == "snapshot" and frozen.readonly
        with pytest.raises(dd.ReadOnlyError, match="snapshot"):
            writable_dataset(s, frozen.id)
        with pytest.raises(dd.ReadOnlyError):
            set_readonly(s, frozen.id, False)
        with pytest.raises(dd.ReadOnlyError):
            clone(s, ds.id, dst_dataset_id=frozen.id)
        with pytest.raises(dd.AlreadyExistsError):
            snapshot(s, ds.id, "v1")
    # hidden: not listed among datasets
    assert all(d.kind != "snapshot" for d in cat.datasets.list())
    with cat.db.session() as s:
        assert [x.name for x in list_snapshots(s, ds.id)] == ["v1"]
        assert get_snapshot(s, ds.id, "v1").id == info.id
        with pytest.raises(dd.NotFoundError):
            get_snapshot(s, ds.id, "nope")


def test_read_only_dataset_can_be_snapshotted_not_rolled_back(cat, master):
    _, ds, _ = master
    _snap(cat, ds.id, "v1")
    with cat.db.session() as s:
        set_readonly(s, ds.id, True)
        snapshot(s, ds.id, "v2")
    with pytest.raises(dd.ReadOnlyError):
        with cat.db.session() as s:
            rollback(s, ds.id, "v1")


def test_rollback_restores_exactly(cat, master, tmp_path):
    _, ds, items = master
    before = dataset_dump(cat.db, ds.id)
    _snap(cat, ds.id, "v1")
    assert dataset_dump(cat.db, ds.id) == before  # taking a snapshot changes nothing
    _mutate(cat, ds, tmp_path)
    mutated = dataset_dump(cat.db, ds.id)
    assert mutated != before
    with cat.db.session() as s:
        res = rollback(s, ds.id, "v1")
    after = dataset_dump(cat.db, ds.id)
    assert after == before
    # ids preserved: the item objects held before still resolve
    assert ds.items.get(item_id=items["/a/img3.png"].id).filename == "/a/img3.png"
    # the safety snapshot holds the mutated state, and rolling back to it restores that
    assert res.safety_snapshot.auto
    with cat.db.session() as s:
        assert [x.auto for x in list_snapshots(s, ds.id)] == [False, True]
        rollback(s, ds.id, res.safety_snapshot.name)
    assert dataset_dump(cat.db, ds.id) == mutated


def test_rollback_bumps_row_versions(cat, master):
    """An item the rollback restores gets a version above any it had, so an editor holding
    a copy read before the rollback gets a conflict.  Rollback writes only what changed
    since the snapshot (issue 18): an untouched item keeps its version, and an editor's
    copy of it is still the item as it is."""
    _, ds, _ = master
    _snap(cat, ds.id, "v1")
    it = ds.items.get("/img0.png")
    it.metadata["user"]["split"] = "test"
    it.update()
    with cat.db.session() as s:
        old = dict(s.execute(select(Item.id, Item.row_version).where(Item.dataset_id == ds.id)).all())
        rollback(s, ds.id, "v1")
        new = dict(s.execute(select(Item.id, Item.row_version).where(Item.dataset_id == ds.id)).all())
    assert set(old) == set(new)
    assert new[it.id] > old[it.id]
    assert all(new[i] == old[i] for i in old if i != it.id)


def test_diff_dataset_vs_snapshot_and_two_snapshots(cat, master, tmp_path):
    _, ds, items = master
    _snap(cat, ds.id, "v1")
    _mutate(cat, ds, tmp_path)
    with cat.db.session() as s:
        d = diff(s, ds.id, "v1")
    assert d.counts == {"added": 1, "removed": 1, "changed": 5}
    assert d.added[0]["filename"] == "/new/img0.png"
    assert d.removed == [{"id": items["/a/img3.png"].id, "filename": "/a/img3.png"}]
    ch = {c["filename"]: set(c["changes"]) for c in d.changed}
    assert ch == {"/img0.png": {"metadata", "annotations"}, "/a/img2.png": {"annotations"},
                  "/moved/img5.png": {"path"}, "/a/b/img4.png": {"status"}, "/img1.png": {"status"}}
    _snap(cat, ds.id, "v2")
    with cat.db.session() as s:
        d2 = diff(s, ds.id, "v1", "v2")
        same = diff(s, ds.id, "v2")
    assert d2.counts == d.counts
    assert same.counts == {"added": 0, "removed": 0, "changed": 0}


def test_diff_sees_binary_change(cat, master):
    _, ds, _ = master
    _snap(cat, ds.id, "v1")
    with cat.db.session() as s:
        a, b = s.execute(select(Item.id, Item.blob_id).where(Item.dataset_id == ds.id).order_by(Item.id).limit(2)).all()
        s.get(Item, a.id).blob_id = b.blob_id
    with cat.db.session() as s:
        d = diff(s, ds.id, "v1")
    assert d.counts["changed"] == 1 and d.changed[0]["changes"] == ["binary"]


def test_delete_snapshot(cat, master):
    _, ds, _ = master
    info = _snap(cat, ds.id, "v1")
    with cat.db.session() as s:
        delete_snapshot(s, ds.id, "v1")
    with cat.db.session() as s:
        assert s.get(Dataset, info.frozen_dataset_id) is None
        assert s.scalars(select(Item.id).where(Item.dataset_id == info.frozen_dataset_id)).first() is None
