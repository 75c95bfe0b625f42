"""Property tests: on random items, the SQL engine and the plain-Python oracle agree."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

import dsdesk.query as q
from dsdesk.catalog.models import Dataset
from dsdesk.query import ast
from tests.query.catalog_data import add_items, make_catalog
from tests.query.pyeval import evaluate, normalize

DIRS = ["/", "/a", "/a/b", "/ab", "/b"]
NAME_ALPHA = "abAB.1_[*?"
scalars = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.25]), st.text("xyXY*", max_size=3),
                    st.booleans(), st.none())
user_value = st.one_of(scalars, st.fixed_dictionaries({"c": scalars}))
LABELS = ["car", "person", "dog", None]


@st.composite
def items(draw):
    n = draw(st.integers(0, 12))
    out = []
    for i in range(n):
        user = draw(st.dictionaries(st.sampled_from(["a", "b"]), user_value, max_size=2))
        anns = draw(st.lists(st.fixed_dictionaries({
            "label": st.sampled_from(LABELS), "type": st.sampled_from(["box", "point"]),
            "attributes": st.one_of(st.none(), st.lists(st.sampled_from(["occ", "trunc", "1"]), max_size=2),
                                    st.fixed_dictionaries({"k": scalars}))}), max_size=2))
        out.append({
            "dir": draw(st.sampled_from(DIRS)),
            "name": draw(st.text(NAME_ALPHA, max_size=4)) + f"-{i}",
            "hidden": draw(st.booleans()),
            "size": draw(st.integers(0, 5)),
            "mimetype": draw(st.sampled_from([None, "image/jpeg", "image/png", "text/plain"])),
            "description": draw(st.sampled_from([None, "hello", "Hi there"])),
            "created": dt.datetime(2024, 1, 1) + dt.timedelta(hours=draw(st.integers(0, 48))),
            "user": user,
            "annotations": anns,
        })
    return out


def _cond(field, ops_values):
    return st.sampled_from(ops_values).flatmap(lambda ov: ov[1].map(lambda v: ast.Cond(field, ov[0], v)))


def _lists(s):
    return st.lists(s, max_size=3).map(tuple)


text_val = st.text(NAME_ALPHA + "-0123", max_size=5)
json_order = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, 2.25]), st.text("xyXY", max_size=2))
item_conds = st.one_of(
    _cond("name", [("eq", text_val), ("ne", text_val), ("in", _lists(text_val)), ("nin", _lists(text_val)),
                   ("gt", text_val), ("lte", text_val), ("contains", st.text("abAB.1-", min_size=1, max_size=4))]),
    _cond("dir", [("eq", st.sampled_from(DIRS + ["/a/**", "/a/*", "/**", "*b*", "/a/"])),
                  ("ne", st.sampled_from(DIRS + ["/a/**"])), ("in", _lists(st.sampled_from(DIRS + ["/b/**"]))),
                  ("gte", st.sampled_from(DIRS))]),
    _cond("filename", [("eq", st.sampled_from(["/a/**", "*1", "/a/a-0", "/b-1", "/a/b/**", "*[*"])),
                       ("lt", st.sampled_from(["/a", "/b", "/ab/"]))]),
    _cond("hidden", [("eq", st.booleans()), ("ne", st.booleans())]),
    _cond("annotated", [("eq", st.booleans())]),
    _cond("type", [("eq", st.sampled_from(["file", "dir", "f*"]))]),
    _cond("metadata.system.size", [("eq", st.integers(0, 5)), ("gt", st.integers(0, 5)), ("lte", st.integers(0, 5)),
                                   ("in", _lists(st.integers(0, 5))), ("nin", _lists(st.integers(0, 5)))]),
    _cond("metadata.system.mimetype", [("eq", st.sampled_from(["image/*", "image/png", "text/plain"])),
                                       ("ne", st.sampled_from(["image/*", "image/png"])),
                                       ("exists", st.booleans()), ("eq", st.none())]),
    _cond("description", [("eq", st.sampled_from(["hello", "h*", None])), ("contains", st.sampled_from(["HEL", "i t"])),
                          ("exists", st.booleans())]),
    _cond("createdAt", [("gt", st.sampled_from(["2024-01-01T12:00:00Z", "2024-01-02T00:00:00+02:00"])),
                        ("lte", st.sampled_from(["2024-01-02T06:00:00Z"]))]),
    *[_cond(f, [("eq", scalars), ("ne", scalars), ("in", _lists(scalars)), ("nin", _lists(scalars)),
                ("exists", st.booleans()), ("gt", json_order), ("lte", json_order), ("gte", json_order)])
      for f in ("metadata.user.a", "metadata.user.b", "metadata.user.a.c")],
)
ann_conds = st.one_of(
    _cond("label", [("eq", st.sampled_from(["car", "person", "dog", "c*", None])),
                    ("ne", st.sampled_from(["car", "dog"])), ("in", _lists(st.sampled_from(["car", "dog"]))),
                    ("exists", st.booleans())]),
    _cond("type", [("eq", st.sampled_from(["box", "point"]))]),
    _cond("attributes", [("eq", st.sampled_from(["occ", "1", 1, True, "trunc"]))]),
    _cond("attributes.k", [("eq", scalars), ("gt", json_order)]),
)


def _tree(base):
    return st.recursive(base, lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda c: ast.And(tuple(c))),
        st.lists(kids, min_size=1, max_size=3).map(lambda c: ast.Or(tuple(c))),
        kids.map(ast.Not)), max_leaves=6)


ann_tree = _tree(ann_conds)
item_tree = _tree(st.one_of(item_conds, ann_tree.map(ast.HasAnnotation)))


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    db, ids = make_catalog(tmp_path_factory.mktemp("prop") / "c.sqlite")
    yield db, ids
    db.close()


def _fresh_dataset(db, ids):
    with db.engine.begin() as con:
        return con.execute(insert(Dataset.__table__).values(
            project_id=ids["project"], name=f"d-{uuid.uuid4().hex}", driver_id=ids["driver"],
            meta_system={}, meta_user={})).inserted_primary_key[0]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=items(), nodes=st.lists(item_tree, min_size=1, max_size=8))
def test_engine_matches_oracle(cat, data, nodes):
    db, ids = cat
    ds = _fresh_dataset(db, ids)
    add_items(db, ids, [dict(it, dataset_id=ds) for it in data])
    # Every sub-expression is checked too: a leaf's error can be masked by the tree above it.
    with db.session() as s:
        for sub in (x for node in nodes for x in _subtrees(node)):
            query = ast.Query(filter=sub)
            got = {r.name for r in s.execute(q.items_select(ds, query))}
            assert got == evaluate(query, data), sub
            assert q.count_items(s, ds, query) == len(got)


def _subtrees(node):
    yield node
    if isinstance(node, (ast.And, ast.Or)):
        for c in node.children:
            yield from _subtrees(c)
    elif isinstance(node, ast.Not):
        yield from _subtrees(node.child)
    elif isinstance(node, ast.HasAnnotation):
        for inner in _subtrees(node.filter):
            if inner is not node.filter:
                yield ast.HasAnnotation(inner)


SORTABLE = ["name", "metadata.system.size", "createdAt", "dir", "filename"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=items(), field=st.sampled_from(SORTABLE), asc=st.booleans(), page=st.integers(1, 4))
def test_sort_and_pages(cat, data, field, asc, page):
    db, ids = cat
    ds = _fresh_dataset(db, ids)
    new_ids = add_items(db, ids, [dict(it, dataset_id=ds) for it in data])
    norm = [dict(it, id=i) for it, i in zip(normalize(data), new_ids, strict=True)]
    key = {"name": lambda it: (it["name"],), "metadata.system.size": lambda it: (it["size"],),
           "createdAt": lambda it: (it["created"],), "dir": lambda it: (it["dir"],),
           "filename": lambda it: (it["dir"], it["name"])}[field]
    # Python's sort is stable: sort by the id tie-break first, then by the key.
    expected = sorted(norm, key=lambda it: it["id"])
    expected = [it["id"] for it in sorted(expected, key=key, reverse=not asc)]
    if not asc:  # descending on the key, and on id within equal keys (the tie-break follows)
        groups: dict = {}
        for it in norm:
            groups.setdefault(key(it), []).append(it["id"])
        expected = [i for k in sorted(groups, reverse=True) for i in sorted(groups[k], reverse=True)]
    with db.session() as s:
        got = [r.id for r in s.execute(q.items_select(ds, {"sort": {field: "ascending" if asc else "descending"}}))]
        assert got == expected
        grid = [r.id for r in s.execute(q.items_select(ds, {}))]
        paged, after = [], None
        while True:
            p = q.page_items(s, ds, {}, page, after=after)
            paged.extend(r.id for r in p)
            if p.after is None:
                break
            after = p.after
        assert paged == grid
