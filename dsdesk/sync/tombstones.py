"""Tombstones in a sync: listed keys the user deleted from the dataset stay out.

Keys the user deleted from the dataset while their object stayed in storage are
tombstoned (:mod:`dsdesk.catalog.tombstones` writes and stores them) and skipped by sync,
never re-added.  The rules, applied inside the reconcile's transaction:

* A tombstoned key is skipped as long as the listed object has the etag and size it had
  when the user deleted it (``SyncReport.skipped`` counts them, a dry run included).
* If the object changed (another etag or size), it is new content and the user's
  deletion no longer applies: it comes back as a new item and its tombstone is cleared.
* A tombstoned key that vanished while a new key appeared with the same etag and size is
  a rename, as for items: the tombstone follows the object to its new key (an item's own
  rename is paired first, so it is never taken by a tombstone).
* A tombstoned key that vanished with no such new key keeps its tombstone (the same
  bytes reappearing under that key stay deleted).
* A key that has an item in the dataset again (a rollback restored it, or it came back
  changed) drops its tombstone.
* ``restore_deleted=True`` clears the dataset's tombstones first, so the run brings every
  still-present object back (``SyncReport.undeleted`` counts the cleared tombstones).
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import tombstones as records
from dsdesk.catalog.models import Blob, Folder, Item, SyncListing, SyncTombstone
from dsdesk.catalog.sql import chunked, lookup_ids


def _pages(s: Session, d: int, drv: int, cols, size: int = 5000):
    """The dataset's tombstones in key order, *size* at a time (keyset pages on the
    primary key: memory and each statement stay bounded whatever their number)."""
    T = SyncTombstone
    after = None
    while True:
        q = select(*cols).where(T.dataset_id == d, T.driver_id == drv).order_by(T.storage_key).limit(size)
        if after is not None:
            q = q.where(T.storage_key > after)
        rows = s.execute(q).all()
        if not rows:
            return
        yield rows
        after = rows[-1].storage_key


def _drop_revived(s: Session, d: int, drv: int) -> int:
    """Forget the deletion of keys that have an item in the dataset again (a rollback
    restored it, or another item was pointed at it): they are not new to sync, and must
    not be counted as skipped nor kept out later.  Blob rows by their unique key, items
    by blob id, a page of tombstones at a time."""
    T = SyncTombstone
    # "+ 0": the item's blob index, never a walk of the dataset's items per blob.
    used = select(Item.blob_id).where(Item.blob_id.in_(bindparam("ids", expanding=True)),
                                      Item.dataset_id + 0 == d).distinct()
    revived: list[str] = []
    for page in _pages(s, d, drv, (T.storage_key,)):
        key_of = {b: k for k, b in lookup_ids(s, Blob.id, Blob.storage_key, [r.storage_key for r in page],
                                              Blob.driver_id == drv).items()}
        if key_of:
            revived.extend(key_of[b] for b in s.execute(used, {"ids": list(key_of)}).scalars())
    return records.forget(s, d, drv, revived)


def _same_object(t_etag, t_size, l_etag, l_size) -> bool:
    """The listed object is the one the user deleted: same size, same etag (an etag
    unknown on either side: the size decides)."""
    return t_size == l_size and (t_etag is None or l_etag is None or t_etag == l_etag)


class Screening:
    """What the dataset's tombstones do to one reconcile (see the module docstring)."""

    def __init__(self, d: int, drv: int):
        self.d, self.drv = d, drv
        self.kept = 0  # listed keys kept out (their staged rows are dropped)
        self.kept_dirs: set[str] = set()  # folders of those keys
        self.changed: list[str] = []  # listed with other content: back as items, tombstone goes
        self.lost: list[tuple[str, str, int]] = []  # (key, etag, size) of tombstoned keys not listed

    def _drop_staged(self, s: Session, keys: list[str]) -> None:
        s.execute(delete(SyncListing).where(SyncListing.dataset_id == self.d, SyncListing.storage_key.in_(keys))
                  .execution_options(synchronize_session=False))

    def follow_renames(self, s: Session, files, ds_keys) -> int:
        """A tombstoned key that vanished and a new key with the same etag and size is a
        rename (the rule items follow): the tombstone moves to the new key, whose object
        the user deleted and which therefore stays out too.  Runs after the items' own
        renames took their pairs; pairs are made like theirs (etag and size, key order).
        Returns the number of tombstones moved."""
        if not self.lost:
            return 0
        L = SyncListing
        cand = (select(L.storage_key, L.etag, L.size, L.dir)
                .where(files, L.etag.in_(bindparam("etags", expanding=True)), ~L.storage_key.in_(ds_keys))
                .order_by(L.storage_key))
        changed = set(self.changed)  # tombstoned already (their own, changed, object)
        free: dict[tuple[str, int], list] = {}
        for part in chunked(sorted({e for _, e, _ in self.lost}), 5000):
            for r in s.execute(cand, {"etags": part}):
                if r.storage_key not in changed:
                    free.setdefault((r.etag, r.size), []).append(r)
        for rows in free.values():
            rows.reverse()  # pop() hands them out in key order
        pairs = []
        for key, etag, size in self.lost:
            rows = free.get((etag, size))
            if rows:
                r = rows.pop()
                pairs.append({"old_key": key, "new_key": r.storage_key})
                self.kept_dirs.add(r.dir)
        if pairs:
            t = SyncTombstone.__table__
            s.execute(update(t).where(t.c.dataset_id == self.d, t.c.driver_id == self.drv,
                                      t.c.storage_key == bindparam("old_key")).values(storage_key=bindparam("new_key")),
                      pairs)
            for part in chunked([p["new_key"] for p in pairs], 5000):
                self._drop_staged(s, part)
            self.kept += len(pairs)
        return len(pairs)

    def drop_returned(self, s: Session) -> None:
        """After the apply: the tombstones of keys that came back changed are void."""
        records.forget(s, self.d, self.drv, self.changed)


def screen(s: Session, d: int, drv: int) -> Screening:
    """Compare the dataset's tombstones with the staged listing and drop the staged rows
    of the keys they keep out.  Cost follows the tombstones, never the listing: pages of
    tombstones, each matched with its staged rows by primary key, so the plans are index
    lookups on SQLite and on a PostgreSQL whose fresh tables have no statistics yet."""
    T, L = SyncTombstone, SyncListing
    _drop_revived(s, d, drv)
    out = Screening(d, drv)
    staged = select(L.storage_key, L.etag, L.size, L.dir).where(
        L.dataset_id == d, L.is_dir.is_(False), L.error.is_(None),
        L.storage_key.in_(bindparam("keys", expanding=True)))
    for page in _pages(s, d, drv, (T.storage_key, T.etag, T.size)):
        listed = {r.storage_key: r for r in s.execute(staged, {"keys": [t.storage_key for t in page]})}
        kept = []
        for t in page:
            r = listed.get(t.storage_key)
            if r is None:
                if t.etag is not None:
                    out.lost.append((t.storage_key, t.etag, t.size))
            elif _same_object(t.etag, t.size, r.etag, r.size):
                kept.append(t.storage_key)
                out.kept_dirs.add(r.dir)
            else:
                out.changed.append(t.storage_key)
        if kept:
            out._drop_staged(s, kept)
            out.kept += len(kept)
    return out


def deleted_folders(s: Session, d: int, files, kept_dirs: set[str]) -> list[str]:
    """Listed folders sync must not recreate: not in the dataset (the user deleted them)
    and every listed file under them kept out by a tombstone.  Folders with no file under
    them (markers of empty folders) and folders the dataset still has are not touched.

    Works on folder paths, not items: the candidates are the listed folders missing from
    the dataset (usually none or a few); only if one of them held deleted keys are the
    folders of the remaining files read (one DISTINCT query).
    """
    L = SyncListing
    exists_now = select(Folder.id).where(Folder.dataset_id == d, Folder.path == L.dir).exists()
    candidates = list(s.execute(select(L.dir).where(L.dataset_id == d, L.is_dir.is_(True), L.error.is_(None),
                                                    L.dir != "/", ~exists_now).distinct()).scalars())

    def with_ancestors(dirs) -> set[str]:
        out: set[str] = set()
        for p in dirs:
            while p not in out and p != "/":
                out.add(p)
                p = p.rsplit("/", 1)[0] or "/"
        return out

    deleted = with_ancestors(kept_dirs)
    if not deleted.intersection(candidates):
        return []
    live = with_ancestors(s.execute(select(L.dir).where(files).distinct()).scalars())
    return [p for p in candidates if p in deleted and p not in live]
