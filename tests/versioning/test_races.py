"""Folder moves, renames and deletes that race with a clone or a merge end consistent.

Two catalogs on one database (SQLite file, PostgreSQL), one thread each.  The clone or merge
is stopped inside its transaction (at a named checkpoint, after it has started reading)
while the other client moves, renames or deletes a folder of the source; then both finish.
Afterwards the copy is the source as it was either before or after the folder operation (on
SQLite the folder operation waits for the write lock; on PostgreSQL it commits while the copy
runs on its snapshot), every dataset's cached counts match its rows, every item's folder
exists, no path is duplicated, and every item's bytes can still be read.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Folder, Item
from dsdesk.versioning import _common
from tests.conftest import make_image
from tests.versioning.test_postgres import pg_url  # noqa: F401  (the module's PostgreSQL server)

WAIT = 60


@pytest.fixture
def images(tmp_path_factory):
    """A tree of real JPEGs: /a (6), /a/sub (4), /b (5), made once per module."""
    root = tmp_path_factory.mktemp("race-images")
    n = 0
    for folder, count in (("a", 6), ("a/sub", 4), ("b", 5)):
        for _ in range(count):
            make_image(root / folder / f"img{n:03d}.jpg", (24, 16), (n * 13 % 255, 90, 160))
            n += 1
    return root


@pytest.fixture
def src(cats, images, request):
    a, _ = cats
    project = a.projects.create(f"p-{request.node.name}"[:60])
    ds = project.datasets.create("src", labels=["car"])
    for sub in ("a", "b"):
        ds.items.upload(local_path=str(images / sub), remote_path="/")
    ds.items.make_dir("/empty/deeper")
    item = ds.items.get(filepath="/a/sub/" + sorted(p.name for p in (images / "a" / "sub").iterdir())[0])
    item.annotations.upload([{"type": "box", "label": "car", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}])
    return ds.refresh()


def paths_of(cat, dataset_id: int) -> set[tuple[str, str]]:
    with cat.db.session() as s:
        return set(s.execute(select(Item.dir, Item.name).where(Item.dataset_id == dataset_id)).all())


def folders_of(cat, dataset_id: int) -> set[str]:
    with cat.db.session() as s:
        return set(s.execute(select(Folder.path).where(Folder.dataset_id == dataset_id)).scalars())


def check_consistent(cat, dataset_id: int) -> None:
    """Cached counts match the rows, every item's folder (and its parents) is a folder row,
    and every item's binary reads."""
    with cat.db.session() as s:
        row = s.get(DatasetRow, dataset_id)
        n = s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == dataset_id)).scalar()
        n_folders = s.execute(select(func.count()).select_from(Folder).where(Folder.dataset_id == dataset_id)).scalar()
        assert (row.item_count, row.folder_count) == (n, n_folders), f"dataset {row.name}: counts vs rows"
    folders = folders_of(cat, dataset_id)
    for d, _ in paths_of(cat, dataset_id):
        parts = [p for p in d.split("/") if p]
        for i in range(1, len(parts) + 1):
            assert "/" + "/".join(parts[:i]) in folders, f"folder of {d} missing"
    for item in cat.dataset_by_id(dataset_id).items.list().all():
        with item.open() as f:
            assert f.read(2) == b"\xff\xd8", f"{item.filename}: its bytes are gone"


def moved(before: set, src_dir: str, new_dir: str) -> set:
    """*before*'s paths with folder *src_dir* (and below) at *new_dir*."""
    out = set()
    for d, n in before:
        if d == src_dir or d.startswith(src_dir + "/"):
            d = new_dir + d[len(src_dir):]
        out.add((d, n))
    return out


def race(monkeypatch, pause_at: tuple[str, str], copy, folder_op):
    """Run *copy* (a clone or merge) on a thread, stop it at checkpoint *pause_at*, run
    *folder_op* on another thread, let the copy go on; returns (copy's result, op's result)."""
    reached, go = threading.Event(), threading.Event()
    copier: list[threading.Thread] = []

    def hook(op, step):
        if (op, step) == pause_at and threading.current_thread() in copier:
            reached.set()
            assert go.wait(WAIT), "never released"

    monkeypatch.setattr(_common, "checkpoint_hook", hook)
    out: dict[str, object] = {}

    def run(key, fn):
        try:
            out[key] = fn()
        except BaseException as e:  # noqa: BLE001 - the test reports it
            out[key + "_error"] = e

    t1 = threading.Thread(target=run, args=("copy", copy))
    copier.append(t1)
    t1.start()
    assert reached.wait(WAIT), out.get("copy_error")
    t2 = threading.Thread(target=run, args=("op", folder_op))
    t2.start()
    t2.join(1.5)  # PostgreSQL: the folder operation commits now; SQLite: it waits for the lock
    go.set()
    t1.join(WAIT)
    t2.join(WAIT)
    assert not t1.is_alive() and not t2.is_alive()
    for key in ("copy", "op"):
        if key + "_error" in out:
            raise AssertionError(f"the {key} failed: {out[key + '_error']!r}") from out[key + "_error"]
    return out["copy"], out["op"]


FOLDER_OPS = {
    "move": (lambda ds: ds.items.move_folder("/a/sub", "/b"), ("/a/sub", "/b/sub")),
    "rename": (lambda ds: ds.items.rename_folder("/a", "renamed"), ("/a", "/renamed")),
}


@pytest.mark.parametrize("kind", sorted(FOLDER_OPS))
def test_clone_racing_a_folder_move_or_rename(cats, src, monkeypatch, kind):
    a, b = cats
    before, folders_before = paths_of(a, src.id), folders_of(a, src.id)
    op, (old, new) = FOLDER_OPS[kind]
    clone, _ = race(monkeypatch, ("clone", "start"), lambda: a.dataset_by_id(src.id).clone(clone_name="c"),
                    lambda: op(b.dataset_by_id(src.id)))
    after = moved(before, old, new)
    assert paths_of(a, src.id) == after
    got = paths_of(a, clone.id)
    assert got in (before, after)
    assert folders_of(a, clone.id) == (folders_before if got == before else folders_of(a, src.id))
    for ds_id in (src.id, clone.id):
        check_consistent(a, ds_id)
    assert a.dataset_by_id(clone.id).annotations_count == 1


def test_clone_racing_a_folder_delete(cats, src, monkeypatch):
    a, b = cats
    before = paths_of(a, src.id)
    clone, n = race(monkeypatch, ("clone", "start"), lambda: a.dataset_by_id(src.id).clone(clone_name="c"),
                    lambda: b.dataset_by_id(src.id).items.delete(folder="/a"))
    assert n == 10
    after = {(d, name) for d, name in before if not (d == "/a" or d.startswith("/a/"))}
    assert paths_of(a, src.id) == after
    assert paths_of(a, clone.id) in (before, after)
    for ds_id in (src.id, clone.id):
        check_consistent(a, ds_id)  # a binary the clone still points at was not released


def test_merge_racing_a_folder_move_and_a_delete(cats, src, monkeypatch):
    a, b = cats
    other = a.dataset_by_id(src.id).clone(clone_name="other")
    project = a.projects.get(project_id=src.project_id)
    before = paths_of(a, src.id)
    merged, _ = race(monkeypatch, ("merge", "start"),
                     lambda: project.datasets.merge("m", [src.id, other.id], with_items_annotations=True),
                     lambda: b.dataset_by_id(src.id).items.move_folder("/a", "/b"))
    assert paths_of(a, merged.id) in (before, moved(before, "/a", "/b/a"))
    check_consistent(a, merged.id)
    check_consistent(a, src.id)
    merged2, _ = race(monkeypatch, ("merge", "start"),
                      lambda: project.datasets.merge("m2", [other.id, src.id]),
                      lambda: b.dataset_by_id(other.id).items.delete(folder="/a"))
    check_consistent(a, merged2.id)
    check_consistent(a, other.id)


def test_clone_into_a_folder_racing_a_move_in_the_destination(cats, src, monkeypatch):
    a, b = cats
    dst = a.projects.get(project_id=src.project_id).datasets.create("dst", labels=["car"])
    dst.items.make_dir("/in/box")
    race(monkeypatch, ("clone", "start"),
         lambda: a.dataset_by_id(src.id).clone(dst_dataset_id=dst.id, target_directory="/in/box"),
         lambda: b.dataset_by_id(dst.id).items.rename_folder("/in", "moved"))
    got = paths_of(a, dst.id)
    assert len(got) == len(paths_of(a, src.id))  # nothing lost or duplicated
    assert {d.split("/")[1] for d, _ in got} <= {"in", "moved"}
    check_consistent(a, dst.id)


def test_clone_into_a_dataset_racing_a_delete_there_keeps_its_counts(cats, src, monkeypatch, images):
    a, b = cats
    dst = a.projects.get(project_id=src.project_id).datasets.create("dst2", labels=["car"])
    dst.items.upload(local_path=str(images / "b"), remote_path="/old")
    race(monkeypatch, ("clone", "start"),
         lambda: a.dataset_by_id(src.id).clone(dst_dataset_id=dst.id, target_directory="/new"),
         lambda: b.dataset_by_id(dst.id).items.delete(folder="/old"))
    got = paths_of(a, dst.id)
    assert {d.split("/")[1] for d, _ in got} == {"new"}  # the delete ran, the clone landed whole
    assert len(got) == len(paths_of(a, src.id))
    check_consistent(a, dst.id)


def test_clones_and_moves_running_freely_side_by_side(cats, src):
    """No pause: one client moves a folder back and forth while the other clones; each
    clone is the source with the folder in one place or the other, whole."""
    a, b = cats
    here = paths_of(a, src.id)
    there = moved(here, "/a", "/b/a")
    errors: list[BaseException] = []

    def mover():
        try:
            ds = b.dataset_by_id(src.id)
            for _ in range(4):
                ds.items.move_folder("/a", "/b")
                ds.items.move_folder("/b/a", "/")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=mover)
    t.start()
    clones = [a.dataset_by_id(src.id).clone(clone_name=f"free{i}") for i in range(4)]
    t.join(WAIT)
    assert not errors, errors
    assert paths_of(a, src.id) == here
    for c in clones:
        assert paths_of(a, c.id) in (here, there)
        check_consistent(a, c.id)
    check_consistent(a, src.id)


def test_clone_racing_a_sync_that_deletes_vanished_objects(cats, images, tmp_path, monkeypatch):
    """A sync with delete_missing drops the blob rows of objects gone from storage; a clone
    of that dataset running meanwhile (on PostgreSQL, on its snapshot) points its items at
    those rows.  Both must finish, the clone whole as it read the source."""
    import shutil

    a, b = cats
    folder = tmp_path / "bucket"
    shutil.copytree(images / "a", folder)
    project = a.projects.create("p-sync-race")
    drv = project.drivers.create("folder", driver_type="local", bucket_name=str(folder))
    ds = project.datasets.create("synced", driver=drv)
    ds.sync()
    before = paths_of(a, ds.id)
    gone = sorted(folder.glob("*.jpg"))[:2]
    for f in gone:
        f.unlink()
    clone, _ = race(monkeypatch, ("clone", "start"), lambda: a.dataset_by_id(ds.id).clone(clone_name="c"),
                    lambda: b.dataset_by_id(ds.id).sync(delete_missing=True))
    after = {(d, n) for d, n in before if n not in {f.name for f in gone}}
    assert paths_of(a, ds.id) == after
    assert paths_of(a, clone.id) in (before, after)
    check_consistent(a, ds.id)
