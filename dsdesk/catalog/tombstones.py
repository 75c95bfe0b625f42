"""Tombstones: keys the user deleted from a synced dataset while the object stays in storage.

Sync makes an item of every listed key the dataset has no item for.  When the user
deletes an item of a dataset synced from external storage and the object stays in the
bucket (the driver does not allow external delete, or a clone or snapshot still uses
the binary so it is not released), the next sync would take the key for new and bring
the item back.  A tombstone (dataset, driver, storage key, the object's etag and size at
the time) records the user's decision; :mod:`dsdesk.sync.engine` skips tombstoned keys
while the object is unchanged.

Rules, in one place:

* Written by every deletion of items or folders (:func:`dsdesk.transfer.release.delete_items`,
  which the API's ``ds.items.delete`` / ``item.delete``, the CLI's ``rm`` and the GUI's
  delete jobs all go through), in the transaction that deletes the rows.
* Only for datasets sync targets: masters on an external driver.  A clone or a merge is
  never synced (sync refuses it), so deleting one of its items records nothing; its
  master is untouched and still has its item.
* Not when the object goes: a driver that allows external delete removes an object
  nothing references any more, and there is nothing left to resurrect.  If a clone or
  snapshot still uses the binary, the object stays, so the tombstone is written.
* Not when another item of the same dataset still points at the key (the key is not new
  to sync then).
* Deleting a whole dataset writes none (its tombstones go with it: foreign-key cascade).
* The storage key is what counts, never the item's virtual path: items moved or renamed
  inside dsdesk are deleted and skipped by the key their binary has.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, exists, func, literal, select, true
from sqlalchemy.orm import Session

from dsdesk.catalog.blob_refs import blob_in_use
from dsdesk.catalog.models import Blob, Dataset, Driver, Item, SyncTombstone, utcnow
from dsdesk.catalog.sql import chunked

CHUNK = 5000


def applies(session: Session, ds: Dataset) -> Driver | None:
    """The dataset's driver when deletions in *ds* need tombstones (a master on an
    external driver), else None."""
    if ds.kind != "master":
        return None
    drv = session.get(Driver, ds.driver_id)
    return drv if drv is not None and drv.kind != "internal" else None


def record(session: Session, ds: Dataset, blob_ids: Sequence[int]) -> int:
    """Write tombstones for the keys of *blob_ids* after their items were deleted from *ds*.

    Call it in the deleting transaction, after the DELETE: a blob another item of *ds*
    still points at is skipped, and with a driver that allows external delete only blobs
    something else still references (whose object therefore stays) are recorded.  Set-based:
    two statements per 5,000 blobs.  Returns the number of tombstones written.
    """
    drv = applies(session, ds)
    if drv is None or not blob_ids:
        return 0
    now = utcnow()
    T = SyncTombstone
    # "+ 0": probe the item's blob index, never walk the dataset's items once per blob.
    in_ds = exists().where(Item.blob_id == Blob.id, Item.dataset_id + 0 == ds.id)
    # With external delete allowed, an unreferenced object is removed right after this
    # transaction (release_blobs); only one still used elsewhere stays in the bucket.
    stays = blob_in_use() if drv.allow_external_delete else true()
    n = 0
    for part in chunked(blob_ids, CHUNK):
        keys = select(Blob.storage_key).where(Blob.id.in_(part), Blob.driver_id == drv.id, ~in_ds, stays)
        # A tombstone left from an earlier deletion of the same key gets today's facts.
        session.execute(delete(T).where(T.dataset_id == ds.id, T.driver_id == drv.id, T.storage_key.in_(keys))
                        .execution_options(synchronize_session=False))
        n += session.execute(T.__table__.insert().from_select(
            ["dataset_id", "driver_id", "storage_key", "etag", "size", "deleted_at"],
            select(literal(ds.id), Blob.driver_id, Blob.storage_key, Blob.etag, Blob.size, literal(now))
            .where(Blob.id.in_(part), Blob.driver_id == drv.id, ~in_ds, stays))).rowcount or 0
    return n


def exist(session: Session, dataset_id: int, driver_id: int | None = None) -> bool:
    """True when the dataset has a tombstone (of *driver_id*'s keys, when given)."""
    q = select(SyncTombstone.storage_key).where(SyncTombstone.dataset_id == int(dataset_id))
    if driver_id is not None:
        q = q.where(SyncTombstone.driver_id == driver_id)
    return session.execute(q.limit(1)).first() is not None


def forget(session: Session, dataset_id: int, driver_id: int, keys: Sequence[str]) -> int:
    """Remove the tombstones of *keys* (a page of statements of :data:`CHUNK` keys);
    returns how many went."""
    T = SyncTombstone
    n = 0
    for part in chunked(keys, CHUNK):
        n += session.execute(delete(T).where(T.dataset_id == int(dataset_id), T.driver_id == driver_id,
                                             T.storage_key.in_(part))
                             .execution_options(synchronize_session=False)).rowcount or 0
    return n


def clear(session: Session, dataset_id: int) -> int:
    """Forget every deletion recorded for the dataset (the next sync brings the objects
    back as new items); returns how many were cleared."""
    return session.execute(delete(SyncTombstone).where(SyncTombstone.dataset_id == int(dataset_id))
                           .execution_options(synchronize_session=False)).rowcount or 0


def count(session: Session, dataset_id: int) -> int:
    """How many keys of the dataset are tombstoned."""
    return session.execute(select(func.count()).select_from(SyncTombstone)
                           .where(SyncTombstone.dataset_id == int(dataset_id))).scalar_one()
