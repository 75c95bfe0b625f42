"""The datasets table's rows: one :class:`DatasetRecord` per live dataset of a project, with its
driver, recipe, source and last sync, read in one query by :func:`load_records` (counts come
from the dataset row's cache: never an item scan)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import aliased

from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.catalog.models import Recipe as RecipeRow
from dsdesk.catalog.models import SyncState


class DatasetRecord:
    """One dataset as the table sees it (a snapshot of its row and related names).

    The metadata arrive as JSON text and are decoded on first use: the first frame needs
    the few rows on screen, and decoding 5,000 documents up front would cost most of the
    page's time budget.
    """

    __slots__ = ("id", "name", "kind", "driver_name", "driver_kind", "recipe_name", "readonly",
                 "src_dataset_id", "src_name", "description", "item_count", "annotated_count",
                 "annotation_count", "folder_count", "bytes_total", "created_at", "updated_at",
                 "last_sync_at", "row_version", "_system", "_user")

    def __init__(self, id, name, kind, driver_name="", driver_kind="", recipe_name=None, readonly=False,  # noqa: A002
                 src_dataset_id=None, src_name=None, meta_system=None, meta_user=None, description="",
                 item_count=0, annotated_count=0, annotation_count=0, folder_count=0, bytes_total=0,
                 created_at=None, updated_at=None, last_sync_at=None, row_version=1):
        self.id, self.name, self.kind = id, name, kind
        self.driver_name, self.driver_kind, self.recipe_name = driver_name, driver_kind, recipe_name
        self.readonly, self.src_dataset_id, self.src_name = readonly, src_dataset_id, src_name
        self._system, self._user = meta_system, meta_user
        self.description = description
        self.item_count, self.annotated_count, self.annotation_count = item_count, annotated_count, annotation_count
        self.folder_count, self.bytes_total = folder_count, bytes_total
        self.created_at, self.updated_at, self.last_sync_at = created_at, updated_at, last_sync_at
        self.row_version = row_version

    @property
    def meta_user(self) -> dict:
        """The user area of the metadata (decoded on first use)."""
        v = self._user
        if not isinstance(v, dict):
            v = self._user = _decode(v)
        return v

    @property
    def meta_system(self) -> dict:
        """The system area of the metadata (decoded on first use)."""
        v = self._system
        if not isinstance(v, dict):
            v = self._system = _decode(v)
        return v

    def __repr__(self) -> str:
        return f"<DatasetRecord {self.id} {self.name!r}>"


def _decode(raw) -> dict:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (bytes, str)):
        try:
            v = json.loads(raw)
        except ValueError:
            return {}
    else:  # a driver that already decoded JSON (psycopg does for json columns)
        v = raw
    return v if isinstance(v, dict) else {}


def _records_select(project_id: int):
    src = aliased(DatasetRow)
    d = DatasetRow
    # JSON as text (CAST is portable): decoded lazily by DatasetRecord, see there.
    return (select(d.id, d.name, d.kind, DriverRow.name, DriverRow.kind, RecipeRow.name, d.readonly,
                   d.src_dataset_id, src.name, cast(d.meta_system, Text), cast(d.meta_user, Text),
                   d.description, d.item_count, d.annotated_count, d.annotation_count, d.folder_count,
                   d.bytes_total, d.created_at, d.updated_at, SyncState.last_sync_at, d.row_version)
            .outerjoin(DriverRow, DriverRow.id == d.driver_id)
            .outerjoin(RecipeRow, RecipeRow.id == d.recipe_id)
            .outerjoin(src, src.id == d.src_dataset_id)
            .outerjoin(SyncState, SyncState.dataset_id == d.id)
            .where(d.project_id == project_id, d.deleted_at.is_(None), d.kind != "snapshot")
            .order_by(d.name, d.id))


def load_records(session, project_id: int) -> list[DatasetRecord]:
    """Every live dataset of the project (snapshots excluded), by name (case-insensitive),
    in one query."""
    out = []
    for r in session.execute(_records_select(project_id)):
        (i, name, kind, drv, drv_kind, recipe, ro, src_id, src_name, ms, mu, desc, n_items, n_ann_items,
         n_ann, n_folders, size, created, updated, synced, rv) = r
        out.append(DatasetRecord(i, name, kind, drv or "", drv_kind or "", recipe, bool(ro), src_id, src_name,
                                 ms, mu, desc or "", n_items or 0, n_ann_items or 0, n_ann or 0,
                                 n_folders or 0, size or 0, created, updated, synced, rv))
    # Case-insensitive, as people read names (the database's order is binary: "Zebra" < "apple").
    out.sort(key=lambda r: (r.name.casefold(), r.id))
    # A merge has many sources, recorded in its system metadata: name them from the rows
    # already read rather than with a query per merge.
    names = {r.id: r.name for r in out}
    for r in out:
        if r.kind == "merge":
            ids = resolve_path(r.meta_system, ("merge", "dataset_ids")) or []
            if isinstance(ids, list) and ids:
                r.src_name = ", ".join(names.get(i, f"#{i}") for i in ids)
    return out


_MISSING = object()


def resolve_path(meta: Any, parts: Sequence[str]) -> Any:
    """The value at *parts* inside nested dicts, or None when any step is missing."""
    v = meta
    for p in parts:
        if not isinstance(v, dict):
            return None
        v = v.get(p, _MISSING)
        if v is _MISSING:
            return None
    return v
