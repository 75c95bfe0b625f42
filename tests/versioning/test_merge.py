"""Merge: clones unify, annotations once, metadata conflicts listed, non-clones summed,
path collisions renamed and listed, different recipes refused, across projects."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import dsdesk as dd
from dsdesk.catalog.models import Annotation, Item, TaskStatus
from dsdesk.versioning import clone, merge, switch_recipe

from .conftest import BOX, build_master, make_images


def _clones(cat, ds, **kw):
    with cat.db.session() as s:
        a = clone(s, ds.id, "ca").dataset_id
        b = clone(s, ds.id, "cb").dataset_id
    return cat.datasets.get(a), cat.datasets.get(b)


def test_merge_of_clones_unifies_items_and_annotations(cat, master):
    _, ds, items = master
    a, b = _clones(cat, ds)
    # each clone gets one new annotation on img1; the 3 inherited ones exist in both
    na = a.items.get("/img1.png").annotations.upload([{**BOX, "label": "car"}])[0]
    nb = b.items.get("/img1.png").annotations.upload([{**BOX, "label": "person"}])[0]
    with cat.db.session() as s:
        res = merge(s, "merged", [a.id, b.id])
    m = cat.datasets.get(res.dataset_id)
    assert m.kind == "merge" and res.items == 6 and m.items_count == 6
    assert res.annotations == 5 and res.duplicate_annotations_skipped == 3
    with cat.db.session() as s:
        rows = s.execute(select(Item).where(Item.dataset_id == m.id)).scalars().all()
        by_name = {r.name: r for r in rows}
        assert by_name["img0.png"].master_item_id == items["/img0.png"].id
        assert by_name["img0.png"].blob_id == s.get(Item, items["/img0.png"].id).blob_id
        anns = s.execute(select(Annotation.item_id, Annotation.src_annotation_id)
                         .where(Annotation.dataset_id == m.id)).all()
    on_img1 = {src for iid, src in anns if iid == by_name["img1.png"].id}
    assert on_img1 == {na.id, nb.id}
    assert len({src for _, src in anns}) == len(anns)  # every source annotation once
    assert m.annotations_count == 5 and m.annotated_count == 3


def test_merge_metadata_conflicts_follow_the_rule_and_are_listed(cat, master):
    _, ds, _ = master
    a, b = _clones(cat, ds)
    ia, ib = a.items.get("/img0.png"), b.items.get("/img0.png")
    ia.metadata["user"].update({"split": "test", "only_a": 1})
    ia.update()
    ib.metadata["user"].update({"split": "train", "only_b": 2})
    ib.update()
    with cat.db.session() as s:
        res = merge(s, "m", [a.id, b.id], with_metadata=True)
    m = cat.datasets.get(res.dataset_id)
    got = m.items.get("/img0.png").metadata["user"]
    assert got == {"n": 0, "split": "test", "only_a": 1, "only_b": 2}  # first input wins, keys united
    assert res.metadata_conflict_count == 1
    c = res.metadata_conflicts[0]
    assert c["filename"] == "/img0.png" and c["key"] == "split"
    assert c["kept_from"] == "ca" and c["dropped_from"] == "cb"
    assert "first input" in res.rule
    # default with_metadata=False: user metadata empty
    with cat.db.session() as s:
        res2 = merge(s, "m2", [a.id, b.id])
    assert cat.datasets.get(res2.dataset_id).items.get("/img0.png").metadata["user"] == {}


def test_merge_of_non_clones_sums_and_renames_collisions(cat, master, tmp_path):
    project, ds, _ = master
    imgs2 = make_images(tmp_path / "other-images", 3)
    other = project.datasets.create("other", labels=["car", "person"])
    other.items.upload(str(imgs2[0]), remote_path="/")  # same path as master's /img0.png
    other.items.upload(str(imgs2[2]), remote_path="/new")
    with cat.db.session() as s:
        res = merge(s, "sum", [ds.id, other.id])
    m = cat.datasets.get(res.dataset_id)
    assert m.items_count == 8
    assert res.renamed_count == 1
    assert res.renamed[0] == {"filename": "/img0.png", "renamed_to": "/img0 (other).png", "dataset": "other"}
    got = m.items.get("/img0 (other).png")
    assert got.size == imgs2[0].stat().st_size
    assert m.items.get("/img0.png").size == ds.items.get("/img0.png").size


def test_merge_refuses_different_recipes_until_switched(cat, master, tmp_path):
    project, ds, _ = master
    other = project.datasets.create("animals", labels=["cat", "dog"])
    other.items.upload(str(make_images(tmp_path / "x", 1)[0]), remote_path="/z")
    with pytest.raises(dd.InvalidInputError) as e:
        with cat.db.session() as s:
            merge(s, "bad", [ds.id, other.id])
    msg = str(e.value)
    assert "master recipe" in msg and "animals recipe" in msg and "switch_recipe" in msg
    assert all(d.name != "bad" for d in project.datasets.list())
    with cat.db.session() as s:
        switch_recipe(s, other.id, ds.recipe_id)
        res = merge(s, "good", [ds.id, other.id])
    assert cat.datasets.get(res.dataset_id).items_count == 7


def test_merge_across_projects_and_task_statuses(cat, master, tmp_path):
    project, ds, _ = master
    p2, ds2, _ = build_master(cat, make_images(tmp_path / "p2", 6), project_name="p2", dataset_name="m2")
    with cat.db.session() as s:
        res = merge(s, "cross", [ds.id, ds2.id], project_id=p2.id, with_task_annotations_status=True)
    m = cat.datasets.get(res.dataset_id)
    assert m.project_id == p2.id and m.items_count == 12 and res.renamed_count == 6
    with cat.db.session() as s:
        ids = select(Item.id).where(Item.dataset_id == m.id)
        n = len(s.execute(select(TaskStatus).where(TaskStatus.item_id.in_(ids))).all())
    assert n == 4 and res.task_statuses == 4


def test_merge_needs_two_datasets_and_a_free_name(cat, master):
    _, ds, _ = master
    a, b = _clones(cat, ds)
    with pytest.raises(dd.InvalidInputError):
        with cat.db.session() as s:
            merge(s, "x", [a.id])
    with pytest.raises(dd.AlreadyExistsError):
        with cat.db.session() as s:
            merge(s, "ca", [a.id, b.id])
