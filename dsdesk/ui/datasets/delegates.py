"""LinkDelegate: paints link cells as links and opens them on a click.

The pointing-hand cursor over links is the view's job (DatasetsTableView.viewportEvent),
because a delegate only sees events of its own column's cells and could not reset it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from dsdesk.ui.datasets.model import LINK_ROLE


class LinkDelegate(QStyledItemDelegate):
    """Delegate for columns whose values are URLs: underlined link text and ``open_url(url)`` on a left click (the page opens it through
    QDesktopServices).  Cells whose value is not a URL paint as plain text."""

    def __init__(self, open_url: Callable[[str], None], parent=None):
        super().__init__(parent)
        self._open_url = open_url
        self._pressed: QPersistentModelIndex | None = None  # where the left button went down

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # noqa: N802
        super().initStyleOption(option, index)
        if index.data(LINK_ROLE):
            option.font.setUnderline(True)
            # Selected rows keep the highlighted text colour so the link stays readable.
            if not option.state & QStyle.StateFlag.State_Selected:
                option.palette.setColor(QPalette.ColorRole.Text, option.palette.color(QPalette.ColorRole.Link))

    def editorEvent(self, event, model, option, index) -> bool:  # noqa: N802
        url = index.data(LINK_ROLE)
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._pressed = QPersistentModelIndex(index)
        elif kind == QEvent.Type.MouseButtonDblClick:
            # The release that ends a double click must not open the link a second time.
            self._pressed = None
        elif (kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton):
            pressed, self._pressed = self._pressed, None
            if (url and pressed is not None and pressed == QPersistentModelIndex(index)
                    and not event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                                 | Qt.KeyboardModifier.ShiftModifier)):
                self._open_url(url)
                return False  # let the view select the row as well
        return super().editorEvent(event, model, option, index)
