"""The viewer's canvas: the image scaled to fit, its annotations drawn over it, and the
mouse tools that select and draw.

Tools (:data:`TOOLS`): ``select`` (click an annotation; a class tag in the corner is
clicked too), ``box`` (drag), ``polygon`` (click each corner; double-click, Enter or a
click on the first corner closes it; Backspace removes the last corner; Esc cancels) and
``point`` (click).  With ``select``, dragging the selected box's corner or side resizes
it, dragging a polygon's or polyline's corner moves that corner, and dragging a shape
moves it (:mod:`dsdesk.ui.annotations.shape_drag`); the drag is previewed and reported
once, on release.  The wheel and ``+`` / ``-`` zoom (about the pointer; ``0`` fits the
image again); the middle button, or the left one with Space held, pans.

The canvas only reports: ``shape_drawn(type, coordinates)`` and ``shape_edited(key,
coordinates)`` in image pixels as Dataloop JSON, and ``selection_changed(key)``; the
viewer turns them into undo commands.  GUI thread only.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QWidget

from dsdesk.api.overlays import OverlayShape
from dsdesk.ui.annotations.document import AnnotationDocument
from dsdesk.ui.annotations.overlay_painter import OverlayPainter, qcolor
from dsdesk.ui.annotations.shape_drag import ShapeDrag, handle_at

TOOLS = ("select", "box", "polygon", "point")
_NEAR = 6.0  # pixels: how close a click must be to a point, a line or a polygon's first corner
ZOOM_STEP = 1.25  # one wheel notch or one + / -
ZOOM_RANGE = (0.25, 32.0)  # times the fitted size
_CURSORS = {(-1, -1): Qt.CursorShape.SizeFDiagCursor, (1, 1): Qt.CursorShape.SizeFDiagCursor,
            (1, -1): Qt.CursorShape.SizeBDiagCursor, (-1, 1): Qt.CursorShape.SizeBDiagCursor,
            (-1, 0): Qt.CursorShape.SizeHorCursor, (1, 0): Qt.CursorShape.SizeHorCursor,
            (0, -1): Qt.CursorShape.SizeVerCursor, (0, 1): Qt.CursorShape.SizeVerCursor}


def _segment_distance(p: QPointF, a: QPointF, b: QPointF) -> float:
    dx, dy = b.x() - a.x(), b.y() - a.y()
    if dx == dy == 0:
        return math.hypot(p.x() - a.x(), p.y() - a.y())
    t = max(0.0, min(1.0, ((p.x() - a.x()) * dx + (p.y() - a.y()) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p.x() - (a.x() + t * dx), p.y() - (a.y() + t * dy))


class AnnotationCanvas(QWidget):
    """Paints the image and the document's annotations; the current tool handles the mouse."""

    shape_drawn = Signal(str, object)  # annotation type, Dataloop coordinates in image pixels
    shape_edited = Signal(int, object)  # the record's key, its new coordinates in image pixels
    selection_changed = Signal(object)  # the selected record's key, or None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.doc: AnnotationDocument | None = None
        self.message = "Loading…"
        self.tool = "select"
        self.draw_color = "#ffffff"
        self.selected_key: int | None = None
        self._drag_start: QPointF | None = None  # image coordinates
        self._drag_now: QPointF | None = None
        self._poly: list[QPointF] = []  # image coordinates of the polygon being drawn
        #: False on a read-only dataset: the select tool selects but drags nothing.
        self.editable = True
        self.zoom = 1.0  # times the fitted size
        self._pan = QPointF()  # the image centre's offset from the widget's, in widget pixels
        self._panning: tuple[QPointF, QPointF] | None = None  # (press position, pan then)
        self._space = False  # Space held: the left button pans
        self._edit: ShapeDrag | None = None  # the select tool's drag under way
        self.setMinimumSize(320, 240)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # ---- state ---------------------------------------------------------------------------
    @property
    def annotations(self) -> list:
        """The records drawn (the document's list; empty before it is loaded)."""
        return self.doc.records if self.doc is not None else []

    def set_document(self, doc: AnnotationDocument) -> None:
        """Draw *doc*'s annotations (and repaint when they change)."""
        self.doc = doc
        doc.changed.connect(self._on_doc_changed)
        self.update()

    def set_tool(self, tool: str) -> None:
        """Switch to *tool* (one of :data:`TOOLS`); an unfinished polygon is dropped."""
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        self.cancel_drawing()
        self.setCursor(Qt.CursorShape.ArrowCursor if tool == "select" else Qt.CursorShape.CrossCursor)

    def select(self, key: int | None) -> None:
        """Select the record with *key* (None: nothing)."""
        if key != self.selected_key:
            self.selected_key = key
            self.selection_changed.emit(key)
        self.update()

    def cancel_drawing(self) -> None:
        """Forget a box or polygon being drawn."""
        self._drag_start = self._drag_now = None
        self._poly = []
        self.update()

    def _on_doc_changed(self) -> None:
        if self.selected_key is not None and (self.doc is None or self.doc.by_key(self.selected_key) is None):
            self.select(None)
        self.update()

    # ---- geometry ------------------------------------------------------------------------
    def image_rect(self) -> QRectF:
        """Where the image is drawn: scaled to fit and centred, times :attr:`zoom`, moved by
        the pan."""
        if self.pixmap is None or self.pixmap.isNull():
            return QRectF()
        pw, ph = self.pixmap.width(), self.pixmap.height()
        scale = min(self.width() / pw, self.height() / ph) * self.zoom
        tw, th = pw * scale, ph * scale
        return QRectF((self.width() - tw) / 2 + self._pan.x(), (self.height() - th) / 2 + self._pan.y(), tw, th)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by *factor* (within :data:`ZOOM_RANGE`), keeping the image point under
        *anchor* (default: the widget's centre) where it is."""
        if self.pixmap is None or self.pixmap.isNull():
            return
        anchor = QPointF(self.width() / 2, self.height() / 2) if anchor is None else anchor
        x, y = self.painter_for().unmap(anchor)
        self.zoom = min(max(self.zoom * factor, ZOOM_RANGE[0]), ZOOM_RANGE[1])
        moved = self.painter_for().map(x, y)
        self._pan += anchor - moved
        self.update()

    def fit(self) -> None:
        """Show the whole image again (no zoom, no pan)."""
        self.zoom, self._pan = 1.0, QPointF()
        self.update()

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the image by ``(dx, dy)`` widget pixels."""
        self._pan += QPointF(dx, dy)
        self.update()

    def painter_for(self) -> OverlayPainter:
        """The mapping from image pixels to the widget."""
        return OverlayPainter(self.image_rect(), self.pixmap.width(), self.pixmap.height(), pen_width=2.0, tags=True)

    def to_image(self, pos: QPointF) -> QPointF:
        """A widget position in image pixels, kept inside the image."""
        x, y = self.painter_for().unmap(pos)
        return QPointF(min(max(x, 0.0), float(self.pixmap.width())), min(max(y, 0.0), float(self.pixmap.height())))

    def to_widget(self, pt: QPointF) -> QPointF:
        """Image pixels on the widget."""
        return self.painter_for().map(pt.x(), pt.y())

    def shape_at(self, pos: QPointF) -> int | None:
        """The key of the annotation under *pos*: a point or line nearby first, then the
        smallest box, ellipse or polygon containing it, then a class tag."""
        if self.doc is None or self.pixmap is None:
            return None
        op = self.painter_for()
        best: tuple[float, int] | None = None
        classes: list[OverlayShape] = []
        for rec, s in self.doc.shapes():
            score = None
            if s.kind == "class":
                classes.append(s)
                continue
            if s.kind == "point":
                q = op.map(*s.rings[0][0])
                if math.hypot(q.x() - pos.x(), q.y() - pos.y()) <= _NEAR + 2:
                    score = -1.0
            elif s.kind == "polyline":
                for ring in s.rings:
                    pts = [op.map(x, y) for x, y in ring]
                    if any(_segment_distance(pos, a, b) <= _NEAR for a, b in zip(pts, pts[1:], strict=False)):
                        score = 0.0
            elif s.kind in ("box", "ellipse"):
                r = op.rect_of(s).adjusted(-_NEAR / 2, -_NEAR / 2, _NEAR / 2, _NEAR / 2)
                if r.contains(pos):
                    score = r.width() * r.height()
            else:
                for ring in s.rings:
                    poly = QPolygonF([op.map(x, y) for x, y in ring])
                    if poly.containsPoint(pos, Qt.FillRule.OddEvenFill):
                        r = poly.boundingRect()
                        score = r.width() * r.height()
            if score is not None and (best is None or score < best[0]):
                best = (score, rec.key)
        if best is not None:
            return best[1]
        for key, r in op.class_tag_rects(self.fontMetrics(), classes):
            if r.contains(pos):
                return key
        return None

    # ---- painting ------------------------------------------------------------------------
    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 32))
        if self.pixmap is None or self.pixmap.isNull():
            p.setPen(QColor(220, 220, 220))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        target = self.image_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawPixmap(target, self.pixmap, QRectF(self.pixmap.rect()))
        op = self.painter_for()
        if self.doc is not None:
            op.paint(p, [s for _r, s in self.doc.shapes()], highlight=self.selected_key)
        self._paint_drawing(p, op)

    def _paint_drawing(self, p: QPainter, op: OverlayPainter) -> None:
        pen = QPen(qcolor(self.draw_color), 2, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self._drag_start is not None and self._drag_now is not None:
            p.drawRect(QRectF(self.to_widget(self._drag_start), self.to_widget(self._drag_now)).normalized())
        if self._poly:
            pts = [self.to_widget(q) for q in self._poly]
            if self._drag_now is not None:
                pts.append(self.to_widget(self._drag_now))
            p.drawPolyline(QPolygonF(pts))
            p.setBrush(qcolor(self.draw_color))
            for q in pts[:len(self._poly)]:
                p.drawEllipse(q, 3, 3)

    # ---- mouse and keys ------------------------------------------------------------------
    def _on_image(self, pos: QPointF) -> bool:
        return self.image_rect().adjusted(-_NEAR, -_NEAR, _NEAR, _NEAR).contains(pos)

    def handle_at(self, pos: QPointF) -> tuple | None:
        """What a press at *pos* would drag of the selected annotation (None: nothing):
        see :func:`dsdesk.ui.annotations.shape_drag.handle_at`."""
        rec = self.doc.by_key(self.selected_key) if self.doc is not None else None
        if rec is None or self.pixmap is None or not self.editable:
            return None
        return handle_at(rec, pos, self.painter_for(), lambda: self.shape_at(pos) == rec.key)

    def _start_edit(self, pos: QPointF) -> bool:
        handle = self.handle_at(pos)
        if handle is None:
            return False
        self._edit = ShapeDrag(self.doc.by_key(self.selected_key), handle, pos, self.painter_for())
        return True

    def _drag_edit(self, pos: QPointF) -> None:
        if self._edit.move_to(pos, self.painter_for(), self.pixmap.width(), self.pixmap.height()):
            self.update()

    def _end_edit(self) -> None:
        drag, self._edit = self._edit, None
        after = drag.finish()
        self.update()
        if after is not None:
            self.shape_edited.emit(drag.record.key, after)

    def _update_cursor(self, pos: QPointF) -> None:
        if self._panning is not None or self._space:
            shape = Qt.CursorShape.ClosedHandCursor if self._panning is not None else Qt.CursorShape.OpenHandCursor
        elif self.tool != "select":
            shape = Qt.CursorShape.CrossCursor
        else:
            handle = self.handle_at(pos) if self.editable else None
            shape = (Qt.CursorShape.ArrowCursor if handle is None else Qt.CursorShape.SizeAllCursor
                     if handle[0] in ("move", "vertex") else _CURSORS.get(handle[1:], Qt.CursorShape.ArrowCursor))
        self.setCursor(shape)

    def wheelEvent(self, e) -> None:
        steps = e.angleDelta().y() / 120
        if steps and self.pixmap is not None and not self.pixmap.isNull():
            self.zoom_by(ZOOM_STEP ** steps, e.position())
            e.accept()
        else:
            super().wheelEvent(e)

    def mousePressEvent(self, e) -> None:
        pos = e.position()
        if self.pixmap is None or self.pixmap.isNull():
            super().mousePressEvent(e)
            return
        if e.button() == Qt.MouseButton.MiddleButton or (e.button() == Qt.MouseButton.LeftButton and self._space):
            self._panning = (QPointF(pos), QPointF(self._pan))
            self._update_cursor(pos)
            return
        if e.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(e)
            return
        self.setFocus()
        if self.tool == "select":
            if not self._start_edit(pos):  # the selection's handle, or the selection itself
                self.select(self.shape_at(pos))
                self._start_edit(pos)  # grabbing another shape drags it at once
        elif not self._on_image(pos):
            return
        elif self.tool == "box":
            self._drag_start = self._drag_now = self.to_image(pos)
        elif self.tool == "point":
            q = self.to_image(pos)
            self.shape_drawn.emit("point", {"x": round(q.x(), 2), "y": round(q.y(), 2)})
        elif self.tool == "polygon":
            q = self.to_image(pos)
            if len(self._poly) >= 3:
                first = self.to_widget(self._poly[0])
                if math.hypot(first.x() - pos.x(), first.y() - pos.y()) <= _NEAR:
                    self.finish_polygon()
                    return
            self._poly.append(q)
            self.update()

    def mouseMoveEvent(self, e) -> None:
        if self.pixmap is None or self.pixmap.isNull():
            return
        if self._panning is not None:
            start, pan = self._panning
            self._pan = pan + (e.position() - start)
            self.update()
            return
        if self._edit is not None:
            self._drag_edit(e.position())
            return
        self._update_cursor(e.position())
        if self._drag_start is not None or self._poly:
            self._drag_now = self.to_image(e.position())
            self.update()

    def mouseReleaseEvent(self, e) -> None:
        if self._panning is not None and e.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._panning = None
            self._update_cursor(e.position())
            return
        if self._edit is not None and e.button() == Qt.MouseButton.LeftButton:
            self._end_edit()
            return
        if self.tool != "box" or self._drag_start is None or e.button() != Qt.MouseButton.LeftButton:
            return
        a, b = self._drag_start, self.to_image(e.position())
        self._drag_start = self._drag_now = None
        self.update()
        wa, wb = self.to_widget(a), self.to_widget(b)
        if abs(wa.x() - wb.x()) < 3 or abs(wa.y() - wb.y()) < 3:
            return  # a click, not a box
        x0, x1 = sorted((a.x(), b.x()))
        y0, y1 = sorted((a.y(), b.y()))
        self.shape_drawn.emit("box", [{"x": round(x0, 2), "y": round(y0, 2)}, {"x": round(x1, 2), "y": round(y1, 2)}])

    def mouseDoubleClickEvent(self, e) -> None:
        if self.tool == "polygon" and self._poly:
            # The double-click's first press added a corner already.
            self.finish_polygon()
            return
        super().mouseDoubleClickEvent(e)

    def finish_polygon(self) -> None:
        """Close the polygon being drawn (with three corners or more) and report it."""
        pts = []
        for q in self._poly:
            if not pts or math.hypot(q.x() - pts[-1].x(), q.y() - pts[-1].y()) > 0.5:
                pts.append(q)
        self._poly, self._drag_now = [], None
        self.update()
        if len(pts) >= 3:
            self.shape_drawn.emit("segment", [[{"x": round(q.x(), 2), "y": round(q.y(), 2)} for q in pts]])

    def keyPressEvent(self, e) -> None:
        k = e.key()
        if k == Qt.Key.Key_Space and not e.isAutoRepeat():
            self._space = True
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        elif k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(ZOOM_STEP)
        elif k == Qt.Key.Key_Minus:
            self.zoom_by(1 / ZOOM_STEP)
        elif k == Qt.Key.Key_0:
            self.fit()
        elif k == Qt.Key.Key_Escape and self._edit is not None:
            self._edit.finish()  # the drag is dropped: the shape goes back
            self._edit = None
            self.update()
        elif self.tool == "polygon" and self._poly and k in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish_polygon()
        elif self.tool == "polygon" and self._poly and k == Qt.Key.Key_Backspace:
            self._poly.pop()
            self.update()
        elif k == Qt.Key.Key_Escape and (self._poly or self._drag_start is not None):
            self.cancel_drawing()
        elif k == Qt.Key.Key_Escape and self.selected_key is not None:
            self.select(None)
        else:
            super().keyPressEvent(e)

    def keyReleaseEvent(self, e) -> None:
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self._space = False
            self.setCursor(Qt.CursorShape.ArrowCursor if self.tool == "select" else Qt.CursorShape.CrossCursor)
        else:
            super().keyReleaseEvent(e)
