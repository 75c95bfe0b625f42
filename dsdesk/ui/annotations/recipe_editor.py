"""The recipe editor: a dataset's labels as a tree (dotted names: ``vehicle.car`` is a child
of ``vehicle``), each with its colour; add, add a child, rename, recolour and delete.

The dialog edits a copy and hands back the edited list (:meth:`RecipeEditorDialog.rows`);
the caller saves it through :func:`dsdesk.api.label_edits.save_label_edits` off the GUI
thread.  A read-only dataset opens the dialog locked, with the reason shown.  Tests patch
:func:`ask_color` and :func:`ask_name` instead of clicking the modal pickers.

Open it by hand on a throw-away catalog: ``python -m dsdesk.ui.annotations.recipe_editor``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.label_edits import LabelEdits, LabelEntry, RecipeLabels, plan_label_edits
from dsdesk.api.labels import label_color
from dsdesk.errors import DsdeskError
from dsdesk.ui.annotations.overlay_painter import swatch

TagRole = Qt.ItemDataRole.UserRole + 1  # the label's own name (the last part of its dotted tag)
ColorRole = Qt.ItemDataRole.UserRole + 2


def ask_color(parent: QWidget | None, initial: str, title: str) -> str | None:
    """Pick a colour; ``#rrggbb`` or None when cancelled (tests patch this function)."""
    c = QColorDialog.getColor(QColor(initial), parent, title)
    return c.name() if c.isValid() else None


def ask_name(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """Ask for a label name; None when cancelled or empty (tests patch this function)."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value.strip() if ok and value.strip() else None


class RecipeEditorDialog(QDialog):
    """Edit the labels of one recipe (a copy; nothing is saved by the dialog itself)."""

    def __init__(self, labels: RecipeLabels, parent: QWidget | None = None):
        super().__init__(parent)
        self.labels = labels
        self.setWindowTitle(f"Labels of {labels.dataset_name}"
                            + (f" (recipe '{labels.recipe_name}')" if labels.recipe_name else ""))
        self.resize(460, 480)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Label", "Colour"])
        self.tree.setColumnWidth(0, 260)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda it, col: self.recolour() if col == 1 else self.rename())
        self.banner = QLabel("", self)
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("color: #a06a12;")
        self.error_label = QLabel("", self)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.hide()
        self.add_button = QPushButton("Add label…", self)
        self.child_button = QPushButton("Add child…", self)
        self.rename_button = QPushButton("Rename…", self)
        self.color_button = QPushButton("Colour…", self)
        self.delete_button = QPushButton("Delete", self)
        self.add_button.clicked.connect(lambda: self.add_label())
        self.child_button.clicked.connect(lambda: self.add_label(child=True))
        self.rename_button.clicked.connect(self.rename)
        self.color_button.clicked.connect(self.recolour)
        self.delete_button.clicked.connect(self.delete_selected)
        side = QVBoxLayout()
        for b in (self.add_button, self.child_button, self.rename_button, self.color_button, self.delete_button):
            side.addWidget(b)
        side.addStretch(1)
        mid = QHBoxLayout()
        mid.addWidget(self.tree, 1)
        mid.addLayout(side)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.banner)
        lay.addLayout(mid, 1)
        lay.addWidget(QLabel("Annotations keep their label text: renaming or deleting a label here does not "
                             "change the annotations that carry it.", self))
        lay.addWidget(self.error_label)
        lay.addWidget(self.buttons)
        for row in labels.labels:
            self._insert(row.tag, row.color)
        self.tree.expandAll()
        self.edits: LabelEdits | None = None
        self.read_only = labels.readonly_reason is not None
        if self.read_only:
            self.banner.setText(f"🔒 {labels.readonly_reason}")
            self.tree.setToolTip(labels.readonly_reason)
        else:
            self.banner.hide()
        self._update_buttons()

    # ---- the tree ------------------------------------------------------------------------
    def _node(self, tag: str) -> QTreeWidgetItem | None:
        """The tree item of the dotted *tag*, or None."""
        parent: QTreeWidgetItem | None = None
        for part in tag.split("."):
            kids = ([self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())] if parent is None
                    else [parent.child(i) for i in range(parent.childCount())])
            parent = next((k for k in kids if k.data(0, TagRole) == part), None)
            if parent is None:
                return None
        return parent

    def _insert(self, tag: str, color: str) -> QTreeWidgetItem:
        """Add the dotted *tag* under its parent (a parent that is no label of its own is
        shown as part of the name, as Dataloop shows ``animal.Dog`` on its own)."""
        parent, name = None, tag
        if "." in tag:
            head, last = tag.rsplit(".", 1)
            parent = self._node(head)
            if parent is not None:
                name = last
        it = QTreeWidgetItem([name, color])
        self._paint(it, name, color)
        (parent.addChild if parent is not None else self.tree.addTopLevelItem)(it)
        return it

    @staticmethod
    def _paint(it: QTreeWidgetItem, name: str, color: str) -> None:
        it.setText(0, name)
        it.setData(0, TagRole, name)
        it.setData(0, ColorRole, color)
        it.setText(1, color)
        it.setIcon(1, swatch(color))

    @staticmethod
    def tag_of(it: QTreeWidgetItem) -> str:
        """The dotted tag of a tree item (its ancestors' names and its own)."""
        parts = []
        while it is not None:
            parts.append(it.data(0, TagRole))
            it = it.parent()
        return ".".join(reversed(parts))

    def rows(self) -> list[LabelEntry]:
        """The edited labels, parents before their children."""
        out: list[LabelEntry] = []

        def walk(it: QTreeWidgetItem) -> None:
            out.append(LabelEntry(self.tag_of(it), it.data(0, ColorRole)))
            for i in range(it.childCount()):
                walk(it.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out

    def _update_buttons(self) -> None:
        one = len(self.tree.selectedItems()) == 1
        self.add_button.setEnabled(not self.read_only)
        for b in (self.child_button, self.rename_button, self.color_button):
            b.setEnabled(one and not self.read_only)
        self.delete_button.setEnabled(bool(self.tree.selectedItems()) and not self.read_only)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not self.read_only)

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _siblings_have(self, parent: QTreeWidgetItem | None, name: str, but: QTreeWidgetItem | None = None) -> bool:
        kids = ([self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())] if parent is None
                else [parent.child(i) for i in range(parent.childCount())])
        return any(k is not but and k.data(0, TagRole) == name for k in kids)

    # ---- edits ---------------------------------------------------------------------------
    def add_label(self, child: bool = False) -> QTreeWidgetItem | None:
        """Ask for a name and add a label (top-level, or a child of the selected one)."""
        if self.read_only:
            return None
        parent = self.tree.currentItem() if child else None
        if child and parent is None:
            return None
        where = f" under '{self.tag_of(parent)}'" if parent is not None else ""
        name = ask_name(self, "Add label", f"Name of the new label{where}:")
        if not name:
            return None
        if "." in name and parent is not None:
            self._show_error("A child label's name cannot contain a dot; add it under its parent instead.")
            return None
        if self._siblings_have(parent, name):
            self._show_error(f"'{name}' is there already.")
            return None
        tag = f"{self.tag_of(parent)}.{name}" if parent is not None else name
        it = QTreeWidgetItem()
        self._paint(it, name, label_color(tag))
        (parent.addChild if parent is not None else self.tree.addTopLevelItem)(it)
        if parent is not None:
            parent.setExpanded(True)
        self.tree.setCurrentItem(it)
        self.error_label.hide()
        return it

    def rename(self) -> None:
        """Rename the selected label (its children move with it)."""
        it = self.tree.currentItem()
        if it is None or self.read_only:
            return
        old = it.data(0, TagRole)
        name = ask_name(self, "Rename label", f"New name for '{self.tag_of(it)}':", old)
        if not name or name == old:
            return
        if "." in name and it.parent() is not None:
            self._show_error("A child label's name cannot contain a dot.")
            return
        if self._siblings_have(it.parent(), name, but=it):
            self._show_error(f"'{name}' is there already.")
            return
        self._paint(it, name, it.data(0, ColorRole))
        self.error_label.hide()

    def recolour(self) -> None:
        """Pick a new colour for the selected label."""
        it = self.tree.currentItem()
        if it is None or self.read_only:
            return
        color = ask_color(self, it.data(0, ColorRole), f"Colour of '{self.tag_of(it)}'")
        if color:
            self._paint(it, it.data(0, TagRole), color.lower())

    def delete_selected(self) -> None:
        """Delete the selected labels with their children."""
        if self.read_only:
            return
        for it in self.tree.selectedItems():
            parent = it.parent()
            if parent is not None:
                parent.removeChild(it)
            else:
                idx = self.tree.indexOfTopLevelItem(it)
                if idx >= 0:
                    self.tree.takeTopLevelItem(idx)
        self._update_buttons()

    def _on_buttons_accepted(self) -> None:
        try:
            self.edits = plan_label_edits(self.labels.labels, self.rows())
        except DsdeskError as e:
            self._show_error(str(e))
            return
        self.accept()

    @classmethod
    def ask(cls, parent: QWidget | None, labels: RecipeLabels) -> LabelEdits | None:
        """The edits the user saved (possibly none), or None when cancelled."""
        dlg = cls(labels, parent)
        return dlg.edits if dlg.exec() == QDialog.DialogCode.Accepted else None


def _main() -> None:  # pragma: no cover - a manual check: python -m dsdesk.ui.annotations.recipe_editor
    import sys
    import tempfile
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    import dsdesk
    from dsdesk.api.label_edits import read_recipe_labels

    app = QApplication.instance() or QApplication(sys.argv)
    cat = dsdesk.open_catalog(Path(tempfile.mkdtemp()) / "catalog.sqlite")
    ds = cat.projects.create("demo").datasets.create(
        "cars", labels=[{"tag": "vehicle", "color": (230, 25, 75), "children": ["car", "truck"]}, "person"])
    dlg = RecipeEditorDialog(read_recipe_labels(cat, ds.id))
    dlg.show()
    app.exec()


if __name__ == "__main__":
    _main()
