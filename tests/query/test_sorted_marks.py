"""Deep pages of a sorted listing seek from the marks of earlier reads (``offsets.sorted_ids``).

Checked against the plain OFFSET of ``items_select`` at every offset, ascending and
descending, with ties, items without the sort field (NULLs) and hidden items, on a cold
and a warm cache; and the marks stop being used once a committed write changed the
order, whether this catalog or another connection (another process) wrote it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, update

import dsdesk.query as q
from dsdesk.catalog.engine import open_database
from dsdesk.catalog.models import Item
from dsdesk.query import offsets
from dsdesk.query.compile import ITEM
from tests.query.catalog_data import add_items, make_catalog

N = 60
SCORES = {i: (i * 7) % 13 / 10 for i in range(N) if i % 9}  # ties; every 9th item has no score


def _listing(asc: bool) -> dict:
    return {"filter": {"hidden": False}, "sort": {"metadata.user.score": "ascending" if asc else "descending"}}


def _reference(s, ds, filters, offset, limit):
    stmt = q.items_select(ds, filters).with_only_columns(ITEM.c.id).offset(offset).limit(limit)
    return list(s.execute(stmt).scalars())


@pytest.fixture
def catalog(tmp_path):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    add_items(db, ids, [dict(dir="/", name=f"n{i:02d}.jpg", hidden=i % 11 == 5,
                             user={"score": SCORES[i]} if i in SCORES else {}) for i in range(N)])
    offsets._marks.entries.clear()
    yield db, ids["dataset"], tmp_path / "c.sqlite"
    db.close()


def _statements(db):
    seen = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: seen.append((a[2], a[3])))
    return seen


@pytest.mark.parametrize("asc", [True, False], ids=["ascending", "descending"])
def test_every_offset_matches_the_plain_offset_cold_and_warm(catalog, asc):
    db, ds, _ = catalog
    filters = _listing(asc)
    with db.session() as s:
        total = len(_reference(s, ds, filters, 0, 1000))
    for _ in ("cold", "warm"):
        for offset in [*range(0, total + 3), 40, 3, 52, 17]:
            for limit in (1, 5):
                with db.session() as s:
                    assert offsets.sorted_ids(s, ds, filters, offset, limit) == _reference(s, ds, filters, offset,
                                                                                         limit), (offset, limit)


def test_a_repeated_deep_page_seeks_from_its_mark(catalog):
    db, ds, _ = catalog
    filters = _listing(True)
    with db.session() as s:
        first = offsets.sorted_ids(s, ds, filters, 45, 5)
    seen = _statements(db)
    with db.session() as s:
        assert offsets.sorted_ids(s, ds, filters, 45, 5) == first
    page = [(sql, params) for sql, params in seen if "ORDER BY" in sql]
    # the second read starts at the mark's key (a range on the sort value), OFFSET 0
    assert len(page) == 1 and ">=" in page[0][0] and page[0][0].rstrip().endswith("OFFSET ?")
    assert page[0][1][-1] == 0


def test_a_committed_write_retires_the_marks(catalog):
    db, ds, _ = catalog
    filters = _listing(True)
    with db.session() as s:
        before = offsets.sorted_ids(s, ds, filters, 30, 10)
    with db.session(write=True) as s:  # the lowest score becomes the highest
        low = _reference(s, ds, filters, 0, 8)
        s.execute(update(Item).where(Item.id.in_(low)).values(meta_user={"score": 5.0}))
    with db.session() as s:
        after = offsets.sorted_ids(s, ds, filters, 30, 10)
        assert after == _reference(s, ds, filters, 30, 10) and after != before


def test_a_write_by_another_connection_retires_the_marks(catalog):
    db, ds, path = catalog
    filters = _listing(False)
    with db.session() as s:
        offsets.sorted_ids(s, ds, filters, 20, 10)
    other = open_database(path)  # another open catalog, as another process would have
    try:
        with other.session(write=True) as s:
            top = _reference(s, ds, filters, 0, 10)
            s.execute(update(Item).where(Item.id.in_(top)).values(meta_user={"score": -1.0}))
    finally:
        other.close()
    with db.session() as s:
        assert offsets.sorted_ids(s, ds, filters, 20, 10) == _reference(s, ds, filters, 20, 10)


def test_several_sort_keys_and_write_sessions_use_one_offset(catalog):
    db, ds, _ = catalog
    two = {"filter": {"hidden": False}, "sort": {"metadata.user.score": "ascending", "name": "descending"}}
    with db.session() as s:
        assert offsets.sorted_ids(s, ds, two, 10, 5) == _reference(s, ds, two, 10, 5)
    with db.session(write=True) as s:
        assert offsets.sorted_ids(s, ds, _listing(True), 10, 5) == _reference(s, ds, _listing(True), 10, 5)
    assert not offsets._marks.entries  # neither left marks


from benchmarks.synth import records  # noqa: E402 - the listing test on both databases below
from tests.versioning.test_postgres import pg_url  # noqa: E402, F401 - the module's PostgreSQL server


@pytest.mark.parametrize("catalog_on_both", ["sqlite", "postgres"], indirect=True)
def test_pages_of_a_sorted_listing_on_both_databases(catalog_on_both):
    cat = catalog_on_both
    offsets._marks.entries.clear()
    ds = cat.projects.create("p").datasets.create("d")
    ds.items.bulk_import(records(120, seed=4))
    for asc in (True, False):
        filters = _listing(asc)

        def page(n, filters=filters):
            return [it.id for it in next(iter(ds.items.list(filters=filters, page_offset=n, page_size=7)), [])]

        with cat.db.session() as s:
            want = _reference(s, ds.id, filters, 0, 1000)
        for _ in ("cold", "warm"):
            assert [page(n) for n in range(18)] == [want[n * 7:(n + 1) * 7] for n in range(18)]
        first = ds.items.get(item_id=want[0])
        first.metadata["user"]["score"] = 2.0 if asc else -1.0  # first becomes last
        first.update()
        with cat.db.session() as s:
            want = _reference(s, ds.id, filters, 0, 1000)
        assert want[-1] == first.id
        assert [page(n) for n in range(18)] == [want[n * 7:(n + 1) * 7] for n in range(18)]
