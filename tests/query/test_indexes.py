"""On-demand metadata indexes: created once, recorded, and used by the planner."""

from __future__ import annotations

from sqlalchemy import func, select, text

import dsdesk.query as q
from dsdesk.catalog.models import MetadataKey
from dsdesk.query import indexes
from tests.query.catalog_data import add_items, make_catalog


def _plan(db, stmt) -> str:
    with db.engine.connect() as con:
        compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={})
        rows = con.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), tuple(compiled.params.values())).all()
    return " | ".join(r[-1] for r in rows)


def test_index_is_created_recorded_and_used(tmp_path, monkeypatch):
    monkeypatch.setattr(indexes, "AUTO_INDEX_MIN_ITEMS", 0)  # the catalog here is tiny
    db, ids = make_catalog(tmp_path / "c.sqlite")
    add_items(db, ids, [dict(dir="/", name=f"i{i}.jpg", user={"split": ["train", "val"][i % 2], "score": i / 10})
                        for i in range(20)])
    ds = ids["dataset"]
    stmt = q.item_ids_select(ds, "split:train score>0.5")
    assert "ix_item_meta_" not in _plan(db, stmt)
    with db.session() as s:
        assert q.count_items(s, ds, "split:train score>0.5") == 7
    node = q.to_query("split:train score>0.5").filter
    # count_items already asked for both in the background: this call builds whichever that
    # thread has not finished yet (none, one or both, depending on timing), and waits.
    built = indexes.request_indexes(db.engine, ds, node, wait=True)
    assert set(built) <= {"metadata.user.split", "metadata.user.score"}
    # by now both exist
    with db.engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
    assert {indexes.index_name("metadata.user.split"), indexes.index_name("metadata.user.score")} <= names
    for f, vt in (("metadata.user.split", "text"), ("metadata.user.score", "number")):
        assert indexes.ensure_index(db.engine, f, ds, vt)
    with db.engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
        assert {indexes.index_name("metadata.user.split"), indexes.index_name("metadata.user.score")} <= names
        keys = {(r.path, r.indexed, r.value_type) for r in con.execute(select(MetadataKey.__table__))}
        assert ("metadata.user.split", True, "text") in keys and ("metadata.user.score", True, "number") in keys
    plan = _plan(db, q.item_ids_select(ds, "split:train"))
    assert indexes.index_name("metadata.user.split") in plan, plan
    plan = _plan(db, q.item_ids_select(ds, {"filter": {"metadata.user.score": {"$gt": 0.5}}}))
    assert indexes.index_name("metadata.user.score") in plan, plan
    with db.session() as s:  # results unchanged with the index
        assert q.count_items(s, ds, "split:train score>0.5") == 7
    # The conjunction has its pair index (built first, above): answered from it alone.
    pair = indexes.pair_index_name("metadata.user.split", "metadata.user.score")
    assert pair in names
    plan = _plan(db, select(func.count()).select_from(q.item_ids_select(ds, "split:train score>0.5").subquery()))
    assert f"USING INDEX {pair}" in plan, plan
    # A sort on an indexed field walks its index in order: no sort step, however deep the page.
    sorted_page = q.items_select(ds, {"filter": {}, "sort": {"metadata.user.score": "descending"}}).limit(5).offset(10)
    plan = _plan(db, sorted_page)
    assert indexes.index_name("metadata.user.score") in plan and "TEMP B-TREE" not in plan, plan
    with db.session() as s:
        got = [r.name for r in s.execute(sorted_page)]
    assert got == [f"i{i}.jpg" for i in (9, 8, 7, 6, 5)]
    db.close()


def test_pair_of_a_conjunction():
    pair = indexes.index_pair
    node = q.to_query("split:train score>0.5").filter
    assert pair(node) == ("metadata.user.split", "metadata.user.score", True)
    assert pair(q.to_query("score>0.5 split:train camera:c1").filter) == (
        "metadata.user.split", "metadata.user.score", True)
    assert pair(q.to_query("split:train camera:c1").filter) == ("metadata.user.split", "metadata.user.camera", False)
    assert pair(q.to_query("split:train").filter) is None
    assert pair(q.to_query("split:train or score>0.5").filter) is None
    assert pair(q.to_query("score>0.5 score<0.9").filter) is None


def test_the_previous_layout_index_is_replaced(tmp_path):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    old = indexes.index_name("metadata.user.split", layout=2)
    with db.engine.begin() as con:
        con.exec_driver_sql(f"CREATE INDEX {old} ON item (dataset_id, json_extract(meta_user, '$.\"split\"'), hidden)")
    assert indexes.ensure_index(db.engine, "metadata.user.split", ids["dataset"])
    with db.engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
    assert indexes.index_name("metadata.user.split") in names and old not in names
    db.close()


def test_index_ddl_is_safe_and_portable():
    assert indexes.index_ddl("sqlite", "metadata.user.a b") == [
        f"CREATE INDEX IF NOT EXISTS {indexes.index_name('metadata.user.a b')} ON item "
        "(dataset_id, json_extract(meta_user, '$.\"a b\"'), id, hidden, json_type(meta_user, '$.\"a b\"'))"]
    pg = indexes.index_ddl("postgresql", "metadata.system.tags.train")
    assert len(pg) == 2 and all("CONCURRENTLY" in s for s in pg)
    assert indexes.indexable_fields(q.to_query("split:train size>3 label:car user.x.y:1 \"abc\"").filter) == [
        "metadata.user.split", "metadata.user.x.y"]


def test_small_datasets_get_no_automatic_index(tmp_path):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    add_items(db, ids, [dict(dir="/", name="a.jpg", user={"rare": 1})])
    with db.session() as s:
        assert q.count_items(s, ids["dataset"], "rare:1") == 1
    with db.engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))}
    assert indexes.index_name("metadata.user.rare") not in names
    db.close()
