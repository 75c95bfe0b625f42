"""Moving and reshaping an annotation's Dataloop coordinates: what the viewer's select tool drags.

A *handle* names what is dragged: ``("move",)`` the whole shape; ``("box", sx, sy)`` a
box's side or corner (``sx`` -1 left, 1 right, 0 neither; ``sy`` -1 top, 1 bottom, 0
neither: ``(-1, -1)`` is the top-left corner, ``(1, 0)`` the right edge); ``("vertex",
i)`` the *i*-th point of a polygon or polyline (its rings read in order).
:func:`dragged` applies a drag by ``(dx, dy)`` image pixels to a copy of the coordinates,
kept inside the image; the canvas previews it and the viewer saves it as one undoable
command.  Plain Python on Dataloop JSON (no Qt), so the geometry is tested on its own.
"""

from __future__ import annotations

import copy
from typing import Any

#: Annotation types whose shape the select tool can drag (classes have no geometry; an
#: ellipse is stored as centre and radii, which these handles do not describe).
EDITABLE = frozenset({"box", "point", "segment", "polyline"})
MOVE = ("move",)


def vertices(kind: str, coords: Any) -> list[dict]:
    """The ``{x, y}`` dicts of *coords* (the objects themselves, so a caller may change
    them): a box's two corners, a point, or every point of a polygon's or polyline's
    rings in order.  Entries that are not points (a box's angle) are left out."""
    if kind == "point":
        pts = [coords] if isinstance(coords, dict) else list(coords or [])[:1]
    elif kind == "box":
        pts = list(coords or [])[:2]
    elif coords and isinstance(coords[0], list):
        pts = [p for ring in coords for p in ring]
    else:
        pts = list(coords or [])
    return [p for p in pts if isinstance(p, dict) and "x" in p and "y" in p]


def box_corners(coords: Any) -> tuple[float, float, float, float]:
    """A box's ``(left, top, right, bottom)`` whichever corners its two points are."""
    a, b = vertices("box", coords)
    return min(a["x"], b["x"]), min(a["y"], b["y"]), max(a["x"], b["x"]), max(a["y"], b["y"])


def _clamp(v: float, top: float) -> float:
    return min(max(v, 0.0), top)


def dragged(kind: str, coords: Any, handle: tuple, dx: float, dy: float, width: float, height: float) -> Any:
    """A copy of *coords* with *handle* dragged by ``(dx, dy)`` image pixels, inside the
    ``width`` x ``height`` image, rounded to hundredths of a pixel.

    A moved shape keeps its size (the drag stops at the image's border); a box's side
    or corner dragged past the opposite one turns the box over (its corners stay left-top
    and right-bottom)."""
    out = copy.deepcopy(coords)
    pts = vertices(kind, out)
    if not pts:
        return out
    if handle == MOVE:
        xs, ys = [p["x"] for p in pts], [p["y"] for p in pts]
        dx = min(max(dx, -min(xs)), width - max(xs))
        dy = min(max(dy, -min(ys)), height - max(ys))
        for p in pts:
            p["x"], p["y"] = round(p["x"] + dx, 2), round(p["y"] + dy, 2)
    elif handle[0] == "box" and kind == "box":
        _, sx, sy = handle
        x0, y0, x1, y1 = box_corners(out)
        if sx < 0:
            x0 = _clamp(x0 + dx, width)
        elif sx > 0:
            x1 = _clamp(x1 + dx, width)
        if sy < 0:
            y0 = _clamp(y0 + dy, height)
        elif sy > 0:
            y1 = _clamp(y1 + dy, height)
        (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
        a, b = pts
        a["x"], a["y"], b["x"], b["y"] = round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)
    elif handle[0] == "vertex" and 0 <= handle[1] < len(pts):
        p = pts[handle[1]]
        p["x"], p["y"] = round(_clamp(p["x"] + dx, width), 2), round(_clamp(p["y"] + dy, height), 2)
    return out
