"""Wide queries: thousands of conditions and long ``$in`` lists.

Before: a DQL ``$or`` of 3,000 conditions ended in SQLite's raw ``Expression tree is too
large (maximum depth 1000)``, and an ``$in`` list was capped at 10,000 values (each one a
bind variable).  Now a wide AND/OR compiles as a balanced tree and a long list of plain
values is bound as one parameter; each wide query is checked against the narrow query
that means the same, on SQLite held at its default variable limit (32,766) and on
PostgreSQL (the module server of ``test_postgres``).
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event

import dsdesk.query as q
from dsdesk.errors import QueryError
from tests.query.catalog_data import add_items, make_catalog
from tests.query.test_postgres import pg  # noqa: F401 - the module-scoped server fixture
from tests.query.test_table import ITEMS

JUNK = [f"no-such-{i}.jpg" for i in range(50_000)]


def wide_cases(item_ids):
    """(wide query, the narrow query with the same answer)."""
    return [
        ({"filter": {"$or": [{"name": n} for n in JUNK[:3000]] + [{"name": "a1.jpg"}]}},
         {"filter": {"name": "a1.jpg"}}),
        ({"filter": {"$and": [{"name": {"$ne": n}} for n in JUNK[:3000]] + [{"dir": "/val"}]}},
         {"filter": {"dir": "/val"}}),
        ({"filter": {"name": {"$in": JUNK + ["a2.jpg", "c1.jpg"]}}},
         {"filter": {"name": {"$in": ["a2.jpg", "c1.jpg"]}}}),
        ({"filter": {"name": {"$nin": JUNK}}}, {"filter": {}}),
        ({"filter": {"metadata.user.split": {"$in": JUNK[:2000] + ["val"]}}},
         {"filter": {"metadata.user.split": "val"}}),
        ({"filter": {"id": {"$in": list(range(10**6, 10**6 + 40_000)) + item_ids[:2]}}},
         {"filter": {"id": {"$in": item_ids[:2]}}}),
        ({"filter": {"$or": [{"$and": [{"name": n}, {"dir": "/x"}]} for n in JUNK[:2000]] + [{"dir": "/train"}]}},
         {"filter": {"dir": "/train"}}),
    ]


def _check(db, ids, item_ids):
    with db.session() as s:
        for wide, narrow in wide_cases(item_ids):
            want = {r.name for r in s.execute(q.items_select(ids["dataset"], narrow))}
            assert want  # the oracle finds something, so the wide query has something to find
            assert {r.name for r in s.execute(q.items_select(ids["dataset"], wide))} == want
            assert q.count_items(s, ids["dataset"], wide) == len(want)


def _default_variable_limit(dbapi_con, _record) -> None:
    dbapi_con.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)


def test_wide_queries_on_sqlite(tmp_path):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    event.listen(db.engine, "connect", _default_variable_limit)
    db.engine.dispose()
    item_ids = add_items(db, ids, ITEMS)
    _check(db, ids, item_ids)
    db.close()


@pytest.mark.postgres
def test_wide_queries_on_postgres(pg):  # noqa: F811
    db, ids = pg
    with db.session() as s:
        item_ids = sorted(r.id for r in s.execute(q.items_select(ids["dataset"], {"filter": {}})))
    _check(db, ids, item_ids)


@pytest.mark.parametrize("query,msg", [
    ({"filter": {"$or": [{"name": n} for n in JUNK[:10_001]]}}, r"\$or has 10,001 conditions; the limit is 10,000"),
    ({"filter": {"name": {"$in": [f"n{i}" for i in range(1_000_001)]}}}, "the limit is 1,000,000"),
    ({"filter": {"metadata.user.n": {"$in": list(range(20_000))}}}, "the limit is 10,000"),
    ({"filter": {"name": {"$in": [f"n{i}*" for i in range(20_000)]}}}, "the limit is 10,000"),
])
def test_over_the_limits_is_a_query_error(tmp_path, query, msg):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    with db.session() as s, pytest.raises(QueryError, match=msg):
        q.count_items(s, ids["dataset"], query)
    db.close()
