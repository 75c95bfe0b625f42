"""The grid's cell painter: a fixed ``sizeHint`` (the view uses uniform item sizes, measured
as essential for a million rows), the thumbnail or a placeholder until it arrives from
:class:`~dsdesk.ui.thumbnails.ThumbnailLoader`, the name, the badges, and the annotation
overlays in label colours while they are on.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from dsdesk.api.overlays import ItemOverlay
from dsdesk.ui.annotations.overlay_painter import OverlayPainter
from dsdesk.ui.grid_model import ItemGridModel
from dsdesk.ui.icons import pixmap
from dsdesk.ui.thumbnails import ThumbnailLoader

__all__ = ["ThumbnailDelegate"]


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints one grid cell: thumbnail or placeholder, name, and annotated/missing/changed badges.

    ``sizeHint`` is fixed (the view's uniform item sizes depend on it); painting never
    waits: missing facts and thumbnails are requested and the cell repaints when they come.
    """

    TEXT_H = 20
    COMPOSED_CAPACITY = 600  # thumbnails kept with their overlay drawn (a few screens' worth)

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self.cell = 160
        self._badges: dict[str, QPixmap] = {}
        self._placeholder_icons: dict[tuple[str, int], QPixmap] = {}
        self._composed: OrderedDict[tuple[int, int], tuple[ItemOverlay, QPixmap]] = OrderedDict()

    def set_cell_size(self, size: int) -> None:
        """The thumbnail side in pixels (the cell adds a margin and a line of text)."""
        self.cell = int(size)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(self.cell + 12, self.cell + self.TEXT_H + 14)

    def thumb_side(self) -> int:
        """The side :meth:`paint` draws a thumbnail at in a cell of the hinted size."""
        return min(self.cell, self.cell + 12 - 6 - 8)

    def _badge(self, name: str) -> QPixmap:
        pm = self._badges.get(name)
        if pm is None:
            pm = self._badges[name] = pixmap(name, 18)
        return pm

    def _glyph(self, name: str, size: int) -> QPixmap:
        key = (name, size)
        pm = self._placeholder_icons.get(key)
        if pm is None:
            pm = self._placeholder_icons[key] = pixmap(name, size)
        return pm

    def _with_overlay(self, item_id: int, pm: QPixmap, ov: ItemOverlay) -> QPixmap:
        """The thumbnail with its annotations drawn on it, made once per thumbnail and
        overlay: a cell is repainted many times while it scrolls by, and one pixmap is
        all the overlay then costs (measured in benchmarks/bench_grid_overlays.py)."""
        key = (item_id, pm.cacheKey())
        got = self._composed.get(key)
        if got is not None and (got[0] is ov or got[0] == ov):
            self._composed.move_to_end(key)
            return got[1]
        out = QPixmap(pm)
        dpr = pm.devicePixelRatio() or 1.0
        painter = QPainter(out)
        OverlayPainter(QRectF(0, 0, pm.width() / dpr, pm.height() / dpr), pen_width=1.5).paint(painter, ov.shapes)
        painter.end()
        self._composed[key] = (ov, out)
        while len(self._composed) > self.COMPOSED_CAPACITY:
            self._composed.popitem(last=False)
        return out

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        r = option.rect.adjusted(3, 3, -3, -3)
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if selected:
            hl = QColor(pal.color(QPalette.ColorRole.Highlight))
            p.setPen(QPen(hl, 2))
            hl.setAlpha(70)
            p.setBrush(hl)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
        p.drawRoundedRect(r, 6, 6)
        side = min(self.cell, r.width() - 8)
        thumb = QRect(r.x() + (r.width() - side) // 2, r.y() + 4, side, side)
        info = index.data(ItemGridModel.InfoRole)
        pm = self.loader.pixmap(info.id, side) if info is not None else None
        if pm is not None:
            x = thumb.x() + (thumb.width() - pm.width()) // 2
            y = thumb.y() + (thumb.height() - pm.height()) // 2
            ov = index.data(ItemGridModel.OverlayRole)
            if ov is not None and ov.shapes:
                pm = self._with_overlay(info.id, pm, ov)
            p.drawPixmap(x, y, pm)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(QPalette.ColorRole.Midlight) if not selected else pal.color(QPalette.ColorRole.Mid))
            p.drawRoundedRect(thumb, 4, 4)
            if info is not None:
                if info.id in self.loader.failed:
                    g = self._glyph("broken" if info.missing else
                                    ("image" if (info.mimetype or "").startswith("image/") else "file"), side // 3)
                    p.drawPixmap(thumb.center() - QPoint(g.width() // 2, g.height() // 2), g)
                else:
                    self.loader.request(info.thumb_key)
        if info is not None:
            text_rect = QRect(r.x() + 4, thumb.bottom() + 3, r.width() - 8, self.TEXT_H)
            # The selection is a translucent tint over the cell, so normal text colour stays readable.
            p.setPen(pal.color(QPalette.ColorRole.Text))
            name = option.fontMetrics.elidedText(info.name, Qt.TextElideMode.ElideMiddle, text_rect.width())
            p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
            bx = thumb.right() - 20
            for flag, name in ((info.missing, "badge-missing"), (info.changed, "badge-changed"),
                               (info.annotated, "badge-annotated")):
                if flag:
                    p.drawPixmap(bx, thumb.y() + 3, self._badge(name))
                    bx -= 20
        p.restore()


