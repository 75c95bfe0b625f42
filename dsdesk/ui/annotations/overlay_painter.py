"""Paints :class:`~dsdesk.api.overlays.OverlayShape` objects over an image, for the grid's
thumbnails and the viewer alike.

Shapes come in any unit (fractions of the image for the grid, image pixels in the viewer);
:class:`OverlayPainter` maps them onto a target rectangle with a scale and an offset, so
pens keep their width in screen pixels whatever the zoom.  Class annotations (no shape)
are drawn as small tags in the top-left corner.  GUI thread only.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap, QPolygonF

from dsdesk.api.overlays import OverlayShape

_COLORS: dict[str, QColor] = {}
_PENS: dict[tuple[str, float], QPen] = {}


def qcolor(hex_color: str) -> QColor:
    """A cached QColor of ``#rrggbb`` (the grid paints thousands of shapes a second)."""
    c = _COLORS.get(hex_color)
    if c is None:
        c = _COLORS[hex_color] = QColor(hex_color)
    return c


def swatch(color: str, size: int = 14) -> QIcon:
    """A square of *color* (label lists, the legend, the recipe editor)."""
    pm = QPixmap(size, size)
    pm.fill(qcolor(color))
    return QIcon(pm)


class OverlayPainter:
    """Maps shape coordinates to the target rectangle (``x * sx + ox``) and draws them.

    *pen_width* is in screen pixels; *tags* draws the label name beside boxes and
    polygons (the viewer) or not (small thumbnails); *max_shapes* caps a crowded item so
    one cell cannot stall scrolling.
    """

    def __init__(self, target: QRectF, source_width: float = 1.0, source_height: float = 1.0,
                 pen_width: float = 1.5, tags: bool = False, max_shapes: int = 300):
        self.sx = target.width() / source_width if source_width else 1.0
        self.sy = target.height() / source_height if source_height else 1.0
        self.ox, self.oy = target.x(), target.y()
        self.target = target
        self.pen_width, self.tags, self.max_shapes = pen_width, tags, max_shapes

    def map(self, x: float, y: float) -> QPointF:
        """A shape coordinate on the target."""
        return QPointF(self.ox + x * self.sx, self.oy + y * self.sy)

    def unmap(self, pt: QPointF) -> tuple[float, float]:
        """A target point in shape coordinates."""
        return (pt.x() - self.ox) / (self.sx or 1.0), (pt.y() - self.oy) / (self.sy or 1.0)

    def rect_of(self, shape: OverlayShape) -> QRectF:
        """The bounding rectangle of *shape* on the target (empty for a class)."""
        pts = [self.map(x, y) for ring in shape.rings for x, y in ring]
        if not pts:
            return QRectF()
        xs, ys = [p.x() for p in pts], [p.y() for p in pts]
        return QRectF(QPointF(min(xs), min(ys)), QPointF(max(xs), max(ys)))

    def paint(self, p: QPainter, shapes: Iterable[OverlayShape], highlight: int | None = None) -> None:
        """Draw *shapes*; the one whose annotation id is *highlight* gets a thicker pen and
        a light fill."""
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setClipRect(self.target)
        classes: list[OverlayShape] = []
        # Boxes without a tag (the grid's thumbnails) are drawn together, one drawRects per
        # colour: a cell's paint then costs a few calls, however many boxes it has.
        boxes: dict[str, list[QRectF]] = {}
        sx, sy, ox, oy = self.sx, self.sy, self.ox, self.oy
        for n, s in enumerate(shapes):
            if n >= self.max_shapes:
                break
            if s.kind == "class":
                classes.append(s)
            elif s.kind == "box" and not self.tags and s.annotation_id != highlight:
                (x0, y0), (x1, y1) = s.rings[0][:2]
                boxes.setdefault(s.color, []).append(
                    QRectF(ox + x0 * sx, oy + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy).normalized())
            else:
                try:
                    self.paint_shape(p, s, selected=s.annotation_id == highlight)
                except (IndexError, TypeError, ValueError):
                    continue  # a shape with too few points is skipped, never fatal to a paint
        if boxes:
            p.setBrush(Qt.BrushStyle.NoBrush)
            for color, rects in boxes.items():
                p.setPen(self._pen(color))
                p.drawRects(rects)
        p.setClipping(False)
        self._paint_class_tags(p, classes, highlight)
        p.restore()

    def _pen(self, color: str) -> QPen:
        key = (color, self.pen_width)
        pen = _PENS.get(key)
        if pen is None:
            pen = _PENS[key] = QPen(qcolor(color), self.pen_width)
            pen.setCosmetic(True)
        return pen

    def paint_shape(self, p: QPainter, s: OverlayShape, selected: bool = False) -> None:
        """Draw one shape (not a class) in its label colour."""
        col = qcolor(s.color)
        pen = QPen(col, self.pen_width * (2 if selected else 1))
        pen.setCosmetic(True)
        p.setPen(pen)
        if selected:
            fill = QColor(col)
            fill.setAlpha(60)
            p.setBrush(fill)
        else:
            p.setBrush(Qt.BrushStyle.NoBrush)
        anchor: QPointF | None = None
        if s.kind in ("box", "ellipse"):
            (x0, y0), (x1, y1) = s.rings[0][:2]
            r = QRectF(self.map(x0, y0), self.map(x1, y1)).normalized()
            (p.drawRect if s.kind == "box" else p.drawEllipse)(r)
            anchor = r.topLeft()
        elif s.kind == "point":
            q = self.map(*s.rings[0][0])
            radius = max(2.5, self.pen_width * 2) * (1.5 if selected else 1)
            p.setBrush(col)
            p.drawEllipse(q, radius, radius)
            if selected:
                p.setPen(QPen(QColor("white"), 1))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawEllipse(q, radius + 2, radius + 2)
            anchor = q
        else:
            for ring in s.rings:
                poly = QPolygonF([self.map(x, y) for x, y in ring])
                (p.drawPolyline if s.kind == "polyline" else p.drawPolygon)(poly)
                if anchor is None and ring:
                    anchor = self.map(*ring[0])
        if selected and s.kind != "point":
            # Corner handles: the selection must be plain to see on any image.
            r = self.rect_of(s)
            p.setPen(QPen(QColor("black"), 1))
            p.setBrush(QColor("white"))
            for c in (r.topLeft(), r.topRight(), r.bottomLeft(), r.bottomRight()):
                p.drawRect(QRectF(c.x() - 3, c.y() - 3, 6, 6))
        if self.tags and anchor is not None:
            self._tag(p, anchor, s.label, col)

    def _paint_class_tags(self, p: QPainter, classes: list[OverlayShape], highlight: int | None) -> None:
        if not classes:
            return
        if self.tags:
            y = self.target.y() + 6
            for s in classes:
                h = self._tag(p, QPointF(self.target.x() + 6, y), f"class: {s.label}", qcolor(s.color),
                              below=True, outline=s.annotation_id == highlight)
                y += h + 4
            return
        # Thumbnails: one small chip per class label, side by side along the top edge.
        f = QFont(p.font())
        f.setPointSizeF(max(6.0, f.pointSizeF() * 0.8))
        p.setFont(f)
        x = self.target.x() + 3
        for s in classes:
            x += self._tag(p, QPointF(x, self.target.y() + 3), s.label, qcolor(s.color), below=True,
                           return_width=True) + 3

    def class_tag_rects(self, p_font_metrics, classes: list[OverlayShape]) -> list[tuple[int, QRectF]]:
        """Where :meth:`paint` puts the class tags in the viewer (for clicking on one)."""
        out = []
        y = self.target.y() + 6
        for s in classes:
            text = f"class: {s.label}"
            w, h = p_font_metrics.horizontalAdvance(text) + 8, p_font_metrics.height() + 2
            out.append((s.annotation_id, QRectF(self.target.x() + 6, y, w, h)))
            y += h + 4
        return out

    @staticmethod
    def _tag(p: QPainter, at: QPointF, text: str | None, col: QColor, below: bool = False,
             outline: bool = False, return_width: bool = False) -> float:
        """A filled label chip at *at* (its bottom-left, or top-left when *below*); returns
        its height (or width)."""
        if not text:
            return 0.0
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
        r = QRectF(at.x(), at.y() if below else at.y() - h, w, h)
        p.fillRect(r, col)
        if outline:
            p.setPen(QPen(QColor("white"), 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(r)
        # Dark text on light label colours, white on dark ones: readable on any palette.
        light = col.lightness() > 150
        p.setPen(QColor("black") if light else QColor("white"))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
        return w if return_width else h
