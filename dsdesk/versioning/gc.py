"""Garbage collection of binaries no item points at any more.

A blob is garbage when no item of any dataset - snapshots included, since their items are
ordinary rows - references it.  Internal binaries are deleted from the catalog and from the
content-addressed store; external objects only when their driver allows external delete
(otherwise they are listed as kept, with the reason, and only their catalog row is kept
too, so a later sync still knows them).

Order matters for crash safety: catalog rows go first, in one transaction; files are
removed after the commit.  A crash in between leaves unreferenced files on disk (found
again by the next gc's orphan-file pass), never a catalog row pointing at a deleted file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from dsdesk.catalog import blob_lock
from dsdesk.catalog.blob_refs import blob_in_use
from dsdesk.catalog.catalog_settings import SHARED_STORE, read_setting
from dsdesk.catalog.models import Blob, Driver
from dsdesk.errors import DsdeskError
from dsdesk.storage.blobstore import BlobStore
from dsdesk.storage.drivers.factory import internal_store_of

LIST_LIMIT = 10000


@dataclass
class GcReport:
    """What gc found and (unless dry_run) removed."""

    dry_run: bool
    candidates: list[dict] = field(default_factory=list)  # {"blob_id", "driver", "kind", "key", "size"}
    candidate_count: int = 0
    candidate_bytes: int = 0
    deleted_count: int = 0
    deleted_bytes: int = 0
    kept: list[dict] = field(default_factory=list)  # external objects not deleted, with why
    orphan_files: list[str] = field(default_factory=list)  # internal files without any blob row
    errors: list[str] = field(default_factory=list)
    # Set when the internal store is shared with another catalog: its binaries were left alone.
    shared_store: str | None = None


def _unreferenced():
    return ~blob_in_use()  # snapshots' archived item states count


def gc(db, dry_run: bool = True, *, ctx=None) -> GcReport:
    """Find (and unless *dry_run* delete) binaries that no item anywhere points at.

    Takes the :class:`~dsdesk.catalog.engine.Database` (it deletes files after committing,
    so it manages its own transaction).
    """
    report = GcReport(dry_run=dry_run)
    store = internal_store_of(db)  # the folder beside the catalog, or the team's bucket prefix
    with db.session() as s:
        rows = s.execute(select(Blob.id, Blob.storage_key, Blob.size, Driver.id, Driver.name, Driver.kind,
                                Driver.allow_external_delete)
                         .join(Driver, Driver.id == Blob.driver_id).where(_unreferenced())
                         .order_by(Blob.id)).all()
    deletable_internal: list[tuple[int, str, int]] = []
    deletable_external: list[tuple[int, str, int, int]] = []
    for bid, key, size, drv_id, drv_name, kind, allow in rows:
        report.candidate_count += 1
        report.candidate_bytes += size or 0
        if len(report.candidates) < LIST_LIMIT:
            report.candidates.append({"blob_id": bid, "driver": drv_name, "kind": kind, "key": key,
                                      "size": size or 0})
        if kind == "internal":
            deletable_internal.append((bid, key, size or 0))
        elif allow:
            deletable_external.append((bid, key, size or 0, drv_id))
        else:
            report.kept.append({"blob_id": bid, "driver": drv_name, "key": key, "size": size or 0,
                                "reason": f"driver '{drv_name}' does not allow external delete"})
    if ctx is not None:
        ctx.progress(0, len(deletable_internal) + len(deletable_external), "gc: candidates listed")
    shared = read_setting(db, SHARED_STORE)
    if shared:
        # Another catalog names binaries of this store that this one does not know: none
        # is garbage from here (unreferenced rows go, their files stay).
        report.shared_store = (f"the internal store is shared with {', '.join(shared.get('catalogs', []))} "
                               "(dsdesk catalog copy): its binaries are kept")
    if dry_run:
        report.orphan_files = [] if shared else _orphan_files(db, store)
        return report

    _delete_internal(db, None if shared else store, deletable_internal, report, ctx)
    _delete_external(db, deletable_external, report, ctx)
    for p in [] if shared else _orphan_files(db, store):
        try:
            store.delete_found(p)
            report.orphan_files.append(p)
        except (OSError, DsdeskError) as e:
            report.errors.append(f"cannot remove {p}: {e}")
    return report


def _delete_internal(db, store: BlobStore | None, rows, report: GcReport, ctx) -> None:
    """Delete the unreferenced internal blob rows and, unless *store* is None (shared with
    another catalog), the files no remaining row names."""
    ids = [r[0] for r in rows]
    deleted: set[int] = set()
    with db.session() as s:
        blob_lock.hold_for_release(s)  # no copy may be about to point at them (PostgreSQL)
        for i in range(0, len(ids), 1000):
            part = ids[i:i + 1000]
            # Re-checked in the DELETE itself: an item may have started to use the blob since.
            got = s.execute(delete(Blob).where(Blob.id.in_(part), _unreferenced())
                            .returning(Blob.id)).scalars().all()
            deleted.update(got)
            if ctx is not None:
                ctx.check_cancelled()
    # The store is content-addressed: another blob row (another project's internal driver)
    # may name the same file; keep files that any remaining internal row still names.
    internal_ids = select(Driver.id).where(Driver.kind == "internal")
    with db.session() as s:
        for bid, key, size in rows:
            if bid not in deleted:
                continue
            still = s.execute(select(Blob.id).where(Blob.storage_key == key,
                                                    Blob.driver_id.in_(internal_ids)).limit(1)).first()
            report.deleted_count += 1
            report.deleted_bytes += size
            if still is None and store is not None:
                try:
                    store.delete(key)
                except Exception as e:  # noqa: BLE001 - a bad key must not stop the rest
                    report.errors.append(f"cannot delete internal blob {key}: {e}")


def _delete_external(db, rows, report: GcReport, ctx) -> None:
    if not rows:
        return
    try:
        from dsdesk.storage.drivers import open_driver
    except ImportError:
        for bid, key, size, _ in rows:
            report.kept.append({"blob_id": bid, "key": key, "size": size,
                                "reason": "no external storage driver is available in this build"})
        return
    with db.session() as s:
        blob_lock.hold_for_release(s)
        drivers = {d.id: d for d in s.scalars(select(Driver).where(Driver.id.in_({r[3] for r in rows})))}
        for bid, key, size, drv_id in rows:
            got = s.execute(delete(Blob).where(Blob.id == bid, _unreferenced()).returning(Blob.id)).first()
            if got is None:
                continue
            try:
                open_driver(db, drivers[drv_id]).delete(key)
            except Exception as e:  # noqa: BLE001 - keep the row when the object could not go
                s.rollback()
                report.errors.append(f"cannot delete {key} from '{drivers[drv_id].name}': {e}")
                continue
            s.commit()
            report.deleted_count += 1
            report.deleted_bytes += size


ORPHAN_GRACE_SECONDS = 3600


def _orphan_files(db, store: BlobStore) -> list[str]:
    """Blobs in the internal store (files, or objects of a bucket store) that no internal
    blob row names (left by crashes); where each is, as the store's ``delete_found`` takes it.

    Only blobs older than an hour: an upload writes its file before its catalog row, and
    a fresh file without a row is most likely an upload in progress.
    """
    import time

    cutoff = time.time() - ORPHAN_GRACE_SECONDS
    out: list[str] = []
    internal_ids = select(Driver.id).where(Driver.kind == "internal")
    found = store.iter_blobs(cutoff)
    with db.session() as s:
        while part := list(itertools.islice(found, 1000)):
            known = set(s.scalars(select(Blob.storage_key).where(Blob.storage_key.in_([k for k, _ in part]),
                                                                 Blob.driver_id.in_(internal_ids))))
            out.extend(where for k, where in part if k not in known)
    return out
