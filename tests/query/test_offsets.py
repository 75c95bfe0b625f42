"""Jumping to page n of a listing (``items.list(page_offset=n)``) in one step.

Checked against the plain walk through every page: with hidden items scattered before and
after the position (the partial-index correction), at and past the end, with a filter (one
OFFSET), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest

import dsdesk.query as q
from dsdesk.query.offsets import PAST_END, keyset_at
from tests.query.catalog_data import add_items, make_catalog
from tests.query.test_postgres import pg  # noqa: F401 - the module-scoped server fixture

HIDDEN = {0, 1, 2, 7, 8, 20, 21, 22, 23, 38}  # runs of hidden items at the start, inside, near the end
N = 40


def _specs(dataset_id=None):
    extra = {} if dataset_id is None else {"dataset_id": dataset_id}
    return [dict(dir=f"/d{i % 3}", name=f"n{i:02d}.jpg", hidden=i in HIDDEN, user={"k": i % 2}, **extra)
            for i in range(N)]


def _walk(s, ds, filters):
    """Every matching (dir, name, id) in grid order, the slow way: page by page."""
    out, after = [], None
    while True:
        page = q.page_items(s, ds, filters, 3, after=after)
        out += [(r.dir, r.name, r.id) for r in page.rows]
        if page.after is None:
            return out
        after = page.after


def _check(db, ds):
    with db.session() as s:
        for filters in (None, "k:1"):
            rows = _walk(s, ds, filters)
            assert len(rows) == sum(1 for i in range(N) if i not in HIDDEN and (filters is None or i % 2))
            for offset in range(len(rows) + 2):
                got = keyset_at(s, ds, filters, offset)
                if offset == 0:
                    assert got is None
                elif offset > len(rows):
                    assert got == PAST_END
                else:
                    # the next page starts at rows[offset], whatever the position names
                    page = q.page_items(s, ds, filters, 2, after=got)
                    assert [(r.dir, r.name, r.id) for r in page.rows] == rows[offset:offset + 2], (filters, offset)


def test_offsets_on_sqlite(tmp_path):
    db, ids = make_catalog(tmp_path / "c.sqlite")
    add_items(db, ids, _specs())
    _check(db, ids["dataset"])
    db.close()


@pytest.mark.postgres
def test_offsets_on_postgres(pg):  # noqa: F811
    db, ids = pg
    from sqlalchemy import insert

    from dsdesk.catalog.models import Dataset

    with db.engine.begin() as con:
        ds = con.execute(insert(Dataset.__table__).values(project_id=ids["project"], name="offsets",
                                                          driver_id=ids["driver"], meta_system={},
                                                          meta_user={})).inserted_primary_key[0]
    add_items(db, ids, _specs(ds))
    _check(db, ds)


def test_page_offset_through_the_api(catalog, dataset, tmp_path, monkeypatch):
    from tests.conftest import make_image

    paths = [make_image(tmp_path / "up" / f"p{i:02d}.jpg", (8, 8)) for i in range(23)]
    dataset.items.upload([str(p) for p in paths])
    hidden = [it for it in dataset.items.list().all() if it.name in ("p00.jpg", "p05.jpg", "p06.jpg")]
    with catalog.db.session() as s:
        from sqlalchemy import update

        from dsdesk.catalog.models import Item

        s.execute(update(Item).where(Item.id.in_([it.id for it in hidden])).values(hidden=True))
    visible = [f"p{i:02d}.jpg" for i in range(23) if i not in (0, 5, 6)]
    for offset in range(6):
        pages = list(dataset.items.list(page_offset=offset, page_size=4))
        assert [it.name for page in pages for it in page] == visible[offset * 4:]
    by_name = {"filter": {"hidden": False}, "sort": {"name": "descending"}}
    pages = list(dataset.items.list(filters=by_name, page_offset=2, page_size=3))
    assert [len(p) for p in pages] == [3, 3, 3, 3, 2]
    assert [it.name for page in pages for it in page] == sorted(visible, reverse=True)[6:]
    # Read in growing windows of ids (2, then 8, then capped at 5 here): every page, in order, once.
    from dsdesk.api import pages as items_module

    monkeypatch.setattr(items_module, "_SORTED_WINDOW", 5)
    pages = list(dataset.items.list(filters=by_name, page_offset=1, page_size=2))
    assert [it.name for page in pages for it in page] == sorted(visible, reverse=True)[2:]
    assert all(len(p) == 2 for p in pages[:-1])
