"""DatasetsToolbar: the bar above the datasets table: search box, dataset count, Columns…
and Refresh.  It shows state the page hands it (counts, a load failure, a query the search
did not understand) and owns no catalog access.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from dsdesk.ui.icons import icon

SEARCH_HELP = ("Words match any visible column.  The query syntax works on dataset fields:\n"
               "owner:vision-team  items>1000  -kind:clone  f1>=0.8  (custom column names too)")


def _text_button(parent: QWidget, text: str, icon_name: str, tip: str) -> QToolButton:
    b = QToolButton(parent)
    b.setText(text)
    b.setIcon(icon(icon_name))
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    b.setToolTip(tip)
    return b


class DatasetsToolbar(QWidget):
    """The datasets page's top bar.  GUI thread only; the page connects ``search``,
    ``columns_button`` and ``refresh_button``."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setObjectName("datasetsSearch")
        self.search.setPlaceholderText("Search datasets: words, or owner:vision-team items>1000")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setToolTip(SEARCH_HELP)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("datasetsCount")
        self.count_label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.columns_button = _text_button(self, "Columns…", "table", "Choose, order and add columns")
        self.refresh_button = _text_button(self, "Refresh", "refresh", "Reload the datasets (F5)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search, 1)
        lay.addWidget(self.count_label)
        lay.addWidget(self.columns_button)
        lay.addWidget(self.refresh_button)

    def show_count(self, total: int, shown: int, *, loading: bool, has_project: bool) -> None:
        """``5 datasets``, ``1 of 5 datasets``, ``Loading…`` (nothing read yet) or nothing."""
        if loading:
            text = "Loading…"
        elif not has_project:
            text = ""
        elif total == shown:
            text = f"{total:,} dataset{'s' if total != 1 else ''}"
        else:
            text = f"{shown:,} of {total:,} datasets"
        self.count_label.setText(text)

    def show_load_error(self, message: str) -> None:
        """Reading the catalog failed: say so, with the reason in the tooltip."""
        self.count_label.setText("Could not read the datasets")
        self.count_label.setToolTip(message)

    def show_search_error(self, error: str | None) -> None:
        """Mark the search box when its query syntax was not understood (searched as words)."""
        self.search.setProperty("error", bool(error))
        self.search.setStyleSheet("QLineEdit { border: 1px solid #c01c28; }" if error else "")
        self.search.setToolTip(f"Query not understood, searched as words: {error}" if error else SEARCH_HELP)
