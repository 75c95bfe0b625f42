"""The public API's versioning methods (each runs as a recorded job)."""

from __future__ import annotations

import pytest

import dsdesk as dd

from .conftest import build_master, dataset_dump, make_images


def test_api_clone_snapshot_rollback_diff_merge_gc(cat, master, tmp_path):
    project, ds, _ = master
    c = ds.clone(clone_name="golden", filters={"filter": {"dir": "/a"}})
    assert c.kind == "clone" and c.items_count == 2 and c.report.items == 2
    into = ds.clone(dst_dataset_id=c.id, target_directory="/all")
    assert into.id == c.id and into.items_count == 8

    before = dataset_dump(cat.db, ds.id)
    snap = ds.snapshot("before-relabel")
    assert [s.name for s in ds.snapshots.list()] == ["before-relabel"]
    assert ds.snapshots.get("before-relabel").id == snap.id
    ds.items.get("/img1.png").delete()
    d = ds.diff(snap)
    assert d.counts["removed"] == 1
    r = ds.rollback(snap)
    assert r.safety_snapshot.auto and ds.items_count == 6
    assert dataset_dump(cat.db, ds.id) == before
    assert ds.diff("before-relabel").counts == {"added": 0, "removed": 0, "changed": 0}
    # Diff and rollback compare with snapshots: a dataset given instead is a clear error.
    with pytest.raises(dd.InvalidInputError, match="snapshot is given by its name"):
        ds.diff(other=c)
    with pytest.raises(dd.InvalidInputError, match="not None|NoneType|snapshot is given"):
        ds.rollback(None)

    a = ds.clone(clone_name="a")
    b = ds.clone(clone_name="b")
    m = project.datasets.merge(merge_name="ab", dataset_ids=[a.id, b.id])
    assert m.kind == "merge" and m.items_count == 6 and m.report.duplicate_annotations_skipped == 3

    p2, ds2, _ = build_master(cat, make_images(tmp_path / "p2", 6), project_name="p2", dataset_name="m2")
    x = cat.datasets.merge(merge_name="x", dataset_ids=[ds.id, ds2.id], project_ids=[p2.id])
    assert x.project_id == p2.id and x.items_count == 12

    other = project.datasets.create("animals", labels=["cat"])
    other.items.upload(str(make_images(tmp_path / "z", 1)[0]), remote_path="/z")
    with pytest.raises(dd.InvalidInputError, match="switch_recipe"):
        project.datasets.merge(merge_name="bad", dataset_ids=[ds, other])
    other.switch_recipe(ds.recipe)
    assert project.datasets.merge(merge_name="good", dataset_ids=[ds, other]).items_count == 7

    ds.set_readonly(True)
    with pytest.raises(dd.ReadOnlyError):
        ds.rollback(snap)
    with pytest.raises(dd.ReadOnlyError):
        a.clone(dst_dataset_id=ds.id)
    ds.set_readonly(False)

    ds.snapshots.delete("before-relabel")
    rep = cat.gc(dry_run=True)
    assert rep.dry_run
    kinds = {j["kind"] for j in cat.jobs(100)}
    assert {"clone", "snapshot", "rollback", "diff", "merge", "gc"} <= kinds
