"""Ingest benchmark: N items through the API's bulk path vs a raw executemany of the same rows.

    python -m benchmarks.bench_ingest            # 100k and 1M
    python -m benchmarks.bench_ingest --sizes 100000

Both sides write into a fresh catalog with the real schema (indexes and the name-search
index included); the raw side is sqlite3's ``executemany`` of pre-built tuples with the
ids chosen up front and the name index filled in one statement, i.e. the floor for these
rows.  Targets (issue 2): 100k ≤ 2 s,
1M ≤ 25 s, and ≤ 2× the raw executemany.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import dsdesk
from benchmarks.synth import records

TARGETS = {100_000: 2.0, 1_000_000: 25.0}


def api_ingest(path: Path, n: int) -> float:
    cat = dsdesk.open_catalog(path)
    ds = cat.projects.create("bench").datasets.create("synthetic")
    recs = list(records(n))  # built up front, as the raw side's tuples are
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    created = ds.items.bulk_import(recs)
    dt, dc = time.perf_counter() - t, time.process_time() - c
    assert created == n, (created, n)
    cat.close()
    return dt, dc


def raw_ingest(path: Path, n: int, include_build: bool = False) -> tuple[float, float]:
    """(wall, cpu) seconds of the hand-written loader; *include_build* also charges it for
    building the rows from the generator (bench_scale's ingest "from a generator")."""
    cat = dsdesk.open_catalog(path)  # same schema, migrations applied
    ds = cat.projects.create("bench").datasets.create("synthetic")
    ds_id, drv = ds.id, ds.driver_id
    from benchmarks.synth import folder_of

    folders = sorted({a for i in range(0, n, 1000) for a in _ancestors(folder_of(i))})
    cat.close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    # Build the exact tuples first: the raw side is charged only for the inserts (unless
    # include_build).
    gc.collect()
    t, c = time.perf_counter(), time.process_time()
    blobs, items = [], []
    for i, r in enumerate(records(n), start=1):
        blobs.append((i, drv, r.storage_key, r.size, r.etag, r.content_hash, r.mimetype, r.width, r.height))
        items.append((i, ds_id, r.dir, r.name, i, json.dumps(r.meta_user), "{}"))
    if not include_build:
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
    with con:
        # The best a hand-written loader can do with this schema: the name index filled in one
        # statement (as dsdesk.catalog.namesearch does), not by the per-row trigger.
        con.execute("INSERT INTO item_name_fts_pause (k) VALUES (1)")
        con.executemany("INSERT INTO folder (dataset_id, path) VALUES (?, ?)", [(ds_id, f) for f in folders])
        con.executemany("INSERT INTO blob (id, driver_id, storage_key, size, etag, content_hash, mimetype, width, height)"
                        " VALUES (?,?,?,?,?,?,?,?,?)", blobs)
        con.executemany("INSERT INTO item (id, dataset_id, dir, name, blob_id, meta_user, meta_system)"
                        " VALUES (?,?,?,?,?,?,?)", items)
        con.execute("DELETE FROM item_name_fts_pause")
        con.execute("INSERT INTO item_name_fts (rowid, name) SELECT id, name FROM item")
    dt, dc = time.perf_counter() - t, time.process_time() - c
    con.close()
    return dt, dc


def _ancestors(d: str) -> list[str]:
    parts = d.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (cpu = this process's CPU time)")
    print(f"{'items':>10} {'api s':>8} {'api cpu':>8} {'raw s':>8} {'raw cpu':>8} {'ratio':>6} {'target s':>9} "
          f"{'ratio ok':>8} {'time ok':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in a.sizes:
            api, api_cpu = api_ingest(Path(tmp) / f"api-{n}.sqlite", n)
            raw, raw_cpu = raw_ingest(Path(tmp) / f"raw-{n}.sqlite", n)
            target = TARGETS.get(n, 25.0 * n / 1_000_000)
            print(f"{n:>10} {api:>8.2f} {api_cpu:>8.2f} {raw:>8.2f} {raw_cpu:>8.2f} {api / raw:>6.2f} {target:>9.1f} "
                  f"{'yes' if api / raw <= 2 else 'NO':>8} {'yes' if api <= target else 'NO':>8}", flush=True)


if __name__ == "__main__":
    main()
