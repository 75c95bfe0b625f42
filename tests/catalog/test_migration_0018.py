"""Migration 0018 (copy-on-write versions) on a catalog written by the dsdesk before it.

``tests/data/legacy/catalog-0017.tar.gz`` was made by dsdesk at schema 0017 (see
``tests/data/legacy/make_catalog.py``): a dataset with two snapshots that are frozen
copies, and what that dsdesk read from them.  Today's dsdesk must migrate it on opening and
read, diff and roll back to those snapshots exactly as the old one did, and take new
snapshots (version points) beside them.
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


def test_new_snapshots_are_points_beside_the_old_ones(legacy):
    cat, expected = legacy
    d = expected["dataset_id"]
    with cat.db.session(write=True) as s:
        snapshot(s, d, "v3")
        point = s.execute(select(Snapshot.point_id).where(Snapshot.name == "v3")).scalar()
        assert point is not None
        assert s.execute(select(Snapshot.point_id).where(Snapshot.name == "v1")).scalar() is None
    ds = cat.datasets.get(dataset_id=d)
    ds.items.get("/img0.png").delete()
    with cat.db.session(write=True) as s:
        assert diff(s, d, "v3").counts == {"added": 0, "removed": 1, "changed": 0}
        with pytest.raises(dd.InvalidInputError, match="before this catalog's upgrade"):
            diff(s, d, "v1", "v3")
        rollback(s, d, "v3")
    assert _plain(dataset_dump(cat.db, d)) == expected["mutated"]
    # deleting an old snapshot deletes its frozen copy's rows
    with cat.db.session(write=True) as s:
        frozen = s.execute(select(Snapshot.frozen_dataset_id).where(Snapshot.name == "v1")).scalar()
        delete_snapshot(s, d, "v1")
        assert s.execute(select(Item.id).where(Item.dataset_id == frozen)).first() is None
