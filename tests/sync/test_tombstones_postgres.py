"""Tombstones on a PostgreSQL catalog: migration 0010 runs there, deletes record
tombstones, sync skips them, a changed object comes back, restore_deleted undoes.

A throw-away server per module (the fixture of tests/versioning/test_postgres.py);
skipped where PostgreSQL is not installed, failed in CI.
"""

from __future__ import annotations

import time

import pytest
from emulators import Store, jpeg
from sqlalchemy import func, inspect, select

import dsdesk as dd
from dsdesk.catalog import migrate
from dsdesk.catalog.models import SyncTombstone
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the module's PostgreSQL server

pytestmark = pytest.mark.postgres


@pytest.fixture
def pcat(pg_url, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
    c = dd.open_catalog(pg_url)
    yield c
    c.close()


def _tombs(cat, ds) -> set[str]:
    with cat.db.session() as s:
        return set(s.execute(select(SyncTombstone.storage_key).where(SyncTombstone.dataset_id == ds.id)).scalars())


def test_tombstones_on_postgres(pcat, tmp_path):
    assert migrate.current_revision(pcat.db) == migrate.head_revision()
    assert "sync_tombstone" in inspect(pcat.db.engine).get_table_names()

    store = Store("local", None, root=tmp_path / "bucket")
    n = 500
    for i in range(n):
        store.put(f"many/{i:04d}.jpg", jpeg((i % 256, 40, 90), (16, 12)))
    store.put("a/one.jpg", jpeg((200, 10, 10)))
    store.put("a/two.jpg", jpeg((10, 200, 10)))
    project = pcat.projects.create(f"pg-tomb-{len(pcat.projects.list())}")
    drv = project.drivers.create("local", **store.driver_kwargs())
    ds = project.datasets.create("ds", driver=drv)
    assert ds.sync().new == n + 2

    assert ds.items.delete(folder="/many") == n
    assert ds.items.delete(filename="/a/one.jpg") == 1
    assert len(_tombs(pcat, ds)) == n + 1
    r = ds.sync(dry_run=True)
    assert (r.new, r.skipped) == (0, n + 1)
    r = ds.sync()
    assert (r.new, r.skipped, r.unchanged, r.folders) == (0, n + 1, 1, 0)
    assert ds.refresh().items_count == 1

    time.sleep(0.01)
    store.put("a/one.jpg", jpeg((0, 0, 250), (30, 20)))  # changed: comes back
    store.mv("many/0000.jpg", "renamed/0000.jpg")  # renamed: still deleted
    r = ds.sync()
    assert (r.new, r.skipped, r.renamed) == (1, n, 0)
    assert store.full("a/one.jpg") not in _tombs(pcat, ds)
    assert store.full("renamed/0000.jpg") in _tombs(pcat, ds)

    r = ds.sync(restore_deleted=True)
    assert (r.new, r.undeleted, r.skipped) == (n, n, 0)
    with pcat.db.session() as s:
        assert s.execute(select(func.count()).select_from(SyncTombstone)
                         .where(SyncTombstone.dataset_id == ds.id)).scalar_one() == 0
    assert ds.refresh().items_count == n + 2
