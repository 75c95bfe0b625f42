"""Turn whatever a script uploads into checked annotation rows, naming the first bad one.

An upload may hold Dataloop annotation JSON (dicts), dsdesk's own
:class:`~dsdesk.api.annotations.Annotation` objects (from another item's
``annotations.list()``, or the builder's), shapes (``dd.Box(...)``) or an
``AnnotationCollection``.  :func:`to_row` reads one of them into a row and checks
it: the shape's coordinates (a box needs two points, a polygon three, a polyline two, an
ellipse a centre and radii, every number finite), the label (a string or nothing) and the
metadata.  The error is an :class:`~dsdesk.errors.InvalidInputError` that starts with the
annotation's index in the call, so the caller can say which one and write nothing.

Numbers may be any real type (NumPy's included); rows hold plain ``int`` / ``float``.
A row is already what the database gets (a list of the insert's values, JSON as text):
the bulk writer adds ids and hands the rows to executemany.  A box's coordinates - most
of what bulk uploads carry - are written as JSON text here from its four checked numbers.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any

from dsdesk.api.shapes import BaseAnnotationDefinition, Box
from dsdesk.catalog.annotation_writes import (
    ATTRIBUTES,
    COORDINATES,
    CREATOR,
    EMPTY_META_JSON,
    ITEM_ID,
    LABEL,
    META,
    OBJECT_ID,
    STATUS,
    TYPE,
)
from dsdesk.catalog.ingest import _json_encoder  # the compact C-level encoder of the bulk writes
from dsdesk.errors import InvalidInputError

# Dataloop's annotation types (dtlpy AnnotationType) that dsdesk stores.
TYPES = {"box", "point", "segment", "polyline", "binary", "class", "ellipse", "cube", "pose", "subtitle",
         "text", "text_mark", "note", "polygon", "line", "cube_3d", "polyline_3d", "ref_semantic_3d",
         "comparison", "gis", "ref_image", "item_description"}

#: metadata.system keys that are columns, or facts dsdesk computes when it reads an
#: annotation (``labelNotInRecipe``): never kept in the stored JSON.
COMPUTED_SYSTEM_KEYS = ("objectId", "status", "labelNotInRecipe")

_EMPTY_META = {"system": {}, "user": {}}
_encode = _json_encoder()

#: A row: a list of the annotation table's insert values (see
#: :data:`dsdesk.catalog.annotation_writes.COLS`), JSON already text, id, dataset and
#: timestamps still None; ``row[ITEM_ID]`` None until the target item is known.
Row = list


def new_row(t: str, label, coords_json: str, attributes, meta: dict, object_id, status, creator,
            index: int = 0) -> Row:
    """A row from checked values (*coords_json* is the coordinates as JSON text);
    InvalidInputError naming annotation *index* when attributes or metadata are not JSON."""
    try:
        return [None, None, None, t, label, coords_json, _encode(attributes) if attributes else None,
                EMPTY_META_JSON if meta is _EMPTY_META else _encode(meta), object_id, status, creator, None, None]
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"annotation {index}: its attributes and metadata must be JSON values ({e})") from None


def row_values(row: Row) -> dict:
    """A row's values as Python objects (JSON decoded): ``type``, ``label``,
    ``coordinates``, ``attributes``, ``meta``, ``object_id``, ``status``, ``creator``."""
    attrs = row[ATTRIBUTES]
    return {"type": row[TYPE], "label": row[LABEL], "coordinates": json.loads(row[COORDINATES]),
            "attributes": json.loads(attrs) if attrs is not None else None, "meta": json.loads(row[META]),
            "object_id": row[OBJECT_ID], "status": row[STATUS], "creator": row[CREATOR]}


def _plain(v: Any) -> int | float | None:
    """*v* as a plain finite int or float, or None when it is not a finite real number."""
    t = type(v)
    if t is int:
        return v
    if t is float:
        return v if math.isfinite(v) else None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return None
    v = int(v) if isinstance(v, numbers.Integral) else float(v)
    return v if isinstance(v, int) or math.isfinite(v) else None


def _point(p: Any) -> dict | None:
    """A ``{x, y}`` dict (``z`` kept when given) of plain numbers for a point dict, or None
    when it is not one."""
    if not isinstance(p, dict):
        return None
    x, y = _plain(p.get("x")), _plain(p.get("y"))
    if x is None or y is None:
        return None
    if "z" not in p:
        return {"x": x, "y": y}
    z = _plain(p["z"])
    return {"x": x, "y": y, "z": 0 if z is None else z}


def box_json(left, top, right, bottom, angle=None) -> str:
    """The JSON text of a box's coordinates from plain numbers (checked by the caller).

    ``repr`` of a finite int or float is valid JSON, so the text is built directly: this
    runs once per box of a bulk upload.
    """
    s = f'[{{"x":{left!r},"y":{top!r},"z":0}},{{"x":{right!r},"y":{bottom!r},"z":0}}'
    return s + (f",{angle!r}]" if angle else "]")


def check_shape(t: str, coords: Any, index: int) -> Any:
    """*coords* checked for type *t* and normalised (plain numbers; a class has ``[]``);
    InvalidInputError naming annotation *index* otherwise."""
    def bad(msg: str):
        raise InvalidInputError(f"annotation {index}: {msg}")

    if t == "box":
        pts = [p for p in coords if isinstance(p, dict)] if isinstance(coords, list) else []
        if len(pts) < 2:
            bad(f"a box needs two corner points [{{x, y}}, {{x, y}}], got {len(pts)}")
        corners = [_point(p) for p in pts[:2]]
        if None in corners:
            bad("a box's corners need finite numbers x and y")
        angle = next((c for c in coords[2:] if not isinstance(c, dict)), None)
        if angle is not None and _plain(angle) is None:
            bad(f"a box's angle must be a finite number, not {angle!r}")
        return corners + ([_plain(angle)] if angle else [])
    if t == "point":
        p = _point(coords)
        if p is None:
            bad("a point needs coordinates {x, y} with finite numbers")
        return p
    if t in ("segment", "polygon", "polyline"):
        need = 2 if t == "polyline" else 3
        if not (isinstance(coords, list) and coords and all(isinstance(r, list) for r in coords)):
            bad(f"a {t} needs coordinates [[{{x, y}}, ...]]")
        rings = []
        for ring in coords:
            if len(ring) < need:
                bad(f"a {t} needs at least {need} points, got {len(ring)}")
            pts = [_point(p) for p in ring]
            if None in pts:
                bad(f"every point of a {t} needs finite numbers x and y")
            rings.append([{"x": p["x"], "y": p["y"]} for p in pts])
        return rings
    if t == "ellipse":
        c = _point(coords.get("center")) if isinstance(coords, dict) else None
        rx = _plain(coords.get("rx")) if c else None
        ry = _plain(coords.get("ry")) if c else None
        angle = _plain(coords.get("angle", 0) or 0) if c else None
        if c is None or rx is None or ry is None or rx < 0 or ry < 0 or angle is None:
            bad("an ellipse needs a center {x, y} and radii rx, ry >= 0")
        return {"angle": angle, "center": c, "rx": rx, "ry": ry}
    if t == "binary":
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
                    creator=None, status=None, color=None) -> Row:
    """A row for a shape (what ``builder.add(annotation_definition=...)`` gets).

    *color* paints a segmentation mask (the label's colour in the recipe).
    """
    if type(d) is Box:
        return box_row(d, index, object_id, metadata, creator, status)
    if not isinstance(d, BaseAnnotationDefinition):
        raise InvalidInputError(f"annotation {index}: annotation_definition must be a shape such as "
                                f"dd.Box(...), not {type(d).__name__}")
    try:
        coords = d.to_coordinates(color)
    except (TypeError, ValueError, AttributeError) as e:
        raise InvalidInputError(f"annotation {index}: the {d.type} shape is incomplete ({e})") from None
    return _build(d.type, d.label, coords, d.attributes or None, metadata, object_id, status, creator, index,
                  description=d.description)


def box_row(d: Box, index: int, object_id, metadata, creator, status) -> Row:
    """The bulk case, a ``dd.Box``: four numbers to check, coordinates written as text
    directly.  Runs once per box of an upload, hence the plain-type shortcut."""
    left, top, right, bottom = d._l, d._t, d._r, d._b
    if not (type(left) in _FAST and type(top) in _FAST and type(right) in _FAST and type(bottom) in _FAST
            and math.isfinite(left + top + right + bottom)):
        vals = [_plain(v) for v in (left, top, right, bottom)]
        if None in vals:
            raise InvalidInputError(f"annotation {index}: a box needs finite numbers left, top, right and "
                                    f"bottom, got {(left, top, right, bottom)!r}")
        left, top, right, bottom = vals
    if left > right:
        left, right = right, left
    if top > bottom:
        top, bottom = bottom, top
    angle = d.angle
    if angle:
        angle = _plain(angle)
        if angle is None:
            raise InvalidInputError(f"annotation {index}: a box's angle must be a finite number, not {d.angle!r}")
    label = d.label
    if label is not None and type(label) is not str:
        _label(label, index)
    meta = _meta(metadata, index, d.description) if (metadata or d.description) else _EMPTY_META
    if object_id is not None:
        object_id = _object_id(object_id, index)
    coords = box_json(left, top, right, bottom, angle)
    if meta is _EMPTY_META and not d.attributes:  # nothing to encode: the row directly
        return [None, None, None, "box", label, coords, None, EMPTY_META_JSON, object_id, status, creator, None, None]
    return new_row("box", label, coords, d.attributes, meta, object_id, status, creator, index)


_FAST = frozenset({int, float})


def to_row(a: Any, index: int) -> Row:
    """A checked :class:`Row` for one uploaded annotation: a dict in Dataloop's JSON, an
    :class:`~dsdesk.api.annotations.Annotation` or a shape."""
    if type(a) is dict:
        row = _exported_box_row(a, index)
        if row is not None:
            return row
    if isinstance(a, BaseAnnotationDefinition):
        return from_definition(a, index)
    as_row = getattr(a, "_as_row", None)
    if as_row is not None and not isinstance(a, dict):  # an Annotation: it knows its shape
        return as_row(index)
    if not isinstance(a, dict):
        raise InvalidInputError(f"annotation {index} must be a dict, an Annotation or a shape such as "
                                f"dd.Box(...), not {type(a).__name__}")
    meta = a.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InvalidInputError(f"annotation {index}: metadata must be a dict")
    system = meta.get("system") or {}
    if not isinstance(system, dict):
        raise InvalidInputError(f"annotation {index}: metadata 'system' must be a dict")
    object_id = a.get("object_id", a.get("objectId", system.get("objectId")))
    item_id = a.get("itemId", a.get("item_id"))
    row = _build(a.get("type"), a.get("label"), a.get("coordinates", a.get("data")), a.get("attributes"),
                 meta, object_id, system.get("status", a.get("status")), a.get("creator"), index,
                 description=a.get("description"))
    if item_id is not None:
        row[ITEM_ID] = _item_id(item_id, index)
    return row


def _exported_box_row(a: dict, index: int) -> Row | None:
    """The row of a plain exported box (the bulk case of JSON uploads: a box of two plain
    points, a string label or none, no metadata or description), or None for anything
    else, which the general path reads and checks (and names what is wrong).

    Runs once per box of a bulk JSON upload: two dict look-ups per key, no generic
    checks, the coordinates' text written directly from their four numbers.
    """
    get = a.get
    if get("type") != "box" or get("metadata") or get("description"):
        return None
    coords_json = _plain_box_json(get("coordinates"))
    if coords_json is None:
        return None
    label, creator, status = get("label"), get("creator"), get("status")
    if not ((label is None or type(label) is str) and (creator is None or type(creator) is str)
            and (status is None or type(status) is str)):
        return None
    object_id = a["object_id"] if "object_id" in a else get("objectId")
    if object_id is not None:
        object_id = _object_id(object_id, index)
    item_id = a["itemId"] if "itemId" in a else get("item_id")
    if item_id is not None and type(item_id) is not int:
        item_id = _item_id(item_id, index)
    attributes = get("attributes")
    if attributes:
        row = new_row("box", label, coords_json, attributes, _EMPTY_META, object_id, status, creator, index)
        row[ITEM_ID] = item_id
        return row
    return [None, item_id, None, "box", label, coords_json, None, EMPTY_META_JSON, object_id, status, creator,
            None, None]


def _item_id(item_id, index: int) -> int:
    try:
        return int(item_id)
    except (TypeError, ValueError):
        raise InvalidInputError(f"annotation {index}: itemId {item_id!r} is not an item id") from None


def _plain_box_json(coords) -> str | None:
    """The JSON text of box coordinates that are exactly two ``{x, y}`` / ``{x, y, z}``
    points of plain finite numbers (``z`` kept as given), else None (the generic path
    checks and names what is wrong)."""
    if type(coords) is not list or len(coords) != 2:
        return None
    p, q = coords
    if type(p) is not dict or type(q) is not dict:
        return None
    x0, y0, x1, y1 = p.get("x"), p.get("y"), q.get("x"), q.get("y")
    if not (type(x0) in _FAST and type(y0) in _FAST and type(x1) in _FAST and type(y1) in _FAST
            and math.isfinite(x0 + y0 + x1 + y1)):
        return None
    if len(p) == 2 and len(q) == 2:
        return f'[{{"x":{x0!r},"y":{y0!r}}},{{"x":{x1!r},"y":{y1!r}}}]'
    if len(p) == 3 and len(q) == 3 and p.get("z") == 0 and q.get("z") == 0:
        return box_json(x0, y0, x1, y1)
    return None


def _object_id(object_id, index: int) -> str | None:
    if object_id is None or object_id == "":
        return None
    if isinstance(object_id, bool) or not isinstance(object_id, (str, int)):
        raise InvalidInputError(f"annotation {index}: object_id must be a string or a number, not {object_id!r}")
    return str(object_id)


def _meta(metadata, index: int, description=None, parent_id=None) -> dict:
    """``{"system": {...}, "user": {...}}`` from what the caller gave (checked)."""
    meta = metadata or {}
    if not isinstance(meta, dict):
        raise InvalidInputError(f"annotation {index}: metadata must be a dict")
    system = meta.get("system") or {}
    if not isinstance(system, dict):
        raise InvalidInputError(f"annotation {index}: metadata 'system' must be a dict")
    # The user area is the user's: usually a dict, but Dataloop keeps any JSON value there
    # (its docs set ``annotation.metadata["user"] = True``).  Other top-level keys (the
    # builder's ``metadata={"type": "reptile"}``) are kept where they were given.
    user = meta.get("user")
    extra = {k: v for k, v in meta.items() if k not in ("system", "user", "description")}
    system = {k: v for k, v in system.items() if k not in COMPUTED_SYSTEM_KEYS}
    if parent_id is not None:
        system["parentId"] = parent_id
    out: dict = {"system": system, "user": {} if user is None else user, **extra}
    description = description if description is not None else meta.get("description")
    if description:
        if not isinstance(description, str):
            raise InvalidInputError(f"annotation {index}: the description must be a string")
        out["description"] = description
    if not system and not out["user"] and isinstance(out["user"], dict) and len(out) == 2:
        return _EMPTY_META  # written as one constant text
    return out


def _build(t, label, coords, attributes, metadata, object_id, status, creator, index, *,
           description=None) -> Row:
    if t not in TYPES:
        raise InvalidInputError(f"annotation {index}: unknown type {t!r} (expected one of box, point, "
                                "segment, polyline, binary, class, ellipse, ...)")
    label = _label(label, index)
    coords = check_shape(t, coords, index)
    meta = _meta(metadata, index, description)
    if status is not None and not isinstance(status, str):
        raise InvalidInputError(f"annotation {index}: the status must be a string")
    if creator is not None and not isinstance(creator, str):
        raise InvalidInputError(f"annotation {index}: the creator must be a string")
    try:
        coords_json = _encode(coords)
    except (TypeError, ValueError) as e:
        raise InvalidInputError(f"annotation {index}: its coordinates must be JSON values ({e})") from None
    return new_row(t, label, coords_json, attributes, meta, _object_id(object_id, index), status, creator, index)
