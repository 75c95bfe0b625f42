"""The label legend of a dataset (the inspector's Labels tab): each label's colour, its
annotation and item counts (:func:`dsdesk.api.overlays.label_counts`, read by the caller
off the GUI thread), labels the recipe lacks marked, and "filter the grid by this label"."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.overlays import LabelCount
from dsdesk.ui.annotations.overlay_painter import swatch


class LabelLegend(QWidget):
    """The label legend of a dataset: colour, name, annotation and item counts.

    A double-click or the button asks to filter the grid by the current label
    (``filter_requested``); labels annotations carry that the recipe lacks are marked.
    """

    filter_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Label", "Annotations", "Items"])
        self.tree.setRootIsDecorated(False)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemDoubleClicked.connect(lambda it, _c: self._request(it))
        self.tree.currentItemChanged.connect(lambda *_a: self._update_button())
        self.filter_button = QPushButton("Filter the grid by this label", self)
        self.filter_button.clicked.connect(lambda: self._request(self.tree.currentItem()))
        self.total = QLabel("", self)
        row = QHBoxLayout()
        row.addWidget(self.total, 1)
        row.addWidget(self.filter_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self.tree, 1)
        lay.addLayout(row)
        self.counts: list[LabelCount] = []
        self._update_button()

    def show_counts(self, counts: list[LabelCount]) -> None:
        """Show a dataset's legend (:func:`dsdesk.api.overlays.label_counts`)."""
        current = self.tree.currentItem().data(0, Qt.ItemDataRole.UserRole) if self.tree.currentItem() else None
        self.counts = list(counts)
        self.tree.clear()
        for c in counts:
            it = QTreeWidgetItem([c.label if c.in_recipe else f"{c.label} (not in recipe)",
                                  f"{c.annotations:,}", f"{c.items:,}"])
            it.setIcon(0, swatch(c.color))
            it.setData(0, Qt.ItemDataRole.UserRole, c.label)
            for col in (1, 2):
                it.setTextAlignment(col, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if not c.in_recipe:
                it.setToolTip(0, "Annotations carry this label but the dataset's recipe does not have it")
            self.tree.addTopLevelItem(it)
            if c.label == current:
                self.tree.setCurrentItem(it)
        n = sum(c.annotations for c in counts)
        self.total.setText(f"{len(counts):,} label(s) · {n:,} annotation(s)")
        self._update_button()

    def clear(self) -> None:
        """No dataset: an empty legend."""
        self.counts = []
        self.tree.clear()
        self.total.setText("")
        self._update_button()

    def row(self, label: str) -> QTreeWidgetItem | None:
        """The legend row of *label*."""
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            if it.data(0, Qt.ItemDataRole.UserRole) == label:
                return it
        return None

    def _update_button(self) -> None:
        self.filter_button.setEnabled(self.tree.currentItem() is not None)

    def _request(self, it: QTreeWidgetItem | None) -> None:
        if it is not None:
            self.filter_requested.emit(it.data(0, Qt.ItemDataRole.UserRole))
