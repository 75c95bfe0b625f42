"""PostgreSQL beside SQLite: ingest, clone, merge, filtered count and deep page, each beside
the bare SQL of the same step, in one run (issue 19).

    python -m benchmarks.bench_postgres                      # 1M items (several minutes)
    python -m benchmarks.bench_postgres --items 100000
    python -m benchmarks.bench_postgres --pg-url postgresql+psycopg://user@host/db   # a server of yours

Without ``--pg-url`` a throw-away PostgreSQL server is started (``initdb`` / ``pg_ctl``,
fsync off as in the tests) and removed at the end.  Each backend gets two fresh catalogs
with the real schema: dsdesk's steps run through the public API on one, the bare steps by
hand on the other (PostgreSQL: ``COPY`` of the same rows, built from the same generator,
for ingest; one ``INSERT ... SELECT`` of every column for clone and merge; SQLite: the
executemany of ``bench_ingest.raw_ingest`` and the same ``INSERT ... SELECT``).  Reads are
the median of seven after a warm-up, in milliseconds; writes are wall seconds.  Targets
(for PostgreSQL): ingest <= 1.3x bare COPY, clone <= 1.3x bare INSERT ... SELECT,
filtered count <= 0.2 s.  The machine's load average is printed beside the table.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

import dsdesk
import dsdesk.query as q
from benchmarks.bench_ingest import _ancestors, raw_ingest
from benchmarks.bench_query import timed
from benchmarks.pgserver import temporary_server
from benchmarks.synth import folder_of, records
from dsdesk.catalog.models import Item
from dsdesk.query import indexes

COUNT_FILTER = {"filter": {"$and": [{"metadata.user.split": "val"}, {"metadata.user.score": {"$gt": 0.5}}]}}
PAGE = 100
COPY_COLS = [c.name for c in Item.__table__.columns if c.name not in ("id", "dataset_id")]


@contextlib.contextmanager
def local_server() -> Iterator[str]:
    """A throw-away PostgreSQL server (``benchmarks.pgserver``, fsync off as in the tests);
    yields its URL with ``{db}`` where the database name goes."""
    with temporary_server(fsync=False, settings=("shared_buffers=512MB", "max_wal_size=4GB")) as server:
        yield server.url("{db}")


def _create_db(admin_url: str, name: str) -> str:
    """A fresh database *name* on the server of *admin_url*; returns its SQLAlchemy URL."""
    with psycopg.connect(_conninfo(admin_url.format(db="postgres")), autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')
    return admin_url.format(db=name)


def _conninfo(url: str) -> str:
    u = make_url(url)
    parts = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.username, "password": u.password}
    parts.update({k: v for k, v in u.query.items() if isinstance(v, str)})
    return " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)


class Bare:
    """The hand-written side on one catalog: a driver connection and the SQL dialect's words."""

    def __init__(self, url: str):
        self.pg = url.startswith("postgresql")
        if self.pg:
            self.con = psycopg.connect(_conninfo(url))
        else:
            self.con = sqlite3.connect(make_url(url).database, isolation_level=None)
            self.con.execute("PRAGMA cache_size=-65536")
        self.ph = "%s" if self.pg else "?"

    def read_ms(self, sql: str, params: tuple) -> float:
        sql = sql.replace("?", self.ph)

        def run():
            if self.pg:
                with self.con.cursor() as cur:
                    cur.execute(sql, params)
                    cur.fetchall()
                self.con.rollback()
            else:
                self.con.execute(sql, params).fetchall()

        return timed(run)

    def write_s(self, *statements: tuple[str, tuple], keep: bool = False) -> float:
        """Seconds of *statements* in one transaction (rolled back unless *keep*)."""
        if not self.pg:
            self.con.execute("BEGIN")
        cur = self.con.cursor()
        gc.collect()
        t = time.perf_counter()
        for sql, params in statements:
            cur.execute(sql.replace("?", self.ph), params)
        took = time.perf_counter() - t
        if self.pg:
            (self.con.commit if keep else self.con.rollback)()
        else:
            self.con.execute("COMMIT" if keep else "ROLLBACK")
        cur.close()
        return took

    def close(self) -> None:
        self.con.close()


def bare_copy_ingest(url: str, n: int) -> float:
    """Seconds to build the rows of ``records(n)`` and COPY folders, blobs and items into a
    fresh catalog's empty dataset (ids chosen up front, sequences moved past them)."""
    cat = dsdesk.open_catalog(url)
    ds = cat.projects.create("bench").datasets.create("synthetic")
    ds_id, drv = ds.id, ds.driver_id
    cat.close()
    folders = sorted({a for i in range(0, n, 1000) for a in _ancestors(folder_of(i))})
    with psycopg.connect(_conninfo(url)) as con, con.cursor() as cur:
        gc.collect()
        t = time.perf_counter()
        with cur.copy("COPY folder (dataset_id, path) FROM STDIN") as cp:
            for f in folders:
                cp.write_row((ds_id, f))
        blobs, items = [], []
        for i, r in enumerate(records(n), start=1):
            blobs.append((i, drv, r.storage_key, r.size, r.etag, r.content_hash, r.mimetype, r.width, r.height))
            items.append((i, ds_id, r.dir, r.name, i, json.dumps(r.meta_user), "{}"))
        with cur.copy("COPY blob (id, driver_id, storage_key, size, etag, content_hash, mimetype, width, height) "
                      "FROM STDIN") as cp:
            for row in blobs:
                cp.write_row(row)
        with cur.copy("COPY item (id, dataset_id, dir, name, blob_id, meta_user, meta_system) FROM STDIN") as cp:
            for row in items:
                cp.write_row(row)
        con.commit()
        took = time.perf_counter() - t
        for table in ("blob", "item"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})")
        con.commit()
        cur.execute("ANALYZE")  # as dsdesk's background ANALYZE does after a bulk write
        con.commit()
    return took


def _seconds(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run_backend(name: str, api_url: str, bare_url: str, n: int) -> list[tuple]:
    """Every step on one backend: rows of (backend, step, dsdesk, bare, unit, target, ok)."""
    rows: list[tuple] = []
    pg = name == "postgresql"

    def row(step, value, bare, unit, target="-", ok=True):
        rows.append((name, step, value, bare, unit, target, ok))
        print(f"  {name} {step}: {value:.3f} {unit} (bare {bare:.3f}) {target} {'ok' if ok else 'MISSED'}", flush=True)

    t_bare = bare_copy_ingest(bare_url, n) if pg else raw_ingest(Path(make_url(bare_url).database), n,
                                                                   include_build=True)[0]
    cat = dsdesk.open_catalog(api_url)
    ds = cat.projects.create("bench").datasets.create("synthetic")
    t_ingest, created = _seconds(lambda: ds.items.bulk_import(records(n)))
    assert created == n, created
    if cat.db.analyzer is not None:
        cat.db.analyzer.wait()
    row(f"ingest {n:,} items from a generator", t_ingest, t_bare, "s", "<= 1.3x bare" if pg else "-",
        not pg or t_ingest <= 1.3 * t_bare)

    bare = Bare(bare_url)
    bare_ds = 1
    cols = ", ".join(COPY_COLS)
    new_ds = ("INSERT INTO dataset (project_id, name, kind, driver_id, meta_system, meta_user) SELECT project_id, "
              "?, 'clone', driver_id, '{}', '{}' FROM dataset WHERE id = ?")
    copy_items = (f"INSERT INTO item (dataset_id, {cols}) SELECT (SELECT max(id) FROM dataset), {cols} "
                  "FROM item WHERE dataset_id = ?")
    t_clone, clone = _seconds(lambda: ds.clone(clone_name="bench-clone"))
    b_clone = bare.write_s((new_ds, ("bare-clone", bare_ds)), (copy_items, (bare_ds,)), keep=True)
    row("clone (every item, with metadata)", t_clone, b_clone, "s", "<= 1.3x bare" if pg else "-",
        not pg or t_clone <= 1.3 * b_clone)

    t_merge, merged = _seconds(lambda: cat.projects.get(project_name="bench").datasets.merge(
        "bench-merge", [ds.id, clone.id], with_metadata=True))
    assert merged.items_count == n, merged.items_count
    b_merge = bare.write_s((new_ds, ("bare-merge", bare_ds)), (copy_items, (bare_ds + 1,)))
    row("merge the clone back (with metadata)", t_merge, b_merge, "s")

    def count():
        with cat.db.session() as s:
            return q.count_items(s, ds.id, COUNT_FILTER)

    indexes.request_indexes(cat.db.engine, ds.id, q.to_query(COUNT_FILTER).filter, wait=True)
    if pg:
        bare_sql = ("SELECT count(*) FROM item WHERE dataset_id = ? AND NOT hidden AND meta_user->>'split' = 'val' "
                    "AND (meta_user->>'score')::float > 0.5")
    else:
        bare_sql = ("SELECT count(*) FROM item WHERE dataset_id = ? AND hidden = 0 AND "
                    "json_extract(meta_user, '$.\"split\"') = 'val' AND json_extract(meta_user, '$.\"score\"') > 0.5")
    warm = timed(count)
    row("filtered count split=val, score>0.5 (automatic indexes)", warm, bare.read_ms(bare_sql, (bare_ds,)), "ms",
        "<= 200 ms", warm <= 200)

    deep = int(n * 0.9) // PAGE
    page = timed(lambda: next(iter(ds.items.list(page_offset=deep, page_size=PAGE))))
    hidden = "NOT hidden" if pg else "hidden = 0"
    b_page = bare.read_ms(f"SELECT * FROM item WHERE dataset_id = ? AND {hidden} ORDER BY dir, name, id "
                          "LIMIT ? OFFSET ?", (bare_ds, PAGE, deep * PAGE))
    row(f"page of {PAGE} at 90 % depth, grid order", page, b_page, "ms")

    needle = f"img_{n // 3:08d}"[:-1]  # ten names share it
    found = timed(lambda: ds.items.list(filters=f'"{needle}"', page_size=PAGE).items_count)
    like = "ILIKE" if pg else "LIKE"
    b_found = bare.read_ms(f"SELECT count(*) FROM item WHERE dataset_id = ? AND name {like} ?",
                           (bare_ds, f"%{needle}%"))
    row("name search (pg_trgm / FTS5 trigram)", found, b_found, "ms")
    bare.close()
    cat.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--pg-url", help="a server to use, with {db} where the database name goes "
                                     "(default: start one)")
    a = ap.parse_args()
    n = a.items
    with tempfile.TemporaryDirectory(prefix="dsdesk-bench-pg-") as tmp, contextlib.ExitStack() as stack:
        work = Path(tmp)
        os.environ["DSDESK_DATA_DIR"] = str(work / "data")
        os.environ["DSDESK_BLOB_ROOT"] = str(work / "blobs")
        admin = a.pg_url or stack.enter_context(local_server())
        rows = []
        rows += run_backend("sqlite", f"sqlite:///{work / 'api.sqlite'}", f"sqlite:///{work / 'bare.sqlite'}", n)
        rows += run_backend("postgresql", _create_db(admin, "dsdesk_bench"), _create_db(admin, "dsdesk_bare"), n)
    print(f"\n{n:,} items; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print(f"| {'backend':<10} | {'step':<56} | {'dsdesk':>9} | {'bare':>9} | {'unit':<4} | {'target':<13} | ok |")
    print(f"|{'-' * 12}|{'-' * 58}|{'-' * 11}|{'-' * 11}|{'-' * 6}|{'-' * 15}|----|")
    for backend, step, value, bare, unit, target, ok in rows:
        print(f"| {backend:<10} | {step:<56} | {value:>9.3f} | {bare:>9.3f} | {unit:<4} | {target:<13} | "
              f"{'ok' if ok else 'NO'} |")


if __name__ == "__main__":
    main()
