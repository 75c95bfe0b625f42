"""``dsdesk catalog copy``: SQLite -> PostgreSQL -> SQLite loses nothing (issue 19).

The demo catalog (real JPEGs in the internal store, annotations, recipes, a clone), with a
snapshot, a job and a metadata index added, goes to a PostgreSQL server started for the
test and back into a new SQLite file through the CLI; every table of the models is then
compared row by row, column by column, with the original.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

import dsdesk
import dsdesk.query as q
from dsdesk.api import jobs
from dsdesk.api.catalog_copy import copy_catalog
from dsdesk.catalog.models import Base
from dsdesk.cli.main import main as cli
from dsdesk.demo import build_demo
from dsdesk.errors import InvalidInputError
from dsdesk.query import indexes
from dsdesk.storage.blobstore import BlobStore
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the module-scoped server

pytestmark = pytest.mark.postgres


def _tables(db) -> dict[str, list[dict]]:
    out = {}
    with db.engine.connect() as con:
        for t in Base.metadata.sorted_tables:
            out[t.name] = [dict(r._mapping) for r in con.execute(select(t).order_by(*t.primary_key.columns))]
    return out


def _source(tmp_path):
    cat = dsdesk.open_catalog(tmp_path / "src.sqlite")
    build_demo(cat, n_images=12)
    ds = cat.projects.list()[0].datasets.get("cars")
    cat.run(jobs.snapshot(ds, "v1"))
    first = ds.items.list().items[0]
    first.metadata["user"]["copied"] = "after the snapshot"  # an archived state to copy
    first.update()
    indexes.ensure_index(cat.db.engine, "metadata.user.split", ds.id)
    return cat


def test_round_trip_through_postgresql_loses_nothing(tmp_path, pg_url):  # noqa: F811
    src = _source(tmp_path)
    before = _tables(src.db)
    assert all(before[t] for t in ("project", "dataset", "item", "blob", "annotation", "label", "snapshot", "job",
                                   "version_point", "item_history"))
    report = copy_catalog(src, pg_url)
    assert report.rows["item"] == len(before["item"]) and report.indexes == 1 and report.binaries > 0

    pg = dsdesk.open_catalog(pg_url)
    try:
        on_pg = _tables(pg.db)
        assert {t: len(r) for t, r in on_pg.items()} == {t: len(r) for t, r in before.items()}
        ds = pg.projects.list()[0].datasets.get("cars")
        with pg.db.session() as s:  # the name search and the copied ids work there
            want = sum(1 for r in before["item"] if "frame_0000" in r["name"] and r["dataset_id"] == ds.id)
            assert q.count_items(s, ds.id, {"filter": {"name": {"$contains": "frame_0000"}}}) == want
        new = ds.clone(clone_name="made-on-postgres")  # sequences moved past the copied ids
        assert new.items_count == ds.items_count
        pg.projects.list()[0].datasets.get(dataset_name="made-on-postgres").delete()
        pg.run(jobs.purge([new.id]))
    finally:
        pg.close()

    assert cli(["catalog", "copy", pg_url, str(tmp_path / "back.sqlite"), "-q"]) == 0
    back = dsdesk.open_catalog(tmp_path / "back.sqlite")
    try:
        after = _tables(back.db)
        jobs_before = {r["id"] for r in before["job"]}
        after["job"] = [r for r in after["job"] if r["id"] in jobs_before]  # the clone and purge made on PostgreSQL
        for name, rows in before.items():
            assert after[name] == rows, f"table {name} differs after the round trip"
        with back.db.engine.begin() as con:
            con.exec_driver_sql("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('integrity-check', 1)")
        store = BlobStore(back.db.blob_root)
        internal = {r["id"] for r in before["driver"] if r["kind"] == "internal"}
        stored = [r["storage_key"] for r in before["blob"]
                  if r["driver_id"] in internal and BlobStore(src.db.blob_root).exists(r["storage_key"])]
        assert stored and all(store.exists(k) for k in stored)
        idx = {n for (n,) in back.db.engine.connect().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE name LIKE 'ix_item_meta_%'")}
        assert indexes.index_name("metadata.user.split") in idx
    finally:
        back.close()
        src.close()

    # The version point, its history and the history's key sequence came along: a change
    # made on PostgreSQL archives again, and the snapshot taken on SQLite rolls back there.
    pg = dsdesk.open_catalog(pg_url)
    try:
        ds = pg.projects.list()[0].datasets.get("cars")
        assert ds.diff("v1").counts == {"added": 0, "removed": 0, "changed": 1}
        changed = ds.items.list().items[1]
        changed.metadata["user"]["copied"] = "on postgres"
        changed.update()
        assert ds.diff("v1").counts == {"added": 0, "removed": 0, "changed": 2}
        ds.rollback("v1")
        assert ds.diff("v1").counts == {"added": 0, "removed": 0, "changed": 0}
    finally:
        pg.close()


def test_copy_refuses_a_catalog_that_is_not_empty(tmp_path):
    a = _source(tmp_path)
    b = dsdesk.open_catalog(tmp_path / "b.sqlite")
    b.projects.create("mine")
    with pytest.raises(InvalidInputError, match="not empty"):
        copy_catalog(a, b)
    assert [p.name for p in b.projects.list()] == ["mine"]
    with pytest.raises(InvalidInputError, match="same catalog"):
        copy_catalog(a, a)
    a.close()
    b.close()
