"""The bulk path into a dataset: many (blob, item) records in a few set-based statements.

Uploads, sync's "new key" case, imports and the synthetic benchmark catalogs all come
through :func:`ingest`, so there is one place to make fast and one place that decides
what happens when a path is already taken (``mode="skip"`` like Dataloop's default, or
``"overwrite"``, which points the existing item at the new binary and keeps its id,
annotations and user metadata unless new metadata is given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import paths
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.models import Blob, Folder, Item
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.catalog.sql import chunked, insert_ignore, lookup_ids

BATCH = 10_000


@dataclass(slots=True)
class Record:
    """One file to put in a dataset: where it goes and what binary it is."""

    dir: str
    name: str
    storage_key: str
    size: int = 0
    etag: str | None = None
    content_hash: str | None = None
    mimetype: str | None = None
    width: int | None = None
    height: int | None = None
    last_modified: dt.datetime | None = None
    meta_user: dict[str, Any] | None = None
    meta_system: dict[str, Any] | None = None
    description: str | None = None


@dataclass
class IngestResult:
    """Counts of an ingest, and the ids of items it created or overwrote."""

    created: int = 0
    skipped: int = 0
    overwritten: int = 0
    folders_created: int = 0
    item_ids: list[int] = field(default_factory=list)


def ensure_folders(session: Session, dataset_id: int, dirs: Iterable[str]) -> int:
    """Create every folder in *dirs* and their ancestors that does not exist; return how many."""
    wanted: set[str] = set()
    for d in dirs:
        wanted.update(paths.ancestors(d))
    if not wanted:
        return 0
    stmt = insert_ignore(session, Folder.__table__, ["dataset_id", "path"])
    before = _folder_count(session, dataset_id)
    for part in chunked(sorted(wanted), BATCH):
        session.execute(stmt, [{"dataset_id": dataset_id, "path": p} for p in part])
    return _folder_count(session, dataset_id) - before


def _folder_count(session: Session, dataset_id: int) -> int:
    return session.execute(select(func.count()).select_from(Folder).where(Folder.dataset_id == dataset_id)).scalar()


def ingest(session: Session, dataset_id: int, driver_id: int, records: Iterable[Record], *,
           mode: str = "skip", collect_ids: bool = True, batch: int = BATCH,
           on_batch: Callable[[int], None] | None = None, check_writable: bool = True) -> IngestResult:
    """Insert *records* into the dataset as items pointing at blobs of *driver_id*.

    Paths must already be normalised (``paths.split_filepath``).  Blobs are shared by
    storage key: the same key twice is one blob.  *on_batch(n_done)* is called after each
    batch (jobs report progress and check cancellation there).  Runs inside the caller's
    transaction; the caller commits.
    """
    if mode not in ("skip", "overwrite"):
        raise ValueError(f"mode must be 'skip' or 'overwrite', not {mode!r}")
    if check_writable:
        writable_dataset(session, dataset_id, "add items to")
    with deferred_name_index(session):
        return _ingest(session, dataset_id, driver_id, records, mode, collect_ids, batch, on_batch)


def _ingest(session, dataset_id, driver_id, records, mode, collect_ids, batch, on_batch) -> IngestResult:
    res = IngestResult()
    blob_t, item_t = Blob.__table__, Item.__table__
    done = 0
    for part in chunked(records, batch):
        res.folders_created += ensure_folders(session, dataset_id, {r.dir for r in part})
        blob_ids = _ensure_blobs(session, driver_id, part, blob_t)
        rows = [{
            "dataset_id": dataset_id, "dir": r.dir, "name": r.name,
            "blob_id": blob_ids[r.storage_key],
            "meta_user": r.meta_user or {}, "meta_system": r.meta_system or {},
            "description": r.description,
        } for r in part]
        stmt = insert_ignore(session, item_t, ["dataset_id", "dir", "name"])
        if collect_ids or mode == "overwrite":
            inserted = session.execute(stmt.returning(item_t.c.id, item_t.c.dir, item_t.c.name), rows).all()
            res.created += len(inserted)
            if collect_ids:
                res.item_ids.extend(r[0] for r in inserted)
            if len(inserted) < len(rows):
                got = {(r[1], r[2]) for r in inserted}
                rest = [r for r in rows if (r["dir"], r["name"]) not in got]
                if mode == "overwrite":
                    ids = _overwrite(session, dataset_id, rest)
                    res.overwritten += len(ids)
                    if collect_ids:
                        res.item_ids.extend(ids)
                else:
                    res.skipped += len(rest)
        else:
            r = session.execute(stmt, rows)
            n = r.rowcount if r.rowcount is not None and r.rowcount >= 0 else len(rows)
            res.created += n
            res.skipped += len(rows) - n
        done += len(part)
        if on_batch is not None:
            on_batch(done)
    return res


def _ensure_blobs(session: Session, driver_id: int, part: list[Record], blob_t) -> dict[str, int]:
    keys = list({r.storage_key: None for r in part})
    ids = lookup_ids(session, blob_t.c.id, blob_t.c.storage_key, keys, blob_t.c.driver_id == driver_id)
    new = {}
    for r in part:
        if r.storage_key not in ids and r.storage_key not in new:
            new[r.storage_key] = {
                "driver_id": driver_id, "storage_key": r.storage_key, "size": r.size, "etag": r.etag,
                "content_hash": r.content_hash, "mimetype": r.mimetype, "width": r.width,
                "height": r.height, "last_modified": r.last_modified,
            }
    if new:
        stmt = insert_ignore(session, blob_t, ["driver_id", "storage_key"])
        got = session.execute(stmt.returning(blob_t.c.storage_key, blob_t.c.id), list(new.values())).all()
        ids.update(tuple(r) for r in got)
        if len(got) < len(new):  # another client inserted some of them meanwhile
            missing = [k for k in new if k not in ids]
            ids.update(lookup_ids(session, blob_t.c.id, blob_t.c.storage_key, missing, blob_t.c.driver_id == driver_id))
    return ids


def _overwrite(session: Session, dataset_id: int, rows: list[dict]) -> list[int]:
    """Point existing items at their new blob; replace user metadata only where given."""
    ids = []
    for r in rows:
        values = {"blob_id": r["blob_id"], "updated_at": func.current_timestamp(),
                  "row_version": Item.row_version + 1}
        if r["meta_user"]:
            values["meta_user"] = r["meta_user"]
        item_id = session.execute(
            update(Item).where(Item.dataset_id == dataset_id, Item.dir == r["dir"], Item.name == r["name"])
            .values(**values).returning(Item.id)
            .execution_options(synchronize_session=False)).scalar()
        if item_id is not None:
            ids.append(item_id)
    return ids
