"""Statements over more ids than SQLite binds in one statement (32,766 variables).

Each public path that takes a list of ids is driven with more than that: deleting and
moving items by list, releasing their binaries, recomputing annotated flags, and purging
the datasets left after a clone and a merge (the path that crashed with ``too many SQL
variables`` at 1M items).  Run on SQLite and on a PostgreSQL server of the tests' own.
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from sqlalchemy import event, func, select

import dsdesk as dd
from dsdesk.catalog import stats
from dsdesk.catalog.idset import INLINE_MAX, id_set
from dsdesk.catalog.ingest import Record
from dsdesk.catalog.models import Blob, Item
from dsdesk.transfer.release import release_blobs
from tests.versioning.test_postgres import pg_url  # noqa: F401  (the module's PostgreSQL server)

N = 33_000  # above SQLite's default SQLITE_MAX_VARIABLE_NUMBER (32,766)


def _records(n: int, tag: str) -> list[Record]:
    """Records on the internal store (sha256 keys, no bytes behind them); etags carry *tag*."""
    return [Record(dir=f"/d{i % 7}", name=f"f{i:06d}.jpg", storage_key=hashlib.sha256(f"{tag}{i}".encode()).hexdigest(),
                   size=10, etag=f"{tag}-{i}", mimetype="image/jpeg", width=4, height=3) for i in range(n)]


def _blobs(cat, tag: str) -> int:
    return _count(cat, select(func.count()).select_from(Blob).where(Blob.etag.like(f"{tag}-%")))


def _default_variable_limit(dbapi_con, _record) -> None:
    dbapi_con.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)


@pytest.fixture(params=["sqlite", "postgres"])
def cat(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        c = dd.open_catalog(tmp_path / "catalog.sqlite")
        # Debian's SQLite binds 250,000 variables; SQLite's own default (and many builds')
        # is 32,766: hold every connection to that, so the test means the same everywhere.
        event.listen(c.db.engine, "connect", _default_variable_limit)
        c.db.engine.dispose()
    else:
        monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
        c = dd.open_catalog(request.getfixturevalue("pg_url"))
    yield c
    c.close()


def _dataset(cat, name: str):
    project = cat.projects.create(f"p-{name}-{len(cat.projects.list())}")
    ds = project.datasets.create(name)
    assert ds.items.bulk_import(_records(N, name)) == N
    with cat.db.session() as s:
        ids = list(s.scalars(select(Item.id).where(Item.dataset_id == ds.id).order_by(Item.id)))
    return project, ds, ids


def _count(cat, q) -> int:
    with cat.db.session() as s:
        return s.execute(q).scalar()


def test_id_set_keeps_short_lists_inline_and_loads_long_ones(cat):
    _, ds, ids = _dataset(cat, "ids")
    with cat.db.session() as s:
        with id_set(s, ids[:10]) as short:
            assert short == ids[:10]
        with id_set(s, ids) as long_:
            assert len(ids) > INLINE_MAX
            got = s.execute(select(func.count()).select_from(Item).where(Item.id.in_(long_))).scalar()
        assert got == N


def test_move_and_delete_more_items_than_sqlite_binds(cat):
    _, ds, ids = _dataset(cat, "move")
    assert ds.items.move_items("/all", item_ids=ids) == N
    assert _count(cat, select(func.count()).select_from(Item).where(Item.dataset_id == ds.id, Item.dir == "/all")) == N
    keep = ids[-5:]
    assert ds.items.delete(items=ids[:-5]) == N - 5
    assert _count(cat, select(func.count()).select_from(Item).where(Item.dataset_id == ds.id)) == 5
    # the released binaries are gone from the catalog, the kept ones stay
    assert _blobs(cat, "move") == 5
    assert sorted(i.id for i in ds.items.list().all()) == keep
    assert ds.refresh().items_count == 5


def test_refresh_annotated_over_many_ids(cat):
    _, ds, ids = _dataset(cat, "annotated")
    with cat.db.session(write=True) as s:
        stats.refresh_annotated(s, ids)
    assert _count(cat, select(func.count()).select_from(Item).where(Item.dataset_id == ds.id, Item.annotated)) == 0


def test_release_blobs_of_many_ids_reports_progress(cat):
    _, ds, ids = _dataset(cat, "release")
    with cat.db.session() as s:
        blob_ids = list(s.scalars(select(Item.blob_id).where(Item.dataset_id == ds.id)))
    steps = []
    assert release_blobs(cat.db, blob_ids, on_progress=lambda d, t: steps.append((d, t))) == 0  # all still used
    assert steps[-1] == (N, N) and len(steps) > 1
    with cat.db.session(write=True) as s:
        s.execute(Item.__table__.delete().where(Item.dataset_id == ds.id))
    release_blobs(cat.db, blob_ids)
    assert _blobs(cat, "release") == 0


def test_purge_after_clone_and_merge(cat):
    project, ds, _ = _dataset(cat, "master")
    c1 = ds.clone("c1")
    c2 = ds.clone("c2")
    merged = project.datasets.merge("m", [c1.id, c2.id])
    assert merged.refresh().items_count == N
    for d in (ds, c1, c2, merged):
        d.delete()
    assert project.datasets.purge() == 4
    assert _count(cat, select(func.count()).select_from(Item).where(Item.dataset_id.in_(
        [ds.id, c1.id, c2.id, merged.id]))) == 0
    assert _blobs(cat, "master") == 0
