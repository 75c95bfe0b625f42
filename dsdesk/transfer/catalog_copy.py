"""Copying a whole catalog between SQLite and PostgreSQL, both ways, losing nothing.

Every table of the models is copied row by row with its ids, parents before children
(``Base.metadata.sorted_tables``), in chunks read in primary-key order, into a destination
that is a fresh catalog at the same schema: one transaction, so a failed or killed copy
leaves the destination as empty as it was.  Then what is not rows of the models follows:
PostgreSQL's id sequences are moved past the copied ids, SQLite's name-search index is
rebuilt from the items, the metadata indexes the source had built are built again, and the
internal store's binaries are copied into the destination's store (content-addressed, so a
binary already there is skipped).  When the destination uses the source's store itself (a
bucket store, or one folder), both catalogs are marked as sharing it
(``catalog_settings.SHARED_STORE``) so that neither one's garbage collection deletes a binary
the other still names.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import make_url

from dsdesk.catalog.catalog_settings import SHARED_STORE, write_setting
from dsdesk.catalog.engine import Database
from dsdesk.catalog.models import Base, Blob, Driver, MetadataKey
from dsdesk.errors import InvalidInputError
from dsdesk.storage.blobstore import BlobStore

CHUNK = 5_000  # rows read and written per statement

# Tables whose rows every fresh catalog has already (none today; the check below would
# refuse a destination that has rows anywhere).
_SKIP: set[str] = set()


@dataclass
class CopyReport:
    """What a catalog copy moved."""

    rows: dict[str, int] = field(default_factory=dict)  # table -> rows copied
    binaries: int = 0  # internal-store files copied
    indexes: int = 0  # metadata indexes built again

    def summary(self) -> str:
        """One line for the CLI."""
        return (f"{sum(self.rows.values()):,} rows in {len(self.rows)} tables, {self.binaries:,} binaries, "
                f"{self.indexes} metadata indexes")


def _check_empty(dst: Database) -> None:
    with dst.engine.connect() as con:
        for table in Base.metadata.sorted_tables:
            if con.execute(select(func.count()).select_from(table)).scalar():
                raise InvalidInputError(f"the destination catalog is not empty (table {table.name} has rows); "
                                        "copy into a new catalog")


def copy_catalog(src: Database, dst: Database, on_progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every row of *src* into the empty catalog *dst* (see the module docstring)."""
    if src.url == dst.url:
        raise InvalidInputError("the source and the destination are the same catalog")
    _check_empty(dst)
    report = CopyReport()
    if _store_shared(src, dst):
        # Marked in the source before anything is copied (the copy takes the row along): a
        # copy that fails after this leaves only a gc more careful than it needs to be.
        with src.session(write=True) as s:
            write_setting(s, SHARED_STORE, {"catalogs": sorted({_plain_url(src), _plain_url(dst)})})
    # Binaries first: a copy killed before its rows commit leaves only files nothing names
    # (gc's orphan pass finds them), never a row naming a missing file.
    report.binaries = _copy_binaries(src, dst)
    with src.engine.connect() as read, dst.engine.begin() as write:
        if dst.dialect == "sqlite":  # names indexed once at the end, not by the trigger per row
            write.exec_driver_sql("INSERT OR IGNORE INTO item_name_fts_pause (k) VALUES (1)")
        for table in Base.metadata.sorted_tables:
            if table.name in _SKIP:
                continue
            order = list(table.primary_key.columns)
            n = 0
            rows = read.execution_options(yield_per=CHUNK).execute(select(table).order_by(*order))
            for part in rows.partitions(CHUNK):
                write.execute(insert(table), [dict(r._mapping) for r in part])
                n += len(part)
                if on_progress:
                    on_progress(table.name, n)
            report.rows[table.name] = n
        if dst.dialect == "postgresql":
            _move_sequences(write)
        else:
            write.exec_driver_sql("DELETE FROM item_name_fts_pause")
            write.exec_driver_sql("INSERT INTO item_name_fts(item_name_fts) VALUES ('rebuild')")
    report.indexes = _rebuild_metadata_indexes(dst)
    return report


def _move_sequences(con) -> None:
    """Move each id sequence past the copied ids (the rows came with their ids); the key is
    ``id``, or ``hid`` for the history tables of version points."""
    for table in Base.metadata.sorted_tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not keys[0].autoincrement:
            continue
        key = keys[0].name
        seq = con.execute(text("SELECT pg_get_serial_sequence(:t, :k)"), {"t": table.name, "k": key}).scalar()
        if seq:
            con.execute(text(f"SELECT setval(:s, coalesce((SELECT max({key}) FROM {table.name}), 0) + 1, false)"),
                        {"s": seq})


def _rebuild_metadata_indexes(dst: Database) -> int:
    from dsdesk.query import indexes

    with dst.engine.connect() as con:
        keys = con.execute(select(MetadataKey.dataset_id, MetadataKey.path, MetadataKey.value_type)
                           .where(MetadataKey.indexed.is_(True), MetadataKey.scope == "item")).all()
    return sum(bool(indexes.ensure_index(dst.engine, k.path, k.dataset_id, k.value_type or "text")) for k in keys)


def _store_shared(src: Database, dst: Database) -> bool:
    """Whether the copy will use the source's internal store itself: one folder, or a
    bucket store (the copy's catalog_setting row names the same bucket)."""
    return src.blob_root == dst.blob_root or src.internal_store_config is not None


def _plain_url(db: Database) -> str:
    return make_url(db.url).render_as_string(hide_password=True)


def _copy_binaries(src: Database, dst: Database) -> int:
    """Copy the internal store's files the copied blobs name; returns how many were copied."""
    if _store_shared(src, dst):
        return 0
    a, b = BlobStore(src.blob_root), BlobStore(dst.blob_root)
    n = 0
    with src.engine.connect() as con:
        keys = con.execute(select(Blob.storage_key).join(Driver, Driver.id == Blob.driver_id)
                           .where(Driver.kind == "internal")).scalars()
        for key in keys:
            try:
                have = a.exists(key)
            except Exception:  # noqa: BLE001 - a key that is not a content key (records registered, not stored)
                continue
            if have and not b.exists(key):
                target = b.path_of(key)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(a.path_of(key), target)
                n += 1
    return n


def table_names(db: Database) -> list[str]:
    """The model tables present in *db* (for tests and reports)."""
    have = set(inspect(db.engine).get_table_names())
    return [t.name for t in Base.metadata.sorted_tables if t.name in have]
