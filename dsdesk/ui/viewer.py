"""The item viewer: the full image scaled to the window with its annotations drawn on it.

The image is read and decoded on a worker (a QImage); the dialog converts it to a pixmap
on the GUI thread.  Boxes, points, polygons/segments, polylines and ellipses are drawn in
their label's recipe colour; classification labels are listed in the corner.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from dsdesk.api.item_details import read_item_binary

DEFAULT_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]


def load_image(cat, dataset_id: int, item_id: int) -> tuple[QImage, list, dict, str]:
    """(image, annotations, label colours, title) of an item (worker thread: QImage only)."""
    d, data = read_item_binary(cat, dataset_id, item_id)
    img = QImage.fromData(data)
    return img, d.annotations, d.label_colors, f"{d.dataset_name}:{d.item.filename}"


class AnnotatedImage(QWidget):
    """Paints an image scaled to fit, and annotations in image coordinates over it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pixmap: QPixmap | None = None
        self.annotations: list = []
        self.colors: dict = {}
        self.message = "Loading…"
        self.setMinimumSize(320, 240)

    def color(self, label: str | None) -> QColor:
        """The colour of *label* (recipe colour, else a stable palette entry)."""
        if label and label in self.colors:
            return QColor(self.colors[label])
        return QColor(DEFAULT_COLORS[hash(label or "") % len(DEFAULT_COLORS)])

    def paintEvent(self, _e) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 32))
        if self.pixmap is None or self.pixmap.isNull():
            p.setPen(QColor(220, 220, 220))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        pw, ph = self.pixmap.width(), self.pixmap.height()
        scale = min(self.width() / pw, self.height() / ph)
        tw, th = pw * scale, ph * scale
        ox, oy = (self.width() - tw) / 2, (self.height() - th) / 2
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.drawPixmap(QRectF(ox, oy, tw, th), self.pixmap, QRectF(0, 0, pw, ph))

        def pt(c) -> QPointF:
            return QPointF(ox + float(c["x"]) * scale, oy + float(c["y"]) * scale)

        classes = []
        for a in self.annotations:
            col = self.color(a.label)
            p.setPen(QPen(col, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            c = a.coordinates
            try:
                if a.type == "box" and isinstance(c, list) and len(c) >= 2:
                    r = QRectF(pt(c[0]), pt(c[1])).normalized()
                    p.drawRect(r)
                    self._tag(p, r.topLeft(), a.label, col)
                elif a.type == "point" and isinstance(c, dict):
                    q = pt(c)
                    p.setBrush(col)
                    p.drawEllipse(q, 4, 4)
                    self._tag(p, q, a.label, col)
                elif a.type in ("segment", "polygon", "polyline") and isinstance(c, list):
                    for ring in c:
                        poly = QPolygonF([pt(x) for x in ring])
                        (p.drawPolyline if a.type == "polyline" else p.drawPolygon)(poly)
                        if ring:
                            self._tag(p, pt(ring[0]), a.label, col)
                elif a.type == "ellipse" and isinstance(c, dict) and "center" in c:
                    q = pt(c["center"])
                    p.drawEllipse(q, float(c.get("rx", 5)) * scale, float(c.get("ry", 5)) * scale)
                elif a.type == "class":
                    classes.append(a)
            except (KeyError, TypeError, ValueError):
                continue  # a malformed shape is skipped, not fatal
        y = oy + 8
        for a in classes:
            self._tag(p, QPointF(ox + 8, y + 16), f"class: {a.label}", self.color(a.label))
            y += 22

    @staticmethod
    def _tag(p: QPainter, at: QPointF, text: str | None, col: QColor) -> None:
        if not text:
            return
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(text) + 8, fm.height() + 2
        r = QRectF(at.x(), at.y() - h, w, h)
        p.fillRect(r, col)
        p.setPen(QColor("white"))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)


class ItemViewerDialog(QDialog):
    """A non-modal window showing one item large with its annotations."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Item")
        self.resize(960, 720)
        self.canvas = AnnotatedImage(self)
        self.caption = QLabel("", self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.caption)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def set_loaded(self, result) -> None:
        """Show what :func:`load_image` returned (GUI thread)."""
        img, anns, colors, title = result
        self.setWindowTitle(title)
        if img.isNull():
            self.canvas.message = "This file is not an image dsdesk can show."
        else:
            self.canvas.pixmap = QPixmap.fromImage(img)
            self.caption.setText(f"  {img.width()} × {img.height()} · {len(anns)} annotation(s)")
        self.canvas.annotations = anns
        self.canvas.colors = colors
        self.canvas.update()

    def set_failed(self, error: BaseException) -> None:
        """Show why the item could not be opened."""
        self.canvas.message = f"Cannot open the item: {error}"
        self.canvas.update()
