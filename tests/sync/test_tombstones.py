"""Items the user deleted from a synced dataset stay deleted: sync skips their keys while
the object in storage is unchanged (tombstones), brings them back when it changed or
when the user asks (``restore_deleted``).  Every case that talks to storage runs on S3
(moto), GCS (fake-gcs-server), Azure (Azurite) and a local folder, with real JPEGs."""

from __future__ import annotations

import json
import time

import pytest
from emulators import jpeg
from sqlalchemy import event, func, select

from dsdesk.catalog.models import Blob, Item, SyncTombstone

from .test_sync import BLUE, GREEN, RED, folders, items, make_ds, seed

pytestmark = pytest.mark.emulators


def tombs(catalog, ds) -> dict[str, dict]:
    """storage key -> (etag, size) of the dataset's tombstones."""
    with catalog.db.session() as s:
        rows = s.execute(select(SyncTombstone.storage_key, SyncTombstone.etag, SyncTombstone.size,
                                SyncTombstone.driver_id).where(SyncTombstone.dataset_id == ds.id)).all()
    return {r.storage_key: r._asdict() for r in rows}


def synced(project, store, **extra):
    """A master on *store* with the seed objects, synced once."""
    seed(store)
    ds = make_ds(project, store, **extra)
    r = ds.sync()
    assert r.new == 3
    return ds


# ---------------------------------------------------------------- no resurrection
def test_deleted_item_is_not_resurrected_by_sync(catalog, project, store):
    ds = synced(project, store)
    before = items(catalog, ds)["/a/one.jpg"]
    assert ds.items.delete(filename="/a/one.jpg") == 1
    assert store.exists("a/one.jpg")  # the driver does not allow external delete
    t = tombs(catalog, ds)
    assert t == {store.full("a/one.jpg"): {"storage_key": store.full("a/one.jpg"), "etag": before["etag"],
                                           "size": before["size"], "driver_id": ds.driver_id}}
    assert ds.sync_status["deleted_keys"] == 1
    for _ in range(2):  # and stays out on every later sync
        r = ds.sync()
        assert (r.new, r.skipped, r.unchanged, r.renamed, r.error_count) == (0, 1, 2, 0, 0)
        assert "skipped 1" in r.summary()
        assert set(items(catalog, ds)) == {"/a/b/two.jpg", "/three.png"}
    assert ds.refresh().items_count == 2
    assert ds.sync_status["last"]["skipped"] == 1


def test_deleted_folder_is_not_recreated_by_sync(catalog, project, store):
    ds = synced(project, store)
    store.put("keep/other.jpg", jpeg(BLUE))
    store.marker("empty")
    ds.sync()
    assert ds.items.delete(folder="/a") == 2
    assert len(tombs(catalog, ds)) == 2
    r = ds.sync()
    assert (r.new, r.skipped, r.folders) == (0, 2, 0)
    assert set(items(catalog, ds)) == {"/three.png", "/keep/other.jpg"}
    got = folders(catalog, ds)
    assert "/a" not in got and "/a/b" not in got  # a folder of deleted keys only stays deleted
    assert {"/keep", "/empty"} <= got
    # A new object in the deleted folder is new content: it comes with its folder.
    store.put("a/b/new.jpg", jpeg(GREEN, (20, 20)))
    r = ds.sync()
    assert (r.new, r.skipped) == (1, 2)
    assert "/a/b/new.jpg" in items(catalog, ds) and {"/a", "/a/b"} <= folders(catalog, ds)


def test_deleting_every_item_keeps_the_next_sync_from_reimporting(catalog, project, store):
    """An empty dataset normally gets the first-sync fast path; with tombstones it must diff."""
    ds = synced(project, store)
    assert ds.items.delete(folder="/") == 3
    r = ds.sync()
    assert (r.new, r.skipped) == (0, 3)
    assert items(catalog, ds) == {}


def test_changed_object_comes_back_and_clears_its_tombstone(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(filename="/a/one.jpg")
    time.sleep(1.1)  # S3 and Azure mtimes have one-second resolution
    store.put("a/one.jpg", jpeg(BLUE, (80, 60)))  # new bytes: new etag and size
    r = ds.sync()
    assert (r.new, r.skipped, r.changed) == (1, 0, 0)
    got = items(catalog, ds)["/a/one.jpg"]
    assert got["size"] == len(jpeg(BLUE, (80, 60)))
    assert tombs(catalog, ds) == {}
    assert ds.sync().new == 0


def test_same_size_new_etag_comes_back(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(filename="/three.png")
    time.sleep(1.1)
    store.put("three.png", b"\x89PNG not Really")  # same length, other bytes
    r = ds.sync()
    assert (r.new, r.skipped) == (1, 0)


# ---------------------------------------------------------------------- undo
def test_restore_deleted_brings_them_back(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(folder="/a")
    assert ds.restore_deleted() == 2
    assert ds.sync_status["deleted_keys"] == 0
    r = ds.sync()
    assert (r.new, r.skipped) == (2, 0)
    assert set(items(catalog, ds)) == {"/a/one.jpg", "/a/b/two.jpg", "/three.png"}
    assert {"/a", "/a/b"} <= folders(catalog, ds)


def test_sync_restore_deleted_in_one_go_and_its_dry_run(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(filename="/a/one.jpg")
    r = ds.sync(dry_run=True, restore_deleted=True)
    assert (r.dry_run, r.new, r.undeleted, r.skipped) == (True, 1, 1, 0)
    assert len(tombs(catalog, ds)) == 1 and "/a/one.jpg" not in items(catalog, ds)  # nothing changed
    r = ds.sync(restore_deleted=True)
    assert (r.new, r.undeleted, r.skipped) == (1, 1, 0)
    assert "/a/one.jpg" in items(catalog, ds) and tombs(catalog, ds) == {}


def test_restore_deleted_on_an_emptied_dataset_takes_the_first_sync_path(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(folder="/")
    r = ds.sync(restore_deleted=True)
    assert (r.new, r.undeleted) == (3, 3)
    assert len(items(catalog, ds)) == 3 and tombs(catalog, ds) == {}


def test_dry_run_reports_skipped_and_changes_nothing(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(folder="/a")
    store.put("fresh.jpg", jpeg(GREEN))
    before, t = items(catalog, ds), tombs(catalog, ds)
    r = ds.sync(dry_run=True)
    assert (r.dry_run, r.new, r.skipped) == (True, 1, 2)
    assert "skipped 2" in r.summary()
    assert items(catalog, ds) == before and tombs(catalog, ds) == t


# ---------------------------------------------------------------- moves and renames
def test_items_moved_in_the_catalog_are_deleted_by_key(catalog, project, store):
    ds = synced(project, store)
    it = ds.items.get(filepath="/a/one.jpg")
    ds.items.make_dir("/curated")
    it.move("/curated/")
    r = ds.sync()  # the storage key, not the virtual path, is what sync knows
    assert (r.new, r.changed, r.skipped, r.unchanged) == (0, 0, 0, 3)
    assert "/curated/one.jpg" in items(catalog, ds)
    ds.items.get(filepath="/curated/one.jpg").delete()
    assert set(tombs(catalog, ds)) == {store.full("a/one.jpg")}
    r = ds.sync()
    assert (r.new, r.skipped) == (0, 1)
    got = items(catalog, ds)
    assert "/a/one.jpg" not in got and "/curated/one.jpg" not in got


def test_sync_detected_renames_are_unaffected_and_tombstones_follow_renames(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(filename="/three.png")
    live = items(catalog, ds)["/a/one.jpg"]
    store.mv("a/one.jpg", "moved/uno.jpg")  # a live item's object renamed: the item follows
    store.mv("three.png", "moved/tres.png")  # the deleted object renamed: still deleted
    r = ds.sync()
    assert (r.renamed, r.new, r.skipped, r.missing) == (1, 0, 1, 0)
    got = items(catalog, ds)
    assert got["/moved/uno.jpg"]["id"] == live["id"]
    assert "/moved/tres.png" not in got and "/three.png" not in got
    assert set(tombs(catalog, ds)) == {store.full("moved/tres.png")}
    assert ds.restore_deleted() == 1
    assert ds.sync().new == 1 and "/moved/tres.png" in items(catalog, ds)


def test_rollback_that_restores_a_deleted_item_drops_its_tombstone(catalog, project, store):
    ds = synced(project, store)
    ds.snapshot("v1")
    ds.items.delete(filename="/a/one.jpg")
    ds.rollback("v1")
    assert "/a/one.jpg" in items(catalog, ds)
    r = ds.sync()
    assert (r.new, r.skipped, r.unchanged) == (0, 0, 3)
    assert tombs(catalog, ds) == {}
    # Deleting it again, after the object vanished and came back, is judged afresh.
    ds.items.delete(filename="/a/one.jpg")
    assert len(tombs(catalog, ds)) == 1


# ------------------------------------------------------- external delete, clones
def test_driver_that_deletes_objects_leaves_no_tombstone(catalog, project, store):
    ds = synced(project, store, allow_external_delete=True)
    ds.items.delete(filename="/a/one.jpg")
    assert not store.exists("a/one.jpg")
    assert tombs(catalog, ds) == {}
    r = ds.sync()
    assert (r.new, r.skipped, r.missing) == (0, 0, 0)


def test_object_kept_for_a_snapshot_is_tombstoned_even_with_external_delete(catalog, project, store):
    ds = synced(project, store, allow_external_delete=True)
    ds.snapshot("v1")  # its items share the blobs: the object must stay
    ds.items.delete(filename="/a/one.jpg")
    assert store.exists("a/one.jpg")
    assert set(tombs(catalog, ds)) == {store.full("a/one.jpg")}
    r = ds.sync()
    assert (r.new, r.skipped) == (0, 1)


def test_deleting_in_a_clone_tombstones_nothing(catalog, project, store):
    """A clone is never synced (sync refuses it): its deletions need no tombstone, and
    the master it came from keeps its item and syncs as before."""
    ds = synced(project, store)
    cl = ds.clone("cl")
    assert cl.items.delete(filename="/a/one.jpg") == 1
    with catalog.db.session() as s:
        assert s.execute(select(func.count()).select_from(SyncTombstone)).scalar_one() == 0
    assert store.exists("a/one.jpg")
    r = ds.sync()
    assert (r.new, r.skipped, r.unchanged) == (0, 0, 3)
    assert "/a/one.jpg" in items(catalog, ds)
    # Deleting in the master while the clone still uses the blob: tombstoned.
    ds.items.delete(filename="/a/b/two.jpg")
    assert set(tombs(catalog, ds)) == {store.full("a/b/two.jpg")}
    assert tombs(catalog, cl) == {}


def test_trashing_and_purging_the_dataset_drops_its_tombstones(catalog, project, store):
    ds = synced(project, store)
    ds.items.delete(folder="/a")
    ds.delete()
    assert project.datasets.purge(ds.id) == 1
    with catalog.db.session() as s:
        assert s.execute(select(func.count()).select_from(SyncTombstone)).scalar_one() == 0


# ------------------------------------------------------------------------- CLI
def test_cli_rm_then_sync_skips_and_restore_deleted_brings_back(catalog, project, store, capsys):
    from dsdesk.cli.main import main

    ds = synced(project, store)
    url = catalog.db.url.replace("sqlite:///", "")
    base = ["--catalog", url, "-q"]
    assert main([*base, "rm", ds.name, "/a/one.jpg"]) == 0
    assert main([*base, "rm", ds.name, "/a", "-r"]) == 0
    capsys.readouterr()
    assert main([*base, "sync", ds.name, "--dry-run"]) == 0
    assert "skipped 2" in capsys.readouterr().out
    assert main([*base, "sync", ds.name, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["new"], out["skipped"]) == (0, 2)
    assert main([*base, "sync", ds.name, "--restore-deleted"]) == 0
    out = capsys.readouterr().out
    assert "new 2" in out and "undeleted 2" in out
    assert set(items(catalog, ds)) == {"/a/one.jpg", "/a/b/two.jpg", "/three.png"}


# ----------------------------------------------------------------------- scale
def _count_statements(engine):
    n = [0]

    def on(*_a, **_k):
        n[0] += 1

    event.listen(engine, "before_cursor_execute", on)
    return n, lambda: event.remove(engine, "before_cursor_execute", on)


def test_ten_thousand_deleted_items_stay_deleted_fast(catalog, project, tmp_path):
    """10,000 real JPEGs in a local folder: the delete writes its tombstones and the
    re-sync skips them in set-based SQL (a bounded number of statements, not one a row)."""
    from emulators import Store

    store = Store("local", None, root=tmp_path / "bucket")
    n = 10_000
    data = [jpeg((i % 256, (i // 256) % 256, 90), (16, 12)) for i in range(16)]
    for i in range(n):
        store.put(f"big/{i // 1000:02d}/{i:05d}.jpg", data[i % 16])
    store.put("kept.jpg", jpeg(RED))
    ds = make_ds(project, store)
    assert ds.sync().new == n + 1

    counter, stop = _count_statements(catalog.db.engine)
    t0 = time.monotonic()
    assert ds.items.delete(folder="/big") == n
    delete_s = time.monotonic() - t0
    stop()
    assert counter[0] < 40, f"{counter[0]} statements for one bulk delete"
    assert len(tombs(catalog, ds)) == n
    assert delete_s < 15, f"deleting {n} items took {delete_s:.1f}s"

    counter, stop = _count_statements(catalog.db.engine)
    t0 = time.monotonic()
    r = ds.sync()
    sync_s = time.monotonic() - t0
    stop()
    assert (r.new, r.skipped, r.unchanged, r.folders) == (0, n, 1, 0)
    assert "/big" not in folders(catalog, ds)
    assert counter[0] < 120, f"{counter[0]} statements for a re-sync with {n} tombstones"
    assert sync_s < 20, f"re-sync with {n} tombstones took {sync_s:.1f}s"

    r = ds.sync(dry_run=True, restore_deleted=True)
    assert (r.new, r.undeleted) == (n, n)
    r = ds.sync(restore_deleted=True)
    assert (r.new, r.skipped) == (n, 0)
    with catalog.db.session() as s:
        assert s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == ds.id)).scalar_one() == n + 1
        # The blob rows were kept by the delete (external objects), so no duplicate blob appeared.
        assert s.execute(select(func.count()).select_from(Blob).where(Blob.driver_id == ds.driver_id)
                         ).scalar_one() == n + 1
