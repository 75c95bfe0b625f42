"""Synthetic catalogs for benchmarks: N items over nested folders, with metadata and annotations.

``make_catalog(path, n_items)`` goes through the public API's bulk path
(``ds.items.bulk_import``), so building a catalog also exercises what users run.
Binaries are not written: items point at synthetic internal keys (the benchmarks measure
the catalog, not disk copies).  Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import insert, select

import dsdesk
from dsdesk.catalog.ingest import Record
from dsdesk.catalog.models import Annotation, Item

SPLITS = ["train", "val", "test"]
CAMERAS = ["cam1", "cam2", "cam3", "dashcam"]
LABELS = ["car", "person", "bike", "truck", "bus"]


def folder_of(i: int, fanout: int = 10, depth: int = 3) -> str:
    """A nested folder for item *i*: /d<a>/d<b>/d<c> with *fanout* children per level."""
    parts, x = [], i // 1000
    for _ in range(depth):
        parts.append(f"d{x % fanout}")
        x //= fanout
    return "/" + "/".join(parts)


def records(n: int, seed: int = 1, start: int = 0) -> Iterator[Record]:
    """*n* synthetic records with user metadata (split, camera, score, frame)."""
    rng = random.Random(seed)
    for i in range(start, start + n):
        key = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
        yield Record(dir=folder_of(i), name=f"img_{i:08d}.jpg", storage_key=key, size=100_000 + i % 5000,
                     etag=key[:32], content_hash=key, mimetype="image/jpeg", width=1920, height=1080,
                     meta_user={"split": SPLITS[i % 3], "camera": CAMERAS[i % 4], "score": round(rng.random(), 4),
                                "frame": i})


def make_catalog(path: str | Path, n_items: int, annotations_per_item: float = 0.0, seed: int = 1,
                 project: str = "bench", dataset: str = "synthetic"):
    """Create (or reuse) a catalog at *path* with a dataset of *n_items*; returns (catalog, dataset)."""
    cat = dsdesk.open_catalog(path)
    try:
        p = cat.projects.get(project_name=project)
    except dsdesk.NotFoundError:
        p = cat.projects.create(project)
    try:
        ds = p.datasets.get(dataset_name=dataset)
        if ds.items_count >= n_items:
            return cat, ds
    except dsdesk.NotFoundError:
        ds = p.datasets.create(dataset, labels=LABELS)
    ds.items.bulk_import(records(n_items, seed))
    if annotations_per_item:
        add_annotations(cat, ds.id, annotations_per_item, seed)
    return cat, ds.refresh()


def add_annotations(cat, dataset_id: int, per_item: float, seed: int = 1, batch: int = 50_000) -> int:
    """Add about *per_item* box annotations per item (set-based inserts); returns how many."""
    rng = random.Random(seed)
    total = 0
    with cat.db.session() as s:
        ids = s.execute(select(Item.id).where(Item.dataset_id == dataset_id).order_by(Item.id)).scalars().all()
        rows = []
        whole, frac = int(per_item), per_item - int(per_item)
        for item_id in ids:
            for _ in range(whole + (1 if rng.random() < frac else 0)):
                x, y = rng.randint(0, 1800), rng.randint(0, 1000)
                rows.append({"item_id": item_id, "dataset_id": dataset_id, "type": "box", "label": rng.choice(LABELS),
                             "coordinates": [{"x": x, "y": y}, {"x": x + 50, "y": y + 40}], "attributes": [],
                             "meta": {}})
                if len(rows) >= batch:
                    s.execute(insert(Annotation), rows)
                    total += len(rows)
                    rows = []
        if rows:
            s.execute(insert(Annotation), rows)
            total += len(rows)
        from dsdesk.catalog import stats

        s.execute(Item.__table__.update().where(Item.dataset_id == dataset_id)
                  .values(annotated=select(Annotation.id).where(Annotation.item_id == Item.id).exists()))
        stats.refresh(s, dataset_id)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description="Build a synthetic dsdesk catalog.")
    ap.add_argument("path")
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--annotations", type=float, default=0.0, help="annotations per item")
    a = ap.parse_args()
    t = time.perf_counter()
    cat, ds = make_catalog(a.path, a.items, a.annotations)
    print(f"{ds.items_count} items, {ds.annotations_count} annotations in {time.perf_counter() - t:.1f} s: {a.path}")


if __name__ == "__main__":
    main()
