"""The bulk path into a dataset (``ds.items.bulk_import`` / ``catalog.ingest``) on a real SQLite file.

Several batches, shared binaries, a re-import (every path taken), overwrite mode, a bad
path, and the name-search index: the read-backs the fast path skips when every row went
in must still be right when some did not.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import dsdesk
import dsdesk.query as q
from dsdesk.catalog import stats
from dsdesk.catalog.ingest import Record, ingest
from dsdesk.catalog.models import Blob, Folder, Item
from dsdesk.catalog.models import Dataset as DatasetRow

N = 23_000  # three batches of the bulk path (10k each)


def records(n: int, shared_every: int = 0, start: int = 0, tag: str = "") -> list[Record]:
    """*n* records in 10 folders; with *shared_every*, every k-th record reuses key 0's binary."""
    out = []
    for i in range(start, start + n):
        key = "k0" if shared_every and i % shared_every == 0 else f"k{i}{tag}"
        out.append(Record(dir=f"/d{i % 10}/sub", name=f"img_{i:06d}.jpg", storage_key=key, size=1000 + i,
                          etag=key, mimetype="image/jpeg", width=64, height=48,
                          meta_user={"i": i, "tag": tag} if tag else {"i": i}))
    return out


def _counts(cat, ds_id):
    with cat.db.session() as s:
        items = s.execute(select(func.count()).select_from(Item).where(Item.dataset_id == ds_id)).scalar()
        blobs = s.execute(select(func.count(func.distinct(Item.blob_id))).where(Item.dataset_id == ds_id)).scalar()
        folders = s.execute(select(func.count()).select_from(Folder).where(Folder.dataset_id == ds_id)).scalar()
    return items, blobs, folders


def _stats_are_exact(cat, ds_id):
    """The cached dataset statistics (bumped by a fresh import) equal a full recount."""
    cols = (DatasetRow.item_count, DatasetRow.folder_count, DatasetRow.bytes_total, DatasetRow.annotation_count)
    with cat.db.session() as s:
        cached = s.execute(select(*cols).where(DatasetRow.id == ds_id)).one()
    with cat.db.session(write=True) as s:
        stats.refresh(s, ds_id)
    with cat.db.session() as s:
        assert s.execute(select(*cols).where(DatasetRow.id == ds_id)).one() == cached


def check_bulk_import(cat, ds):
    """The scenario, for any catalog backend."""
    assert ds.items.bulk_import(records(N, shared_every=100)) == N
    _stats_are_exact(cat, ds.id)
    items, blobs, folders = _counts(cat, ds.id)
    assert items == N
    assert blobs == N - (N // 100) + 1  # every 100th record shares key k0's blob
    assert folders == 20  # /dX and /dX/sub
    ds = cat.datasets.get(ds.id)
    assert ds.items_count == N
    it = ds.items.get(filepath="/d3/sub/img_000013.jpg")
    assert it.metadata["user"] == {"i": 13}
    assert it.metadata["system"]["width"] == 64

    # The name-search index holds every imported item (filled once at the end).
    with cat.db.session() as s:
        assert q.count_items(s, ds.id, '"img_0220"') == 100  # img_022000 .. img_022099
        assert {r.name for r in q.page_items(s, ds.id, '"000013"', 10).rows} == {"img_000013.jpg"}

    # Again: every path is taken, nothing is created or changed.
    assert ds.items.bulk_import(records(N, shared_every=100)) == 0
    assert _counts(cat, ds.id) == (items, blobs, folders)

    # Half old, half new paths in one batch: only the new ones are created, with new ids.
    mixed = records(4000, start=N - 2000)
    assert ds.items.bulk_import(mixed) == 2000
    assert _counts(cat, ds.id)[0] == N + 2000
    _stats_are_exact(cat, ds.id)
    # New paths onto binaries the dataset already has (their stored size counts).
    assert ds.items.bulk_import(records(30, shared_every=1, start=N + 5000)) == 30
    _stats_are_exact(cat, ds.id)

    # Overwrite: the existing item keeps its id, points at the new binary, takes the new metadata.
    before = ds.items.get(filepath="/d5/sub/img_000005.jpg")
    with cat.db.session(write=True) as s:
        res = ingest(s, ds.id, ds.driver_id, records(10, tag="v2"), mode="overwrite")
    assert (res.created, res.overwritten) == (0, 10)
    after = ds.items.get(filepath="/d5/sub/img_000005.jpg")
    assert after.id == before.id
    assert after.metadata["user"] == {"i": 5, "tag": "v2"}
    with cat.db.session() as s:
        assert s.get(Blob, after.blob_id).storage_key == "k5v2"


def test_bulk_import_sqlite(dataset, catalog):
    check_bulk_import(catalog, dataset)


def test_bulk_import_refuses_a_bad_path_and_writes_nothing(dataset, catalog):
    bad = records(50) + [Record(dir="/ok", name="..", storage_key="kbad")]
    with pytest.raises(dsdesk.InvalidPathError):
        dataset.items.bulk_import(bad)
    assert _counts(catalog, dataset.id) == (0, 0, 0)


def test_bulk_import_into_a_read_only_dataset_is_refused(dataset, catalog):
    dataset.set_readonly(True)
    with pytest.raises(dsdesk.DsdeskError, match="read-only"):
        dataset.items.bulk_import(records(5))
    assert _counts(catalog, dataset.id)[0] == 0


def test_a_large_commit_is_checkpointed_in_the_background(dataset, catalog):
    """The log a bulk import leaves is copied into the main file by the background
    checkpointer (not by the importing thread), and closing the catalog waits for it."""
    ck = catalog.db.checkpointer
    runs = ck.runs
    dataset.items.bulk_import(records(20_000))
    ck.wait(30)
    assert ck.runs > runs
    with catalog.db.engine.connect() as con:  # nothing left to copy
        busy, log_frames, copied = con.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    assert busy == 0 and copied == log_frames
    assert catalog.datasets.get(dataset.id).items_count == 20_000


def test_commits_of_any_session_are_checkpointed(dataset, catalog):
    """A session made with ``db.new_session()`` (sync writes through those, page by page)
    triggers the background checkpoint too: with automatic checkpoints off on every
    connection, a commit path without it let a 1M-key sync leave a 636 MB log and an
    empty main file."""
    ck = catalog.db.checkpointer
    runs = ck.runs
    s = catalog.db.new_session()
    try:
        ingest(s, dataset.id, dataset.driver_id, records(20_000))
        s.commit()
    finally:
        s.close()
    ck.wait(30)
    assert ck.runs > runs
    assert ck.wal_size() <= 64 * 1024 * 1024
