"""Annotation shapes as Dataloop's SDK names them: ``dd.Box``, ``dd.Point``, ``dd.Polygon``,
``dd.Polyline``, ``dd.Segmentation``, ``dd.Classification``, ``dd.Ellipse``.

A shape is an annotation definition: its geometry, ``label``, ``attributes`` and
``description``.  ``to_coordinates()`` gives the ``coordinates`` of Dataloop's annotation
JSON and :func:`definition_from_json` reads them back, so shapes round-trip.  Shapes do not
check themselves when made (a script builds them field by field, as with the SDK); the
upload checks every one and names the first bad one by its index (see
:mod:`dsdesk.api.annotation_rows`).

A segmentation is kept the way Dataloop's JSON has it: an RGBA PNG as a ``data:`` URL,
the label colour where the mask is set and transparent elsewhere.  Masks are lists of rows
(0 / non-zero), anything with ``tolist()`` (a NumPy array) or a PIL image.
"""

from __future__ import annotations

import base64
import io
import math
from abc import ABC, abstractmethod
from typing import Any

from dsdesk.api.labels import label_color, to_rgb
from dsdesk.errors import InvalidInputError

__all__ = ["BaseAnnotationDefinition", "Box", "Point", "Polygon", "Polyline", "Segmentation",
           "Classification", "Ellipse", "definition_from_json", "SHAPES"]

PNG_PREFIX = "data:image/png;base64,"


def _pairs(geo: Any) -> list[list[float]]:
    """``[[x, y], ...]`` from a list of pairs, ``{x, y}`` dicts or an array (``tolist()``)."""
    if hasattr(geo, "tolist"):
        geo = geo.tolist()
    out = []
    for p in geo or []:
        if isinstance(p, dict):
            out.append([p.get("x"), p.get("y")])
        elif isinstance(p, (list, tuple)) and len(p) >= 2:
            out.append([p[0], p[1]])
        else:
            out.append([p, None])  # not a point: the upload names it
    return out


class BaseAnnotationDefinition(ABC):
    """What every shape has: ``type``, ``label``, ``attributes``, ``description``, and its
    bounding box (``left``, ``top``, ``right``, ``bottom``)."""

    type = ""

    def __init__(self, label=None, attributes=None, description=None):
        self.label = label
        self.attributes = attributes if attributes is not None else {}
        self.description = description

    @abstractmethod
    def to_coordinates(self, color=None) -> Any:
        """The shape's ``coordinates`` in Dataloop's annotation JSON."""

    @property
    def geo(self) -> Any:
        return []

    @property
    def left(self):
        return min((p[0] for p in self.geo), default=0)

    @property
    def top(self):
        return min((p[1] for p in self.geo), default=0)

    @property
    def right(self):
        return max((p[0] for p in self.geo), default=0)

    @property
    def bottom(self):
        return max((p[1] for p in self.geo), default=0)

    @property
    def width(self):
        return self.right - self.left

    @property
    def height(self):
        return self.bottom - self.top

    def __repr__(self) -> str:
        return f"{type(self).__name__}(label={self.label!r})"


class Box(BaseAnnotationDefinition):
    """A box from its ``left``, ``top``, ``right``, ``bottom``; ``angle`` (degrees) rotates it."""

    type = "box"

    def __init__(self, left=None, top=None, right=None, bottom=None, label=None, attributes=None,
                 description=None, angle=None):
        super().__init__(label, attributes, description)
        self._l, self._t, self._r, self._b = left, top, right, bottom
        self.angle = angle

    # Settable, as in the SDK (``annotation.top = 150``).
    left = property(lambda self: self._l, lambda self, v: setattr(self, "_l", v))
    top = property(lambda self: self._t, lambda self, v: setattr(self, "_t", v))
    right = property(lambda self: self._r, lambda self, v: setattr(self, "_r", v))
    bottom = property(lambda self: self._b, lambda self, v: setattr(self, "_b", v))

    @property
    def geo(self):
        return [[self.left, self.top], [self.right, self.bottom]]

    def to_coordinates(self, color=None):
        pts = [{"x": self.left, "y": self.top, "z": 0}, {"x": self.right, "y": self.bottom, "z": 0}]
        if self.angle:
            pts.append(self.angle)
        return pts

    @classmethod
    def from_coordinates(cls, coordinates, **kw) -> Box:
        pts = _pairs([c for c in coordinates if isinstance(c, dict)])
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        angle = next((c for c in coordinates[2:] if isinstance(c, (int, float))), None)
        return cls(min(xs), min(ys), max(xs), max(ys), angle=angle, **kw)


class Point(BaseAnnotationDefinition):
    """A point ``x``, ``y``."""

    type = "point"

    def __init__(self, x=None, y=None, label=None, attributes=None, description=None):
        super().__init__(label, attributes, description)
        self.x, self.y = x, y

    @property
    def geo(self):
        return [[self.x, self.y]]

    def to_coordinates(self, color=None):
        return {"x": self.x, "y": self.y, "z": 0}

    @classmethod
    def from_coordinates(cls, coordinates, **kw) -> Point:
        return cls(coordinates.get("x"), coordinates.get("y"), **kw)


class Polygon(BaseAnnotationDefinition):
    """A closed polygon from ``geo`` = ``[[x, y], ...]`` (three points at least)."""

    type = "segment"

    def __init__(self, geo=None, label=None, attributes=None, description=None):
        super().__init__(label, attributes, description)
        self._geo = _pairs(geo)

    @property
    def geo(self):
        return self._geo

    @geo.setter
    def geo(self, v):
        self._geo = _pairs(v)

    @property
    def x(self):
        return [p[0] for p in self._geo]

    @property
    def y(self):
        return [p[1] for p in self._geo]

    def to_coordinates(self, color=None):
        return [[{"x": x, "y": y} for x, y in self._geo]]

    @classmethod
    def from_coordinates(cls, coordinates, **kw):
        return cls(geo=coordinates[0] if coordinates else [], **kw)


class Polyline(Polygon):
    """An open line through ``geo`` = ``[[x, y], ...]`` (two points at least)."""

    type = "polyline"


class Classification(BaseAnnotationDefinition):
    """A class tag on the whole item: a label and no geometry."""

    type = "class"

    def __init__(self, label=None, attributes=None, description=None):
        super().__init__(label, attributes, description)

    def to_coordinates(self, color=None):
        return []

    @classmethod
    def from_coordinates(cls, coordinates, **kw):
        return cls(**kw)


class Ellipse(BaseAnnotationDefinition):
    """An ellipse: centre ``x``, ``y``, radii ``rx``, ``ry``, rotation ``angle`` in degrees."""

    type = "ellipse"

    def __init__(self, x=None, y=None, rx=None, ry=None, angle=0, label=None, attributes=None,
                 description=None):
        super().__init__(label, attributes, description)
        self.x, self.y, self.rx, self.ry, self.angle = x, y, rx, ry, angle

    def _half_extent(self) -> tuple[float, float]:
        a = math.radians(self.angle or 0)
        return (math.hypot(self.rx * math.cos(a), self.ry * math.sin(a)),
                math.hypot(self.rx * math.sin(a), self.ry * math.cos(a)))

    @property
    def geo(self):
        w, h = self._half_extent()
        return [[self.x - w, self.y - h], [self.x + w, self.y + h]]

    def to_coordinates(self, color=None):
        return {"angle": self.angle or 0, "center": {"x": self.x, "y": self.y, "z": 0}, "rx": self.rx, "ry": self.ry}

    @classmethod
    def from_coordinates(cls, coordinates, **kw):
        c = coordinates.get("center") or {}
        return cls(c.get("x"), c.get("y"), coordinates.get("rx"), coordinates.get("ry"),
                   coordinates.get("angle", 0), **kw)


class Segmentation(BaseAnnotationDefinition):
    """A pixel mask: ``geo`` is a list of rows (0 / non-zero), an array or a PIL image."""

    type = "binary"

    def __init__(self, geo=None, label=None, attributes=None, description=None, color=None):
        super().__init__(label, attributes, description)
        self._png: str | None = None
        self._mask: list[list[int]] | None = None
        if isinstance(geo, str):
            self._png = geo
        else:
            self._mask = _mask_rows(geo)
        self.color = color

    @property
    def geo(self) -> list[list[int]]:
        """The mask as rows of 0/1."""
        if self._mask is None:
            self._mask = _decode_png(self._png)
        return self._mask

    @geo.setter
    def geo(self, v):
        self._mask, self._png = _mask_rows(v), None

    def _set_bounds(self):
        rows = [i for i, r in enumerate(self.geo) if any(r)]
        cols = [j for r in self.geo for j, v in enumerate(r) if v]
        return (min(cols, default=0), min(rows, default=0), max(cols, default=0), max(rows, default=0))

    left = property(lambda self: self._set_bounds()[0])
    top = property(lambda self: self._set_bounds()[1])
    right = property(lambda self: self._set_bounds()[2])
    bottom = property(lambda self: self._set_bounds()[3])

    def to_coordinates(self, color=None):
        if self._png is not None and color is None:
            return self._png
        if self._mask is None:
            self._mask = _decode_png(self._png)
        return _encode_png(self._mask, to_rgb(color or self.color or label_color(self.label)))

    @classmethod
    def from_coordinates(cls, coordinates, **kw):
        return cls(geo=coordinates, **kw)

    @classmethod
    def from_polygon(cls, geo, label, shape, attributes=None, description=None) -> Segmentation:
        """The mask of polygon *geo* (``[[x, y], ...]``) in an image of *shape* ``(height, width)``."""
        from PIL import Image, ImageDraw

        h, w = int(shape[0]), int(shape[1])
        img = Image.new("L", (w, h), 0)
        ImageDraw.Draw(img).polygon([tuple(p) for p in _pairs(geo)], fill=1, outline=1)
        return cls(geo=img, label=label, attributes=attributes, description=description)


def _mask_rows(geo) -> list[list[int]] | None:
    if geo is None:
        return None
    if hasattr(geo, "getdata") and hasattr(geo, "size"):  # a PIL image
        w, h = geo.size
        flat = [1 if v else 0 for v in geo.convert("L").tobytes()]
        return [flat[i * w:(i + 1) * w] for i in range(h)]
    if hasattr(geo, "tolist"):
        geo = geo.tolist()
    if not isinstance(geo, (list, tuple)):
        return geo  # not a mask: the upload names it
    return [[1 if v else 0 for v in row] if isinstance(row, (list, tuple)) else row for row in geo]


def _encode_png(mask, rgb) -> str:
    from PIL import Image

    h = len(mask)
    w = len(mask[0]) if h else 0
    alpha = Image.frombytes("L", (w, h), bytes(255 if v else 0 for row in mask for v in row))
    img = Image.new("RGBA", (w, h), (*rgb, 0))
    img.putalpha(alpha)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return PNG_PREFIX + base64.b64encode(buf.getvalue()).decode("ascii")


def _decode_png(data: str | None) -> list[list[int]]:
    from PIL import Image

    if not isinstance(data, str) or not data.startswith(PNG_PREFIX):
        raise InvalidInputError("a segmentation's coordinates must be a data:image/png;base64 URL")
    img = Image.open(io.BytesIO(base64.b64decode(data[len(PNG_PREFIX):]))).convert("RGBA")
    w, h = img.size
    flat = [1 if v else 0 for v in img.getchannel("A").tobytes()]
    return [flat[i * w:(i + 1) * w] for i in range(h)]


#: Dataloop annotation type -> shape class.
SHAPES: dict[str, type[BaseAnnotationDefinition]] = {
    cls.type: cls for cls in (Box, Point, Polygon, Polyline, Classification, Ellipse, Segmentation)}


def definition_from_json(ann: dict) -> BaseAnnotationDefinition | None:
    """The shape of an annotation JSON (``type``, ``coordinates``, ``label`` ...), or None for
    a type without a shape class here (kept as raw coordinates)."""
    cls = SHAPES.get(ann.get("type"))
    if cls is None:
        return None
    kw = {"label": ann.get("label"), "attributes": ann.get("attributes"), "description": ann.get("description")}
    coords = ann.get("coordinates", ann.get("data"))
    if cls is Classification:
        return Classification(**kw)
    if coords is None:
        raise InvalidInputError(f"a {ann.get('type')} annotation needs coordinates")
    return cls.from_coordinates(coords, **kw)
