"""Annotations: ``item.annotations.upload/list/get/update/delete`` in Dataloop's JSON shape."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import stats
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.models import Annotation as AnnotationRow
from dsdesk.catalog.models import utcnow
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.items import Item

# Dataloop's annotation types (dtlpy AnnotationType) that dsdesk stores.
TYPES = {"box", "point", "segment", "polyline", "binary", "class", "ellipse", "cube", "pose", "subtitle",
         "text", "text_mark", "note", "polygon", "line", "cube_3d", "polyline_3d", "ref_semantic_3d",
         "comparison", "gis", "ref_image", "item_description"}


def _is_point(p) -> bool:
    return isinstance(p, dict) and all(isinstance(p.get(k), (int, float)) and not isinstance(p.get(k), bool)
                                       for k in ("x", "y"))


def validate(a: dict, index: int = 0) -> dict:
    """Check one annotation dict and return its normalised form; InvalidInputError names the problem."""
    if not isinstance(a, dict):
        raise InvalidInputError(f"annotation {index} must be a dict, not {type(a).__name__}")
    t = a.get("type")
    if t not in TYPES:
        raise InvalidInputError(f"annotation {index}: unknown type {t!r} (expected one of box, point, "
                                "segment, polyline, binary, class, ellipse, ...)")
    label = a.get("label")
    if label is not None and not isinstance(label, str):
        raise InvalidInputError(f"annotation {index}: label must be a string")
    coords = a.get("coordinates")
    if t == "box":
        if not (isinstance(coords, list) and len(coords) >= 2 and all(_is_point(p) for p in coords[:2])):
            raise InvalidInputError(f"annotation {index}: a box needs coordinates [{{x, y}}, {{x, y}}]")
    elif t == "point":
        if not _is_point(coords):
            raise InvalidInputError(f"annotation {index}: a point needs coordinates {{x, y}}")
    elif t in ("segment", "polyline", "polygon"):
        ok = isinstance(coords, list) and coords and all(
            isinstance(ring, list) and len(ring) >= (3 if t != "polyline" else 2) and all(_is_point(p) for p in ring)
            for ring in coords)
        if not ok:
            raise InvalidInputError(f"annotation {index}: a {t} needs coordinates [[{{x, y}}, ...]]")
    elif t == "class":
        coords = coords or []
    meta = a.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInputError(f"annotation {index}: metadata must be a dict")
    system = meta.get("system") or {}
    return {"type": t, "label": label, "coordinates": coords, "attributes": a.get("attributes"),
            "meta": {"system": {k: v for k, v in system.items() if k not in ("objectId", "status")},
                     "user": meta.get("user") or {}},
            "object_id": str(a.get("object_id") or a.get("objectId") or system.get("objectId") or "") or None,
            "status": system.get("status") or a.get("status"), "creator": a.get("creator")}


@dataclass
class Annotation:
    """One annotation; ``to_json()`` gives Dataloop's annotation JSON."""

    id: int
    item_id: int
    dataset_id: int
    type: str
    label: str | None
    coordinates: Any
    attributes: Any
    metadata: dict
    object_id: str | None
    status: str | None
    creator: str | None
    src_annotation_id: int | None
    created_at: dt.datetime | None
    updated_at: dt.datetime | None

    @classmethod
    def _from_row(cls, r: AnnotationRow) -> Annotation:
        meta = copy.deepcopy(r.meta or {})
        system = meta.setdefault("system", {})
        meta.setdefault("user", {})
        system["objectId"] = r.object_id
        system["status"] = r.status
        return cls(r.id, r.item_id, r.dataset_id, r.type, r.label, copy.deepcopy(r.coordinates),
                   copy.deepcopy(r.attributes), meta, r.object_id, r.status, r.creator, r.src_annotation_id,
                   r.created_at, r.updated_at)

    def to_json(self) -> dict:
        """Dataloop-shaped annotation JSON."""
        out = {"id": self.id, "itemId": self.item_id, "datasetId": self.dataset_id, "type": self.type,
               "label": self.label, "coordinates": copy.deepcopy(self.coordinates),
               "attributes": copy.deepcopy(self.attributes) if self.attributes is not None else [],
               "metadata": copy.deepcopy(self.metadata), "creator": self.creator,
               "createdAt": self.created_at.isoformat() + "Z" if self.created_at else None,
               "updatedAt": self.updated_at.isoformat() + "Z" if self.updated_at else None}
        if self.src_annotation_id is not None:
            out["srcAnnotation"] = self.src_annotation_id
        return out


def _after_change(session: Session, dataset_id: int, item_ids: list[int]) -> None:
    stats.refresh_annotated(session, item_ids)
    stats.refresh(session, dataset_id)


class ItemAnnotations:
    """The annotations of one item."""

    def __init__(self, catalog: Catalog, item: Item):
        self._cat, self._item = catalog, item

    def upload(self, annotations) -> list[Annotation]:
        """Add annotations: a list of dicts (Dataloop JSON), one dict, or ``{"annotations": [...]}``.

        All are validated before any is written.
        """
        if isinstance(annotations, dict):
            annotations = annotations.get("annotations", [annotations])
        if not isinstance(annotations, (list, tuple)):
            raise InvalidInputError("annotations must be a list of dicts")
        rows = [validate(a, i) for i, a in enumerate(annotations)]
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self._item.dataset_id, "annotate items in")
            objs = [AnnotationRow(item_id=self._item.id, dataset_id=self._item.dataset_id, **r) for r in rows]
            s.add_all(objs)
            s.flush()
            _after_change(s, self._item.dataset_id, [self._item.id])
            out = [Annotation._from_row(o) for o in objs]
        self._item.annotated = self._item.annotated or bool(out)
        return out

    def list(self) -> list[Annotation]:
        """The item's annotations in the order they were made."""
        with self._cat.db.session() as s:
            rows = s.execute(select(AnnotationRow).where(AnnotationRow.item_id == self._item.id)
                             .order_by(AnnotationRow.id)).scalars()
            return [Annotation._from_row(r) for r in rows]

    def get(self, annotation_id: int) -> Annotation:
        """One annotation of this item by id."""
        with self._cat.db.session() as s:
            r = s.get(AnnotationRow, int(annotation_id))
            if r is None or r.item_id != self._item.id:
                raise NotFoundError(f"annotation {annotation_id} not found on item {self._item.filename}")
            return Annotation._from_row(r)

    def update(self, annotation: Annotation | dict) -> Annotation:
        """Save a changed annotation (label, coordinates, attributes, metadata, status)."""
        data = annotation.to_json() if isinstance(annotation, Annotation) else dict(annotation)
        ann_id = data.get("id")
        if ann_id is None:
            raise InvalidInputError("an annotation to update needs its id")
        values = validate(data)
        values.pop("creator", None)
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self._item.dataset_id, "annotate items in")
            r = s.execute(update(AnnotationRow).where(AnnotationRow.id == int(ann_id),
                                                      AnnotationRow.item_id == self._item.id)
                          .values(**values, updated_at=utcnow()))
            if r.rowcount == 0:
                raise NotFoundError(f"annotation {ann_id} not found on item {self._item.filename}")
            return Annotation._from_row(s.get(AnnotationRow, int(ann_id)))

    def delete(self, annotation=None, annotation_id=None) -> int:
        """Delete one annotation, a list of ids, or all of them (``annotation="all"``); returns the count."""
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self._item.dataset_id, "delete annotations in")
            q = delete(AnnotationRow).where(AnnotationRow.item_id == self._item.id)
            if annotation == "all":
                pass
            else:
                ids = annotation_id if annotation_id is not None else getattr(annotation, "id", annotation)
                if ids is None:
                    raise InvalidInputError("give annotation, annotation_id or annotation='all'")
                ids = [int(i) for i in (ids if isinstance(ids, (list, tuple)) else [ids])]
                q = q.where(AnnotationRow.id.in_(ids))
            n = s.execute(q).rowcount
            if n == 0 and annotation != "all":
                raise NotFoundError(f"annotation {annotation_id or annotation} not found on item {self._item.filename}")
            _after_change(s, self._item.dataset_id, [self._item.id])
        return n
