"""Purging trashed datasets for good (a background job).

Trashing is instant (a timestamp); purging is the slow part and runs here, one dataset
per transaction, deleting its rows with set-based statements, then releasing binaries
that nothing references any more.  Which binaries those are is settled inside the
purge's own transaction, set-based: the blobs of the purged items go into a temporary
table before the delete, those some remaining item still points at leave it after, and
only the rest travel to :func:`~dsdesk.transfer.release.release_blobs` (a purged clone
or merge shares every blob with its source, so usually none do).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, Table, delete, exists, func, insert, select, update

from dsdesk.catalog.bulkdelete import bulk_item_delete, row_triggers_off, worth_rebuilding
from dsdesk.catalog.engine import bulk_cache
from dsdesk.catalog.history import drop_all_points
from dsdesk.catalog.models import Annotation, Dataset, Folder, Item, Snapshot, TaskStatus
from dsdesk.transfer.release import release_blobs


def purge_datasets(ctx, dataset_ids: list[int]) -> int:
    """Job: delete trashed datasets (and their snapshots) with everything in them; returns the count.

    One transaction per dataset, so a long purge keeps what it finished; except when the
    datasets together hold at least as many items as the catalog keeps, where one
    transaction for all of them pays for one rebuild of the item indexes instead of a
    per-row index upkeep per dataset (:mod:`dsdesk.catalog.bulkdelete`).
    """
    db = ctx.db
    ctx.progress(0, len(dataset_ids), "purging")
    with db.session() as s:
        trashed = list(s.execute(select(Dataset.id).where(Dataset.id.in_(list(dataset_ids)),
                                                          Dataset.deleted_at.is_not(None))).scalars())
        together = len(trashed) > 1 and worth_rebuilding(s, _item_count(s, _targets(s, trashed)))
    batches = [trashed] if together else [[d] for d in trashed]
    done = 0
    for batch in batches:
        ctx.check_cancelled()
        with db.session(write=True) as s:
            purged, blob_ids = _delete(s, batch)
        release_blobs(db, blob_ids, on_progress=lambda d, t, n=done: ctx.progress(
            n, len(dataset_ids), f"purging {n + 1}/{len(dataset_ids)}: released {d:,} of {t:,} binaries"))
        done += purged
        ctx.progress(done, len(dataset_ids), f"purged {done}/{len(dataset_ids)}")
    return done


def _targets(s, dataset_ids: list[int]) -> list[int]:
    """The datasets and their snapshots' frozen datasets."""
    frozen = s.execute(select(Snapshot.frozen_dataset_id).where(Snapshot.dataset_id.in_(dataset_ids))).scalars()
    return [*dataset_ids, *frozen]


def _item_count(s, dataset_ids: list[int]) -> int:
    """The items of *dataset_ids*, from their cached counts."""
    return s.execute(select(func.coalesce(func.sum(Dataset.item_count), 0)).where(Dataset.id.in_(dataset_ids))).scalar()


def _delete(s, dataset_ids: list[int]) -> tuple[int, list[int]]:
    """Delete the still-trashed *dataset_ids* with everything in them, in session *s*;
    returns (how many, the blob ids their items used)."""
    ids = list(s.execute(select(Dataset.id).where(Dataset.id.in_(dataset_ids),
                                                  Dataset.deleted_at.is_not(None))).scalars())
    if not ids:
        return 0, []
    bulk_cache(s)  # deleting 2M rows from the unique index in a 64 MB cache took twice as long
    targets = _targets(s, ids)
    md, freed = _freed_table(s)
    md.create_all(s.connection())
    s.execute(insert(freed).from_select(["id"], select(Item.blob_id).where(Item.dataset_id.in_(targets))
                                        .distinct()))
    s.execute(delete(Snapshot).where(Snapshot.dataset_id.in_(ids)))
    drop_all_points(s, targets)  # first: rows deleted under a point would be archived
    items = select(Item.id).where(Item.dataset_id.in_(targets))
    with row_triggers_off(s):
        s.execute(delete(TaskStatus).where(TaskStatus.item_id.in_(items)))
        s.execute(delete(Annotation).where(Annotation.dataset_id.in_(targets)))
        with bulk_item_delete(s, _item_count(s, targets)):
            s.execute(delete(Item).where(Item.dataset_id.in_(targets)))
    s.execute(delete(Folder).where(Folder.dataset_id.in_(targets)))
    s.execute(update(Dataset).where(Dataset.src_dataset_id.in_(targets)).values(src_dataset_id=None))
    s.execute(delete(Dataset).where(Dataset.id.in_(targets)))
    # One probe of the blob index per candidate; what stays is what nothing points at now.
    blob_ids = list(s.scalars(select(freed.c.id).where(~exists().where(Item.blob_id == freed.c.id))))
    md.drop_all(s.connection())
    return len(ids), blob_ids


def _freed_table(s) -> tuple[MetaData, Table]:
    """A temporary table of the blob ids the purged items used (dropped at the commit on
    PostgreSQL, where a failed transaction could not drop it)."""
    md = MetaData()
    kw = {"postgresql_on_commit": "DROP"} if s.get_bind().dialect.name == "postgresql" else {}
    return md, Table("purge_freed_blob", md, Column("id", BigInteger, primary_key=True, autoincrement=False),
                     prefixes=["TEMPORARY"], **kw)
