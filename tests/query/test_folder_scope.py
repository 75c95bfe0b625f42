"""The folder scope of a query (``ast.InFolder``, ``dsdesk.api.queries.scoped_filter``):
a folder name means itself, whatever characters it holds."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

import dsdesk.query as q
from dsdesk.api.queries import scoped_filter
from dsdesk.catalog.models import Dataset
from dsdesk.errors import InvalidPathError, QueryError
from dsdesk.query import ast
from tests.query.catalog_data import add_items, make_catalog
from tests.query.pyeval import ev_item, normalize

#: Folders whose names are wildcards or LIKE patterns elsewhere, and near misses of them.
FOLDER_ITEMS = [
    {"dir": "/", "name": "root.jpg"},
    {"dir": "/raw", "name": "x.jpg"},
    {"dir": "/raw/sub/deep", "name": "t.jpg"},
    {"dir": "/raw*", "name": "star.jpg"},
    {"dir": "/rawX", "name": "rawx.jpg"},
    {"dir": "/raw sub", "name": "space.jpg"},
    {"dir": "/raw!", "name": "bang.jpg"},
    {"dir": "/Raw/sub", "name": "upper.jpg"},
    {"dir": "/ra_", "name": "under.jpg"},
    {"dir": "/rab", "name": "rab.jpg"},
    {"dir": "/100%", "name": "pct.jpg"},
    {"dir": "/100x", "name": "hundred.jpg"},
    {"dir": '/say "hi"', "name": "quote.jpg", "user": {"split": "train"}},
    {"dir": "/raw", "name": "hidden.jpg", "hidden": True},
]

CASES = [
    (ast.InFolder("/raw"), {"x.jpg"}),
    (ast.InFolder("/raw", True), {"x.jpg", "t.jpg"}),
    (ast.InFolder("/raw*"), {"star.jpg"}),
    (ast.InFolder("/raw*", True), {"star.jpg"}),
    (ast.InFolder("/ra_", True), {"under.jpg"}),
    (ast.InFolder("/100%", True), {"pct.jpg"}),
    (ast.InFolder("/raw sub"), {"space.jpg"}),
    (ast.InFolder('/say "hi"'), {"quote.jpg"}),
    (ast.InFolder("/Raw", True), {"upper.jpg"}),
    (ast.InFolder("/"), {"root.jpg"}),
    (ast.InFolder("/", True), {i["name"] for i in FOLDER_ITEMS if not i.get("hidden")}),
]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    db, ids = make_catalog(tmp_path_factory.mktemp("scope") / "c.sqlite")
    add_items(db, ids, FOLDER_ITEMS)
    yield db, ids
    db.close()


def scope_dataset(db, ids) -> int:
    """A second dataset of the catalog holding FOLDER_ITEMS (for catalogs shared with other tests)."""
    with db.engine.begin() as con:
        dsid = con.execute(insert(Dataset.__table__).values(project_id=ids["project"], name="scope",
                                                            driver_id=ids["driver"], meta_system={},
                                                            meta_user={})).inserted_primary_key[0]
    add_items(db, ids, [dict(spec, dataset_id=dsid) for spec in FOLDER_ITEMS])
    return dsid


def names(db, dataset_id, filters) -> set[str]:
    with db.session() as s:
        return {r.name for r in s.execute(q.items_select(dataset_id, filters))}


@pytest.mark.parametrize("node,expected", CASES, ids=[repr(c[0]) for c in CASES])
def test_a_folder_name_means_itself(folders, node, expected):
    db, ids = folders
    query = ast.Query(filter=ast.and_(ast.Cond("hidden", "eq", False), node))
    assert names(db, ids["dataset"], query) == expected
    assert {i["name"] for i in normalize(FOLDER_ITEMS) if ev_item(query.filter, i)} == expected
    with db.session() as s:
        assert q.count_items(s, ids["dataset"], query) == len(expected)
        assert [r.name for r in q.page_items(s, ids["dataset"], query, 100)] == sorted(
            expected, key=lambda n: next((i["dir"], i["name"]) for i in FOLDER_ITEMS if i["name"] == n))


def test_scoped_filter_combines_the_folder_with_the_search(folders):
    db, ids = folders
    ds = ids["dataset"]
    assert names(db, ds, scoped_filter("/raw", "", recursive=False)) == {"x.jpg"}
    assert names(db, ds, scoped_filter("raw/", "")) == {"x.jpg", "t.jpg"}
    assert names(db, ds, scoped_filter("/raw", "hidden:true", recursive=False)) == {"hidden.jpg"}
    assert names(db, ds, scoped_filter("/raw", "t.jpg", recursive=True)) == {"t.jpg"}
    assert names(db, ds, scoped_filter('/say "hi"', "split:train", recursive=False)) == {"quote.jpg"}
    assert names(db, ds, scoped_filter(None, "star")) == {"star.jpg"}
    assert names(db, ds, scoped_filter("/", "", recursive=False)) == {"root.jpg"}
    assert scoped_filter(None, "") == scoped_filter("/", "", recursive=True)
    with pytest.raises(QueryError, match="position 0"):
        scoped_filter("/raw", '"unterminated')
    with pytest.raises(InvalidPathError, match="'..'"):
        scoped_filter("/raw/../etc", "")


def test_a_folder_scope_outside_items_or_not_normalised_is_refused(folders):
    db, ids = folders
    for bad in ("raw", "/raw/", ""):
        with pytest.raises(QueryError, match="normalised folder path"):
            names(db, ids["dataset"], ast.Query(filter=ast.InFolder(bad)))
    with pytest.raises(QueryError, match="only allowed in an items query"):
        q.annotations_select(ids["dataset"], ast.Query(resource="annotations", filter=ast.InFolder("/raw")))
