"""Reconcile: the staged listing against the catalog, applied in one transaction.

:func:`apply` runs the steps below in one transaction of set-based statements (never a
Python loop over items), in this order, each on the listing as the earlier ones left it:

1. tombstones screen the listing (:mod:`dsdesk.sync.tombstones`);
2. :func:`renames` — a vanished key and a new key with the same etag and size: the item
   moves and keeps everything;
3. :func:`changed` — an item's key listed with another etag, size or mtime: the blob is
   updated, the item kept and flagged;
4. :func:`restored` — keys marked missing earlier are listed again;
5. :func:`vanished` — items whose key is no longer listed: their blob is marked missing,
   or, with ``delete_missing``, the items go;
6. :func:`new_keys` — blobs and items for the listed keys the dataset has no item for;
7. :func:`folders` — folder markers and the folders of listed keys.

It commits with the cleanup of the staging rows, so it happens exactly once; a dry run
rolls it back and so reports exactly what a real run would do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from dsdesk.catalog import blob_lock, paths, stats, tombstones
from dsdesk.catalog.blob_refs import blob_in_use
from dsdesk.catalog.models import Blob, Driver, Folder, Item, SyncListing, utcnow
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.catalog.sql import chunked, insert_ignore, written
from dsdesk.sync import tombstones as deleted_keys
from dsdesk.sync.listing import map_key
from dsdesk.sync.report import SyncReport, add_error, collect_errors
from dsdesk.sync.session import sync_session
from dsdesk.sync.state import close_run, discard_run

L = SyncListing
CHUNK = 5000  # ids per statement where a step updates or deletes by id list


def apply(db, dataset_id: int, driver_id: int, delete_missing: bool, dry_run: bool, report: SyncReport,
          restore_deleted: bool = False) -> list[tuple[str, str | None]]:
    """Diff the staged listing against the catalog and apply it in one transaction
    (rolled back for a dry run); fills *report*.  Returns ``(key, old etag)`` of the
    objects whose bytes changed (their cached thumbnails are stale)."""
    now = utcnow()
    with sync_session(db, commit=not dry_run) as s:
        if restore_deleted:
            # In the apply's transaction: a dry run rolls it back with the rest.
            report.undeleted = tombstones.clear(s, dataset_id)
        changed_keys = reconcile(s, dataset_id, driver_id, delete_missing, now, report)
        collect_errors(s, dataset_id, report)
        if not dry_run:
            stats.refresh(s, dataset_id)
            close_run(s, dataset_id, report, now)
    if dry_run:
        discard_run(db, dataset_id)
    return changed_keys


@dataclass(frozen=True)
class Sides:
    """The two sides every step compares, as SQL expressions for one dataset and driver."""

    d: int
    drv: int
    files: Any  # staged rows that are files (not folders, not refused keys)
    listed_key: Any  # SELECT of those rows' keys
    ds_keys: Any  # SELECT of the keys this dataset's items point at
    in_ds: Any  # the blob is used by an item of the dataset

    @classmethod
    def of(cls, d: int, drv: int) -> Sides:
        """The sides of dataset *d* on driver *drv*."""
        files = and_(L.dataset_id == d, L.is_dir.is_(False), L.error.is_(None))
        listed_key = select(L.storage_key).where(L.dataset_id == d, L.is_dir.is_(False), L.error.is_(None))
        # Written as uncorrelated IN (subquery) so the database materialises each set once;
        # a correlated EXISTS lets SQLite (without ANALYZE statistics) scan the dataset's
        # items per row.
        ds_keys = (select(Blob.storage_key).join(Item, Item.blob_id == Blob.id)
                   .where(Item.dataset_id == d, Blob.driver_id == drv))
        # "+ 0" keeps SQLite from using this IN list as an index constraint next to another
        # IN on (driver_id, storage_key): it would probe the cross product of both lists.
        in_ds = (Blob.id + 0).in_(select(Item.blob_id).where(Item.dataset_id == d))
        return cls(d, drv, files, listed_key, ds_keys, in_ds)

    def listed(self, col):
        """The listed value of *col* (a staging column) for the blob row being updated."""
        return select(col).where(L.dataset_id == self.d, L.storage_key == Blob.storage_key).scalar_subquery()


def reconcile(s: Session, d: int, drv: int, delete_missing: bool, now, report: SyncReport
              ) -> list[tuple[str, str | None]]:
    """Run the steps (see the module docstring) in session *s*; returns what
    :func:`changed` returns."""
    x = Sides.of(d, drv)
    # Listed keys the user deleted stay out while their object is unchanged: their staged
    # rows are dropped here, so every step below sees the listing without those objects.
    tomb = deleted_keys.screen(s, d, drv) if tombstones.exist(s, d, drv) else None
    renames(s, x, now, report)
    if tomb is not None:
        tomb.follow_renames(s, x.files, x.ds_keys)
        report.skipped = tomb.kept
    changed_keys = changed(s, x, now, report)
    restored(s, x, report)
    vanished(s, x, delete_missing, now, report)
    new_keys(s, x, now, report)
    folders(s, x, tomb, now, report)
    if tomb is not None:
        tomb.drop_returned(s)
    total_files = s.execute(select(func.count()).select_from(L).where(x.files)).scalar_one()
    report.unchanged = max(0, total_files - report.new - report.changed - report.renamed - report.restored)
    return changed_keys


def renames(s: Session, x: Sides, now, report: SyncReport) -> None:
    """Pair vanished keys (an item's key not listed) with new ones (a listed key with no
    item) of the same etag and size, in key order, and move each item's blob to its new
    key.  An item that sat at its key's path follows the object to the new path; one the
    user moved in the catalog stays where the user put it.  Counts ``report.renamed``."""
    d, drv = x.d, x.drv
    vb = aliased(Blob)
    vanished_q = (select(Item.id.label("item_id"), Item.dir, Item.name, vb.id.label("blob_id"),
                         vb.storage_key.label("old_key"), vb.etag, vb.size,
                         func.row_number().over(partition_by=(vb.etag, vb.size), order_by=(vb.storage_key, Item.id))
                         .label("rn"))
                  .join(vb, vb.id == Item.blob_id)
                  .where(Item.dataset_id == d, vb.driver_id == drv, vb.etag.is_not(None),
                         ~select(L.storage_key).where(L.dataset_id == d, L.storage_key == vb.storage_key,
                                                      L.is_dir.is_(False), L.error.is_(None)).exists())
                  .subquery())
    new = (select(L.storage_key, L.dir, L.name, L.etag, L.size, L.last_modified,
                  func.row_number().over(partition_by=(L.etag, L.size), order_by=L.storage_key).label("rn"))
           .where(x.files, L.etag.is_not(None), ~L.storage_key.in_(x.ds_keys))
           .subquery())
    # Cheap probe first: with no vanished key (a first sync, most re-syncs) there is
    # nothing to pair, and the windowed pairing query would rank every new key for nothing.
    any_vanished = s.execute(
        select(Item.id).join(Blob, Blob.id == Item.blob_id)
        .where(Item.dataset_id == d, Blob.driver_id == drv, Blob.etag.is_not(None),
               ~Blob.storage_key.in_(x.listed_key)).limit(1)).first() is not None
    if not any_vanished:
        return
    v = vanished_q.c
    pairs = s.execute(
        select(v.item_id, v.dir, v.name, v.blob_id, v.old_key,
               new.c.storage_key, new.c.dir.label("new_dir"), new.c.name.label("new_name"), new.c.last_modified)
        .join(new, and_(new.c.etag == v.etag, new.c.size == v.size, new.c.rn == v.rn))
    ).all()
    if not pairs:
        return
    prefix_len = _prefix_len(s, drv)
    taken_blobs = dict(s.execute(select(Blob.storage_key, Blob.id).where(
        Blob.driver_id == drv, Blob.storage_key.in_([p.storage_key for p in pairs]))).all()) \
        if len(pairs) < CHUNK else None
    for p in pairs:
        existing = taken_blobs.get(p.storage_key) if taken_blobs is not None else s.execute(
            select(Blob.id).where(Blob.driver_id == drv, Blob.storage_key == p.storage_key)).scalar()
        if existing is None:
            s.execute(update(Blob).where(Blob.id == p.blob_id).values(
                storage_key=p.storage_key, last_modified=p.last_modified, missing_since=None))
            blob_id = p.blob_id
        else:
            blob_id = existing
            s.execute(update(Blob).where(Blob.id == existing).values(missing_since=None))
        old_d, old_n, _ = map_key(p.old_key[prefix_len:])
        at_key_path = (old_d, old_n) == (p.dir, p.name)
        values: dict[str, Any] = {"blob_id": blob_id, "updated_at": now, "row_version": Item.row_version + 1}
        if at_key_path:
            values.update(dir=p.new_dir, name=_free_name(s, d, p.new_dir, p.new_name, exclude=p.item_id))
        s.execute(update(Item).where(Item.id == p.item_id).values(**values)
                  .execution_options(synchronize_session=False))
    report.renamed = len(pairs)


def changed(s: Session, x: Sides, now, report: SyncReport) -> list[tuple[str, str | None]]:
    """Blobs of the dataset whose key is listed with another etag, size or mtime take the
    listed facts (decoded facts such as width and height are cleared); their items stay,
    flagged ``changed_at``.  Counts ``report.changed``; returns ``(key, old etag)`` each."""
    lk = aliased(L)
    differs = or_(and_(lk.etag.is_not(None), Blob.etag.is_not(None), lk.etag != Blob.etag),
                  lk.size != Blob.size,
                  and_(lk.last_modified.is_not(None), Blob.last_modified.is_not(None),
                       lk.last_modified != Blob.last_modified))
    rows = s.execute(select(Blob.id, Blob.storage_key, Blob.etag)
                     .join(lk, and_(lk.dataset_id == x.d, lk.storage_key == Blob.storage_key,
                                    lk.is_dir.is_(False), lk.error.is_(None)))
                     .where(Blob.driver_id == x.drv, x.in_ds, differs)).all()
    for part in chunked([r.id for r in rows], CHUNK):
        s.execute(update(Blob).where(Blob.id.in_(part)).values(
            etag=x.listed(L.etag), size=x.listed(L.size), last_modified=x.listed(L.last_modified),
            mimetype=x.listed(L.mimetype), content_hash=None, width=None, height=None, missing_since=None)
            .execution_options(synchronize_session=False))
        s.execute(update(Item).where(Item.dataset_id == x.d, Item.blob_id.in_(part)).values(
            changed_at=now, updated_at=now, row_version=Item.row_version + 1)
            .execution_options(synchronize_session=False))
    report.changed = len(rows)
    return [(r.storage_key, r.etag) for r in rows]


def restored(s: Session, x: Sides, report: SyncReport) -> None:
    """Blobs of the dataset marked missing earlier and listed again (content unchanged)
    are present again; counts ``report.restored``.  Also fills in the mtime of listed
    blobs that have none (uploads write none), silently: that is not a change."""
    listed = Blob.storage_key.in_(x.listed_key)
    report.restored = s.execute(
        update(Blob).where(Blob.driver_id == x.drv, Blob.missing_since.is_not(None), x.in_ds, listed)
        .values(missing_since=None).execution_options(synchronize_session=False)).rowcount or 0
    s.execute(update(Blob).where(Blob.driver_id == x.drv, Blob.last_modified.is_(None), x.in_ds, listed)
              .values(last_modified=x.listed(L.last_modified)).execution_options(synchronize_session=False))


def vanished(s: Session, x: Sides, delete_missing: bool, now, report: SyncReport) -> None:
    """Blobs of the dataset whose key is no longer listed: marked missing (``report.missing``
    counts the newly marked), or with *delete_missing* their items are deleted
    (``report.deleted``) and the blob rows nothing else uses dropped."""
    not_listed = (Blob.driver_id == x.drv, x.in_ds, ~Blob.storage_key.in_(x.listed_key))
    if delete_missing:
        blob_ids = list(s.execute(select(Blob.id).where(*not_listed)).scalars())
        # A copy running on PostgreSQL may be about to point items at these blob rows
        # (catalog/blob_lock): then the rows stay, unreferenced, for gc to drop later.
        drop_rows = bool(blob_ids) and blob_lock.try_hold_for_release(s)
        n = 0
        for part in chunked(blob_ids, CHUNK):
            n += s.execute(delete(Item).where(Item.dataset_id == x.d, Item.blob_id.in_(part))
                           .execution_options(synchronize_session=False)).rowcount or 0
            if drop_rows:  # the object is already gone from storage; drop rows nothing else uses
                s.execute(delete(Blob).where(Blob.id.in_(part), ~blob_in_use()).execution_options(synchronize_session=False))
        report.deleted = n
        return
    # The conditions on the updated rows themselves, not "id IN (SELECT id FROM blob ...)":
    # PostgreSQL without statistics nests that self-join per blob row (measured: 21 s for
    # 500 blob rows no longer listed).
    report.missing = s.execute(
        update(Blob).where(*not_listed, Blob.missing_since.is_(None))
        .values(missing_since=now).execution_options(synchronize_session=False)).rowcount or 0


def new_keys(s: Session, x: Sides, now, report: SyncReport) -> None:
    """Listed keys the dataset has no item for: their blob rows are refreshed (a key
    another dataset knew) or inserted, and an item made at the key's path.  A path
    already taken (by an item the user moved there) keeps both, the newcomer under a
    visible suffix, reported as a conflict.  Counts ``report.new`` and ``report.conflicts``."""
    d, drv = x.d, x.drv
    newk = and_(x.files, ~L.storage_key.in_(x.ds_keys))
    blob_exists = select(Blob.id).where(Blob.driver_id == drv, Blob.storage_key == L.storage_key).exists()
    refreshed = s.execute(update(Blob).where(
        Blob.driver_id == drv, Blob.storage_key.in_(select(L.storage_key).where(newk)))
        .values(etag=x.listed(L.etag), size=x.listed(L.size), last_modified=x.listed(L.last_modified),
                missing_since=None)
        .execution_options(synchronize_session=False))
    created = written(s, insert(Blob).from_select(
        ["driver_id", "storage_key", "size", "etag", "last_modified", "mimetype", "created_at"],
        select(literal(drv), L.storage_key, L.size, L.etag, L.last_modified, L.mimetype, literal(now))
        .where(newk, ~blob_exists)))
    candidates = created + (refreshed.rowcount or 0)
    at_blob = and_(Blob.driver_id == drv, Blob.storage_key == L.storage_key)
    ins_items = insert_ignore(s, Item.__table__, ["dataset_id", "dir", "name"]).from_select(
        ["dataset_id", "dir", "name", "blob_id", "meta_system", "meta_user", "created_at", "updated_at"],
        select(literal(d), L.dir, L.name, Blob.id, literal({}, JSON), literal({}, JSON), literal(now), literal(now))
        .join(Blob, at_blob).where(newk))
    with deferred_name_index(s):
        report.new = written(s, ins_items)
        leftovers = [] if report.new >= candidates else s.execute(
            select(L.storage_key, L.dir, L.name, Blob.id).join(Blob, at_blob).where(newk)).all()
        for r in leftovers:
            name = _free_name(s, d, r.dir, r.name)
            s.execute(insert(Item).values(dataset_id=d, dir=r.dir, name=name, blob_id=r.id, meta_system={},
                                          meta_user={}, created_at=now, updated_at=now))
            report.new += 1
            report.conflicts += 1
            add_error(report, r.storage_key, f"path {paths.join(r.dir, r.name)} was taken; created as {name}")


def folders(s: Session, x: Sides, tomb: deleted_keys.Screening | None, now, report: SyncReport) -> None:
    """Folder markers and the folders of listed keys become folders of the dataset,
    except those the user deleted with every file under them (tombstones); counts
    ``report.folders``."""
    d = x.d
    folder_rows = select(literal(d), L.dir, literal(now)).where(
        L.dataset_id == d, L.is_dir.is_(True), L.error.is_(None), L.dir != "/").distinct()
    gone = deleted_keys.deleted_folders(s, d, x.files, tomb.kept_dirs) if tomb is not None and tomb.kept_dirs else []
    report.folders = written(s, insert_ignore(s, Folder.__table__, ["dataset_id", "path"]).from_select(
        ["dataset_id", "path", "created_at"], folder_rows))
    for part in chunked(gone, CHUNK):
        report.folders -= s.execute(delete(Folder).where(Folder.dataset_id == d, Folder.path.in_(part))
                                    .execution_options(synchronize_session=False)).rowcount or 0


def _prefix_len(s: Session, drv: int) -> int:
    from dsdesk.storage.drivers import normalize_prefix

    return len(normalize_prefix(s.execute(select(Driver.prefix).where(Driver.id == drv)).scalar_one()))


def _free_name(s: Session, d: int, dir_: str, name: str, exclude: int | None = None) -> str:
    """*name*, or ``stem (2).ext`` ... the first name not taken in *dir_* of dataset *d*."""
    stem, ext = os.path.splitext(name)
    cand, i = name, 1
    while True:
        q = select(Item.id).where(Item.dataset_id == d, Item.dir == dir_, Item.name == cand)
        if exclude is not None:
            q = q.where(Item.id != exclude)
        if s.execute(q.limit(1)).first() is None:
            return cand
        i += 1
        cand = f"{stem} ({i}){ext}"
