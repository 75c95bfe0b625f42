"""Clone: zero-copy, lineage, each flag, folders, clone-into, drivers, read-only, filters."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

import dsdesk as dd
from dsdesk.catalog.models import Annotation, Blob, Driver, Folder, Item, TaskStatus
from dsdesk.versioning import clone, set_readonly

from .conftest import BOX


def _items(db, dataset_id):
    with db.session() as s:
        return {(r.dir, r.name): r for r in s.execute(select(Item).where(Item.dataset_id == dataset_id)).scalars()}


def _folders(db, dataset_id):
    with db.session() as s:
        return set(s.scalars(select(Folder.path).where(Folder.dataset_id == dataset_id)))


def test_clone_shares_blobs_and_keeps_lineage(cat, master, tmp_path):
    _, ds, _ = master
    blob_files_before = sorted(p.name for p in cat.db.blob_root.rglob("*") if p.is_file())
    with cat.db.session() as s:
        n_blobs = s.scalar(select(func.count()).select_from(Blob))
        res = clone(s, ds.id, "c1")
    src, dst = _items(cat.db, ds.id), _items(cat.db, res.dataset_id)
    assert res.items == 6 and set(src) == set(dst)
    for k, it in dst.items():
        assert it.blob_id == src[k].blob_id  # the same binary, not a copy
        assert it.master_item_id == src[k].id and it.parent_item_id == src[k].id
        assert it.meta_user == src[k].meta_user
    with cat.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Blob)) == n_blobs
    assert sorted(p.name for p in cat.db.blob_root.rglob("*") if p.is_file()) == blob_files_before
    c1 = cat.datasets.get(res.dataset_id)
    assert c1.kind == "clone" and c1.src_dataset_id == ds.id and c1.items_count == 6
    assert c1.annotations_count == 3 and c1.recipe_id == ds.recipe_id

    # a clone of the clone: master stays the original, parent is the clone's item,
    # annotations point at the root of the copy chain
    with cat.db.session() as s:
        res2 = clone(s, res.dataset_id, "c2")
    c2 = _items(cat.db, res2.dataset_id)
    for k, it in c2.items():
        assert it.master_item_id == src[k].id and it.parent_item_id == dst[k].id
    with cat.db.session() as s:
        roots = s.execute(select(Annotation.src_annotation_id).where(Annotation.dataset_id == res2.dataset_id)).scalars().all()
        originals = s.execute(select(Annotation.id).where(Annotation.dataset_id == ds.id)).scalars().all()
    assert sorted(roots) == sorted(originals)


def test_clone_copies_folders_including_empty_ones(cat, master):
    _, ds, _ = master
    with cat.db.session() as s:
        res = clone(s, ds.id, "c1")
    assert _folders(cat.db, res.dataset_id) == _folders(cat.db, ds.id) >= {"/a", "/a/b", "/empty"}


def test_clone_flags(cat, master):
    _, ds, items = master
    with cat.db.session() as s:
        res = clone(s, ds.id, "bare", with_items_annotations=False, with_metadata=False,
                    with_task_annotations_status=False)
    dst = _items(cat.db, res.dataset_id)
    assert all(it.meta_user == {} for it in dst.values())
    assert not any(it.annotated for it in dst.values())
    with cat.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Annotation).where(Annotation.dataset_id == res.dataset_id)) == 0
        ids = select(Item.id).where(Item.dataset_id == res.dataset_id)
        assert s.scalar(select(func.count()).select_from(TaskStatus).where(TaskStatus.item_id.in_(ids))) == 0
    # binary facts follow the blob
    c = cat.datasets.get(res.dataset_id)
    got = c.items.get("/a/img2.png")
    assert (got.width, got.height, got.mimetype, got.size) == (
        items["/a/img2.png"].width, items["/a/img2.png"].height, items["/a/img2.png"].mimetype,
        items["/a/img2.png"].size)

    with cat.db.session() as s:
        full = clone(s, ds.id, "full")
    assert full.task_statuses == 2 and full.annotations == 3
    f = cat.datasets.get(full.dataset_id)
    assert {st["status"] for st in f.items.get("/img0.png").statuses()} == {"completed"}
    assert f.items.get("/img0.png").metadata["user"] == {"n": 0, "split": "val"}


def test_clone_into_existing_dataset_and_folder(cat, master):
    project, ds, _ = master
    other = project.datasets.create("other", labels=["car"])
    with cat.db.session() as s:
        res = clone(s, ds.id, dst_dataset_id=other.id, target_directory="/imported/v1")
    assert res.dataset_id == other.id and res.items == 6
    names = {(d, n) for d, n in _items(cat.db, other.id)}
    assert ("/imported/v1", "img0.png") in names and ("/imported/v1/a/b", "img4.png") in names
    assert {"/imported", "/imported/v1", "/imported/v1/a", "/imported/v1/empty"} <= _folders(cat.db, other.id)
    assert cat.datasets.get(other.id).items_count == 6
    # a second clone into the same folder would overwrite paths: refused before writing
    with pytest.raises(dd.AlreadyExistsError, match="already exist"):
        with cat.db.session() as s:
            clone(s, ds.id, dst_dataset_id=other.id, target_directory="/imported/v1")
    assert cat.datasets.get(other.id).refresh().items_count == 6
    with cat.db.session() as s:
        clone(s, ds.id, dst_dataset_id=other.id, target_directory="/imported/v2")
    assert cat.datasets.get(other.id).items_count == 12


def test_clone_refuses_other_storage_and_read_only(cat, master):
    project, ds, _ = master
    with cat.db.session() as s:
        drv = s.execute(insert(Driver.__table__).values(project_id=project.id, name="bucket", kind="s3",
                                                        bucket="b")).inserted_primary_key[0]
    ext = project.datasets.create("ext", driver_id=drv)
    before = cat.datasets.get(ext.id).items_count
    with pytest.raises(dd.InvalidInputError, match="internal -> internal"):
        with cat.db.session() as s:
            clone(s, ds.id, dst_dataset_id=ext.id)
    assert cat.datasets.get(ext.id).items_count == before
    ro = project.datasets.create("ro")
    with cat.db.session() as s:
        set_readonly(s, ro.id, True)
    with pytest.raises(dd.ReadOnlyError, match="read-only"):
        with cat.db.session() as s:
            clone(s, ds.id, dst_dataset_id=ro.id)
    with pytest.raises(dd.AlreadyExistsError):
        with cat.db.session() as s:
            clone(s, ds.id, "ro")
    with pytest.raises(dd.InvalidInputError):
        with cat.db.session() as s:
            clone(s, ds.id)


def test_clone_with_filters(cat, master):
    _, ds, _ = master
    with cat.db.session() as s:
        res = clone(s, ds.id, "train", filters={"filter": {"metadata.user.split": "train"}})
    dst = _items(cat.db, res.dataset_id)
    assert {n for _, n in dst} == {"img1.png", "img3.png", "img5.png"}
    with cat.db.session() as s:
        res = clone(s, ds.id, "sub-a", filters={"filter": {"dir": "/a"}})
    assert {n for _, n in _items(cat.db, res.dataset_id)} == {"img2.png", "img3.png"}
    assert cat.datasets.get(res.dataset_id).annotations_count == 1
    assert _folders(cat.db, res.dataset_id) == {"/a"}


def test_clone_of_clone_annotation_added_later_roots_at_itself(cat, master):
    _, ds, _ = master
    with cat.db.session() as s:
        res = clone(s, ds.id, "c1")
    c1 = cat.datasets.get(res.dataset_id)
    new = c1.items.get("/img1.png").annotations.upload([{**BOX, "label": "car"}])[0]
    with cat.db.session() as s:
        res2 = clone(s, c1.id, "c2")
        roots = set(s.scalars(select(Annotation.src_annotation_id).where(Annotation.dataset_id == res2.dataset_id)))
    assert new.id in roots
