"""Snapshots as version points (issue 18), measured on dsdesk's own code at 1M items.

    python -m benchmarks.bench_snapshots                 # 1M items + 3M annotations
    python -m benchmarks.bench_snapshots --size 100000   # quick
    python -m benchmarks.bench_snapshots --size 100000 --postgres   # on a temporary server

On a fresh copy of the cached base catalog (``bench_versioning._base``, made with the
schema before migration 0018): the migration itself (once per catalog), then
``dsdesk.versioning`` snapshot, the 1 % change of ``bench_cow`` (writes that the triggers
archive), diff, rollback and delete-snapshot, each in its own committed transaction, with
the catalog's growth.  The bare step beside them is today's row copy, the mechanism every
snapshot used before: an unfiltered clone of the same dataset in the same run (a frozen
copy is exactly that copy, with mapped ids).  After the rollback the dataset must read what
it read before the change (a checksum over every item and annotation row); the diff's
counts must be bench_cow's (2,000 removed, 8,000 changed per 1M).
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.bench_cow import PgCon, SqliteCon, change_one_percent
from benchmarks.bench_versioning import _base, _scratch, _timed
from dsdesk.catalog.engine import open_database

# Every column of every row of the dataset, folded into two numbers: equal before the change
# and after the rollback.  Plain SQL both engines run.
CHECKSUM = ("SELECT count(*), sum(id * 7 + length(dir) * 3 + length(name) + length(CAST(meta_user AS TEXT)) * 11 "
            "+ blob_id + CASE WHEN annotated THEN 1 ELSE 0 END), (SELECT count(*) + sum(id * 5 + item_id "
            "+ length(CAST(coordinates AS TEXT)) + length(label)) FROM annotation WHERE dataset_id = :d) "
            "FROM item WHERE dataset_id = :d")


def _connect(target):
    """A raw connection to the catalog (bench_cow's, which takes SQLite's SQL on both)."""
    if isinstance(target, str):
        return PgCon(target)
    return sqlite3.connect(target, isolation_level=None, factory=SqliteCon)


def run(path, d: int = 1) -> dict:
    from dsdesk.versioning import clone, delete_snapshot, diff, list_snapshots, rollback, snapshot

    out: dict = {}
    t = time.perf_counter()
    db = open_database(path)  # migration 0018: the AUTOINCREMENT rebuild, history tables, triggers
    out["migration"] = time.perf_counter() - t
    con = _connect(path)
    before = tuple(con.execute(CHECKSUM, {"d": d}).fetchone())
    db.checkpointer.wait() if db.checkpointer is not None else None
    size0 = con.size()
    out["snapshot"], _ = _timed(db, lambda s: snapshot(s, d, "before"))
    db.checkpointer.wait() if db.checkpointer is not None else None
    out["growth"] = con.size() - size0
    t = time.perf_counter()
    con.execute(con.begin)
    change_one_percent(con, d)
    con.execute("COMMIT")
    out["change"] = time.perf_counter() - t
    out["history rows"] = con.execute("SELECT (SELECT count(*) FROM item_history), "
                                      "(SELECT count(*) FROM annotation_history)").fetchone()
    t = time.perf_counter()
    with db.session() as s:
        rep = diff(s, d, "before")
    out["diff"] = time.perf_counter() - t
    out["diff counts"] = rep.counts
    out["rollback"], _ = _timed(db, lambda s: rollback(s, d, "before"))
    out["same after rollback"] = tuple(con.execute(CHECKSUM, {"d": d}).fetchone()) == before
    out["delete snapshots"], _ = _timed(db, lambda s: [delete_snapshot(s, d, i.id) for i in list_snapshots(s, d)])
    out["history left"] = con.execute("SELECT (SELECT count(*) FROM item_history) + "
                                      "(SELECT count(*) FROM annotation_history)").fetchone()[0]
    out["row copy (clone)"], _ = _timed(db, lambda s: clone(s, d, "experiment"))
    con.close()
    db.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dsdesk-bench-cache")
    ap.add_argument("--postgres", action="store_true", help="on a temporary PostgreSQL server (the base copied there)")
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    base = _base(a.cache, a.size, 3.0)
    with tempfile.TemporaryDirectory(prefix="dsdesk-snap-") as work, contextlib.ExitStack() as stack:
        target = _scratch(base, Path(work))
        if a.postgres:
            from benchmarks.pgserver import temporary_server
            from dsdesk.api.catalog_copy import copy_catalog

            pg = stack.enter_context(temporary_server(settings=("shared_buffers=1GB", "max_wal_size=8GB")))
            target = pg.create("snapshots")
            copy_catalog(_scratch(base, Path(work)), target)
            with contextlib.closing(PgCon(target)) as con:
                con.execute("ANALYZE")
        r = run(target)
    copy = r["row copy (clone)"]
    rows = [
        ("snapshot", f"{r['snapshot'] * 1000:.1f} ms", f"{copy:.2f} s", "<= 0.2 s", r["snapshot"] <= 0.2),
        ("catalog growth per snapshot", f"{r['growth'] / 2**20:.2f} MB", "the dataset's size", "<= 1 MB",
         r["growth"] <= 2**20),
        ("diff after 1 % changed", f"{r['diff'] * 1000:.0f} ms", "-", "<= 0.5 s", r["diff"] <= 0.5),
        ("rollback after 1 % changed", f"{r['rollback']:.2f} s", "-", "<= 2 s", r["rollback"] <= 2),
        ("delete the snapshots (and their history)", f"{r['delete snapshots'] * 1000:.0f} ms", "-", "-", True),
        ("the 1 % change itself (triggers archiving)", f"{r['change']:.2f} s", "-", "-", True),
    ]
    print(f"\n{a.size:,} items, {'PostgreSQL' if a.postgres else 'SQLite'}; bare step = today's row copy (an unfiltered clone, same run)")
    print(f"{'step':<44} {'dsdesk':>12} {'row copy':>20}  {'target':<10} met")
    for name, got, bare, target, ok in rows:
        print(f"{name:<44} {got:>12} {bare:>20}  {target:<10} {'yes' if ok else 'NO'}")
    print(f"\nmigration 0018 of this catalog (once): {r['migration']:.1f} s; history rows after the change "
          f"(items, annotations): {r['history rows']}; diff counts {r['diff counts']}; "
          f"reads as before after the rollback: {r['same after rollback']}; history rows left after deleting "
          f"the snapshots: {r['history left']}")
    assert r["same after rollback"], "the rollback did not give back the dataset as it was"


if __name__ == "__main__":
    main()
