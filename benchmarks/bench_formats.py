"""COCO import/export benchmark: a generated COCO file of 100,000 images and 1,000,000 boxes
against a catalog that already holds the 100,000 items (issue 15).

    python -m benchmarks.bench_formats                   # 100k images, 10 boxes each
    python -m benchmarks.bench_formats --images 10000    # quicker

The 100k-item catalog is ``benchmarks.bench_versioning``'s (``synth.make_catalog``, built
once into ``--cache``); each run works on a fresh copy.  Timed, as a user calls them:
``ds.import_annotations(file, format="coco")`` (read, match, one-transaction write),
``ds.export(file, format="coco")`` and ``ds.export(folder, format="yolo")``.  Beside each,
the bare steps on the same data: ``json.load`` / ``orjson.loads`` / ``pycocotools.COCO``
of the file, the bulk insert of the same rows alone (``insert_rows``, the driver's
executemany), and ``orjson.dumps`` + write of an equal document.  Peak RSS of the process
is that of each timed step alone (each runs in a spawned process of its own).
Targets: import <= 15 s, export <= 8 s, YOLO export <= 10 s, peak <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import orjson
from sqlalchemy import func, select

import dsdesk as dd
from benchmarks.bench_versioning import _base, _scratch
from dsdesk.catalog.annotation_writes import COLS
from dsdesk.catalog.models import Annotation, Blob, Item, utcnow
from dsdesk.catalog.sql import insert_rows

N_CATEGORIES = 20


def _rss_mb() -> float:
    """This process's peak RSS: VmHWM of its own memory map (``ru_maxrss`` carries the
    parent's peak across fork and exec, so a spawned step would report the parent's)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_coco(cat, ds_id: int, n_images: int, per_image: int, path: Path) -> int:
    """Write a COCO file whose images are the dataset's first *n_images* items."""
    with cat.db.session() as s:
        rows = s.execute(select(Item.dir, Item.name, Blob.width, Blob.height).join(Blob, Blob.id == Item.blob_id)
                         .where(Item.dataset_id == ds_id).order_by(Item.id).limit(n_images)).all()
    images, anns, k = [], [], 0
    for i, (d, n, w, h) in enumerate(rows, start=1):
        images.append({"id": i, "file_name": f"{d.strip('/')}/{n}", "width": w, "height": h})
        for _ in range(per_image):
            x, y = float((k * 37) % 1800), float((k * 11) % 1000)
            anns.append({"id": k + 1, "image_id": i, "category_id": k % N_CATEGORIES + 1, "iscrowd": 0,
                         "bbox": [x, y, 50.0, 40.0], "area": 2000.0, "segmentation": []})
            k += 1
    cats = [{"id": c + 1, "name": f"class{c}", "supercategory": "thing"} for c in range(N_CATEGORIES)]
    path.write_bytes(orjson.dumps({"images": images, "annotations": anns, "categories": cats}))
    return k


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _dump_again(src: Path, dst: Path) -> float:
    """The floor of the export's write: ``orjson.dumps`` of the exported document + write."""
    doc = orjson.loads(src.read_bytes())
    t = time.perf_counter()
    dst.write_bytes(orjson.dumps(doc))
    return time.perf_counter() - t


def _bare_insert(cat, ds_id: int, n: int) -> float:
    """The floor of the write: *n* box rows as ready tuples, one executemany + commit."""
    with cat.db.session() as s:
        ids = list(s.scalars(select(Item.id).where(Item.dataset_id == ds_id).order_by(Item.id)))
        first = (s.scalar(select(func.coalesce(func.max(Annotation.id), 0))) or 0) + 1
    at = utcnow().isoformat(sep=" ", timespec="microseconds")
    per = max(1, n // len(ids))
    rows = [(first + k, ids[(k // per) % len(ids)], ds_id, "box", f"thing.class{k % N_CATEGORIES}",
             '[{"x":1.0,"y":2.0,"z":0},{"x":51.0,"y":42.0,"z":0}]', None, '{"system":{},"user":{}}', None, None,
             None, at, at) for k in range(n)]
    if cat.db.checkpointer is not None:
        cat.db.checkpointer.wait()
    t = time.perf_counter()
    with cat.db.session(write=True) as s:
        insert_rows(s, "annotation", COLS, rows, chunk=50_000)
    return time.perf_counter() - t


def _step(catalog: str, what: str, path: str, queue) -> None:
    """One timed step in a fresh process (spawned): its wall time and its own peak RSS."""
    cat = dd.open_catalog(catalog)
    ds = cat.projects.get(project_name="bench").datasets.get(dataset_name="synthetic")
    t = time.perf_counter()
    if what == "import":
        r = ds.import_annotations(path, format="coco")
        n = r.annotations_written
    else:
        n = ds.export(path, format=what).annotations
    wall = time.perf_counter() - t
    cat.close()
    queue.put((wall, _rss_mb(), n))


def _in_process(catalog: Path, what: str, path: Path) -> tuple[float, float, int]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_step, args=(str(catalog), what, str(path), q))
    p.start()
    out = q.get()
    p.join()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--per-image", type=int, default=10)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "dsdesk-bench"))
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    base = _base(cache, 100_000, 0)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        work = Path(work)
        path = _scratch(base, work)
        cat = dd.open_catalog(path)
        ds = cat.projects.get(project_name="bench").datasets.get(dataset_name="synthetic")
        coco = work / "instances.json"
        n = make_coco(cat, ds.id, args.images, args.per_image, coco)
        ds_id = ds.id
        cat.close()
        print(f"COCO file: {args.images:,} images, {n:,} boxes, {coco.stat().st_size / 1e6:.0f} MB")
        t_json, _ = _timed(lambda: json.loads(coco.read_bytes()))
        t_orjson, _ = _timed(lambda: orjson.loads(coco.read_bytes()))
        from pycocotools.coco import COCO

        t_pycoco, _ = _timed(lambda: COCO(str(coco)))
        # Each step in a process of its own, so its peak memory is its own.
        t_import, rss_import, written = _in_process(path, "import", coco)
        assert written == n, (written, n)
        t_export, rss_export, _ = _in_process(path, "coco", work / "out.json")
        t_dumps = _dump_again(work / "out.json", work / "bare.json")
        t_yolo, rss_yolo, _ = _in_process(path, "yolo", work / "yolo")
        cat = dd.open_catalog(path)
        t_bare = _bare_insert(cat, ds_id, n)
        cat.close()
    rows = [("import (ds.import_annotations)", t_import, rss_import, "json.load (stdlib)", t_json),
            ("", None, None, "orjson.loads", t_orjson), ("", None, None, "pycocotools.COCO(path)", t_pycoco),
            ("", None, None, "bulk insert alone (insert_rows + commit)", t_bare),
            ("COCO export (ds.export)", t_export, rss_export, "orjson.dumps + write", t_dumps),
            ("YOLO export (ds.export)", t_yolo, rss_yolo, "", None)]
    print(f"\n| step ({n:,} boxes) | wall s | peak RSS MB | bare step | wall s |\n|---|---:|---:|---|---:|")
    for step, t, rss, bare, tb in rows:
        print(f"| {step} | {'' if t is None else f'{t:.2f}'} | {'' if rss is None else f'{rss:.0f}'} | {bare} | "
              f"{'' if tb is None else f'{tb:.2f}'} |")
    print("\ntargets: import <= 15 s, export <= 8 s, YOLO export <= 10 s, peak <= 1.5 GB")


if __name__ == "__main__":
    main()
