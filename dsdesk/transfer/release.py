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

from collections.abc import Sequence

from sqlalchemy import Select, delete, select

from dsdesk.catalog import stats, tombstones, tree
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.models import Blob, Driver, Item
from dsdesk.catalog.sql import chunked


def delete_items(db, dataset_id: int, ids: Sequence[int] | Select, folder: str | None = None) -> int:
    """Delete the items (and, with *folder*, the folder rows under it); returns the item count.

    Every deletion of items goes through here (API, CLI ``rm``, the GUI's delete jobs): in
    a master synced from external storage, the keys whose objects stay in storage are
    tombstoned so sync does not resurrect them (see :mod:`dsdesk.catalog.tombstones`).
    """
    with db.session(write=True) as s:
        ds = writable_dataset(s, dataset_id, "delete items from")
        sel = ids if isinstance(ids, Select) else list(ids)
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
    """Those of *blob_ids* that no item points at."""
    out: list[int] = []
    for part in chunked(blob_ids, 5000):
        used = select(Item.id).where(Item.blob_id == Blob.id).exists()
        out.extend(session.execute(select(Blob.id).where(Blob.id.in_(part), ~used)).scalars())
    return out


def release_blobs(db, blob_ids: Sequence[int]) -> int:
    """Remove from storage and catalog the given blobs that nothing references any more.

    Internal blobs always; external objects only when their driver allows external
    delete (otherwise the blob row stays, so a later sync does not take the object for new).
    Returns how many binaries were removed.
    """
    from dsdesk.transfer.reader import driver_for_row

    if not blob_ids:
        return 0
    to_remove: list[tuple[Driver, str]] = []
    with db.session(write=True) as s:
        free = unreferenced(s, blob_ids)
        if not free:
            return 0
        rows = s.execute(select(Blob.id, Blob.storage_key, Driver).join(Driver, Driver.id == Blob.driver_id)
                         .where(Blob.id.in_(free))).all()
        gone = [bid for bid, _, drv in rows if drv.kind == "internal" or drv.allow_external_delete]
        to_remove = [(drv, key) for bid, key, drv in rows if drv.kind == "internal" or drv.allow_external_delete]
        for part in chunked(gone, 5000):
            s.execute(delete(Blob).where(Blob.id.in_(part)))
    removed = 0
    for drv, key in to_remove:
        # Same bytes may be referenced by a blob row of another driver of the same internal store.
        if drv.kind == "internal" and _internal_key_in_use(db, key):
            continue
        removed += bool(driver_for_row(db, drv).delete(key))
    return removed


def _internal_key_in_use(db, key: str) -> bool:
    with db.session() as s:
        return s.execute(select(Blob.id).join(Driver, Driver.id == Blob.driver_id)
                         .where(Blob.storage_key == key, Driver.kind == "internal").limit(1)).first() is not None
