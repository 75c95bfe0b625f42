"""Table-driven queries against a real SQLite catalog: DQL, Filters and search-bar forms."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.dialects import postgresql

import dsdesk.query as q
from dsdesk.query import dql
from dsdesk.query.filters import Filters
from tests.query.catalog_data import add_items, make_catalog
from tests.query.pyeval import evaluate

ITEMS = [
    dict(dir="/train", name="a1.jpg", size=1000, mimetype="image/jpeg", width=640, height=480,
         user={"split": "train", "score": 0.9, "tags": {"train": True}, "n": 5, "nested": {"deep": {"x": "y"}}},
         system={"originalname": "A1.JPG", "tags": {"train": True}},
         annotations=[{"label": "car", "type": "box", "attributes": ["occluded"], "creator": "joe"},
                      {"label": "person", "type": "box", "meta": {"user": {"conf": 0.8}}}]),
    dict(dir="/train", name="a2.jpg", size=2000, mimetype="image/jpeg", width=1920, height=1080,
         user={"split": "train", "score": 0.3, "n": 7}, annotations=[{"label": "car", "type": "polygon"}]),
    dict(dir="/train/sub", name="b1.png", size=3000, mimetype="image/png", width=100, height=100,
         user={"split": "train", "score": "high"}, annotations=[{"label": "person", "type": "box"}]),
    dict(dir="/val", name="c1.jpg", size=500, mimetype="image/jpeg", user={"split": "val", "score": 0.5}),
    dict(dir="/val", name="c2.JPG", size=10, mimetype="image/jpeg", user={"split": "val", "flag": True},
         annotations=[{"label": "dog", "type": "point", "attributes": {"color": "brown", "age": 3}}]),
    dict(dir="/", name="d.txt", size=0, mimetype="text/plain", description="hello world"),
    dict(dir="/train", name="hidden.jpg", hidden=True, user={"split": "train"}),
    dict(dir="/trainee", name="e1.jpg", size=700, user={"split": None, "score": 1, "flag": False}),
    dict(dir="/val", name="[w]q?.jpg", size=800, user={"split": "val*", "n": "7"}),
    dict(dir="/x/y/z", name="deep.jpg", size=900, user={"split": "test", "n": 10},
         created=dt.datetime(2025, 6, 1, 12, 0)),
]
ALL = {i["name"] for i in ITEMS}
VISIBLE = ALL - {"hidden.jpg"}


def S(*names):
    return set(names)


def filters(*adds, joins=(), sort=None, defaults=True, custom=None):
    f = Filters(use_defaults=defaults, custom_filter=custom)
    for a in adds:
        f.add(**a)
    for j in joins:
        f.add_join(**j)
    if sort:
        f.sort_by(**sort)
    return f


CASES = [
    # ---- DQL dicts (taken as they are: no defaults) --------------------------------------
    ({}, ALL),
    (None, VISIBLE),
    ({"filter": {"hidden": True}}, S("hidden.jpg")),
    ({"filter": {"$and": [{"hidden": False}, {"type": "file"}]}}, VISIBLE),
    ({"filter": {"type": "dir"}}, set()),
    ({"filter": {"type": {"$in": ["file", "dir"]}}}, ALL),
    ({"filter": {"dir": "/train"}}, S("a1.jpg", "a2.jpg", "hidden.jpg")),
    ({"filter": {"dir": "/train/"}}, S("a1.jpg", "a2.jpg", "hidden.jpg")),
    ({"filter": {"dir": "/train/**"}}, S("a1.jpg", "a2.jpg", "b1.png", "hidden.jpg")),
    ({"filter": {"dir": "/train/*"}}, S("b1.png")),
    ({"filter": {"$or": [{"dir": "/train"}, {"dir": "/train/*"}]}}, S("a1.jpg", "a2.jpg", "b1.png", "hidden.jpg")),
    ({"filter": {"dir": "/**"}}, ALL),
    ({"filter": {"dir": "/x/**"}}, S("deep.jpg")),
    ({"filter": {"filename": "/train/a1.jpg"}}, S("a1.jpg")),
    ({"filter": {"filename": "/d.txt"}}, S("d.txt")),
    ({"filter": {"filename": "/train/**"}}, S("a1.jpg", "a2.jpg", "b1.png", "hidden.jpg")),
    ({"filter": {"filename": "*.jpg"}}, ALL - S("b1.png", "c2.JPG", "d.txt")),
    ({"filter": {"filename": "/val/[w]q?.jpg"}}, S("[w]q?.jpg")),
    ({"filter": {"filename": {"$gt": "/x"}}}, S("deep.jpg")),
    ({"filter": {"name": "a?.jpg"}}, S("a1.jpg", "a2.jpg")),
    ({"filter": {"name": "*[w]*"}}, S("[w]q?.jpg")),
    ({"filter": {"name": {"$in": ["a1.jpg", "d.txt"]}}}, S("a1.jpg", "d.txt")),
    ({"filter": {"name": ["a1.jpg", "c*"]}}, S("a1.jpg", "c1.jpg", "c2.JPG")),
    ({"filter": {"name": {"$nin": ["a1.jpg", "d.txt"]}}}, ALL - S("a1.jpg", "d.txt")),
    ({"filter": {"name": {"$ne": "a1.jpg"}}}, ALL - S("a1.jpg")),
    ({"filter": {"name": {"$gte": "c", "$lt": "d"}}}, S("c1.jpg", "c2.JPG")),
    ({"filter": {"metadata.user.split": "train"}}, S("a1.jpg", "a2.jpg", "b1.png", "hidden.jpg")),
    ({"filter": {"metadata.user.split": {"$ne": "train"}}}, ALL - S("a1.jpg", "a2.jpg", "b1.png", "hidden.jpg")),
    ({"filter": {"metadata.user.split": "val*"}}, S("c1.jpg", "c2.JPG", "[w]q?.jpg")),
    ({"filter": {"metadata.user.split": None}}, S("d.txt", "e1.jpg")),
    ({"filter": {"metadata.user.split": {"$exists": True}}}, ALL - S("d.txt")),
    ({"filter": {"metadata.user.score": {"$gt": 0.4}}}, S("a1.jpg", "c1.jpg", "e1.jpg")),
    ({"filter": {"metadata.user.score": {"$gte": 0.5}}}, S("a1.jpg", "c1.jpg", "e1.jpg")),
    ({"filter": {"metadata.user.score": {"$lt": 0.5}}}, S("a2.jpg")),
    ({"filter": {"metadata.user.score": {"$lte": 0.5, "$gt": 0.3}}}, S("c1.jpg")),
    ({"filter": {"metadata.user.score": "high"}}, S("b1.png")),
    ({"filter": {"metadata.user.score": {"$exists": False}}}, S("c2.JPG", "d.txt", "hidden.jpg", "[w]q?.jpg", "deep.jpg")),
    ({"filter": {"metadata.user.score": 1}}, S("e1.jpg")),
    ({"filter": {"metadata.user.score": {"$in": [0.9, "high"]}}}, S("a1.jpg", "b1.png")),
    ({"filter": {"metadata.user.n": 7}}, S("a2.jpg")),
    ({"filter": {"metadata.user.n": "7"}}, S("[w]q?.jpg")),
    ({"filter": {"metadata.user.n": {"$gt": 6}}}, S("a2.jpg", "deep.jpg")),
    ({"filter": {"metadata.user.flag": True}}, S("c2.JPG")),
    ({"filter": {"metadata.user.flag": False}}, S("e1.jpg")),
    ({"filter": {"metadata.user.flag": {"$ne": True}}}, ALL - S("c2.JPG")),
    ({"filter": {"metadata.user.tags.train": True}}, S("a1.jpg")),
    ({"filter": {"metadata.user.nested.deep.x": "y"}}, S("a1.jpg")),
    ({"filter": {"metadata.system.tags.train": True}}, S("a1.jpg")),
    ({"filter": {"metadata.system.originalname": "A1.*"}}, S("a1.jpg")),
    ({"filter": {"metadata.system.size": {"$lt": 600}}}, S("c1.jpg", "c2.JPG", "d.txt", "hidden.jpg")),
    ({"filter": {"metadata.system.size": {"$gte": 2000}}}, S("a2.jpg", "b1.png")),
    ({"filter": {"metadata.system.mimetype": "image/*"}}, S("a1.jpg", "a2.jpg", "b1.png", "c1.jpg", "c2.JPG")),
    ({"filter": {"metadata.system.mimetype": {"$exists": False}}}, S("hidden.jpg", "e1.jpg", "[w]q?.jpg", "deep.jpg")),
    ({"filter": {"metadata.system.width": {"$gt": 600}}}, S("a1.jpg", "a2.jpg")),
    ({"filter": {"annotated": True}}, S("a1.jpg", "a2.jpg", "b1.png", "c2.JPG")),
    ({"filter": {"description": "hello*"}}, S("d.txt")),
    ({"filter": {"description": None}}, ALL - S("d.txt")),
    ({"filter": {"createdAt": {"$gte": "2025-01-01T00:00:00Z"}}}, S("deep.jpg")),
    ({"filter": {"createdAt": {"$lt": "2024-01-02T12:00:00.000Z"}}}, S("a1.jpg", "a2.jpg")),
    ({"filter": {"$or": [{"name": "a1.jpg"}, {"metadata.user.split": "test"}], "$and": [{"hidden": False}]}},
     S("a1.jpg", "deep.jpg")),
    ({"filter": {"$or": []}}, ALL),
    ({"filter": {"$and": [{"$or": [{"dir": "/val"}, {"dir": "/"}]}, {"metadata.system.size": {"$gt": 5}}]}},
     S("c1.jpg", "c2.JPG", "[w]q?.jpg")),
    # ---- joins, intersect, except ------------------------------------------------------
    ({"filter": {}, "join": {"on": {"resource": "annotations", "local": "itemId", "forigen": "id"},
                             "filter": {"label": "car"}}}, S("a1.jpg", "a2.jpg")),
    ({"join": {"filter": {"$and": [{"label": "person"}, {"type": "box"}]}}}, S("a1.jpg", "b1.png")),
    ({"join": {"filter": {"label": {"$in": ["dog", "person"]}}}}, S("a1.jpg", "b1.png", "c2.JPG")),
    ({"join": {"filter": {"attributes": "occluded"}}}, S("a1.jpg")),
    ({"join": {"filter": {"attributes.color": "brown"}}}, S("c2.JPG")),
    ({"join": {"filter": {"attributes": 3}}}, S("c2.JPG")),
    ({"join": {"filter": {"metadata.user.conf": {"$gt": 0.5}}}}, S("a1.jpg")),
    ({"join": {"filter": {"creator": "joe"}}}, S("a1.jpg")),
    ({"join": {"filter": {"label": "car"}}, "intersect": {"query": {"join": {"filter": {"label": "person"}}}}},
     S("a1.jpg")),
    ({"filter": {"$and": [{"hidden": False}, {"type": "file"}]},
      "except": {"query": {"join": {"filter": {"label": "person"}}}}}, VISIBLE - S("a1.jpg", "b1.png")),
    ({"filter": {"dir": "/train/**"}, "except": {"query": {"filter": {"hidden": True}}}},
     S("a1.jpg", "a2.jpg", "b1.png")),
    # ---- Filters helper (SDK defaults: hidden=false, type=file) ----------------------------
    (filters(), VISIBLE),
    (filters({"field": "dir", "values": "/train"}), S("a1.jpg", "a2.jpg")),
    (filters({"field": "filename", "values": "/train"}), S("a1.jpg", "a2.jpg", "b1.png")),
    (filters({"field": "hidden", "values": True}), S("hidden.jpg")),
    (filters({"field": "metadata.user.split", "values": ["val", "test"]}), S("c1.jpg", "c2.JPG", "deep.jpg")),
    (filters({"field": "metadata.system.size", "values": 900, "operator": "gte"}),
     S("a1.jpg", "a2.jpg", "b1.png", "deep.jpg")),
    (filters({"field": "dir", "values": "/val", "method": "or"}, {"field": "dir", "values": "/", "method": "or"}),
     S("c1.jpg", "c2.JPG", "[w]q?.jpg", "d.txt")),
    (filters(joins=[{"field": "label", "values": ["dog", "cat"]}]), S("c2.JPG")),
    (filters({"field": "metadata.user.n", "values": True, "operator": "exists"}),
     S("a1.jpg", "a2.jpg", "[w]q?.jpg", "deep.jpg")),
    (filters(custom={"$and": [{"name": "d.txt"}]}), S("d.txt")),
    # ---- search bar (default hidden=false unless mentioned) ------------------------------
    ("", VISIBLE),
    ("split:train", S("a1.jpg", "a2.jpg", "b1.png")),
    ("split:train hidden:true", S("hidden.jpg")),
    ("split:train,val", S("a1.jpg", "a2.jpg", "b1.png", "c1.jpg", "c2.JPG")),
    ("score>0.5", S("a1.jpg", "e1.jpg")),
    ("score:>=0.5", S("a1.jpg", "c1.jpg", "e1.jpg")),
    ("score<=0.3 or score:high", S("a2.jpg", "b1.png")),
    ("label:car", S("a1.jpg", "a2.jpg")),
    ("label:car -label:person", S("a2.jpg")),
    ("label:car and not label:person", S("a2.jpg")),
    ("label!=person label:*", S("a2.jpg", "c2.JPG")),
    ("dir:/train/**", S("a1.jpg", "a2.jpg", "b1.png")),
    ("dir:/train/** -dir:/train", S("b1.png")),
    ('"a1"', S("a1.jpg")),
    ('"JPG"', VISIBLE - S("b1.png", "d.txt")),
    ("c2", S("c2.JPG")),
    ('name:"[w]q?.jpg"', S("[w]q?.jpg")),
    ("(split:val or split:test) size>100", S("c1.jpg", "deep.jpg")),
    ("mimetype:image/* width>=640", S("a1.jpg", "a2.jpg")),
    ("has:flag", S("c2.JPG", "e1.jpg")),
    ("is:annotated -label:car", S("b1.png", "c2.JPG")),
    ("flag:true", S("c2.JPG")),
    ("flag:false", S("e1.jpg")),
    ("n:7", S("a2.jpg")),
    ('n:"7"', S("[w]q?.jpg")),
    ("user.tags.train:true", S("a1.jpg")),
    ("metadata.system.originalname:A1.JPG", S("a1.jpg")),
    ("created>=2025-01-01", S("deep.jpg")),
    ("annotation.type:point", S("c2.JPG")),
    ("attribute:occluded", S("a1.jpg")),
    ("filename:/val/c?.*", S("c1.jpg", "c2.JPG")),
    ("description:hello*", S("d.txt")),
    ("NOT (split:train OR split:val)", S("d.txt", "e1.jpg", "[w]q?.jpg", "deep.jpg")),
    ("split:val*", S("c1.jpg", "c2.JPG", "[w]q?.jpg")),
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    db, ids = make_catalog(tmp_path_factory.mktemp("table") / "c.sqlite")
    add_items(db, ids, ITEMS)
    # A second dataset with an item of the same name: queries must never leak across datasets.
    from sqlalchemy import insert

    from dsdesk.catalog.models import Dataset

    with db.engine.begin() as con:
        other = con.execute(insert(Dataset.__table__).values(project_id=ids["project"], name="other",
                                                             driver_id=ids["driver"], meta_system={},
                                                             meta_user={})).inserted_primary_key[0]
    add_items(db, ids, [dict(dir="/train", name="a1.jpg", dataset_id=other, user={"split": "train"},
                             annotations=[{"label": "car"}])])
    yield db, ids
    db.close()


def _names(db, ds, f):
    with db.session() as s:
        return {r.name for r in s.execute(q.items_select(ds, f))}


@pytest.mark.parametrize("query,expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_query(cat, query, expected):
    db, ids = cat
    assert _names(db, ids["dataset"], query) == expected
    with db.session() as s:
        assert q.count_items(s, ids["dataset"], query) == len(expected)
        ids_sql = {r.id for r in s.execute(q.item_ids_select(ids["dataset"], query))}
    assert len(ids_sql) == len(expected)
    # The same AST compiles for PostgreSQL too (run there by test_postgres when available).
    str(q.items_select(ids["dataset"], query).compile(dialect=postgresql.dialect()))


@pytest.mark.parametrize("query,expected", CASES, ids=[str(i) for i in range(len(CASES))])
def test_oracle_agrees(query, expected):
    """The plain-Python evaluator gives the same answers, so it can judge random queries."""
    assert evaluate(q.to_query(query), ITEMS) == expected


def test_enough_cases():
    assert len(CASES) >= 60


def test_sort_and_tiebreak(cat):
    db, ids = cat
    with db.session() as s:
        rows = s.execute(q.items_select(ids["dataset"], {"sort": {"metadata.system.size": "descending"}})).all()
        sizes = [r.name for r in rows]
        assert sizes[:3] == ["b1.png", "a2.jpg", "a1.jpg"]
        rows = s.execute(q.items_select(ids["dataset"], {"sort": {"filename": "ascending"}})).all()
        assert [r.name for r in rows][:2] == ["d.txt", "a1.jpg"]
        f = Filters()
        f.sort_by(field="metadata.user.n", value="descending")
        f.add(field="metadata.user.n", values=0, operator="gt")
        assert [r.name for r in s.execute(q.items_select(ids["dataset"], f))] == ["deep.jpg", "a2.jpg", "a1.jpg"]
        rows = s.execute(q.items_select(ids["dataset"], {"sort": {"name": "ascending"}, "page": 1, "pageSize": 3},
                                        paged=True)).all()
        # byte order: "[w]q?.jpg", "a1.jpg", "a2.jpg" | "b1.png", "c1.jpg", "c2.JPG" | ...
        assert [r.name for r in rows] == ["b1.png", "c1.jpg", "c2.JPG"]


def test_keyset_pages_cover_everything(cat):
    db, ids = cat
    with db.session() as s:
        full = [r.id for r in s.execute(q.items_select(ids["dataset"], {}))]
        got, after = [], None
        while True:
            page = q.page_items(s, ids["dataset"], {}, 3, after=after)
            got.extend(r.id for r in page)
            if page.after is None:
                break
            after = page.after
        assert got == full
        # an item id works as a cursor too
        p2 = q.page_items(s, ids["dataset"], {}, 3, after=full[2])
        assert [r.id for r in p2] == full[3:6]


def test_datasets_select(cat):
    db, ids = cat
    with db.session() as s:
        names = [r.name for r in s.execute(q.datasets_select(ids["project"], None))]
        assert names == ["ds", "other"]
        assert [r.name for r in s.execute(q.datasets_select(ids["project"], {"filter": {"name": "o*"}}))] == ["other"]
        assert [r.name for r in s.execute(q.datasets_select(ids["project"], "kind:master readonly:false"))] == ["ds", "other"]
        assert [r.name for r in s.execute(q.datasets_select(ids["project"], {"sort": {"name": "descending"}}))] == [
            "other", "ds"]


def test_annotations_select(cat):
    db, ids = cat
    with db.session() as s:
        f = Filters(resource="annotations")
        f.add(field="label", values="car")
        rows = s.execute(q.annotations_select(ids["dataset"], f)).all()
        assert [r.label for r in rows] == ["car"]  # the polygon is not in the SDK's default type list
        rows = s.execute(q.annotations_select(ids["dataset"], {"filter": {"label": "car"}})).all()
        assert len(rows) == 2


def test_dql_roundtrip_of_sdk_examples():
    """The SDK's own prepare() outputs (reference notes §11.2) parse."""
    examples = [
        {"filter": {"$and": [{"hidden": False}, {"type": "file"}]}, "page": 0, "pageSize": 1000, "resource": "items"},
        {"filter": {"$and": [{"hidden": False}, {"type": "file"}, {"dir": "/dogs"}]},
         "sort": {"filename": "ascending"}, "page": 0, "pageSize": 1000, "resource": "items",
         "join": {"on": {"resource": "annotations", "local": "itemId", "forigen": "id"},
                  "filter": {"$and": [{"label": {"$in": ["dog", "cat"]}}]}}},
        {"filter": {"$or": [{"dir": "/a"}, {"dir": "/a/*"}], "$and": [{"hidden": False}, {"type": "file"}]},
         "page": 0, "pageSize": 1000, "resource": "items"},
        {"filter": {"$and": [{"hidden": False}, {"type": "file"}, {"annotated": True}]}, "page": 0,
         "pageSize": 1000, "resource": "items", "update": {"metadata": {"user": {"BlackDogs": True}}}},
        {"filter": {"$and": [{"hidden": False}, {"type": "file"}, {"dir": "/old"}]}, "resource": "items",
         "delete": True},
        {"filter": {"$and": [{"name": "my dataset"}]}, "page": 0, "pageSize": 1000, "resource": "datasets"},
    ]
    for e in examples:
        dql.parse(e)


def test_filters_prepare_matches_sdk():
    f = Filters()
    f.add(field="dir", values="/dogs")
    f.add_join(field="label", values=["dog", "cat"], operator="in")
    f.sort_by(field="filename")
    assert f.prepare() == {
        "filter": {"$and": [{"hidden": False}, {"type": "file"}, {"dir": "/dogs"}]},
        "sort": {"filename": "ascending"}, "page": 0, "pageSize": 1000, "resource": "items",
        "join": {"on": {"resource": "annotations", "local": "itemId", "forigen": "id"},
                 "filter": {"$and": [{"label": {"$in": ["dog", "cat"]}}]}}}
    f = Filters()
    f.add(field="filename", values="/fighting")
    f.add(field="metadata.system.size", values=5242880, operator="lt")
    assert f.prepare()["filter"] == {"$and": [{"hidden": False}, {"type": "file"}, {"filename": "/fighting/**"},
                                              {"metadata.system.size": {"$lt": 5242880}}]}
    f = Filters()
    f.add(field="annotated", values=True)
    assert f.prepare(operation="update", update={"BlackDogs": True})["update"] == {
        "metadata": {"user": {"BlackDogs": True}}}
    d = f.prepare(operation="delete")
    assert d["delete"] is True and "page" not in d
    f = Filters()
    f.add(field="type", values="dir")
    assert f.prepare()["filter"]["$and"] == [{"hidden": False}, {"type": "dir"}]
    f.pop("type")
    assert not f.has_field("type")


def test_join_styles_agree(cat):
    """The EXISTS form the grid uses for common labels gives the IN form's answers."""
    from dsdesk.query.compile import Compiler

    db, ids = cat
    ds = ids["dataset"]
    for text in ("label:car", "label:car -label:person", "(label:dog or annotation.type:polygon) split:val,train",
                 "not attribute:occluded"):
        query = q.to_query(text)
        with db.session() as s:
            res = []
            for style in ("in", "exists"):
                comp = Compiler("items", dataset_id=ds, join_style=style)
                res.append({r.id for r in s.execute(q.select(q.ITEM.c.id).where(q._where(ds, query, comp)))})
            assert res[0] == res[1], text
            page = q.page_items(s, ds, text, 100)
            assert {r.id for r in page} == res[0]


def test_sdk_enums_are_exposed():
    import dsdesk as dd

    f = dd.Filters()
    f.add(field="metadata.system.size", values=5, operator=dd.FiltersOperations.GREATER_THAN,
          method=dd.FiltersMethod.OR)
    f.sort_by(field="name", value=dd.FiltersOrderByDirection.DESCENDING)
    d = f.prepare()
    assert d["filter"]["$or"] == [{"metadata.system.size": {"$gt": 5}}] and d["sort"] == {"name": "descending"}
    assert dd.Filters(resource=dd.FiltersResource.DATASET).prepare()["resource"] == "datasets"


def test_datasets_search_keys():
    from dsdesk.query import searchbar

    assert searchbar.parse("user.stats.f1>0.5", resource="datasets") == ast_cond("metadata.user.stats.f1", "gt", 0.5)
    assert searchbar.parse("items>10 kind:clone", resource="datasets").children == (
        ast_cond("itemsCount", "gt", 10), ast_cond("kind", "eq", "clone"))


def ast_cond(field, op, value):
    from dsdesk.query import ast

    return ast.Cond(field, op, value)
