"""The annotations of the item open in a viewer, and their saving through the API.

:class:`AnnotationDocument` is what the viewer's canvas draws and its undo commands edit:
a list of :class:`AnnotationRecord` objects.  An edit changes the list at once (the
window never waits on the catalog) and queues its save through the API
(``item.annotations.upload`` / ``update`` / ``delete``) on the document's own one-thread
pool, so saves run in the order the edits were made.  A save reads the record's id when
it runs, not when it was queued: an annotation drawn and then undone is deleted by the id
its upload got, and an undone delete re-uploads under a new id that later commands see.

When a save fails (the dataset became read-only, the annotation was deleted elsewhere),
``save_failed`` carries the message and the document reads the item's annotations again,
so the view shows what the catalog holds.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal

from dsdesk.api.labels import label_color
from dsdesk.api.overlays import OverlayShape, shapes_of

_KEYS = itertools.count(1)


@dataclass(eq=False)
class AnnotationRecord:
    """One annotation in the viewer: its Dataloop JSON (*data*: type, label, coordinates,
    attributes, metadata) and its catalog id (None until its upload has run).  *key* is
    stable for the record's life and names it in the canvas (ids change on undo)."""

    data: dict
    id: int | None = None
    key: int = field(default_factory=lambda: next(_KEYS))

    @property
    def type(self) -> str:
        return self.data.get("type", "")

    @property
    def label(self) -> str | None:
        return self.data.get("label")

    def upload_json(self) -> dict:
        """The JSON to upload it again (no id, dates or owner ids)."""
        return {k: copy.deepcopy(v) for k, v in self.data.items()
                if k not in ("id", "itemId", "datasetId", "createdAt", "updatedAt", "creator")}


def record_of(annotation) -> AnnotationRecord:
    """A record of an API ``Annotation`` (or its JSON)."""
    data = annotation.to_json() if hasattr(annotation, "to_json") else dict(annotation)
    return AnnotationRecord(data, int(data["id"]) if data.get("id") is not None else None)


class _Save(QRunnable):
    def __init__(self, doc: AnnotationDocument, fn: Callable[[], Any], what: str):
        super().__init__()
        self._doc, self._fn, self._what = doc, fn, what

    def run(self) -> None:  # worker thread: never touch widgets here
        try:
            self._fn()
            self._doc._save_done.emit("")
        except Exception as e:  # noqa: BLE001 - shown in the viewer, then the list is read again
            self._doc._save_done.emit(f"{self._what} was not saved: {e}")


class AnnotationDocument(QObject):
    """The open item's annotations (GUI thread) with saves queued in edit order.

    ``changed`` after any change of the list; ``saved`` after each save that went
    through; ``save_failed(message)`` when one did not.  :meth:`flush` waits for the
    queued saves (the viewer calls it when it closes: an edit is never dropped).
    """

    changed = Signal()
    saved = Signal()
    save_failed = Signal(str)
    _save_done = Signal(str)
    _reloaded = Signal(object)

    def __init__(self, item, colors: dict[str, str], parent: QObject | None = None):
        super().__init__(parent)
        self.item = item
        self.colors = dict(colors)
        self.records: list[AnnotationRecord] = []
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # saves run one after the other, in edit order
        self._pending = 0
        self._save_done.connect(self._on_save_done, Qt.ConnectionType.QueuedConnection)
        self._reloaded.connect(self._on_reloaded, Qt.ConnectionType.QueuedConnection)

    # ---- reading -------------------------------------------------------------------------
    def set_annotations(self, annotations) -> None:
        """Show *annotations* (API objects or JSON) as they are in the catalog."""
        self.records = [record_of(a) for a in annotations]
        self.changed.emit()

    def color(self, label: str | None) -> str:
        """The colour of *label*: the recipe's, else its stable default."""
        return self.colors.get(label or "") or label_color(label)

    def shapes(self) -> list[tuple[AnnotationRecord, OverlayShape]]:
        """Every drawable record with its shape in image pixels."""
        out = []
        for r in self.records:
            s = shapes_of(r.key, r.type, r.label, r.data.get("coordinates"), self.color(r.label))
            if s is not None:
                out.append((r, s))
        return out

    def by_key(self, key: int | None) -> AnnotationRecord | None:
        """The record with *key*, or None."""
        return next((r for r in self.records if r.key == key), None)

    @property
    def busy(self) -> bool:
        """True while saves are queued or running."""
        return self._pending > 0

    # ---- edits (called by the undo commands) ---------------------------------------------
    def insert(self, record: AnnotationRecord, index: int | None = None) -> None:
        """Add *record* (at *index*) and upload it; its id is set when the upload ran."""
        self.records.insert(len(self.records) if index is None else index, record)
        self.changed.emit()
        annotations = self.item.annotations

        def save() -> None:
            made = next(iter(annotations.upload([record.upload_json()])))
            record.id = made.id
            record.data["id"] = made.id

        self._queue(save, f"The new {record.type} '{record.label}'")

    def remove(self, record: AnnotationRecord) -> int:
        """Take *record* out and delete it; returns where it was."""
        index = self.records.index(record)
        del self.records[index]
        self.changed.emit()
        annotations = self.item.annotations
        self._queue(lambda: annotations.delete(annotation_id=record.id), f"Deleting the {record.type} '{record.label}'")
        return index

    def set_label(self, record: AnnotationRecord, label: str | None) -> None:
        """Give *record* another label and save it."""
        record.data["label"] = label
        self.changed.emit()
        annotations = self.item.annotations
        data = record.upload_json()

        def save() -> None:
            annotations.update({**data, "id": record.id})

        self._queue(save, f"The label '{label}'")

    def set_coordinates(self, record: AnnotationRecord, coordinates) -> None:
        """Give *record* new *coordinates* (Dataloop JSON, image pixels) and save them."""
        record.data["coordinates"] = copy.deepcopy(coordinates)
        self.changed.emit()
        annotations = self.item.annotations
        data = record.upload_json()

        def save() -> None:
            annotations.update({**data, "id": record.id})

        self._queue(save, f"The new shape of the {record.type} '{record.label}'")

    def _queue(self, fn: Callable[[], Any], what: str) -> None:
        self._pending += 1
        self._pool.start(_Save(self, fn, what))

    def _on_save_done(self, error: str) -> None:
        self._pending -= 1
        if not error:
            self.saved.emit()
            return
        self.save_failed.emit(error)
        annotations = self.item.annotations

        def reread() -> None:
            try:
                self._reloaded.emit(annotations.list())
            except Exception:  # noqa: BLE001 - the item itself is gone: keep what is shown
                self._reloaded.emit(None)

        self._pending += 1
        self._pool.start(_Save(self, reread, "Reading the annotations"))

    def _on_reloaded(self, annotations) -> None:
        if annotations is not None:
            self.set_annotations(annotations)

    def flush(self, timeout_ms: int = 10000) -> bool:
        """Wait for the queued saves (False: they did not finish in time)."""
        return self._pool.waitForDone(timeout_ms)
