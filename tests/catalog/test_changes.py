"""The change feed: every main write path records which dataset changed and how, once per
transaction, on SQLite and PostgreSQL; reads and job bookkeeping record nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

import dsdesk as dd
from dsdesk.api.catalog import Catalog
from dsdesk.catalog.models import SavedQuery
from dsdesk.errors import CatalogError
from tests.conftest import make_image
from tests.versioning.test_postgres import pg_url  # noqa: F401 - the server fixture of catalog_on_both


def _expect(feed, dataset_id, kind, timeout=3.0):
    """Wait for a change of *dataset_id* naming *kind*; return everything seen."""
    def hit(seen):
        return any(c.dataset_id == dataset_id and kind in c.kinds for c in seen)

    seen = feed.wait(timeout, until=hit)
    assert hit(seen), f"no {kind!r} change of dataset {dataset_id}: saw {seen}"
    return seen


@pytest.fixture
def other(catalog_on_both):
    """A second catalog object on the same database: another client."""
    c = Catalog.open(catalog_on_both.raw_url)
    yield c
    c.close()


def test_each_main_write_path_records_its_change(catalog_on_both, other, tmp_path):
    cat = catalog_on_both
    with cat.changes() as feed:
        project = other.projects.create("team")
        ds = project.datasets.create("shared", labels=["car"])
        _expect(feed, ds.id, "meta")

        item = ds.items.upload(local_path=str(make_image(tmp_path / "up" / "a.jpg")))
        ds.items.upload(local_path=str(make_image(tmp_path / "up" / "b.jpg", color=(1, 2, 3))))
        seen = _expect(feed, ds.id, "items")
        assert all(not c.own for c in seen)  # another client wrote them

        item.metadata["user"] = {"split": "train"}
        item.update()
        _expect(feed, ds.id, "items")

        item.move("/moved/a.jpg")
        _expect(feed, ds.id, "items")

        ds.items.rename_folder("/moved", "kept")
        _expect(feed, ds.id, "folders")

        item = ds.items.get(item_id=item.id)
        item.annotations.upload([dd.Box(1, 2, 10, 20, label="car")])
        _expect(feed, ds.id, "annotations")

        ds.metadata.setdefault("user", {})["owner"] = "ann"
        ds.update()
        _expect(feed, ds.id, "meta")

        ds.add_label("truck")  # a recipe may be shared by datasets: a catalog-wide change
        _expect(feed, None, "recipes")

        clone = ds.clone("clone-1")
        _expect(feed, clone.id, "items")

        merged = project.datasets.merge("merged-1", [ds.id, clone.id])
        _expect(feed, merged.id, "items")

        assert ds.items.delete(item_id=item.id)
        _expect(feed, ds.id, "items")

        folder = tmp_path / "bucket"
        make_image(folder / "cams" / "s1.jpg")
        make_image(folder / "cams" / "s2.jpg", color=(9, 9, 9))
        drv = project.drivers.create("folder", driver_type="local", bucket_name=str(folder), path="cams")
        synced = project.datasets.create("synced", driver=drv)
        synced.sync()
        _expect(feed, synced.id, "items")


def test_reads_and_unrelated_writes_record_nothing(catalog_on_both, other, tmp_path):
    cat = catalog_on_both
    ds = cat.projects.create("quiet").datasets.create("d")
    ds.items.upload(local_path=str(make_image(tmp_path / "a.jpg")))
    with cat.changes() as feed:
        seen = other.dataset_by_id(ds.id)
        assert seen.name == "d" and seen.items.list().items_count == 1
        with other.db.session() as s:  # bookkeeping no dataset view shows: a saved query
            s.add(SavedQuery(project_id=seen.project.id, name="q", dql={}))
        assert feed.wait(0.6) == []


def test_one_transaction_is_one_record_per_dataset(catalog_on_both, tmp_path):
    cat = catalog_on_both
    ds = cat.projects.create("bulk").datasets.create("many")
    for k in range(3):
        make_image(tmp_path / "many" / f"{k}.jpg", color=(k, k, k))
    with cat.db.session() as s:
        before = s.execute(text("SELECT count(*) FROM change_log")).scalar()
    ds.items.upload(local_path=str(tmp_path / "many"))
    with cat.db.session() as s:
        rows = s.execute(text("SELECT dataset_id, kinds FROM change_log ORDER BY seq")).all()[before:]
    assert [r.dataset_id for r in rows].count(ds.id) == len(rows)
    assert len(rows) <= 2  # the upload's transaction (and at most its folder set-up), not one per item
    assert any("items" in r.kinds.split(",") for r in rows)


def test_own_writes_are_marked_own(catalog_on_both):
    cat = catalog_on_both
    with cat.changes() as feed:
        ds = cat.projects.create("mine").datasets.create("d")
        seen = _expect(feed, ds.id, "meta")
    assert all(c.own for c in seen if c.dataset_id == ds.id)


def test_a_dropped_listener_connection_is_reported(pg_url, tmp_path, monkeypatch):  # noqa: F811 - the fixture
    monkeypatch.setenv("DSDESK_BLOB_ROOT", str(tmp_path / "blobs"))
    cat = Catalog.open(pg_url)
    feed = cat.changes()
    try:
        with cat.db.session() as s:
            assert s.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE query = 'LISTEN dsdesk_changes'")).scalar() == 1
        with pytest.raises(CatalogError, match="closed the change listener"):
            feed.wait(5, until=lambda _seen: False)
    finally:
        feed.close()
        cat.close()
