"""Large loads rebuild the item indexes at the end (``dsdesk.catalog.bulkload``), on a real SQLite file.

What must hold: after a load the table has exactly the indexes it had (expression indexes
over metadata included); other connections never see the table without them; a failed
load leaves them as they were; small loads into a big table never touch them.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from dsdesk.catalog import bulkload
from dsdesk.catalog.bulkload import IndexDeferral, deferred_indexes
from dsdesk.catalog.ingest import Record, ingest
from dsdesk.query import indexes as meta_indexes
from tests.catalog.test_ingest import _counts, records


def _indexes(path) -> dict[str, str]:
    """The item table's indexes as another connection sees them: {name: sql}."""
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT name, coalesce(sql, '') FROM sqlite_master"
                                " WHERE type = 'index' AND tbl_name = 'item'").fetchall())
    finally:
        con.close()


def _catalog_file(catalog):
    return catalog.db.engine.url.database


def test_a_large_load_rebuilds_every_item_index_and_readers_always_see_them(dataset, catalog, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_ROWS", 5_000)
    # An expression index over a JSON key with "-:" in it (a bind parameter to a naive text()): recreated from its own SQL.
    assert meta_indexes.ensure_index(catalog.db.engine, 'metadata.user.cam-:id', dataset.id)
    before = _indexes(_catalog_file(catalog))
    assert any("cam-:id" in sql for sql in before.values())
    assert {"ix_item_dataset_name", "ix_item_blob"} <= before.keys()

    seen_by_reader, dropped_in_load = [], []

    def on_batch(done):
        seen_by_reader.append(_indexes(_catalog_file(catalog)))
        dropped_in_load.append(s.execute(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'ix_item_dataset_name'")).scalar() == 0)

    with catalog.db.session(write=True) as s:
        res = ingest(s, dataset.id, dataset.driver_id, records(23_000), on_batch=on_batch)
    assert res.created == 23_000
    assert all(dropped_in_load)  # the load itself ran without them ...
    assert all(seen == before for seen in seen_by_reader)  # ... which no other connection noticed
    assert _indexes(_catalog_file(catalog)) == before
    # The rebuilt indexes serve lookups.
    assert dataset.items.get(filepath="/d3/sub/img_000013.jpg").metadata["user"] == {"i": 13}


def test_a_load_of_unknown_size_defers_once_it_is_large(dataset, catalog, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_ROWS", 15_000)
    state = []

    def on_batch(done):
        state.append(s.execute(text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'ix_item_dataset_name'")).scalar())

    before = _indexes(_catalog_file(catalog))
    with catalog.db.session(write=True) as s:
        ingest(s, dataset.id, dataset.driver_id, iter(records(30_000)), on_batch=on_batch)
    assert state == [1, 0, 0]  # 10k rows: kept; from 20k on: deferred
    assert _indexes(_catalog_file(catalog)) == before


def test_a_failed_load_leaves_the_indexes_and_the_dataset_as_they_were(dataset, catalog, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_ROWS", 5_000)
    before = _indexes(_catalog_file(catalog))

    class Stop(Exception):
        pass

    def on_batch(done):
        if done >= 20_000:
            raise Stop

    with pytest.raises(Stop), catalog.db.session(write=True) as s:
        ingest(s, dataset.id, dataset.driver_id, records(23_000), on_batch=on_batch)
    assert _indexes(_catalog_file(catalog)) == before
    assert _counts(catalog, dataset.id) == (0, 0, 0)

    # A caller that catches the failure and commits what went in still has its indexes.
    with catalog.db.session(write=True) as s:
        with pytest.raises(Stop):
            ingest(s, dataset.id, dataset.driver_id, records(23_000), on_batch=on_batch)
    assert _indexes(_catalog_file(catalog)) == before
    assert _counts(catalog, dataset.id)[0] == 20_000


def test_small_loads_into_a_big_table_keep_the_indexes(dataset, catalog, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_ROWS", 1_000)
    dataset.items.bulk_import(records(10_000))
    with catalog.db.session(write=True) as s:
        d = IndexDeferral(s, "item")
        d.consider(9_000)  # fewer than the 10k rows there: keeping them is cheaper
        assert not d.active
        d.consider(10_000)
        assert d.active
        d.restore()
        assert not d.active
    with catalog.db.session(write=True) as s, deferred_indexes(s, "item", expected=500) as d:
        assert not d.active  # under MIN_ROWS


def test_unique_indexes_stay_during_a_load(dataset, catalog, monkeypatch):
    """The re-import's ON CONFLICT needs the (dataset, dir, name) key while indexes are deferred."""
    monkeypatch.setattr(bulkload, "MIN_ROWS", 1_000)
    dataset.items.bulk_import(records(3_000))
    again = records(3_000) + [Record(dir="/new", name="x.jpg", storage_key="kx")]
    assert dataset.items.bulk_import(again) == 1  # 3 001 >= 3 000: deferred, still skips the taken paths
    assert _counts(catalog, dataset.id)[0] == 3_001
