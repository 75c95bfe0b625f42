"""A user's day at 100k and 1M items, each step beside its target and beside the bare SQL
of the same step (issue 17).

    python -m benchmarks.bench_scale                  # 100k and 1M (about 6 minutes here)
    python -m benchmarks.bench_scale --sizes 100000   # 100k only
    python -m benchmarks.bench_scale --sizes 1000000 --steps merge-purge   # the last two steps

``--steps merge-purge`` runs only the merge and the purge, on a copy of a catalog kept in
``--cache`` (ingested, cloned and indexed as the full run leaves it; built on first use).

One catalog per size, built by the step it measures: ingest from a generator through the
public bulk path (the bare side builds the same rows and executemany's them into a fresh
catalog of the same schema), then clone, a filtered count before and after the automatic
metadata indexes (with ``EXPLAIN QUERY PLAN`` of both), a sorted page and an unsorted page
at 90 % depth through the public API, merging the clone back with its metadata, and purging
both.  Targets are stated for 1M; 100k shows how each step grows.  Figures are wall
seconds (milliseconds for the reads, the median of five after a warm-up) on this machine,
whose load shows in them: the table prints the load average beside the run.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import dsdesk
import dsdesk.query as q
from benchmarks.bench_ingest import raw_ingest
from benchmarks.bench_query import timed
from benchmarks.synth import records
from dsdesk.api import jobs
from dsdesk.query import indexes

COUNT_FILTER = {"filter": {"$and": [{"metadata.user.split": "val"}, {"metadata.user.score": {"$gt": 0.5}}]}}
SORTED = {"filter": {"hidden": False}, "sort": {"metadata.user.score": "ascending"}}
PAGE = 100


def _timed(fn) -> tuple[float, object]:
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _plan(cat, filters, dataset_id: int) -> str:
    from sqlalchemy import func, select

    stmt = select(func.count()).select_from(q.item_ids_select(dataset_id, filters).subquery())
    compiled = stmt.compile(cat.db.engine, compile_kwargs={"literal_binds": True})
    with cat.db.engine.connect() as con:
        return " | ".join(r[-1] for r in con.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled)))


def _bare(path: Path, sql: str, params: tuple = ()) -> float:
    """Milliseconds of a read, by hand, on a connection of its own (median of 7, after one)."""
    con = sqlite3.connect(path)
    try:
        return timed(lambda: con.execute(sql, params).fetchall())
    finally:
        con.close()


def _bare_write(path: Path, *statements: tuple[str, tuple]) -> float:
    """Seconds of writes by hand, in one transaction rolled back afterwards (with the page
    cache dsdesk's own connections have)."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA cache_size=-65536")
        con.execute("BEGIN")
        t = time.perf_counter()
        for sql, params in statements:
            con.execute(sql, params)
        took = time.perf_counter() - t
        con.execute("ROLLBACK")
        return took
    finally:
        con.close()


def _rows():
    """A list of result rows and the function that adds (and prints) one."""
    rows: list[tuple] = []

    def row(step, value, unit, bare, target, ok):
        rows.append((step, value, unit, bare, target, ok))
        print(f"  {step}: {value:.3f} {unit} (bare {bare if isinstance(bare, str) else f'{bare:.3f}'}) "
              f"target {target} {'ok' if ok else 'MISSED'}", flush=True)

    return rows, row


def _indexed(cat, ds) -> None:
    """The automatic metadata indexes the count and the sort ask for, built now."""
    indexes.request_indexes(cat.db.engine, ds.id, q.to_query(COUNT_FILTER).filter, wait=True)
    indexes.request_indexes(cat.db.engine, ds.id, q.to_query(SORTED).filter, wait=True)
    indexes.ensure_index(cat.db.engine, "metadata.user.score", ds.id, "number")


def run_size(n: int, work: Path) -> list[tuple]:
    """Every step at *n* items: rows of (step, figure, unit, bare figure, target, met)."""
    rows, row = _rows()
    big = n >= 1_000_000
    bare_path, path = work / f"bare-{n}.sqlite", work / f"scale-{n}.sqlite"
    t_bare = raw_ingest(bare_path, n, include_build=True)[0]  # the same rows, built and executemany'd
    for suffix in ("", "-wal", "-shm"):
        Path(str(bare_path) + suffix).unlink(missing_ok=True)
    cat = dsdesk.open_catalog(path)
    ds = cat.projects.create("bench").datasets.create("synthetic")
    t_ingest, created = _timed(lambda: ds.items.bulk_import(records(n)))
    assert created == n, created
    row(f"ingest {n:,} items with metadata from a generator", t_ingest, "s", t_bare,
        "<= 1.15x bare", t_ingest <= 1.15 * t_bare)

    t_clone, clone = _timed(lambda: ds.clone(clone_name="day-clone"))
    row("clone with metadata", t_clone, "s", "-", "-", True)

    def count():
        with cat.db.session() as s:
            return q.count_items(s, ds.id, COUNT_FILTER)

    plan_before = _plan(cat, COUNT_FILTER, ds.id)
    t0 = time.perf_counter()
    count()  # the first call: no index yet (it asks for them in the background)
    cold = (time.perf_counter() - t0) * 1000
    _indexed(cat, ds)
    warm = timed(count)
    plan_after = _plan(cat, COUNT_FILTER, ds.id)
    bare_count = _bare(path, "SELECT count(*) FROM item WHERE dataset_id = ? AND hidden = 0 AND "
                       "json_extract(meta_user, '$.\"split\"') = 'val' AND json_extract(meta_user, '$.\"score\"') > 0.5",
                       (ds.id,))
    row("filtered count split=val, score>0.5 (first call, no index)", cold, "ms", bare_count, "-", True)
    row("filtered count, warm, automatic indexes built", warm, "ms", bare_count,
        "<= 150 ms and <= first call" if big else "<= first call", warm <= cold and (not big or warm <= 150))
    print(f"    plan before: {plan_before}\n    plan after:  {plan_after}")

    deep = int(n * 0.9) // PAGE
    sorted_page = timed(lambda: next(iter(ds.items.list(filters=SORTED, page_offset=deep, page_size=PAGE))))
    bare_sorted = _bare(path, "SELECT * FROM item WHERE dataset_id = ? AND hidden = 0 ORDER BY "
                        "json_extract(meta_user, '$.\"score\"'), id LIMIT ? OFFSET ?", (ds.id, PAGE, deep * PAGE))
    row("sorted page of 100 at 90% depth (score indexed), items.list", sorted_page, "ms", bare_sorted,
        "<= 50 ms" if big else "-", not big or sorted_page <= 50)
    plain_page = timed(lambda: next(iter(ds.items.list(page_offset=deep, page_size=PAGE))))
    bare_plain = _bare(path, "SELECT * FROM item WHERE dataset_id = ? AND hidden = 0 ORDER BY dir, name, id "
                       "LIMIT ? OFFSET ?", (ds.id, PAGE, deep * PAGE))
    row(f"items.list(page_offset={deep}) in grid order", plain_page, "ms", bare_plain,
        "<= 50 ms" if big else "-", not big or plain_page <= 50)

    merge_and_purge(cat, path, ds, clone, row, big)
    cat.close()
    return rows


def merge_and_purge(cat, path: Path, ds, clone, row, big: bool) -> None:
    """Merge *clone* back into a new dataset with *ds*, then purge the clone and the merge."""
    n = ds.items_count
    project = cat.projects.get(project_name="bench")
    t_merge, merged = _timed(lambda: project.datasets.merge("day-merge", [ds.id, clone.id], with_metadata=True))
    assert merged.items_count == n, merged.items_count
    # The floor of the merge: the clone's item rows copied once into a new dataset.
    bare_merge = _bare_write(
        path, ("INSERT INTO dataset (project_id, name, kind, driver_id, meta_system, meta_user) SELECT project_id, "
               "'bare-merge', 'merge', driver_id, '{}', '{}' FROM dataset WHERE id = ?", (clone.id,)),
        ("INSERT INTO item (dataset_id, dir, name, blob_id, meta_system, meta_user) SELECT "
         "(SELECT id FROM dataset WHERE name = 'bare-merge'), dir, name, blob_id, meta_system, meta_user "
         "FROM item WHERE dataset_id = ?", (clone.id,)))
    row("merge the full clone back (with metadata)", t_merge, "s", bare_merge,
        "<= 25 s" if big else "-", not big or t_merge <= 25)

    clone.delete()
    merged.delete()
    t_purge, _ = _timed(lambda: cat.run(jobs.purge([clone.id, merged.id])))
    # The floor of the purge: deleting the item rows of one dataset of the same size, by hand.
    bare_purge = _bare_write(path, ("DELETE FROM item WHERE dataset_id = ?", (ds.id,)))
    row("purge the clone and the merge (2x the items of the bare step)", t_purge, "s", bare_purge,
        "<= 10 s" if big else "-", not big or t_purge <= 10)


def run_merge_purge(n: int, work: Path, cache: Path) -> list[tuple]:
    """The merge and purge steps at *n* items, on a copy of the cached day-so-far catalog."""
    rows, row = _rows()
    cached = cache / f"scale-{n}-cloned.sqlite"
    if not cached.exists():
        print(f"  building {cached} (ingest, clone, indexes) ...", flush=True)
        cache.mkdir(parents=True, exist_ok=True)
        building = cache / f"scale-{n}-building.sqlite"
        cat = dsdesk.open_catalog(building)
        ds = cat.projects.create("bench").datasets.create("synthetic")
        ds.items.bulk_import(records(n))
        ds.clone(clone_name="day-clone")
        _indexed(cat, ds)
        cat.close()
        with sqlite3.connect(building) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        building.rename(cached)
    path = work / f"scale-{n}.sqlite"
    shutil.copyfile(cached, path)
    cat = dsdesk.open_catalog(path)
    project = cat.projects.get(project_name="bench")
    ds, clone = project.datasets.get(dataset_name="synthetic"), project.datasets.get(dataset_name="day-clone")
    merge_and_purge(cat, path, ds, clone, row, n >= 1_000_000)
    cat.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--steps", choices=("all", "merge-purge"), default="all",
                    help="merge-purge: only the merge and the purge, on a cached catalog")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dsdesk-bench-cache",
                    help="where --steps merge-purge keeps its built catalogs")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    table = []
    with tempfile.TemporaryDirectory(prefix="dsdesk-scale-", dir=args.work) as tmp:
        for n in args.sizes:
            print(f"{n:,} items ...", flush=True)
            steps = run_size(n, Path(tmp)) if args.steps == "all" else run_merge_purge(n, Path(tmp), args.cache)
            table += [(n, *r) for r in steps]
    print(f"\nload average at the start: {load:.1f} (2 cores)")
    print(f"{'items':>9}  {'step':<62} {'figure':>10} {'bare':>10}  {'target':<26} met")
    for n, step, value, unit, bare, target, ok in table:
        bare_s = bare if isinstance(bare, str) else f"{bare:.3f}"
        print(f"{n:>9,}  {step:<62} {value:>8.3f} {unit:<2}{bare_s:>10}  {target:<26} {'yes' if ok else 'NO'}")


if __name__ == "__main__":
    main()
