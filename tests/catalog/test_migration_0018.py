"""Migrations 0018 and 0019 (copy-on-write versions; frozen copies become points) on a
catalog written by the dsdesk before them.

``tests/data/legacy/catalog-0017.tar.gz`` was made by dsdesk at schema 0017 (see
``tests/data/legacy/make_catalog.py``): a dataset with two snapshots that are frozen
copies, and what that dsdesk read from them.  Today's dsdesk must migrate it on opening,
turn the copies into version points, and then list, diff and roll back to those snapshots
exactly as the old one did, beside new ones.
"""

from __future__ import annotations

import json
import sqlite3
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select

import dsdesk as dd
from dsdesk.catalog.models import Item, Snapshot
from dsdesk.versioning import delete_snapshot, diff, list_snapshots, rollback, snapshot
from tests.versioning.conftest import dataset_dump
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture

LEGACY = Path(__file__).parents[1] / "data" / "legacy" / "catalog-0017.tar.gz"


def _plain(obj):
    """What json made of the old dump (tuples as lists, datetimes as text)."""
    return json.loads(json.dumps(obj, default=str))


@pytest.fixture
def legacy(tmp_path):
    with tarfile.open(LEGACY) as tar:
        tar.extractall(tmp_path, filter="data")
    expected = json.loads((tmp_path / "expected.json").read_text())
    con = sqlite3.connect(tmp_path / "c.sqlite")
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == ("0017",)
    con.close()
    cat = dd.open_catalog(tmp_path / "c.sqlite")
    yield cat, expected
    cat.close()


def test_the_migration_keeps_every_row_and_makes_ids_never_reused(legacy, tmp_path):
    cat, expected = legacy
    d = expected["dataset_id"]
    assert _plain(dataset_dump(cat.db, d)) == expected["mutated"]
    con = sqlite3.connect(tmp_path / "c.sqlite")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        for table in ("item", "annotation", "task_status"):
            sql = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            assert "AUTOINCREMENT" in sql, table
        # the name search index and its triggers survived the rebuild of the item table
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'item'")}
        assert {"item_name_fts_ai", "item_name_fts_ad", "item_name_fts_au", "item_cow_update"} <= names
    finally:
        con.close()
    ds = cat.datasets.get(dataset_id=d)
    assert [i.filename for i in ds.items.list(filters=dd.Filters(field="name", values="img0*"))
            .all()] == ["/img0.png", "/new/img0.png"]


def test_frozen_copy_snapshots_read_diff_and_roll_back_as_before(legacy):
    cat, expected = legacy
    d = expected["dataset_id"]
    with cat.db.session() as s:
        assert [(i.name, i.item_count) for i in list_snapshots(s, d)] == [("v1", 6), ("v2", 6)]
        assert _plain(diff(s, d, "v1").to_json()) == expected["diff_v1"]
        assert _plain(diff(s, d, "v1", "v2").to_json()) == expected["diff_v1_v2"]
    with cat.db.session(write=True) as s:
        rollback(s, d, "v1")
    assert _plain(dataset_dump(cat.db, d)) == expected["before"]
    # the safety snapshot of that rollback is a version point: back to the mutated state
    with cat.db.session(write=True) as s:
        safety = [i for i in list_snapshots(s, d) if i.auto][0]
        rollback(s, d, safety.name)
    assert _plain(dataset_dump(cat.db, d)) == expected["mutated"]


def test_the_frozen_copies_become_points_and_their_rows_go(legacy):
    cat, expected = legacy
    d = expected["dataset_id"]
    with cat.db.session(write=True) as s:
        frozen = s.execute(select(Snapshot.frozen_dataset_id)).scalars().all()
        assert all(s.execute(select(Snapshot.point_id)).scalars())  # every snapshot is a point
        assert s.execute(select(Item.id).where(Item.dataset_id.in_(frozen))).first() is None  # copies gone
        snapshot(s, d, "v3")
        # an old point and a new one compare like any two snapshots (v2 and v3 hold the same)
        assert _plain(diff(s, d, "v1", "v3").to_json())["counts"] == expected["diff_v1_v2"]["counts"]
    ds = cat.datasets.get(dataset_id=d)
    ds.items.get("/img0.png").delete()
    with cat.db.session(write=True) as s:
        assert diff(s, d, "v3").counts == {"added": 0, "removed": 1, "changed": 0}
        rollback(s, d, "v3")
    assert _plain(dataset_dump(cat.db, d)) == expected["mutated"]
    with cat.db.session(write=True) as s:  # deleting the old snapshots leaves v3 whole
        delete_snapshot(s, d, "v1")
        delete_snapshot(s, d, "v2")
    ds.items.get("/a/img2.png").delete()
    with cat.db.session(write=True) as s:
        rollback(s, d, "v3")
    assert _plain(dataset_dump(cat.db, d)) == expected["mutated"]


@pytest.mark.postgres
def test_a_team_catalog_at_0017_on_postgresql_migrates_the_same(tmp_path, pg_url, monkeypatch):  # noqa: F811
    """The same catalog on PostgreSQL: its rows put into a database at schema 0017, then
    opened by today's dsdesk (0018 and 0019 run there)."""
    from types import SimpleNamespace

    from alembic import command
    from sqlalchemy import MetaData, create_engine, func, insert, text

    from dsdesk.catalog.migrate import alembic_config

    with tarfile.open(LEGACY) as tar:
        tar.extractall(tmp_path, filter="data")
    expected = json.loads((tmp_path / "expected.json").read_text())
    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "c.blobs"))
    engine = create_engine(pg_url)
    command.upgrade(alembic_config(SimpleNamespace(url=pg_url, engine=engine)), "0017")
    src = create_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    have, dst = MetaData(), MetaData()
    have.reflect(src)
    dst.reflect(engine)
    with src.connect() as r, engine.begin() as w:
        for table in dst.sorted_tables:
            if table.name == "alembic_version" or table.name not in have.tables:
                continue
            rows = [dict(x._mapping) for x in r.execute(have.tables[table.name].select())]
            if rows:
                w.execute(insert(table), rows)
            keys = list(table.primary_key.columns)
            seq = len(keys) == 1 and w.execute(text(f"SELECT pg_get_serial_sequence('{table.name}', "
                                                    f"'{keys[0].name}')")).scalar()
            if seq:  # the rows came with their keys
                w.execute(text(f"SELECT setval('{seq}', (SELECT coalesce(max({keys[0].name}), 0) + 1 "
                               f"FROM {table.name}), false)"))
    engine.dispose()
    cat = dd.open_catalog(pg_url)
    try:
        d = expected["dataset_id"]
        assert _plain(dataset_dump(cat.db, d)) == expected["mutated"]
        with cat.db.session(write=True) as s:
            assert all(s.execute(select(Snapshot.point_id)).scalars())
            frozen = s.execute(select(Snapshot.frozen_dataset_id)).scalars().all()
            assert s.execute(select(func.count()).select_from(Item).where(Item.dataset_id.in_(frozen))).scalar() == 0
            assert _plain(diff(s, d, "v1").to_json()) == expected["diff_v1"]
            assert _plain(diff(s, d, "v1", "v2").to_json()) == expected["diff_v1_v2"]
            rollback(s, d, "v1")
        assert _plain(dataset_dump(cat.db, d)) == expected["before"]
    finally:
        cat.close()
