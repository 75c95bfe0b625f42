"""Turn whatever a script uploads into checked annotation rows, naming the first bad one.

An upload may hold Dataloop annotation JSON (dicts), dsdesk's own :class:`Annotation`
objects (from another item's ``annotations.list()``), shapes (``dd.Box(...)``) or an
``AnnotationCollection``.  :func:`to_row` reads one of them into a :class:`Row` and checks
it: the shape's coordinates (a box needs two points, a polygon three, a polyline two, an
ellipse a centre and radii, every number finite), the label (a string or nothing) and the
metadata.  The error is an :class:`~dsdesk.errors.InvalidInputError` that starts with the
annotation's index in the call, so the caller can say which one and write nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from dsdesk.api.shapes import BaseAnnotationDefinition
from dsdesk.errors import InvalidInputError

# Dataloop's annotation types (dtlpy AnnotationType) that dsdesk stores.
TYPES = {"box", "point", "segment", "polyline", "binary", "class", "ellipse", "cube", "pose", "subtitle",
         "text", "text_mark", "note", "polygon", "line", "cube_3d", "polyline_3d", "ref_semantic_3d",
         "comparison", "gis", "ref_image", "item_description"}

# metadata.system keys that are columns or top-level fields, not kept in the JSON.
_SYSTEM_COLUMNS = ("objectId", "status")


@dataclass(slots=True)
class Row:
    """One annotation ready to be written (``item_id`` None: the target item decides)."""

    type: str
    label: str | None
    coordinates: Any
    attributes: Any
    meta: dict
    object_id: str | None
    status: str | None
    creator: str | None
    item_id: int | None = None
    src_id: int | None = None  # the annotation it was read from (an upload of another item's list)


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_point(p) -> bool:
    return isinstance(p, dict) and _num(p.get("x")) and _num(p.get("y"))


def check_shape(t: str, coords: Any, index: int) -> Any:
    """*coords* checked for type *t* (normalised: a class has ``[]``); InvalidInputError otherwise."""
    def bad(msg: str):
        raise InvalidInputError(f"annotation {index}: {msg}")

    if t == "box":
        pts = [p for p in coords if isinstance(p, dict)] if isinstance(coords, list) else []
        if len(pts) < 2:
            bad(f"a box needs two corner points [{{x, y}}, {{x, y}}], got {len(pts)}")
        if not all(_is_point(p) for p in pts[:2]):
            bad("a box's corners need finite numbers x and y")
    elif t == "point":
        if not _is_point(coords):
            bad("a point needs coordinates {x, y} with finite numbers")
    elif t in ("segment", "polygon", "polyline"):
        need = 2 if t == "polyline" else 3
        if not (isinstance(coords, list) and coords and all(isinstance(r, list) for r in coords)):
            bad(f"a {'polyline' if t == 'polyline' else 'polygon'} needs coordinates [[{{x, y}}, ...]]")
        for ring in coords:
            if len(ring) < need:
                bad(f"a {'polyline' if t == 'polyline' else 'polygon'} needs at least {need} points, got {len(ring)}")
            if not all(_is_point(p) for p in ring):
                bad("every point needs finite numbers x and y")
    elif t == "ellipse":
        c = coords.get("center") if isinstance(coords, dict) else None
        if not (_is_point(c) and _num(coords.get("rx")) and _num(coords.get("ry"))
                and coords["rx"] >= 0 and coords["ry"] >= 0):
            bad("an ellipse needs a center {x, y} and radii rx, ry >= 0")
    elif t == "binary":
        if not (isinstance(coords, str) and coords.startswith("data:image/png;base64,")):
            bad("a segmentation needs a mask (coordinates as a data:image/png;base64 URL)")
    elif t == "class":
        return []
    return coords


def _label(label: Any, index: int) -> str | None:
    if label is not None and not isinstance(label, str):
        raise InvalidInputError(f"annotation {index}: the label must be a string, not {type(label).__name__} {label!r}")
    return label


def from_definition(d: BaseAnnotationDefinition, index: int, *, object_id=None, metadata=None,
                    parent_id=None, automated=None, creator=None, color=None) -> Row:
    """A row for a shape (what ``builder.add(annotation_definition=...)`` gets)."""
    coords = d.to_coordinates(color)
    return _build(d.type, d.label, coords, d.attributes, metadata, object_id, None, creator, index,
                  description=d.description, parent_id=parent_id, automated=automated)


def to_row(a: Any, index: int) -> Row:
    """A checked :class:`Row` for one uploaded annotation: a dict in Dataloop's JSON, an
    :class:`~dsdesk.api.annotations.Annotation` or a shape."""
    if isinstance(a, BaseAnnotationDefinition):
        return from_definition(a, index)
    to_json = getattr(a, "to_json", None)
    src_id = None
    if callable(to_json) and not isinstance(a, dict):
        src_id = getattr(a, "id", None)
        a = to_json()
    if not isinstance(a, dict):
        raise InvalidInputError(f"annotation {index} must be a dict, an Annotation or a shape such as "
                                f"dd.Box(...), not {type(a).__name__}")
    meta = a.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInputError(f"annotation {index}: metadata must be a dict")
    system = meta.get("system") or {}
    object_id = a.get("object_id", a.get("objectId", system.get("objectId")))
    item_id = a.get("itemId", a.get("item_id"))
    row = _build(a.get("type"), a.get("label"), a.get("coordinates", a.get("data")), a.get("attributes"),
                 meta, object_id, system.get("status", a.get("status")), a.get("creator"), index,
                 description=a.get("description"))
    row.item_id = int(item_id) if item_id is not None else None
    row.src_id = src_id
    return row


def _build(t, label, coords, attributes, metadata, object_id, status, creator, index, *,
           description=None, parent_id=None, automated=None) -> Row:
    if t not in TYPES:
        raise InvalidInputError(f"annotation {index}: unknown type {t!r} (expected one of box, point, "
                                "segment, polyline, binary, class, ellipse, ...)")
    label = _label(label, index)
    coords = check_shape(t, coords, index)
    meta = metadata or {}
    if not isinstance(meta, dict):
        raise InvalidInputError(f"annotation {index}: metadata must be a dict")
    system = meta.get("system") or {}
    user = meta.get("user") or {}
    if not isinstance(system, dict) or not isinstance(user, dict):
        raise InvalidInputError(f"annotation {index}: metadata 'system' and 'user' must be dicts")
    # Keys other than system/user (the SDK's builder accepts {'confidence': ...}) are the user's.
    extra = {k: v for k, v in meta.items() if k not in ("system", "user")}
    system = {k: v for k, v in system.items() if k not in _SYSTEM_COLUMNS}
    if parent_id is not None:
        system["parentId"] = parent_id
    if automated is not None:
        system["automated"] = bool(automated)
    out_meta: dict = {"system": system, "user": {**extra, **user}}
    if description:
        if not isinstance(description, str):
            raise InvalidInputError(f"annotation {index}: the description must be a string")
        out_meta["description"] = description
    if object_id is not None and not isinstance(object_id, (str, int)):
        raise InvalidInputError(f"annotation {index}: object_id must be a string or a number")
    if status is not None and not isinstance(status, str):
        raise InvalidInputError(f"annotation {index}: the status must be a string")
    return Row(t, label, coords, attributes, out_meta, str(object_id) if object_id not in (None, "") else None,
               status, creator)
