"""``AnnotationCollection``: an item's annotations as a list, and the SDK's builder.

``item.annotations.builder()`` gives an empty collection bound to the item;
``builder.add(annotation_definition=dd.Box(...), object_id=..., metadata=..., parent_id=...)``
appends a new annotation and ``item.annotations.upload(builder)`` (or ``builder.upload()``)
writes them all in one transaction.  ``item.annotations.list()`` returns a collection too,
which compares equal to a plain list of the same annotations.

:class:`WrittenAnnotations` is what an upload returns: a read-only list whose
:class:`~dsdesk.api.annotation_entity.Annotation` objects are made when first looked at,
so an upload of a million boxes does not build a million objects nobody reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dsdesk.api.annotation_entity import Annotation
from dsdesk.api.shapes import BaseAnnotationDefinition
from dsdesk.catalog.annotation_writes import LABEL
from dsdesk.errors import InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.annotation_rows import Row

__all__ = ["AnnotationCollection", "WrittenAnnotations"]


class AnnotationCollection:
    """A list of annotations of one item (``item`` may be None for a free-standing one)."""

    def __init__(self, item=None, annotations: list[Annotation] | None = None):
        self.item = item
        self.annotations: list[Annotation] = list(annotations or [])

    def add(self, annotation_definition: BaseAnnotationDefinition | Annotation | None = None, object_id=None,
            frame_num=None, end_frame_num=None, start_time=None, end_time=None, automated: bool | None = None,
            fixed: bool = True, object_visible: bool = True, metadata: dict | None = None, parent_id=None,
            prompt_id=None, model_info: dict | None = None) -> Annotation:
        """Append a new annotation with the shape *annotation_definition*; returns it.

        Video arguments (frames, times) are accepted and ignored: dsdesk's items are images.
        *model_info* (``{"name", "confidence", ...}``) goes to ``metadata.user.model``, where
        Dataloop's SDK puts it.
        """
        if isinstance(annotation_definition, Annotation):
            ann = annotation_definition
        else:
            if annotation_definition is None:
                raise InvalidInputError("builder.add needs an annotation_definition such as dd.Box(...)")
            if model_info is not None:
                if not isinstance(model_info, dict):
                    raise InvalidInputError("model_info must be a dict such as {'name': ..., 'confidence': ...}")
                metadata = {**(metadata or {})}
                metadata["user"] = {**(metadata.get("user") or {}), "model": dict(model_info)}
            ann = Annotation.new(self.item, annotation_definition, object_id=object_id, metadata=metadata,
                                 parent_id=parent_id, automated=automated)
        self.annotations.append(ann)
        return ann

    def upload(self) -> WrittenAnnotations:
        """Upload the collection to its item (one transaction)."""
        if self.item is None:
            raise InvalidInputError("this collection has no item: use item.annotations.upload(collection)")
        return self.item.annotations.upload(self)

    def delete(self) -> int:
        """Delete every annotation of the collection that is stored; returns how many."""
        ids = [a.id for a in self.annotations if a.id is not None]
        if not ids:
            return 0
        return self.item.annotations.delete(annotation_id=ids)

    def to_json(self) -> dict:
        """The item-level JSON file Dataloop writes: ``{"_id", "filename", "annotations": [...]}``."""
        return {"_id": getattr(self.item, "id", None), "filename": getattr(self.item, "filename", None),
                "annotations": [a.to_json() for a in self.annotations]}

    @classmethod
    def from_json(cls, _json: dict | list | str | os.PathLike, item=None) -> AnnotationCollection:
        """A collection from ``{"annotations": [...]}``, a list of annotation JSON, or a path to
        a JSON file holding either."""
        if isinstance(_json, (str, os.PathLike)):
            try:
                with open(_json, encoding="utf-8") as f:
                    _json = json.load(f)
            except (OSError, ValueError) as e:
                raise InvalidInputError(f"cannot read annotations from {os.fspath(_json)!r}: {e}") from None
        anns = _json.get("annotations", []) if isinstance(_json, dict) else _json
        if not isinstance(anns, list):
            raise InvalidInputError("annotations JSON must be a list or {'annotations': [...]}")
        for i, a in enumerate(anns):
            if not isinstance(a, dict):
                raise InvalidInputError(f"annotation {i} must be a dict, not {type(a).__name__}")
        return cls(item, [Annotation.from_json(a, item=item) for a in anns])

    @classmethod
    def from_json_file(cls, filepath: str | os.PathLike, item=None) -> AnnotationCollection:
        """A collection from a JSON file (Dataloop's ``{"annotations": [...]}`` or a list)."""
        return cls.from_json(os.fspath(filepath), item=item)

    def print(self) -> None:
        """Print one line per annotation."""
        for a in self.annotations:
            a.print()

    # ---- a list ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Annotation]:
        return iter(self.annotations)

    def __len__(self) -> int:
        return len(self.annotations)

    def __getitem__(self, i):
        return self.annotations[i]

    def __bool__(self) -> bool:
        return bool(self.annotations)

    def __eq__(self, other) -> bool:
        if isinstance(other, AnnotationCollection):
            return self.annotations == other.annotations
        if isinstance(other, (list, tuple)):
            return self.annotations == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"<AnnotationCollection of {getattr(self.item, 'filename', None)!r}: {len(self)} annotations>"


class WrittenAnnotations(Sequence):
    """The annotations an upload wrote, in the order given (made lazily, see the module)."""

    def __init__(self, rows: Sequence[Row], ids: Sequence[int], dataset_id: int, at, catalog,
                 recipe_tags: frozenset[str] | None):
        self._rows, self._ids, self._dataset_id, self._at, self._cat = rows, ids, dataset_id, at, catalog
        self._tags = recipe_tags
        self._made: dict[int, Annotation] = {}

    @property
    def ids(self) -> list[int]:
        """The new annotations' ids."""
        return list(self._ids)

    @property
    def labels_not_in_recipe(self) -> list[str]:
        """Labels of this upload that the recipe does not have (kept, and flagged)."""
        if self._tags is None:
            return []
        return sorted({r[LABEL] for r in self._rows if r[LABEL] is not None and r[LABEL] not in self._tags})

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, i: Any):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        ann = self._made.get(i)
        if ann is None:
            ann = self._made[i] = Annotation._from_written(self._rows[i], self._ids[i], self._dataset_id,
                                                           self._at, self._cat, self._tags)
        return ann

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, tuple, Sequence)) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"<{len(self)} annotations written>"
