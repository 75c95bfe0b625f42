"""Deleting items and releasing the binaries nobody points at any more.

A binary is removed from storage only when no item anywhere points at it (snapshots are
datasets too, so their items protect what they need), and for external storage only when
the driver allows external delete.  Catalog rows go in one transaction; files are removed
after it committed, so a crash can leave an orphan file (``gc`` finds it) but never an
item without its bytes.

Deleting items of a master synced from external storage while their objects stay in the
bucket also records tombstones (:mod:`dsdesk.catalog.tombstones`), in the same
transaction, so the next sync does not bring them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import Select, delete, select

from dsdesk.catalog import blob_lock, stats, tombstones, tree
from dsdesk.catalog.blob_refs import blob_in_use
from dsdesk.catalog.catalog_settings import SHARED_STORE, setting_in
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.idset import id_set
from dsdesk.catalog.models import Blob, Driver, Item
from dsdesk.catalog.sql import chunked

#: Blobs released per transaction (and bound per statement: well below any driver's limit).
RELEASE_CHUNK = 5000


def delete_items(db, dataset_id: int, ids: Sequence[int] | Select, folder: str | None = None) -> int:
    """Delete the items (and, with *folder*, the folder rows under it); returns the item count.

    Every deletion of items goes through here (API, CLI ``rm``, the GUI's delete jobs): in
    a master synced from external storage, the keys whose objects stay in storage are
    tombstoned so sync does not resurrect them (see :mod:`dsdesk.catalog.tombstones`).
    *ids* may be any number of ids (a long list goes through a temporary table) or a SELECT.
    """
    with db.session(write=True) as s, id_set(s, ids) as sel:
        ds = writable_dataset(s, dataset_id, "delete items from")
        scoped = select(Item.id).where(Item.dataset_id == dataset_id, Item.id.in_(sel))
        blob_ids = list(s.execute(select(Item.blob_id).where(Item.id.in_(scoped)).distinct()).scalars())
        n = s.execute(delete(Item).where(Item.id.in_(scoped)).execution_options(synchronize_session=False)).rowcount
        tombstones.record(s, ds, blob_ids)
        if folder is not None:
            tree.delete_folder_rows(s, dataset_id, folder)
        stats.refresh(s, dataset_id)
    release_blobs(db, blob_ids)
    return n


def unreferenced(session, blob_ids: Sequence[int]) -> list[int]:
    """Those of *blob_ids* that no item (nor a snapshot's archived item state) points at."""
    out: list[int] = []
    for part in chunked(blob_ids, RELEASE_CHUNK):
        out.extend(session.execute(select(Blob.id).where(Blob.id.in_(part), ~blob_in_use())).scalars())
    return out


def release_blobs(db, blob_ids: Iterable[int], on_progress: Callable[[int, int], None] | None = None) -> int:
    """Remove from storage and catalog the given blobs that nothing references any more.

    Internal blobs always; external objects only when their driver allows external
    delete (otherwise the blob row stays, so a later sync does not take the object for new).
    Works through the ids in chunks of :data:`RELEASE_CHUNK`, each its own transaction
    followed by its files, so memory and statement sizes stay bounded whatever the count
    (a kill between a chunk's commit and its file removals leaves orphan files, which
    ``gc`` finds, never an item without its bytes).  *on_progress(done, total)* follows the
    chunks.  Returns how many binaries were removed.
    """
    ids = sorted(set(blob_ids))
    removed = 0
    for start in range(0, len(ids), RELEASE_CHUNK):
        removed += _release_chunk(db, ids[start:start + RELEASE_CHUNK])
        if on_progress is not None:
            on_progress(min(start + RELEASE_CHUNK, len(ids)), len(ids))
    return removed


def _release_chunk(db, blob_ids: list[int]) -> int:
    from dsdesk.transfer.reader import driver_for_row

    with db.session(write=True) as s:
        if not blob_lock.try_hold_for_release(s):
            # A clone, merge or snapshot is copying on PostgreSQL and may be about to point
            # at these blobs: waiting would hold this delete for the whole copy, so they
            # stay, unreferenced or not, for gc to judge later.
            return 0
        free = unreferenced(s, blob_ids)
        if not free:
            return 0
        rows = s.execute(select(Blob.id, Blob.storage_key, Driver).join(Driver, Driver.id == Blob.driver_id)
                         .where(Blob.id.in_(free))).all()
        gone = [(bid, key, drv) for bid, key, drv in rows if drv.kind == "internal" or drv.allow_external_delete]
        if not gone:
            return 0
        s.execute(delete(Blob).where(Blob.id.in_([bid for bid, _, _ in gone])))
        # The same bytes may be referenced by a blob row of another driver of the same internal
        # store; and a store shared with another catalog (a catalog copy) keeps every file.
        internal_keys = [key for _, key, drv in gone if drv.kind == "internal"]
        if setting_in(s, SHARED_STORE):
            in_use = set(internal_keys)
        else:
            in_use = set(s.scalars(select(Blob.storage_key).join(Driver, Driver.id == Blob.driver_id)
                                   .where(Blob.storage_key.in_(internal_keys), Driver.kind == "internal"))) \
                if internal_keys else set()
    removed = 0
    drivers: dict[int, object] = {}
    for _, key, drv in gone:
        if drv.kind == "internal" and key in in_use:
            continue
        if drv.id not in drivers:
            drivers[drv.id] = driver_for_row(db, drv)
        removed += bool(drivers[drv.id].delete(key))
    return removed
