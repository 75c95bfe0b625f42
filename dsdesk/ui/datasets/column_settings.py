"""ColumnSettingsDialog: choose, order, add, edit and remove the datasets table's columns.

Like calibre's column preferences, the dialog edits a *copy* of the project's columns and
applies it in one transaction on OK (``project.columns.apply``); Cancel leaves the catalog
as it was.  Invalid settings (an empty or duplicate name, a bad field path) are shown in
the dialog at once and OK stays disabled until they are fixed.

Open it by hand against any catalog::

    python -m dsdesk.ui.datasets.column_settings --catalog /tmp/dp.sqlite [--project demo]
"""

from __future__ import annotations

import itertools
import sys

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.columns import (
    STANDARD_BY_NAME,
    VALUE_TYPES,
    Column,
    default_columns,
    normalize,
    validate_columns,
)
from dsdesk.errors import DsdeskError

_UID = Qt.ItemDataRole.UserRole + 1
_TYPE_TEXT = {"text": "Text", "number": "Number", "bool": "Yes / no", "date": "Date", "list": "List"}
_ERROR_BRUSH = QBrush(QColor("#c01c28"))


class _ColumnTree(QTreeWidget):
    """The column list: check to show, drag to reorder (top-level rows only)."""

    order_changed = Signal()

    def dropEvent(self, event) -> None:  # noqa: N802
        super().dropEvent(event)
        self.order_changed.emit()


class ColumnSettingsDialog(QDialog):
    """The datasets table's column settings for one project (GUI thread only).

    Lists every column with a check box (shown or hidden) in display order; the form on
    the right edits the selected column: for custom columns Name, Label, Field (completed
    from the metadata paths found in the project's datasets), Type, Link, Resizable and
    Sortable; standard columns let only Label, Resizable and Sortable change.
    """

    def __init__(self, catalog, project_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._cat = catalog
        self._project = catalog.projects.get(project_id=project_id)
        self.setWindowTitle(f"Dataset columns — {self._project.name}")
        self.setObjectName("columnSettingsDialog")
        self._uids = itertools.count(1)
        self._cols: dict[int, Column] = {}
        self._loading_form = False
        self._problems: dict[int, str] = {}
        self.applied: list[Column] | None = None  # what OK saved

        # ---- the list ----
        self.tree = _ColumnTree(self)
        self.tree.setObjectName("columnList")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Column", "Name", "Field", "Type"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.tree.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for i, w in ((1, 130), (2, 150), (3, 90)):
            self.tree.header().setSectionResizeMode(i, QHeaderView.ResizeMode.Interactive)
            self.tree.setColumnWidth(i, w)
        self.tree.setMinimumWidth(520)

        self.add_button = QPushButton("Add column", self)
        self.remove_button = QPushButton("Remove", self)
        self.up_button = QPushButton("Move up", self)
        self.down_button = QPushButton("Move down", self)
        self.defaults_button = QPushButton("Restore defaults", self)
        self.defaults_button.setToolTip("Standard columns in their default order and visibility; "
                                        "custom columns are kept, after them")
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.defaults_button)

        # ---- the form ----
        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("nameEdit")
        self.name_edit.setPlaceholderText("internal, unique: owner")
        self.label_edit = QLineEdit(self)
        self.label_edit.setObjectName("labelEdit")
        self.label_edit.setPlaceholderText("the header text: Owner")
        self.field_edit = QLineEdit(self)
        self.field_edit.setObjectName("fieldEdit")
        self.field_edit.setPlaceholderText("a metadata path: user.owner")
        self.type_combo = QComboBox(self)
        for t in VALUE_TYPES:
            self.type_combo.addItem(_TYPE_TEXT[t], t)
        self.link_check = QCheckBox("Link: open the value (a URL) in the browser", self)
        self.resizable_check = QCheckBox("Resizable", self)
        self.sortable_check = QCheckBox("Sortable", self)
        self.kind_label = QLabel(self)
        self.kind_label.setWordWrap(True)
        suggestions = self._project.columns.field_suggestions()
        self._completer = QCompleter(QStringListModel(suggestions, self), self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.field_edit.setCompleter(self._completer)
        self._suggestions = suggestions

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Label", self.label_edit)
        form.addRow("Field", self.field_edit)
        form.addRow("Type", self.type_combo)
        form.addRow("", self.link_check)
        form.addRow("", self.resizable_check)
        form.addRow("", self.sortable_check)
        form.addRow("", self.kind_label)
        self.form_box = QGroupBox("Column", self)
        self.form_box.setLayout(form)
        self.form_box.setMinimumWidth(320)

        self.message = QLabel(self)
        self.message.setObjectName("columnSettingsMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c01c28;")
        self.message.hide()

        self.button_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                           self)
        left = QVBoxLayout()
        left.addWidget(QLabel("Check the columns to show; drag them, or use the buttons, to order them.", self))
        left.addWidget(self.tree, 1)
        left.addLayout(buttons)
        body = QHBoxLayout()
        body.addLayout(left, 3)
        body.addWidget(self.form_box, 2, Qt.AlignmentFlag.AlignTop)
        lay = QVBoxLayout(self)
        lay.addLayout(body, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.button_box)
        self.resize(940, 540)

        self.tree.currentItemChanged.connect(self._on_tree_current_item_changed)
        self.tree.itemChanged.connect(self._on_tree_item_changed)
        self.tree.order_changed.connect(self._revalidate)
        self.add_button.clicked.connect(self.add_column)
        self.remove_button.clicked.connect(self.remove_current)
        self.up_button.clicked.connect(lambda: self.move_current(-1))
        self.down_button.clicked.connect(lambda: self.move_current(1))
        self.defaults_button.clicked.connect(self.restore_defaults)
        for w in (self.name_edit, self.label_edit, self.field_edit):
            w.textEdited.connect(self._on_form_edited)
        self.type_combo.activated.connect(self._on_form_edited)
        for w in (self.link_check, self.resizable_check, self.sortable_check):
            w.toggled.connect(self._on_form_edited)
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)

        self._fill(self._project.columns.list())

    # ---- the copy --------------------------------------------------------------------------
    def columns(self) -> list[Column]:
        """The edited copy in list order (not validated)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            c = self._cols[it.data(0, _UID)]
            out.append(c.with_(visible=it.checkState(0) == Qt.CheckState.Checked, position=i))
        return out

    def _fill(self, cols: list[Column]) -> None:
        self.tree.blockSignals(True)
        self.tree.clear()
        self._cols.clear()
        for c in cols:
            self._append(c)
        self.tree.blockSignals(False)
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._revalidate()

    def _append(self, c: Column) -> QTreeWidgetItem:
        uid = next(self._uids)
        self._cols[uid] = c
        it = QTreeWidgetItem()
        # No ItemIsDropEnabled: rows may only move between rows, never become children.
        it.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsDragEnabled)
        it.setData(0, _UID, uid)
        it.setCheckState(0, Qt.CheckState.Checked if c.visible else Qt.CheckState.Unchecked)
        self.tree.addTopLevelItem(it)
        self._paint_item(it)
        return it

    def _paint_item(self, it: QTreeWidgetItem) -> None:
        c = self._cols[it.data(0, _UID)]
        blocked = self.tree.blockSignals(True)
        it.setText(0, c.label or c.name)
        it.setText(1, c.name)
        it.setText(2, c.field if c.custom else "(standard)")
        it.setText(3, _TYPE_TEXT.get(c.value_type, c.value_type) + (" · link" if c.link else ""))
        tip = STANDARD_BY_NAME[c.name].description if not c.custom and c.name in STANDARD_BY_NAME else ""
        for k in range(4):
            it.setToolTip(k, tip or (f"{c.label}: metadata field {c.field}" if c.custom else c.label))
        problem = self._problems.get(it.data(0, _UID))
        for k in range(4):
            it.setForeground(k, _ERROR_BRUSH if problem else QBrush())
        font = it.font(0)
        font.setItalic(not c.custom)
        it.setFont(1, font)
        self.tree.blockSignals(blocked)

    def _current(self) -> tuple[QTreeWidgetItem | None, Column | None]:
        it = self.tree.currentItem()
        if it is None:
            return None, None
        return it, self._cols[it.data(0, _UID)]

    # ---- actions ---------------------------------------------------------------------------
    def add_column(self) -> QTreeWidgetItem:
        """Add a custom column (prefilled from an unused metadata field) and select it."""
        cols = self.columns()
        used_fields = {c.field for c in cols if c.custom}
        taken = {c.name.casefold() for c in cols}
        # Prefer a leaf path (user.stats.f1) over the dict holding it (user.stats).
        leaves = [f for f in self._suggestions if not any(o.startswith(f + ".") for o in self._suggestions)]
        field = next((f for f in leaves if f not in used_fields), None)
        base = field.rsplit(".", 1)[-1] if field else "column"
        base = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in base) or "column"
        if not (base[0].isalpha() or base[0] == "_"):
            base = "c_" + base
        name, n = base, 1
        while name.casefold() in taken:
            n += 1
            name = f"{base}_{n}"
        label = base.replace("_", " ").replace("-", " ").strip().capitalize() or name
        c = Column(name, label, field or f"user.{name}", "text", True, False, True, True, True, len(cols), None)
        it = self._append(c)
        self.tree.setCurrentItem(it)
        self._revalidate()
        self.name_edit.setFocus()
        self.name_edit.selectAll()
        return it

    def remove_current(self) -> None:
        """Remove the selected custom column (standard columns can only be hidden)."""
        it, c = self._current()
        if it is None or not c.custom:
            return
        row = self.tree.indexOfTopLevelItem(it)
        self.tree.takeTopLevelItem(row)
        del self._cols[it.data(0, _UID)]
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(min(row, self.tree.topLevelItemCount() - 1)))
        self._revalidate()

    def move_current(self, delta: int) -> None:
        """Move the selected column up (-1) or down (+1)."""
        it, _ = self._current()
        if it is None:
            return
        row = self.tree.indexOfTopLevelItem(it)
        new = row + delta
        if not 0 <= new < self.tree.topLevelItemCount():
            return
        blocked = self.tree.blockSignals(True)
        self.tree.takeTopLevelItem(row)
        self.tree.insertTopLevelItem(new, it)
        self.tree.blockSignals(blocked)
        self.tree.setCurrentItem(it)
        self._revalidate()

    def restore_defaults(self) -> None:
        """Standard columns as by default, custom columns kept after them (not yet saved)."""
        customs = [c.with_(width=None) for c in self.columns() if c.custom]
        self._fill(default_columns() + customs)

    # ---- the form --------------------------------------------------------------------------
    def _on_tree_current_item_changed(self, current, _previous) -> None:
        self._load_form()

    def _load_form(self) -> None:
        it, c = self._current()
        self._loading_form = True
        try:
            enabled = c is not None
            self.form_box.setEnabled(enabled)
            if c is None:
                for w in (self.name_edit, self.label_edit, self.field_edit):
                    w.clear()
                return
            self.name_edit.setText(c.name)
            self.label_edit.setText(c.label)
            self.field_edit.setText(c.field if c.custom else "(standard column)")
            self.type_combo.setCurrentIndex(max(0, self.type_combo.findData(c.value_type)))
            self.link_check.setChecked(c.link)
            self.resizable_check.setChecked(c.resizable)
            self.sortable_check.setChecked(c.sortable)
            for w in (self.name_edit, self.field_edit, self.type_combo, self.link_check):
                w.setEnabled(c.custom)
            self.remove_button.setEnabled(c.custom)
            if c.custom:
                self.kind_label.setText("A custom column: it shows a field of each dataset's metadata. "
                                        "Datasets without the field show an empty cell.")
            else:
                desc = STANDARD_BY_NAME[c.name].description if c.name in STANDARD_BY_NAME else ""
                self.kind_label.setText(f"A standard column{': ' + desc if desc else ''}. "
                                        "It can be renamed or hidden, not removed.")
            row = self.tree.indexOfTopLevelItem(it)
            self.up_button.setEnabled(row > 0)
            self.down_button.setEnabled(row < self.tree.topLevelItemCount() - 1)
        finally:
            self._loading_form = False

    def _on_form_edited(self, *_args) -> None:
        if self._loading_form:
            return
        it, c = self._current()
        if it is None:
            return
        changes = {"label": self.label_edit.text(), "resizable": self.resizable_check.isChecked(),
                   "sortable": self.sortable_check.isChecked()}
        if c.custom:
            changes.update(name=self.name_edit.text(), field=self.field_edit.text(),
                           value_type=self.type_combo.currentData(), link=self.link_check.isChecked())
        self._cols[it.data(0, _UID)] = c.with_(**changes)
        self._revalidate()

    def _on_tree_item_changed(self, it: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            self._revalidate()

    # ---- validation ------------------------------------------------------------------------
    def _revalidate(self) -> str | None:
        """Check the copy; mark offending rows and show the first problem.  Returns it."""
        problems: dict[int, str] = {}
        uids = [self.tree.topLevelItem(i).data(0, _UID) for i in range(self.tree.topLevelItemCount())]
        normalized = {}
        for uid in uids:
            try:
                normalized[uid] = normalize(self._cols[uid])
            except DsdeskError as e:
                problems[uid] = str(e)
        first = next((problems[u] for u in uids if u in problems), None)
        if first is None:
            try:
                validate_columns(self.columns())
            except DsdeskError as e:
                first = str(e)
                # Mark every row taking a repeated (or a standard) name.
                counts: dict[str, int] = {}
                for u in uids:
                    counts[normalized[u].name.casefold()] = counts.get(normalized[u].name.casefold(), 0) + 1
                for u in uids:
                    n = normalized[u]
                    if counts[n.name.casefold()] > 1 and n.custom:
                        problems[u] = first
        self._problems = problems
        for i in range(self.tree.topLevelItemCount()):
            self._paint_item(self.tree.topLevelItem(i))
        self.message.setText(_sentence(first) if first else "")
        self.message.setVisible(bool(first))
        self.button_box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(first is None)
        it, _ = self._current()
        if it is not None:
            row = self.tree.indexOfTopLevelItem(it)
            self.up_button.setEnabled(row > 0)
            self.down_button.setEnabled(row < self.tree.topLevelItemCount() - 1)
        return first

    @property
    def error(self) -> str | None:
        """The problem that keeps OK disabled, or None."""
        return self.message.text() or None

    def accept(self) -> None:
        """Apply the copy to the catalog; refused (the dialog stays open) when invalid."""
        problem = self._revalidate()
        if problem is not None:
            return
        try:
            self.applied = self._project.columns.apply(self.columns())
        except DsdeskError as e:
            self.message.setText(_sentence(str(e)))
            self.message.show()
            return
        super().accept()


def _sentence(text: str) -> str:
    """An error message as the dialog shows it: capitalised (the API's messages are not)."""
    return text[:1].upper() + text[1:]


def main(argv: list[str] | None = None) -> int:
    """Open the dialog on a catalog (for manual checks and screenshots)."""
    from PySide6.QtWidgets import QApplication

    from dsdesk.ui.dialogs.common import by_hand_parser, open_catalog_arg, save_screenshot

    args = by_hand_parser("python -m dsdesk.ui.datasets.column_settings",
                          "The datasets table's column settings, on its own.").parse_args(argv)
    cat = open_catalog_arg(args.catalog)
    if cat is None:
        return 2
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # held while the dialog lives
    try:
        projects = cat.projects.list()
        if not projects:
            print("the catalog has no project: `dsdesk --catalog PATH demo --no-gui` makes one", file=sys.stderr)
            return 2
        project = cat.projects.get(args.project) if args.project else projects[0]
        dlg = ColumnSettingsDialog(cat, project.id)
        if args.screenshot:
            save_screenshot(dlg, args.screenshot)
            return 0
        if dlg.exec() == QDialog.DialogCode.Accepted:
            for c in dlg.applied or []:
                flag = "x" if c.visible else " "
                print(f"[{flag}] {c.name:<20} {c.label:<24} {c.field or '(standard)'}")
        return 0
    finally:
        cat.close()


if __name__ == "__main__":
    sys.exit(main())
