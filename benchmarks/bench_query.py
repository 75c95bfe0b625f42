"""Query-engine benchmark on a synthetic catalog (default 1M items), one table of figures.

    python -m benchmarks.bench_query                       # 1M items in /tmp/dsdesk-bench
    python -m benchmarks.bench_query --items 100000 --path /tmp/q100k.sqlite

The catalog is built once by ``benchmarks.synth`` (items in /dX/dY/dZ folders, user
metadata split/camera/score/frame, ~0.5 box annotations per item) and reused.  Each
figure is the median of several runs after one warm-up, beside its target from issue 5.
Not a timed test: the machine's load shows in the numbers.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from sqlalchemy import func, select

import dsdesk.query as q
from dsdesk.catalog.engine import open_database
from dsdesk.catalog.models import Dataset, Item
from dsdesk.query import indexes


def timed(fn, runs: int = 7) -> float:
    """Median wall time of *fn* in milliseconds, after one warm-up call."""
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--path", default=None)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    path = Path(args.path or f"/tmp/dsdesk-bench/query-{args.items // 1000}k.sqlite")
    if args.items == 1_000_000 and not args.path:
        path = Path("/tmp/dsdesk-bench/query-1m.sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    from benchmarks import synth

    cat, ds = synth.make_catalog(path, args.items, annotations_per_item=0.5)
    build = time.perf_counter() - t0
    cat.close()
    db = open_database(path)
    with db.session() as s:
        ds_id = s.execute(select(Dataset.id).where(Dataset.name == "synthetic")).scalar_one()
        n = s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == ds_id)).scalar_one()
    print(f"catalog {path}: {n} items (ready in {build:.1f} s)\n")
    rows: list[tuple[str, float, float]] = []
    R = args.runs

    def first_page(filters, size=100):
        with db.session() as s:
            return s.execute(q.items_select(ds_id, filters).limit(size)).all()

    def grid_first(filters, size=100):
        with db.session() as s:
            return q.page_items(s, ds_id, filters, size)

    def raw_count(filters):
        # Plain COUNT without the index request count_items makes (for "never seen" fields).
        with db.session() as s:
            return s.execute(select(func.count()).select_from(q.item_ids_select(ds_id, filters).subquery())).scalar_one()

    def raw_page(filters, size=100):
        with db.session() as s:
            return s.execute(select(Item.id).where(Item.id.in_(q.item_ids_select(ds_id, filters)))
                             .order_by(Item.id).limit(size)).all()

    # ---- indexed filters and sorts: first page ------------------------------------------
    rows.append(("first page, filter dir:/d3/** (grid order)", timed(lambda: grid_first("dir:/d3/**"), R), 50))
    rows.append(("first page, filter dir:/d3/d1/d4 (exact folder)", timed(lambda: grid_first({"filter": {"dir": "/d3/d1/d4"}}), R), 50))
    rows.append(("first page, sort name descending", timed(lambda: first_page({"sort": {"name": "descending"}}), R), 50))
    rows.append(("first page, sort createdAt ascending", timed(lambda: first_page({"sort": {"createdAt": "ascending"}}), R), 50))
    rows.append(("first page, filter filename /d1/** sort filename", timed(
        lambda: first_page({"filter": {"filename": "/d1/**"}, "sort": {"filename": "ascending"}}), R), 50))
    rows.append(("first page, label:car (annotation join)", timed(lambda: grid_first("label:car"), R), 50))

    # ---- keyset grid pages anywhere ----------------------------------------------------
    with db.session() as s:
        rng = random.Random(7)
        cursors = []
        for off in sorted(rng.sample(range(max(1, n - 200)), 20)):
            r = s.execute(select(Item.dir, Item.name, Item.id).where(Item.dataset_id == ds_id)
                          .order_by(Item.dir, Item.name, Item.id).offset(off).limit(1)).first()
            cursors.append(tuple(r))
    it = iter(cursors * 100)

    def grid_page():
        with db.session() as s:
            return q.page_items(s, ds_id, None, 100, after=next(it))

    rows.append(("grid page of 100 at a random depth (keyset)", timed(grid_page, 19), 5))
    last = cursors[-1]
    rows.append(("grid page of 100 near the end (keyset)", timed(
        lambda: grid_first_after(db, ds_id, last), R), 5))

    # ---- counts --------------------------------------------------------------------------
    rows.append(("count dir:/d3/**", timed(lambda: raw_count("dir:/d3/**"), R), 200))
    rows.append(("count size>=102500 (blob join)", timed(lambda: raw_count("size>=102500"), 3), 2000))

    # ---- metadata.user: never seen (arbitrary), then indexed -------------------------------
    for f in ("metadata.user.split", "metadata.user.camera", "metadata.user.score"):
        with db.engine.begin() as con:
            con.exec_driver_sql(f"DROP INDEX IF EXISTS {indexes.index_name(f)}")
        indexes._done.discard((str(db.engine.url), indexes.index_name(f)))
    rows.append(("arbitrary: count split:train camera:cam1 (no index)", timed(
        lambda: raw_count("split:train camera:cam1"), 3), 2000))
    rows.append(("arbitrary: first page score>0.99 (no index)", timed(lambda: raw_page("score>0.99"), 3), 2000))
    rows.append(("arbitrary: count frame<5000 or camera:dashcam (no index)", timed(
        lambda: raw_count("frame<5000 or camera:dashcam"), 3), 2000))
    t = time.perf_counter()
    node = q.to_query("split:train camera:cam1 score>0.99").filter
    indexes.request_indexes(db.engine, ds_id, node, wait=True)
    build_ms = (time.perf_counter() - t) * 1000
    with db.engine.begin() as con:
        con.exec_driver_sql("ANALYZE")
    rows.append(("used before: first page split:train camera:cam1", timed(
        lambda: grid_first("split:train camera:cam1"), R), 200))
    rows.append(("used before: count camera:cam1", timed(lambda: raw_count("camera:cam1"), R), 200))
    rows.append(("used before: first page score>0.99", timed(lambda: raw_page("score>0.99"), R), 200))
    rows.append(("used before: count score>0.99", timed(lambda: raw_count("score>0.99"), R), 200))

    # ---- name substring ------------------------------------------------------------------
    rows.append(('name substring "00123456" (first page)', timed(lambda: grid_first('"00123456"'), R), 100))
    rows.append(('name substring "0099" (first page)', timed(lambda: grid_first('"0099"'), R), 100))
    rows.append(('name substring "0099" (count)', timed(lambda: raw_count('"0099"'), R), 100))

    w = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{w}}  {'ms':>9}  {'target':>7}  ok")
    print("-" * (w + 24))
    for name, ms, target in rows:
        print(f"{name:<{w}}  {ms:>9.2f}  {target:>7}  {'yes' if ms <= target else 'NO'}")
    print(f"\n(building the 3 metadata indexes once, in the background in real use: {build_ms:.0f} ms)")
    db.close()


def grid_first_after(db, ds_id, cursor):
    with db.session() as s:
        return q.page_items(s, ds_id, None, 100, after=cursor)


if __name__ == "__main__":
    main()
