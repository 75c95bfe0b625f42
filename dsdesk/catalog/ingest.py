"""The bulk path into a dataset: many (blob, item) records in a few set-based statements.

Uploads, imports and the synthetic benchmark catalogs all come through :func:`ingest`
(sync writes its listed pages through the same primitive,
:func:`dsdesk.catalog.sql.insert_rows`), so there is one place to make fast and one place
that decides what happens when a path is already taken (``mode="skip"`` like Dataloop's default, or
``"overwrite"``, which points the existing item at the new binary and keeps its id,
annotations and user metadata unless new metadata is given).
"""

from __future__ import annotations

import datetime as dt
import json
import json.encoder
from collections.abc import Callable, Iterable, Sized
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import paths
from dsdesk.catalog.bulkload import IndexDeferral, deferred_indexes
from dsdesk.catalog.engine import bulk_cache
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.models import Blob, Folder, Item
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.catalog.sql import allocate_ids, chunked, id_in, insert_rows, lookup_ids

BATCH = 10_000


def _json_encoder() -> Callable[[Any], str]:
    """``json.dumps`` with compact separators, calling the C encoder directly.

    Encoding a million metadata dicts through ``json.dumps`` costs almost 2 s, a third of
    it in the Python layers around the C encoder; ``JSONEncoder.iterencode`` builds the
    same C encoder (``json.encoder.c_make_encoder``), which this keeps and calls.
    Compact separators also mean fewer bytes per row.
    """
    enc = json.JSONEncoder(separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return enc.encode
    # Arguments as JSONEncoder.iterencode passes them: markers (cycle check), default,
    # string encoder, indent, separators, sort_keys, skipkeys, allow_nan.
    c_encode = make({}, enc.default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)

    def encode(obj: Any) -> str:
        return "".join(c_encode(obj, 0))

    return encode


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
    # Sum of the sizes of the created items' binaries, when every record was created (the
    # dataset's statistics can then be bumped instead of recounted); None otherwise.
    bytes_created: int | None = 0
    item_ids: list[int] = field(default_factory=list)


def ensure_folders(session: Session, dataset_id: int, dirs: Iterable[str]) -> int:
    """Create every folder in *dirs* and their ancestors that does not exist; return how many."""
    wanted: set[str] = set()
    for d in dirs:
        wanted.update(paths.ancestors(d))
    if not wanted:
        return 0
    before = _folder_count(session, dataset_id)
    insert_rows(session, "folder", ("dataset_id", "path"), [(dataset_id, p) for p in sorted(wanted)],
                conflict=("dataset_id", "path"), chunk=BATCH)
    return _folder_count(session, dataset_id) - before


def _folder_count(session: Session, dataset_id: int) -> int:
    return session.execute(select(func.count()).select_from(Folder).where(Folder.dataset_id == dataset_id)).scalar()


def ingest(session: Session, dataset_id: int, driver_id: int, records: Iterable[Record], *,
           mode: str = "skip", collect_ids: bool = True, batch: int = BATCH,
           on_batch: Callable[[int], None] | None = None, check_writable: bool = True,
           expected: int | None = None) -> IngestResult:
    """Insert *records* into the dataset as items pointing at blobs of *driver_id*.

    Paths must already be normalised (``paths.split_filepath``).  Blobs are shared by
    storage key: the same key twice is one blob.  *on_batch(n_done)* is called after each
    batch (jobs report progress and check cancellation there).  *expected* is the number
    of records when the caller knows it and *records* has no ``len``: a large load then
    defers the item indexes from its first row (:mod:`dsdesk.catalog.bulkload`).  Runs
    inside the caller's transaction; the caller commits.
    """
    if mode not in ("skip", "overwrite"):
        raise ValueError(f"mode must be 'skip' or 'overwrite', not {mode!r}")
    if check_writable:
        writable_dataset(session, dataset_id, "add items to")
    bulk_cache(session)
    if expected is None and isinstance(records, Sized):
        expected = len(records)
    with deferred_name_index(session), deferred_indexes(session, "item", expected) as deferral:
        return _ingest(session, dataset_id, driver_id, records, mode, collect_ids, batch, on_batch, deferral)


def _ingest(session, dataset_id, driver_id, records, mode, collect_ids, batch, on_batch,
            deferral: IndexDeferral) -> IngestResult:
    res = IngestResult()
    done = 0
    encode = _json_encoder()  # one per call: its cycle-check table is not shared between threads

    for part in chunked(records, batch):
        deferral.consider(done + len(part))  # a load of unknown size: decided as it grows
        res.folders_created += ensure_folders(session, dataset_id, {r.dir for r in part})
        blob_ids, sizes = _ensure_blobs(session, driver_id, part)
        if sizes is None:  # some binaries were known already: their stored size counts
            res.bytes_created = None
        new_ids = allocate_ids(session, "item", len(part))
        # Pre-built tuples: the per-row cost of ORM or Core parameter processing would be
        # most of an ingest's time.
        rows = [(iid, dataset_id, r.dir, r.name, blob_ids[r.storage_key],
                 encode(r.meta_user) if r.meta_user else "{}", encode(r.meta_system) if r.meta_system else "{}",
                 r.description) for iid, r in zip(new_ids, part, strict=True)]
        n = insert_rows(session, "item", ITEM_COLS, rows, conflict=("dataset_id", "dir", "name"))
        if n == len(part):
            # Every row went in (the common case): the ids are the ones allocated, and
            # reading them back would cost a query per batch.
            res.created += n
            if res.bytes_created is not None:
                res.bytes_created += sum(sizes[r.storage_key] for r in part)
            if collect_ids:
                res.item_ids.extend(new_ids)
        else:
            res.bytes_created = None
            _partial_batch(session, dataset_id, part, rows, new_ids, mode, collect_ids, res)
        done += len(part)
        if on_batch is not None:
            on_batch(done)
    return res


def _partial_batch(session: Session, dataset_id: int, part: list[Record], rows: list[tuple], new_ids,
                   mode: str, collect_ids: bool, res: IngestResult) -> None:
    """Account for a batch where some paths were already taken: skip or overwrite them."""
    inserted = (session.execute(select(Item.id, Item.dir, Item.name)
                                .where(id_in(Item.id, new_ids))).all()
                if collect_ids or mode == "overwrite" else None)
    n = len(inserted) if inserted is not None else _count_ids(session, new_ids)
    res.created += n
    if collect_ids:
        res.item_ids.extend(r[0] for r in inserted)
    if n < len(part):
        if mode == "overwrite":
            got = {(r[1], r[2]) for r in inserted}
            rest = [{"dir": r[2], "name": r[3], "blob_id": r[4], "meta_user": part[i].meta_user}
                    for i, r in enumerate(rows) if (r[2], r[3]) not in got]
            ids = _overwrite(session, dataset_id, rest)
            res.overwritten += len(ids)
            if collect_ids:
                res.item_ids.extend(ids)
        else:
            res.skipped += len(part) - n


ITEM_COLS = ("id", "dataset_id", "dir", "name", "blob_id", "meta_user", "meta_system", "description")
BLOB_COLS = ("id", "driver_id", "storage_key", "size", "etag", "content_hash", "mimetype", "width", "height",
             "last_modified")


def _count_ids(session: Session, ids) -> int:
    return session.execute(select(func.count()).select_from(Item).where(id_in(Item.id, ids))).scalar()


def _ensure_blobs(session: Session, driver_id: int, part: list[Record]) -> tuple[dict[str, int], dict | None]:
    """``{storage_key: blob id}`` for the batch, inserting the blobs that do not exist yet,
    and ``{storage_key: size}`` when every one of them was new (else None)."""
    new: dict[str, Record] = {}
    for r in part:
        new.setdefault(r.storage_key, r)  # the first record of a key wins
    blob_ids = allocate_ids(session, "blob", len(new))
    rows = [(blob_ids[i], driver_id, r.storage_key, r.size, r.etag, r.content_hash, r.mimetype, r.width,
             r.height, r.last_modified) for i, r in enumerate(new.values())]
    if insert_rows(session, "blob", BLOB_COLS, rows, conflict=("driver_id", "storage_key")) == len(rows):
        # All new (a fresh import): the allocated ids are theirs, no lookup needed.
        return {row[2]: row[0] for row in rows}, {row[2]: row[3] or 0 for row in rows}
    # Some keys were already known (a re-upload, shared binaries): ask which id each has.
    return lookup_ids(session, Blob.id, Blob.storage_key, list(new), Blob.driver_id == driver_id), None


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
