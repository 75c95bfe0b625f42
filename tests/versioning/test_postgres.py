"""The versioning operations on PostgreSQL: a throw-away server started for this module.

Skipped when PostgreSQL's binaries (or a ``postgres`` system user to run them as root)
are missing.
"""

from __future__ import annotations

import pytest

import dsdesk as dd
from dsdesk.versioning import clone, diff, gc, merge, rollback, snapshot
from tests.conftest import postgres_server

from .conftest import build_master, dataset_dump, make_images

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as server:
        yield server.create("dsdesk")


@pytest.fixture
def pcat(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
    c = dd.open_catalog(pg_url)
    yield c
    c.close()


def test_versioning_on_postgres(pcat, tmp_path):
    n = len(pcat.projects.list())
    project, ds, items = build_master(pcat, make_images(tmp_path / "i"), project_name=f"pg{n}")
    db = pcat.db
    with db.session() as s:
        c1 = clone(s, ds.id, "c1", with_metadata=False)
        c2 = clone(s, ds.id, "c2", filters={"filter": {"dir": "/a"}})
    assert c1.items == 6 and c1.annotations == 3 and c2.items == 2
    a, b = pcat.datasets.get(c1.dataset_id), pcat.datasets.get(c2.dataset_id)
    assert a.items.get("/img0.png").metadata["user"] == {}
    ib = b.items.get("/a/img2.png")
    ib.metadata["user"]["split"] = "other"
    ib.update()
    with db.session() as s:
        m = merge(s, "m", [ds.id, b.id], with_metadata=True, with_task_annotations_status=True)
    assert m.items == 6 and m.metadata_conflict_count == 1 and m.duplicate_annotations_skipped == 1
    before = dataset_dump(db, ds.id)
    with db.session() as s:
        snapshot(s, ds.id, "v1")
    ds.items.get("/img1.png").delete()
    it = ds.items.get("/img0.png")
    it.metadata["user"]["x"] = 1
    it.update()
    with db.session() as s:
        d = diff(s, ds.id, "v1")
    assert d.counts == {"added": 0, "removed": 1, "changed": 1}
    with db.session() as s:
        rollback(s, ds.id, "v1")
    assert dataset_dump(db, ds.id) == before
    assert gc(db, dry_run=True).candidate_count >= 0


def test_bulk_import_on_postgres(pcat):
    """The bulk path's read-back shortcuts (driver row counts) hold on psycopg too."""
    from tests.catalog.test_ingest import check_bulk_import

    n = len(pcat.projects.list())
    ds = pcat.projects.create(f"bulk{n}").datasets.create("bulk")
    check_bulk_import(pcat, ds)
