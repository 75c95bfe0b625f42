"""Fixtures for the versioning tests: a real SQLite catalog file with real PNG images,
built through the public API, and a full dump of the catalog for exact comparisons."""

from __future__ import annotations

import pytest
from PIL import Image
from sqlalchemy import select, text

import dsdesk as dd
from dsdesk.catalog.models import Annotation, Dataset, Folder, Item, TaskStatus

BOX = {"type": "box", "coordinates": [{"x": 1, "y": 2}, {"x": 10, "y": 20}]}


def make_images(folder, n: int = 6):
    """*n* small, distinct PNG files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"img{i}.png"
        Image.new("RGB", (8 + i, 6 + i), (i * 30 % 256, 80, 160)).save(p)
        out.append(p)
    return out


@pytest.fixture
def cat(tmp_path):
    c = dd.open_catalog(tmp_path / "c.sqlite")
    yield c
    c.close()


@pytest.fixture
def images(tmp_path):
    return make_images(tmp_path / "src-images")


def build_master(cat, images, project_name="proj", dataset_name="master", labels=("car", "person")):
    """A master dataset: items in /, /a and /a/b, an empty folder /empty, user metadata,
    annotations and task statuses.  Returns (project, dataset, items by filename)."""
    try:
        project = cat.projects.get(project_name=project_name)
    except dd.NotFoundError:
        project = cat.projects.create(project_name)
    ds = project.datasets.create(dataset_name, labels=list(labels))
    places = ["/", "/", "/a", "/a", "/a/b", "/a/b"]
    items = {}
    for i, (img, d) in enumerate(zip(images, places, strict=False)):
        it = ds.items.upload(str(img), remote_path=d, item_metadata={"user": {"n": i, "split": "train" if i % 2 else "val"}})
        items[it.filename] = it
    ds.items.make_dir("/empty")
    first = items["/img0.png"]
    first.annotations.upload([{**BOX, "label": "car"}, {**BOX, "label": "person"}])
    items["/a/img2.png"].annotations.upload([{**BOX, "label": "car"}])
    first.update_status("completed", task="t1")
    items["/a/b/img4.png"].update_status("approved", task="t1")
    return project, ds.refresh(), items


@pytest.fixture
def master(cat, images):
    return build_master(cat, images)


def dataset_dump(db, dataset_id: int) -> dict:
    """Everything that makes up a dataset's content, ids included, in a stable order."""
    with db.session() as s:
        ds = s.get(Dataset, dataset_id)
        # Not content: row_version (an editor's conflict check) and v (the version that wrote
        # the state, dsdesk.versioning.points: a restored row is written anew).
        bookkeeping = ("row_version", "v")
        items = [tuple(r) for r in s.execute(select(*[c for c in Item.__table__.columns if c.name not in bookkeeping])
                                              .where(Item.dataset_id == dataset_id).order_by(Item.id))]
        anns = [tuple(r) for r in s.execute(select(*[c for c in Annotation.__table__.columns if c.name != "v"])
                                            .where(Annotation.dataset_id == dataset_id).order_by(Annotation.id))]
        ids = select(Item.id).where(Item.dataset_id == dataset_id)
        tasks = [tuple(r) for r in s.execute(select(TaskStatus.item_id, TaskStatus.task, TaskStatus.status,
                                                    TaskStatus.creator, TaskStatus.at)
                                             .where(TaskStatus.item_id.in_(ids)).order_by(TaskStatus.item_id,
                                                                                          TaskStatus.task))]
        folders = [tuple(r) for r in s.execute(select(Folder.path, Folder.created_at)
                                               .where(Folder.dataset_id == dataset_id).order_by(Folder.path))]
        return {"meta_user": ds.meta_user, "items": items, "annotations": anns, "tasks": tasks,
                "folders": folders, "stats": (ds.item_count, ds.annotated_count, ds.annotation_count,
                                              ds.folder_count, ds.bytes_total)}


def full_dump(db) -> dict:
    """Every row of every catalog table except the job log (jobs are recorded outside the
    operation's transaction by design)."""
    out = {}
    with db.engine.connect() as con:
        names = [r[0] for r in con.execute(text(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'item_name_fts%' AND name != 'job' ORDER BY name"))]
        for n in names:
            out[n] = sorted(tuple(map(repr, r)) for r in con.execute(text(f'SELECT * FROM "{n}"')))
    return out
