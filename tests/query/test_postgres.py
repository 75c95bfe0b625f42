"""The same queries on PostgreSQL: a throw-away server is started for this module.

Skipped when PostgreSQL's binaries are missing (or, as root, there is no ``postgres``
user to run them as).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

import dsdesk.query as q
from dsdesk.catalog.models import Item
from dsdesk.query import indexes
from tests.conftest import postgres_server
from tests.query.catalog_data import add_items, make_catalog
from tests.query.test_table import CASES, ITEMS

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg():
    with postgres_server() as server:
        db, ids = make_catalog(server.create("q"))
        add_items(db, ids, ITEMS)
        yield db, ids
        db.close()


@pytest.mark.parametrize("query,expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_query_on_postgres(pg, query, expected):
    db, ids = pg
    with db.session() as s:
        assert {r.name for r in s.execute(q.items_select(ids["dataset"], query))} == expected
        assert q.count_items(s, ids["dataset"], query) == len(expected)


def test_sort_keyset_and_bulk_update_on_postgres(pg):
    db, ids = pg
    ds = ids["dataset"]
    with db.session() as s:
        rows = s.execute(q.items_select(ds, {"sort": {"metadata.user.n": "descending"},
                                             "filter": {"metadata.user.n": {"$gt": 0}}})).all()
        assert [r.name for r in rows] == ["deep.jpg", "a2.jpg", "a1.jpg"]
        full = [r.id for r in s.execute(q.items_select(ds, {}))]
        got, after = [], None
        while True:
            page = q.page_items(s, ds, {}, 4, after=after, columns=("id",))
            got += [r.id for r in page]
            if page.after is None:
                break
            after = page.after
        assert got == full
    with db.session() as s:
        n = q.bulk_update_user_metadata(s, ds, {"filter": {"name": "d.txt"}}, {"split": "x", "flag": True})
        assert n == 1
    with db.session() as s:
        row = s.execute(select(Item.meta_user, Item.row_version).where(Item.name == "d.txt",
                                                                      Item.dataset_id == ds)).one()
        assert row.meta_user == {"split": "x", "flag": True} and row.row_version == 2
        q.bulk_update_user_metadata(s, ds, {"filter": {"name": "d.txt"}}, {"flag": None})
    with db.session() as s:
        assert s.execute(select(Item.meta_user).where(Item.name == "d.txt")).scalar_one() == {"split": "x"}


def test_expression_index_on_postgres(pg):
    db, ids = pg
    assert indexes.ensure_index(db.engine, "metadata.user.split", ids["dataset"])
    with db.engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'item'"))}
    assert indexes.index_name("metadata.user.split") in names
    assert indexes.index_name("metadata.user.split") + "_n" in names
    with db.session() as s:
        assert q.count_items(s, ids["dataset"], "split:train") == 3
    assert indexes.ensure_pair_index(db.engine, "metadata.user.split", "metadata.user.score", True)
    with db.engine.connect() as con:
        names = {r[0] for r in con.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'item'"))}
        con.exec_driver_sql("SET enable_seqscan = off")  # the table is tiny: make the planner show it can
        plan = " ".join(r[0] for r in con.execute(text("EXPLAIN " + str(
            select(func.count()).select_from(q.item_ids_select(ids["dataset"], "split:train score>0.5").subquery())
            .compile(db.engine, compile_kwargs={"literal_binds": True})))))
    pair = indexes.pair_index_name("metadata.user.split", "metadata.user.score")
    assert pair in names and pair in plan, plan
    with db.session() as s:
        assert q.count_items(s, ids["dataset"], "split:train score>0.5") == 1


def test_folder_scope_on_postgres(pg):
    """A folder name means itself on PostgreSQL too (its LIKE is case-sensitive, '%' and '_' escaped)."""
    from dsdesk.query import ast
    from tests.query.test_folder_scope import CASES as FOLDER_CASES
    from tests.query.test_folder_scope import names, scope_dataset

    db, ids = pg
    ds = scope_dataset(db, ids)
    for node, expected in FOLDER_CASES:
        assert names(db, ds, ast.Query(filter=ast.and_(ast.Cond("hidden", "eq", False), node))) == expected, node
