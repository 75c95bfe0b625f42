"""The viewer canvas's select-tool drag: which handle a press grabs, the preview while the
mouse moves, and the coordinates to save on release.

The geometry is :mod:`dsdesk.ui.annotations.shape_edit`'s; this module maps it to the
widget (handles are hit within a few pixels on screen, whatever the zoom).  While a drag
runs the record shows the dragged coordinates; :meth:`ShapeDrag.finish` puts the old ones
back, so the undo command that saves the new ones is what changes the record.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

from PySide6.QtCore import QPointF

from dsdesk.ui.annotations.document import AnnotationRecord
from dsdesk.ui.annotations.overlay_painter import OverlayPainter
from dsdesk.ui.annotations.shape_edit import EDITABLE, MOVE, box_corners, dragged, vertices

NEAR = 6.0  # widget pixels: how close to a side or a corner a press must be
_STILL = 3  # widget pixels a press may wander and still be a click


def handle_at(rec: AnnotationRecord, pos: QPointF, op: OverlayPainter, on_shape: Callable[[], bool]) -> tuple | None:
    """The handle of *rec* that a press at *pos* (widget pixels; *op* maps image pixels
    there) grabs: a box's corner or side, a polygon's or polyline's corner, else the
    whole shape when *on_shape()* says the press is on it; None for nothing (or a type
    that is not dragged)."""
    if rec.type not in EDITABLE:
        return None
    coords = rec.data.get("coordinates")
    pts = vertices(rec.type, coords)
    if not pts:
        return None
    if rec.type == "box" and len(pts) == 2:
        x0, y0, x1, y1 = box_corners(coords)
        a, b = op.map(x0, y0), op.map(x1, y1)
        for sx, sy, q in ((-1, -1, a), (1, -1, QPointF(b.x(), a.y())), (-1, 1, QPointF(a.x(), b.y())), (1, 1, b)):
            if math.hypot(q.x() - pos.x(), q.y() - pos.y()) <= NEAR + 2:
                return ("box", sx, sy)
        within_x = a.x() - NEAR <= pos.x() <= b.x() + NEAR
        within_y = a.y() - NEAR <= pos.y() <= b.y() + NEAR
        for sx, sy, hit in ((-1, 0, abs(pos.x() - a.x()) <= NEAR and within_y),
                            (1, 0, abs(pos.x() - b.x()) <= NEAR and within_y),
                            (0, -1, abs(pos.y() - a.y()) <= NEAR and within_x),
                            (0, 1, abs(pos.y() - b.y()) <= NEAR and within_x)):
            if hit:
                return ("box", sx, sy)
    elif rec.type in ("segment", "polyline"):
        for i, p in enumerate(pts):
            q = op.map(p["x"], p["y"])
            if math.hypot(q.x() - pos.x(), q.y() - pos.y()) <= NEAR + 2:
                return ("vertex", i)
    return MOVE if on_shape() else None


class ShapeDrag:
    """One drag of *record*'s *handle*, pressed at *pos* (widget pixels)."""

    def __init__(self, record: AnnotationRecord, handle: tuple, pos: QPointF, op: OverlayPainter):
        self.record, self.handle = record, handle
        self.before = copy.deepcopy(record.data.get("coordinates"))
        self._press, self._from = QPointF(pos), op.unmap(pos)
        self.moved = False

    def move_to(self, pos: QPointF, op: OverlayPainter, width: float, height: float) -> bool:
        """Preview the drag with the mouse at *pos* in a *width* x *height* image; False
        while it is still a click (the mouse barely moved)."""
        if not self.moved and (pos - self._press).manhattanLength() < _STILL:
            return False
        self.moved = True
        x, y = op.unmap(pos)
        self.record.data["coordinates"] = dragged(self.record.type, self.before, self.handle, x - self._from[0],
                                                  y - self._from[1], width, height)
        return True

    def finish(self):
        """End the drag: the record gets its coordinates from before back; returns the
        dragged ones, or None when the drag changed nothing."""
        after = self.record.data.get("coordinates")
        self.record.data["coordinates"] = self.before
        return after if self.moved and after != self.before else None
