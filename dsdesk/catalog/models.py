"""The catalog schema: every table dsdesk keeps, as SQLAlchemy 2.x declarative models.

Conventions that the rest of the code relies on:

* Integer primary keys; the API may show them as strings.
* Times are naive UTC ``DateTime`` values.
* Item and dataset metadata are split in two JSON columns, ``meta_system`` (owned by dsdesk)
  and ``meta_user`` (free-form, the user's).  The API presents them as Dataloop's
  ``metadata = {"system": {...}, "user": {...}}``.  Facts that describe the binary (size,
  mimetype, width, height) live on :class:`Blob` and always follow it.
* A folder is a row of its own (``folder``), so empty folders live; items carry their
  folder as the string ``dir`` (``/`` or ``/a/b``) and their ``name``.
* A snapshot is a hidden, read-only dataset of kind ``snapshot`` whose rows are a copy of
  the source at that moment: copying rows is as cheap as a clone and keeps every blob it
  needs referenced, so garbage collection needs no special case.
* ``row_version`` columns are bumped on every update (ORM ``version_id_col``; bulk Core
  updates bump them explicitly) so two clients on one catalog never overwrite each other.

Schema changes go through Alembic (``dsdesk/catalog/migrations``), never ``create_all``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names make migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite stores BIGINT primary keys as plain INTEGER only if declared INTEGER; keep ids
# as Integer (64-bit on both engines' storage for SQLite; PostgreSQL uses BIGINT below).
IdType = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> dt.datetime:
    """The current time as naive UTC, the form every timestamp in the catalog uses."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _id() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(255), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    created_at: Mapped[dt.datetime] = _created()


class Driver(Base):
    """Where a dataset's binaries live.  Secrets are never stored: ``credentials_ref`` names
    an environment variable, a profile, a key file or an OS keyring entry."""

    __tablename__ = "driver"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # internal|local|s3|gcs|azure
    bucket: Mapped[str] = mapped_column(String(1024), nullable=False, server_default="")
    prefix: Mapped[str] = mapped_column(String(1024), nullable=False, server_default="")
    endpoint_url: Mapped[str | None] = mapped_column(String(1024))
    region: Mapped[str | None] = mapped_column(String(64))
    credentials_ref: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # {"kind": "env"|..., ...}
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # non-secret fsspec options
    allow_external_delete: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    write_generated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    created_at: Mapped[dt.datetime] = _created()


class Blob(Base):
    """One binary in one driver's storage.  Items point at blobs; clones share them."""

    __tablename__ = "blob"
    __table_args__ = (
        UniqueConstraint("driver_id", "storage_key"),
    )
    id: Mapped[int] = _id()
    driver_id: Mapped[int] = mapped_column(ForeignKey("driver.id", ondelete="CASCADE"), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(2048), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    etag: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 hex where known
    mimetype: Mapped[str | None] = mapped_column(String(255))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    last_modified: Mapped[dt.datetime | None] = mapped_column(DateTime)
    missing_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = _created()


class Recipe(Base):
    """A label set.  Datasets point at one recipe; merge demands equal recipes."""

    __tablename__ = "recipe"
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    attributes: Mapped[list[Any]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[dt.datetime] = _created()


class Label(Base):
    """One label of a recipe; ``tag`` is the dotted path (``animal.dog``)."""

    __tablename__ = "label"
    __table_args__ = (UniqueConstraint("recipe_id", "tag"),)
    id: Mapped[int] = _id()
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id", ondelete="CASCADE"), nullable=False)
    tag: Mapped[str] = mapped_column(String(512), nullable=False)
    display_label: Mapped[str | None] = mapped_column(String(512))
    color: Mapped[str | None] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    attributes: Mapped[list[Any] | None] = mapped_column(JSON)  # names of recipe attributes (migration 0011)


class Dataset(Base):
    __tablename__ = "dataset"
    __table_args__ = (
        # Names are unique among live datasets only: a trashed one keeps its name.
        Index(
            "uq_dataset_live_name", "project_id", "name", unique=True,
            sqlite_where=text("deleted_at IS NULL AND kind != 'snapshot'"),
            postgresql_where=text("deleted_at IS NULL AND kind != 'snapshot'"),
        ),
    )
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, server_default="master")  # master|clone|merge|snapshot
    driver_id: Mapped[int] = mapped_column(ForeignKey("driver.id"), nullable=False)
    recipe_id: Mapped[int | None] = mapped_column(ForeignKey("recipe.id", ondelete="SET NULL"))
    readonly: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    src_dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="SET NULL"))
    meta_system: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    meta_user: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    # Cached statistics so list pages never scan items (refreshed by the operations that change them).
    item_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    annotated_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    annotation_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    folder_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    bytes_total: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # Copy-on-write versions (migration 0018, docs/VERSIONING.md): the version writes happen
    # at now, and the newest version point's version and id watermarks (NULL: no point).
    cow_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    cow_point: Mapped[int | None] = mapped_column(Integer)
    cow_item_hwm: Mapped[int | None] = mapped_column(IdType)
    cow_ann_hwm: Mapped[int | None] = mapped_column(IdType)
    cow_task_hwm: Mapped[int | None] = mapped_column(IdType)
    __mapper_args__ = {"version_id_col": row_version}


class Folder(Base):
    __tablename__ = "folder"
    __table_args__ = (UniqueConstraint("dataset_id", "path"),)
    id: Mapped[int] = _id()
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False)
    path: Mapped[str] = mapped_column(String(2048), nullable=False)
    created_at: Mapped[dt.datetime] = _created()


class Item(Base):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("dataset_id", "dir", "name"),
        Index("ix_item_blob", "blob_id"),
        Index("ix_item_dataset_id", "dataset_id", "id"),
        # Only the hidden items, in the grid order (migration 0013; see dsdesk.query.offsets).
        Index("ix_item_hidden", "dataset_id", "dir", "name", "id", sqlite_where=text("hidden = 1"),
              postgresql_where=text("hidden")),
        # The rows written since a version point (migration 0018, dsdesk.versioning.points).
        Index("ix_item_changed", "dataset_id", "v", sqlite_where=text("v IS NOT NULL"),
              postgresql_where=text("v IS NOT NULL")),
        {"sqlite_autoincrement": True},  # ids are never reused: version points date rows by id
    )
    id: Mapped[int] = _id()
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False)
    dir: Mapped[str] = mapped_column(String(2048), nullable=False)
    name: Mapped[str] = mapped_column(String(1024), nullable=False)
    blob_id: Mapped[int] = mapped_column(ForeignKey("blob.id"), nullable=False)
    # Lineage: master_item_id is the item in the master dataset that owns the binary
    # (NULL for master items themselves); parent_item_id is the item this was copied from.
    master_item_id: Mapped[int | None] = mapped_column(IdType)
    parent_item_id: Mapped[int | None] = mapped_column(IdType)
    meta_system: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    meta_user: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    annotated: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    hidden: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    description: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # set by sync when the binary changed
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())
    row_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # The dataset version that wrote this state (NULL: as inserted); kept by triggers only.
    v: Mapped[int | None] = mapped_column(Integer)
    __mapper_args__ = {"version_id_col": row_version}


class Annotation(Base):
    __tablename__ = "annotation"
    __table_args__ = (
        # by item (lists, deletes, the annotated flag) and merge's copy probe (item, root)
        Index("ix_annotation_item", "item_id", "src_annotation_id"),
        Index("ix_annotation_dataset_label", "dataset_id", "label"),
        Index("ix_annotation_changed", "dataset_id", "v", sqlite_where=text("v IS NOT NULL"),
              postgresql_where=text("v IS NOT NULL")),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = _id()
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), nullable=False)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False)
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    label: Mapped[str | None] = mapped_column(String(512))
    coordinates: Mapped[Any] = mapped_column(JSON, nullable=True)
    attributes: Mapped[Any] = mapped_column(JSON, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    object_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    # The annotation this one was copied from: the root of its copy chain, so merge can
    # recognise two copies of one source annotation.
    src_annotation_id: Mapped[int | None] = mapped_column(IdType)
    creator: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())
    v: Mapped[int | None] = mapped_column(Integer)  # see Item.v


class TaskStatus(Base):
    __tablename__ = "task_status"
    __table_args__ = (UniqueConstraint("item_id", "task"),
                      Index("ix_task_status_changed", "v", sqlite_where=text("v IS NOT NULL"),
                            postgresql_where=text("v IS NOT NULL")),
                      {"sqlite_autoincrement": True})
    id: Mapped[int] = _id()
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), nullable=False)
    task: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(64), nullable=False)
    creator: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())
    v: Mapped[int | None] = mapped_column(Integer)  # see Item.v


class Snapshot(Base):
    """A named, immutable version of a dataset, stored as a hidden dataset of kind 'snapshot'."""

    __tablename__ = "snapshot"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)
    id: Mapped[int] = _id()
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False)
    frozen_dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    auto: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())  # safety snapshot
    created_at: Mapped[dt.datetime] = _created()
    # The version point the snapshot reads (migration 0018); NULL for a frozen copy made
    # before it, whose rows are the frozen dataset's own.
    point_id: Mapped[int | None] = mapped_column(IdType)


class VersionPoint(Base):
    """A version of a dataset without a copy: it sees the rows with ids up to its watermarks
    whose state was written at a version up to ``version``, live or archived
    (docs/VERSIONING.md)."""

    __tablename__ = "version_point"
    __table_args__ = (Index("ix_version_point_dataset", "dataset_id", "version"),)
    id: Mapped[int] = _id()
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    item_hwm: Mapped[int] = mapped_column(IdType, nullable=False)
    ann_hwm: Mapped[int] = mapped_column(IdType, nullable=False)
    task_hwm: Mapped[int] = mapped_column(IdType, nullable=False)
    created_at: Mapped[dt.datetime] = _created()


class Column(Base):
    """One column of a project's datasets table (standard or custom), saved by key."""

    __tablename__ = "column_def"
    __table_args__ = (UniqueConstraint("project_id", "key"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)  # the internal, unique "Name"
    label: Mapped[str] = mapped_column(String(255), nullable=False)
    field: Mapped[str | None] = mapped_column(String(1024))  # metadata path for custom columns
    value_type: Mapped[str] = mapped_column(String(16), nullable=False, server_default="text")
    custom: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    link: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    resizable: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    sortable: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    visible: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    width: Mapped[int | None] = mapped_column(Integer)


class SavedQuery(Base):
    __tablename__ = "saved_query"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = _id()
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    resource: Mapped[str] = mapped_column(String(32), nullable=False, server_default="items")
    dql: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = _created()


class Job(Base):
    __tablename__ = "job"
    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="queued")
    progress: Mapped[float] = mapped_column(Float, nullable=False, server_default="0")
    done: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    total: Mapped[int | None] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    error: Mapped[str | None] = mapped_column(Text)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = _created()
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The process running it ("host:pid:start") and its last sign of life (migration 0012).
    owner: Mapped[str | None] = mapped_column(String(255))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SyncState(Base):
    """Per-dataset sync bookkeeping: the resumable cursor, last counts, the auto-sync interval."""

    __tablename__ = "sync_state"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64))  # the run in progress, if any
    cursor: Mapped[str | None] = mapped_column(Text)  # last key fully staged by that run
    phase: Mapped[str | None] = mapped_column(String(32))
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class SyncListing(Base):
    """Staging rows of one sync run: what the listing saw.  Lets a killed sync resume
    where it stopped and keeps the listing out of Python memory."""

    __tablename__ = "sync_listing"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(2048), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    etag: Mapped[str | None] = mapped_column(String(255))
    last_modified: Mapped[dt.datetime | None] = mapped_column(DateTime)
    is_dir: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    # Where the key lands in the dataset (computed while staging), or why it cannot (migration 0003).
    dir: Mapped[str | None] = mapped_column(String(2048))
    name: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    mimetype: Mapped[str | None] = mapped_column(String(255))  # from the key's name (migration 0004)


class SyncTombstone(Base):
    """A key the user deleted from a synced dataset while its object stays in storage
    (the driver does not allow external delete, or a clone / snapshot still uses the
    binary), so the next sync does not bring the item back (migration 0010).

    ``etag`` and ``size`` are the object's at the time of the delete: sync skips the key
    while the listed object still matches them; a changed object is new content and comes
    back as a new item (the tombstone goes).  No link to ``blob``: gc may drop the blob row
    of an unreferenced object and the deletion must still hold.
    """

    __tablename__ = "sync_tombstone"
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("driver.id", ondelete="CASCADE"), primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    deleted_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False, server_default=func.current_timestamp())


class MetadataKey(Base):
    """Registry of metadata paths seen per dataset (for completion and custom columns)."""

    __tablename__ = "metadata_key"
    __table_args__ = (UniqueConstraint("dataset_id", "scope", "path"),)
    id: Mapped[int] = _id()
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)  # item|dataset|annotation
    path: Mapped[str] = mapped_column(String(1024), nullable=False)
    value_type: Mapped[str] = mapped_column(String(16), nullable=False, server_default="text")
    indexed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class EditAuthor(Base):
    """Who saved an item's or a dataset's metadata last through the API, and at which
    ``row_version`` (migration 0015): a conflicting save shows it beside "theirs".

    A side table rather than a column: clone, merge, snapshot and ingest copy every item
    column, and an author column would cost each copied row for a fact only a conflict
    reads.  One row per object (the last API save); a row whose ``row_version`` /
    ``updated_at`` no longer match the object's was overtaken by another operation (a move,
    a bulk edit, a sync), whose author is not known.  No foreign key: a million-item purge
    would probe this table once per deleted row; a stale row is never matched.
    """

    __tablename__ = "edit_author"
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # item|dataset
    object_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, nullable=False)
    user_name: Mapped[str] = mapped_column(String(255), nullable=False)


class CatalogSetting(Base):
    """A fact about the whole catalog that every client must agree on, as JSON by key
    (migration 0017): ``internal_store``, where the internal binaries live, chosen when the
    catalog is created (:mod:`dsdesk.catalog.catalog_settings`)."""

    __tablename__ = "catalog_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


# The grid's order and the common filters.
Index("ix_item_dataset_name", Item.dataset_id, Item.name)
Index("ix_item_dataset_created", Item.dataset_id, Item.created_at)
Index("ix_dataset_project", Dataset.project_id)
Index("ix_task_status_item", TaskStatus.item_id)
Index("ix_job_status", Job.status)


def _history(live, *extra: sa.Column) -> sa.Table:
    """The history table of a versioned *live* table (migration 0018): its columns, no
    constraints (a state outlives its row), plus the versions it was valid for,
    ``[v_from, v_to)``, and a surrogate key (one row may have several archived states)."""
    cols = [sa.Column(c.name, c.type, nullable=c.nullable) for c in live.columns]
    t = sa.Table(f"{live.name}_history", Base.metadata,
                 sa.Column("hid", IdType, primary_key=True, autoincrement=True), *cols, *extra,
                 sa.Column("v_from", Integer, nullable=False), sa.Column("v_to", Integer, nullable=False))
    Index(f"ix_{live.name}_history_ds", t.c.dataset_id, t.c.v_to, t.c.v_from)
    Index(f"ix_{live.name}_history_id", t.c.id, t.c.v_to)
    return t


ITEM_HISTORY = _history(Item.__table__)
Index("ix_item_history_blob", ITEM_HISTORY.c.blob_id)  # garbage collection's references
ANNOTATION_HISTORY = _history(Annotation.__table__)
TASK_STATUS_HISTORY = _history(TaskStatus.__table__, sa.Column("dataset_id", IdType, nullable=False))
