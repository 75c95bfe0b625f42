"""Malformed input gets a clear QueryError and never reaches SQL as text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

import dsdesk.query as q
from dsdesk.errors import QueryError
from dsdesk.query import dql, searchbar
from dsdesk.query.filters import Filters
from tests.query.catalog_data import add_items, make_catalog

BAD_DQL = [
    ({"filter": {"name": {"$regex": "a.*"}}}, "unknown DQL operator '$regex'"),
    ({"filter": {"$xor": []}}, "unknown DQL operator '$xor'"),
    ({"filter": {"name": {"$in": "a"}}}, "expects a list"),
    ({"filter": {"name": {"$exists": "yes"}}}, "expects true or false"),
    ({"filter": {"hidden": "no"}}, "'hidden' expects true or false"),
    ({"filter": {"metadata.system.size": "big"}}, "expects a number"),
    ({"filter": {"metadata.system.size": {"$gt": [1]}}}, "expects a plain value"),
    ({"filter": {"createdAt": {"$gt": "yesterday"}}}, "ISO-8601"),
    ({"filter": {"colour": "red"}}, "unknown field 'colour'"),
    ({"filter": {"metadata.user.": 1}}, "bad field path"),
    ({"filter": {"metadata.user.a..b": 1}}, "bad field path"),
    ({"filter": {"metadata.user.a'b": 1}}, "bad field path"),
    ({"filter": {'metadata.user.a"); DROP TABLE item; --': 1}}, "bad field path"),
    ({"filter": {"metadata.user": 1}}, "bad field path"),
    ({"filter": {"metadata.user.x": {"$gt": True}}}, "needs a string, number or date"),
    ({"filter": {"metadata.user.x": {"$lt": None}}}, "needs a string, number or date"),
    ({"filter": {"name": {"a": 1}}}, "expected {\"$op\": value}"),
    ({"filter": {"name": {}}}, "empty condition"),
    ({"filter": []}, "must be an object"),
    ({"filter": {"$and": {"name": "a"}}}, "expects a list"),
    ({"resource": "users"}, "unknown DQL resource"),
    ({"resource": "items", "bogus": 1}, "unknown DQL key"),
    ({"sort": {"name": "up"}}, "must be 'ascending' or 'descending'"),
    ({"sort": "name"}, "DQL 'sort' must be an object"),
    ({"sort": {"colour": "ascending"}}, "unknown field 'colour'"),
    ({"page": -1}, "'page' must be an integer"),
    ({"pageSize": 5000}, "'pageSize' must be an integer from 1 to 1000"),
    ({"join": {"on": {"resource": "items"}, "filter": {}}}, "supports only annotations"),
    ({"join": {"filter": {"colour": "x"}}}, "unknown field 'colour' for resource 'annotations'"),
    ({"intersect": {"filter": {}}}, "must be {\"query\""),
    ({"filter": {"attributes": "x"}}, "unknown field 'attributes' for resource 'items'"),
    ('{"filter": {"name": }', "DQL is not valid JSON"),
    ("[1, 2]", "search"),  # not JSON-object text: parsed as a search, which rejects nothing here
]


@pytest.mark.parametrize("bad,msg", BAD_DQL[:-1], ids=[str(i) for i in range(len(BAD_DQL) - 1)])
def test_bad_dql(bad, msg):
    with pytest.raises(QueryError) as e:
        q.item_ids_select(1, bad)
    assert msg in str(e.value)


BAD_SEARCH = [
    ("(split:train", "unbalanced '('", 0),
    ("split:train)", "unbalanced ')'", 11),
    ("a:1 or", "ends where a term was expected", 6),
    ("split:", "missing value", 6),
    ('name:"abc', "unterminated quoted string", 5),
    ("()", "empty parentheses", 1),
    ("score>>", "", None),
    ("1score>3", "bad term", 0),
    ("is:famous", "unknown is:famous", 0),
    ("and split:train", "needs a term on both sides", 0),
    ("size>big", "expects a number", None),
    ("created>soon", "ISO-8601", None),
    ("hidden:maybe", "'hidden' expects true or false", None),
    ("(a:1 (b:2)", "unbalanced '('", 0),
]


@pytest.mark.parametrize("text,msg,pos", BAD_SEARCH, ids=[str(i) for i in range(len(BAD_SEARCH))])
def test_bad_search(text, msg, pos):
    if text == "score>>":  # ">" is a legal value: the query means score > ">"
        q.item_ids_select(1, text)
        return
    with pytest.raises(QueryError) as e:
        q.item_ids_select(1, text)
    assert msg in str(e.value)
    if pos is not None:
        assert e.value.position == pos
        assert f"at position {pos}" in str(e.value)


def test_filters_helper_rejects():
    f = Filters()
    with pytest.raises(QueryError, match="unknown operator"):
        f.add(field="name", values="a", operator="like")
    with pytest.raises(QueryError, match="method"):
        f.add(field="name", values="a", method="xor")
    with pytest.raises(QueryError, match="ascending"):
        f.sort_by(field="name", value="sideways")
    with pytest.raises(QueryError, match="unknown resource"):
        Filters(resource="users")
    with pytest.raises(QueryError, match="filters must be"):
        q.item_ids_select(1, 42)


INJECTIONS = [
    "'; DROP TABLE item; --",
    "\" OR 1=1 --",
    "a') OR ('1'='1",
    "%' OR name LIKE '%",
    "*]; DELETE FROM item; [*",
    "\\'); ATTACH DATABASE '/tmp/x' AS x; --",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_in_values_stays_a_value(tmp_path, evil):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    add_items(db, ids, [dict(dir="/", name="a.jpg", user={"k": "v"}), dict(dir="/", name=evil.replace("/", "_")
                                                                               .replace("\\", "_"), user={"k": evil})])
    queries = [
        {"filter": {"name": evil}}, {"filter": {"metadata.user.k": evil}}, {"filter": {"dir": evil}},
        {"filter": {"filename": evil}}, {"filter": {"name": {"$in": [evil, "x"]}}},
        {"join": {"filter": {"label": evil}}}, {"join": {"filter": {"attributes": evil}}},
        "name:" + '"' + evil.replace('"', '\\"') + '"', '"' + evil.replace('"', '\\"') + '"',
    ]
    with db.session() as s:
        for qq in queries:
            stmt = q.items_select(ids["dataset"], qq)
            for dialect in (sqlite.dialect(), postgresql.dialect()):
                sql = str(stmt.compile(dialect=dialect))
                assert evil not in sql and "DROP" not in sql and "DELETE" not in sql and "ATTACH" not in sql
            s.execute(stmt).all()
        assert {r.name for r in s.execute(q.items_select(ids["dataset"], {"filter": {"metadata.user.k": evil}}))} \
            == {evil.replace("/", "_").replace("\\", "_")}
        assert q.count_items(s, ids["dataset"], {}) == 2
    db.close()


def test_bad_field_path_in_search():
    with pytest.raises(QueryError, match="bad field path"):
        q.item_ids_select(1, "user.a..b:1")
    with pytest.raises(QueryError, match="bad field path"):
        searchbar.parse("x") and q.item_ids_select(1, {"filter": {"metadata.user.a%b": 1}})


def test_deep_nesting_is_refused():
    node: dict = {"name": "a"}
    for _ in range(100):
        node = {"$and": [node]}
    with pytest.raises(QueryError, match="nested too deeply"):
        dql.parse({"filter": node})


def test_page_items_checks_cursor(tmp_path):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    with db.session() as s:
        with pytest.raises(QueryError, match="after must be"):
            q.page_items(s, ids["dataset"], None, 10, after="x")
        with pytest.raises(QueryError, match="no item with id"):
            q.page_items(s, ids["dataset"], None, 10, after=12345)
        with pytest.raises(QueryError, match="page_size"):
            q.page_items(s, ids["dataset"], None, 0)
    db.close()

_SEARCH_ALPHABET = st.sampled_from(list('ab:=<>!-()" ,*?/.\\') + ["and", "or", "not", "label", "dir", "size",
                                                                   "split", "1", "0.5", "true", "user."])


@settings(max_examples=300, deadline=None)
@given(st.lists(_SEARCH_ALPHABET, max_size=12).map("".join))
def test_search_bar_fuzz_only_raises_query_error(text):
    """Any string either compiles or gets a QueryError that names a position; nothing else."""
    try:
        stmt = q.item_ids_select(1, text)
    except QueryError as e:
        assert "position" in str(e) or "expects" in str(e) or "field" in str(e) or "search" in str(e), str(e)
    else:
        str(stmt.compile(dialect=sqlite.dialect()))
        str(stmt.compile(dialect=postgresql.dialect()))


_JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("ab*$.", max_size=4))
_DQL = st.recursive(_JSON_LEAF, lambda kids: st.one_of(
    st.lists(kids, max_size=3),
    st.dictionaries(st.sampled_from(["$and", "$or", "$in", "$gt", "$exists", "$eq", "$nope", "name", "dir",
                                     "metadata.user.a", "metadata.system.size", "hidden", "createdAt", "x"]),
                    kids, max_size=3)), max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(_DQL)
def test_dql_fuzz_only_raises_query_error(flt):
    """Any JSON as a DQL filter either compiles or gets a QueryError; nothing else."""
    try:
        stmt = q.item_ids_select(1, {"filter": flt})
    except QueryError:
        return
    str(stmt.compile(dialect=sqlite.dialect()))
    str(stmt.compile(dialect=postgresql.dialect()))
