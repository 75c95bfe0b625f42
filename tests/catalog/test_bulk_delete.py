"""Purging most of the item table rebuilds its indexes and the name index once
(dsdesk.catalog.bulkdelete) and leaves them exactly as a row-by-row delete would."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import delete, text

import dsdesk
import dsdesk.query as q
from benchmarks.synth import records
from dsdesk.api import jobs
from dsdesk.catalog import bulkdelete, bulkload
from dsdesk.catalog.models import Item
from dsdesk.query import indexes


def _schema(path) -> tuple[list, list]:
    con = sqlite3.connect(path)
    try:
        idx = sorted(con.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'item' AND type = 'index'"))
        trg = sorted(con.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'item' AND type = 'trigger'"))
        return idx, trg
    finally:
        con.close()


def _fts_ok(cat) -> None:
    with cat.db.engine.begin() as con:
        con.exec_driver_sql("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('integrity-check', 1)")


def _names(cat, ds_id, text_):
    with cat.db.session() as s:
        return {r.name for r in s.execute(q.items_select(ds_id, {"filter": {"name": {"$contains": text_}}}))}


@pytest.fixture
def two(tmp_path, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_ROWS", 50)
    cat = dsdesk.open_catalog(tmp_path / "c.sqlite")
    p = cat.projects.create("p")
    big, small = p.datasets.create("big"), p.datasets.create("small")
    big.items.bulk_import(records(400, seed=1))
    small.items.bulk_import(records(100, seed=2, start=400))
    indexes.ensure_index(cat.db.engine, "metadata.user.split", big.id)
    yield cat, big, small
    cat.close()


def test_purge_of_most_of_the_table_rebuilds_the_indexes(two, tmp_path):
    cat, big, small = two
    before = _schema(tmp_path / "c.sqlite")
    with cat.db.session() as s:
        assert bulkdelete.worth_rebuilding(s, 400) and not bulkdelete.worth_rebuilding(s, 100)
    big.delete()
    assert cat.run(jobs.purge([big.id])) == 1
    assert _schema(tmp_path / "c.sqlite") == before  # every index and trigger back, as it was
    _fts_ok(cat)
    assert _names(cat, small.id, "img_0000045") == {f"img_0000045{i}.jpg" for i in range(10)}
    with cat.db.session() as s:  # nothing of the big dataset is left in the name index
        assert s.execute(text("SELECT count(*) FROM item_name_fts WHERE item_name_fts MATCH '\"img_0000001\"'")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM item_name_fts_delete_pause")).scalar() == 0
        s.execute(delete(Item).where(Item.name == "img_00000450.jpg"))  # the trigger works again
    _fts_ok(cat)
    assert _names(cat, small.id, "img_0000045") == {f"img_0000045{i}.jpg" for i in range(1, 10)}


def test_a_failed_bulk_delete_leaves_everything(two, tmp_path):
    cat, big, _ = two
    before = _schema(tmp_path / "c.sqlite")
    with pytest.raises(RuntimeError, match="boom"), cat.db.session(write=True) as s:
        with bulkdelete.bulk_item_delete(s, 400) as rebuilt:
            assert rebuilt
            s.execute(delete(Item).where(Item.dataset_id == big.id))
            raise RuntimeError("boom")
    assert _schema(tmp_path / "c.sqlite") == before
    _fts_ok(cat)
    assert big.refresh().items_count == 400 and len(_names(cat, big.id, "img_0000001")) == 10


def test_purging_datasets_that_together_outweigh_the_rest_rebuilds_once(tmp_path, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_ROWS", 50)
    from dsdesk.transfer import purge

    calls = []
    real = purge.bulk_item_delete

    def spy(s, deleting):
        calls.append(deleting)
        return real(s, deleting)

    monkeypatch.setattr(purge, "bulk_item_delete", spy)
    cat = dsdesk.open_catalog(tmp_path / "c.sqlite")
    p = cat.projects.create("p")
    a, b, keep = p.datasets.create("a"), p.datasets.create("b"), p.datasets.create("keep")
    a.items.bulk_import(records(200, seed=1))
    b.items.bulk_import(records(200, seed=2, start=200))
    keep.items.bulk_import(records(100, seed=3, start=400))
    before = _schema(tmp_path / "c.sqlite")
    with cat.db.session() as s:  # each alone leaves more than it takes; together they do not
        assert not bulkdelete.worth_rebuilding(s, 200) and bulkdelete.worth_rebuilding(s, 400)
    a.delete()
    b.delete()
    assert cat.run(jobs.purge([a.id, b.id])) == 2
    assert calls == [400]  # one transaction, one rebuild
    assert _schema(tmp_path / "c.sqlite") == before
    _fts_ok(cat)
    assert {d.name for d in p.datasets.list()} == {"keep"}
    assert _names(cat, keep.id, "img_0000045") == {f"img_0000045{i}.jpg" for i in range(10)}
    cat.close()
