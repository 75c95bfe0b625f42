"""Drag-and-drop payloads: items of a dataset, or one folder of a dataset.

Both are JSON in our own MIME types, so a drop can be simulated in tests with a real
QMimeData and drops from other applications are never misread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QMimeData

ITEMS_MIME = "application/x-dsdesk-items"
FOLDER_MIME = "application/x-dsdesk-folder"


@dataclass(frozen=True)
class ItemsPayload:
    """Items dragged from a grid."""

    dataset_id: int
    item_ids: list[int]


@dataclass(frozen=True)
class FolderPayload:
    """A folder dragged from a folder tree."""

    dataset_id: int
    path: str


def items_mime(dataset_id: int, item_ids: list[int]) -> QMimeData:
    """QMimeData carrying *item_ids* of *dataset_id*."""
    md = QMimeData()
    md.setData(ITEMS_MIME, json.dumps({"dataset_id": int(dataset_id), "item_ids": [int(i) for i in item_ids]}).encode())
    md.setText("\n".join(str(i) for i in item_ids[:1000]))
    return md


def folder_mime(dataset_id: int, path: str) -> QMimeData:
    """QMimeData carrying the folder *path* of *dataset_id*."""
    md = QMimeData()
    md.setData(FOLDER_MIME, json.dumps({"dataset_id": int(dataset_id), "path": path}).encode())
    md.setText(path)
    return md


def read_items(md: QMimeData) -> ItemsPayload | None:
    """The items in *md*, or None."""
    if not md.hasFormat(ITEMS_MIME):
        return None
    try:
        d = json.loads(bytes(md.data(ITEMS_MIME)).decode())
        return ItemsPayload(int(d["dataset_id"]), [int(i) for i in d["item_ids"]])
    except (ValueError, KeyError, TypeError):
        return None


def read_folder(md: QMimeData) -> FolderPayload | None:
    """The folder in *md*, or None."""
    if not md.hasFormat(FOLDER_MIME):
        return None
    try:
        d = json.loads(bytes(md.data(FOLDER_MIME)).decode())
        return FolderPayload(int(d["dataset_id"]), str(d["path"]))
    except (ValueError, KeyError, TypeError):
        return None


def read_local_files(md: QMimeData) -> list[str]:
    """Local file paths dropped from a file manager."""
    if not md.hasUrls():
        return []
    return [u.toLocalFile() for u in md.urls() if u.isLocalFile() and u.toLocalFile()]
