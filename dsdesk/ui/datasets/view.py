"""DatasetsTableView: the datasets page's table, configured once, with the empty-table notice.

A row per dataset, whole-row extended selection, fixed row heights (no per-row size hints for
5,000 rows), a movable and clickable header whose sorting the page drives, and the pointing
hand over link cells.  What an empty table means (no datasets yet, or none matches the search)
is said over the viewport by :meth:`show_notice`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QWidget

from dsdesk.ui.datasets.model import LINK_ROLE


class DatasetsTableView(QTableView):
    """The table of the datasets page.  GUI thread only."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("datasetsTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        # F2 edits a custom column's cell (double-click opens the dataset instead).
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)
        vh = self.verticalHeader()
        vh.hide()
        # A fixed row height: no per-row size hints to compute for 5,000 rows.
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 10)
        # Sorting goes through the page's own click handler: Qt's would also sort non-sortable
        # columns.  Disable it before showing the indicator: setSortingEnabled(False) hides it.
        self.setSortingEnabled(False)
        hh = self.horizontalHeader()
        hh.setSectionsMovable(True)
        hh.setSectionsClickable(True)
        hh.setSortIndicatorShown(True)
        hh.setSortIndicatorClearable(True)
        hh.setHighlightSections(False)
        hh.setStretchLastSection(False)  # a stretched section's width would be saved as the user's
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        hh.setMinimumSectionSize(32)

        self.empty_label = QLabel(self.viewport())
        self.empty_label.setObjectName("datasetsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty_label.hide()

    def show_notice(self, text: str) -> None:
        """Say *text* over the (empty) table; an empty *text* hides the notice."""
        self.empty_label.setText(text)
        self.empty_label.setVisible(bool(text))
        if text:
            self._place_notice()

    def first_visible_column(self) -> int:
        """The logical index of the leftmost shown column (0 when all are hidden)."""
        hh = self.horizontalHeader()
        for v in range(hh.count()):
            logical = hh.logicalIndex(v)
            if not hh.isSectionHidden(logical):
                return logical
        return 0

    def _place_notice(self) -> None:
        self.empty_label.setGeometry(self.viewport().rect().adjusted(20, 20, -20, -20))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self.empty_label.isVisible():
            self._place_notice()

    def viewportEvent(self, event) -> bool:  # noqa: N802
        # The pointing hand over link cells (a delegate cannot reset it when the mouse
        # leaves its column, so the view decides).
        if event.type() == QEvent.Type.MouseMove:
            idx = self.indexAt(event.position().toPoint())
            if idx.isValid() and idx.data(LINK_ROLE):
                self.viewport().setCursor(Qt.CursorShape.PointingHandCursor)
            else:
                self.viewport().unsetCursor()
        elif event.type() == QEvent.Type.Leave:
            self.viewport().unsetCursor()
        return super().viewportEvent(event)
