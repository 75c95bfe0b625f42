"""The base catalog of the fault suite and the long operations it kills.

The base: 50,000 synthetic items with about 25,000 box annotations in ``master`` (its
binaries registered, not stored: the bulk path), ``c1`` a clone of it (snapshot ``c1-v0``,
then 1,000 items deleted), a snapshot ``v1`` of ``master``, ``photos`` with 300 real JPEGs in the internal store, ``c2`` a trashed clone of
``photos`` and ``scratch`` a trashed dataset with 200 binaries of its own (purge releases
them), ``upload`` an empty dataset with a folder of 400 images waiting to be uploaded, and
``synced`` an empty dataset on a local folder of 3,000 files waiting for its first sync.
"""

from __future__ import annotations

import json
from pathlib import Path

import dsdesk
from benchmarks.synth import add_annotations, records
from dsdesk.api import jobs
from tests.conftest import make_image

ITEMS = 50_000
OPS = ("clone", "merge", "snapshot", "rollback", "purge", "upload", "sync")
# Operations that commit once: killed, they leave the catalog before or after.  Upload and
# sync commit as they go: killed, they leave a prefix the next run completes.
ATOMIC = {"clone", "merge", "snapshot", "rollback", "purge"}


def _images(folder: Path, n: int, tag: int) -> list[Path]:
    return [make_image(folder / f"d{i % 7}" / f"{tag}-{i:04d}.jpg", (8 + i % 5, 8), ((i * 7) % 256, tag, 90))
            for i in range(n)]


def build_base(root: Path) -> Path:
    """Build the base catalog under *root*; returns its path (facts in ``base.json`` beside it)."""
    path = root / "base.sqlite"
    cat = dsdesk.open_catalog(path)
    p = cat.projects.create("faults")
    master = p.datasets.create("master", labels=["car", "person", "dog"])
    master.items.bulk_import(records(ITEMS))
    add_annotations(cat, master.id, 0.5)
    c1 = master.clone(clone_name="c1")
    cat.run(jobs.snapshot(master, "v1"))
    cat.run(jobs.snapshot(c1, "c1-v0"))  # then c1 changes, so rolling back has work to do
    cat.run(jobs.delete_items(c1, item_ids=[it.id for it in next(iter(c1.items.list(page_size=1000)))]))
    photos = p.datasets.create("photos")
    photos.items.upload([str(x) for x in _images(root / "src-photos", 300, 1)])
    c2 = photos.clone(clone_name="c2")
    c2.delete()
    scratch = p.datasets.create("scratch")
    scratch.items.upload([str(x) for x in _images(root / "src-scratch", 200, 2)])
    scratch.delete()
    up = p.datasets.create("upload")
    _images(root / "to-upload", 400, 3)
    bucket = root / "bucket"
    for i in range(3000):
        f = bucket / f"k{i % 13}" / f"obj-{i:05d}.bin"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(f"object {i}".encode())
    synced = p.datasets.create("synced", driver=p.drivers.create("bucket", "local", str(bucket)))
    facts = {"master": master.id, "c1": c1.id, "c2": c2.id, "scratch": scratch.id, "upload": up.id,
             "synced": synced.id, "project": p.id, "to_upload": str(root / "to-upload")}
    (root / "base.json").write_text(json.dumps(facts))
    cat.close()
    return path


def build_job(facts: dict, op: str):
    """The JobSpec of *op* on the base (names fixed, so a rerun does the same thing)."""
    if op == "clone":
        return jobs.clone(facts["master"], "k-clone")
    if op == "merge":
        return jobs.merge("k-merge", [facts["master"], facts["c1"]], with_metadata=True)
    if op == "snapshot":
        return jobs.snapshot(facts["master"], "k-snap")
    if op == "rollback":
        return jobs.rollback(facts["c1"], "c1-v0")
    if op == "purge":
        return jobs.purge([facts["c2"], facts["scratch"]])
    if op == "upload":
        return jobs.upload(facts["upload"], facts["to_upload"], "/in")
    if op == "sync":
        spec = jobs.sync(facts["synced"])
        return type(spec)(**{**spec.__dict__, "kwargs": {**spec.kwargs, "page_size": 250}})
    raise ValueError(op)
