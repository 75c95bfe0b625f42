"""Dataloop annotation JSON built from and read back into plain geometry.

Every format speaks boxes, polygons and points in its own units; the catalog keeps them
as Dataloop's ``coordinates`` (a box is two ``{x, y, z}`` corners, a polygon one ring of
``{x, y}``, a point one ``{x, y, z}``).  These helpers are the one translation, so the
readers and writers of every format agree.
"""

from __future__ import annotations

import math
from typing import Any


def box(label: str, left: float, top: float, right: float, bottom: float, attributes=None,
        metadata=None) -> dict:
    """A Dataloop box annotation."""
    return _ann("box", label, [{"x": left, "y": top, "z": 0}, {"x": right, "y": bottom, "z": 0}], attributes,
                metadata)


def polygon(label: str, points: list[tuple[float, float]], attributes=None, metadata=None) -> dict:
    """A Dataloop polygon (``segment``) annotation from ``[(x, y), ...]``."""
    return _ann("segment", label, [[{"x": x, "y": y} for x, y in points]], attributes, metadata)


def point(label: str, x: float, y: float, attributes=None, metadata=None) -> dict:
    """A Dataloop point annotation."""
    return _ann("point", label, {"x": x, "y": y, "z": 0}, attributes, metadata)


def classification(label: str, attributes=None, metadata=None) -> dict:
    """A Dataloop class annotation (a tag on the whole image)."""
    return _ann("class", label, [], attributes, metadata)


def binary(label: str, png_data_url: str, attributes=None, metadata=None) -> dict:
    """A Dataloop mask (``binary``) annotation from its PNG ``data:`` URL."""
    return _ann("binary", label, png_data_url, attributes, metadata)


def _ann(t: str, label: str, coordinates: Any, attributes, metadata) -> dict:
    a: dict = {"type": t, "label": label, "coordinates": coordinates}
    if attributes:
        a["attributes"] = attributes
    if metadata:
        a["metadata"] = metadata
    return a


def box_corners(coordinates: Any) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of a stored box's coordinates."""
    if len(coordinates) == 2:  # two corners, the common case
        p, q = coordinates
        x0, y0, x1, y1 = p["x"], p["y"], q["x"], q["y"]
        return (x0 if x0 < x1 else x1), (y0 if y0 < y1 else y1), (x1 if x0 < x1 else x0), (y1 if y0 < y1 else y0)
    pts = [c for c in coordinates if isinstance(c, dict)]
    xs, ys = [p["x"] for p in pts], [p["y"] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def ring(coordinates: Any) -> list[tuple[float, float]]:
    """``[(x, y), ...]`` of a stored polygon or polyline (its first ring)."""
    first = coordinates[0] if coordinates and isinstance(coordinates[0], list) else coordinates
    return [(p["x"], p["y"]) for p in first or []]


def bounds(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """``(left, top, right, bottom)`` of points."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def polygon_area(points: list[tuple[float, float]]) -> float:
    """The area of a simple polygon (the shoelace formula)."""
    n = len(points)
    s = 0.0
    for i in range(n):
        x1, y1 = points[i]
        x2, y2 = points[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2.0


def finite(*values: Any) -> bool:
    """Whether every value is a real, finite number (bools are not numbers here)."""
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
