"""An editable key/value tree for user metadata that keeps JSON types.

Each row shows a key, a value and its type (str, int, float, bool, null, list, dict).
Lists and dicts are expanded as children; changing a row's type converts its value.
:meth:`MetadataEditor.value` rebuilds the dict, raising ValueError that names the key
when a value does not parse as its type.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QStyledItemDelegate,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsdesk.ui.icons import icon

TYPES = ("str", "int", "float", "bool", "null", "list", "dict")
KEY, VALUE, TYPE = 0, 1, 2


def type_of(v: Any) -> str:
    """The editor's type name of a JSON value."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "dict"
    return "str"


def parse_scalar(text: str, typ: str, key: str) -> Any:
    """*text* as a value of *typ*; ValueError naming *key* when it does not parse."""
    t = text.strip()
    try:
        if typ == "str":
            return text
        if typ == "int":
            return int(t)
        if typ == "float":
            return float(t)
        if typ == "bool":
            if t.lower() in ("true", "1", "yes", "on"):
                return True
            if t.lower() in ("false", "0", "no", "off", ""):
                return False
            raise ValueError(t)
        if typ == "null":
            return None
    except ValueError:
        raise ValueError(f"'{key}': {text!r} is not a valid {typ}") from None
    raise ValueError(f"'{key}': unknown type {typ}")


def _display(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    if isinstance(v, (list, dict)):
        return f"{len(v)} entr{'y' if len(v) == 1 else 'ies'}"
    return str(v)


class _TypeDelegate(QStyledItemDelegate):
    def createEditor(self, parent, option, index: QModelIndex):
        if index.column() != TYPE:
            return super().createEditor(parent, option, index)
        box = QComboBox(parent)
        box.addItems(TYPES)
        return box

    def setEditorData(self, editor, index: QModelIndex) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(index.data() or "str")
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index: QModelIndex) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        else:
            super().setModelData(editor, model, index)


class MetadataEditor(QWidget):
    """User metadata as an editable tree.  ``save_requested(dict)`` when the user saves."""

    save_requested = Signal(dict)
    changed = Signal()
    invalid = Signal(str)  # a value does not parse as its type

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Key", "Value", "Type"])
        self.tree.setItemDelegate(_TypeDelegate(self.tree))
        self.tree.setColumnWidth(KEY, 100)
        self.tree.setColumnWidth(VALUE, 120)
        self.tree.setEditTriggers(QTreeWidget.EditTrigger.DoubleClicked | QTreeWidget.EditTrigger.EditKeyPressed
                                  | QTreeWidget.EditTrigger.SelectedClicked)
        self.tree.itemChanged.connect(self._on_tree_item_changed)
        self.add_button = QToolButton(self)
        self.add_button.setIcon(icon("add"))
        self.add_button.setToolTip("Add a key (under the selected dict or list)")
        self.add_button.clicked.connect(self.add_key)
        self.remove_button = QToolButton(self)
        self.remove_button.setIcon(icon("remove"))
        self.remove_button.setToolTip("Remove the selected key")
        self.remove_button.clicked.connect(self.remove_selected)
        self.save_button = QToolButton(self)
        self.save_button.setText("Save")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.revert_button = QToolButton(self)
        self.revert_button.setText("Revert")
        self.revert_button.setEnabled(False)
        self.revert_button.clicked.connect(lambda: self.set_value(self._original))
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for b in (self.add_button, self.remove_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.revert_button)
        bar.addWidget(self.save_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree)
        lay.addLayout(bar)
        self._original: dict = {}
        self._read_only = False
        self._filling = False

    # ---- content -----------------------------------------------------------------------
    def set_value(self, value: dict) -> None:
        """Show *value* (a dict) and forget unsaved edits."""
        self._original = json.loads(json.dumps(value or {}))
        self._filling = True
        self.tree.clear()
        for k, v in (value or {}).items():
            self.tree.addTopLevelItem(self._make(str(k), v, key_editable=True))
        self.tree.expandToDepth(0)
        self._filling = False
        self._set_dirty(False)

    def show_edits(self, value: dict, original: dict) -> None:
        """Show *value* as unsaved edits of *original* (what Revert goes back to)."""
        self.set_value(value)
        self._original = json.loads(json.dumps(original or {}))
        self._set_dirty(True)

    def _make(self, key: str, v: Any, key_editable: bool) -> QTreeWidgetItem:
        typ = type_of(v)
        it = QTreeWidgetItem([key, _display(v), typ])
        it.setData(KEY, Qt.ItemDataRole.UserRole, key_editable)
        self._apply_flags(it)
        if isinstance(v, dict):
            for k2, v2 in v.items():
                it.addChild(self._make(str(k2), v2, True))
        elif isinstance(v, list):
            for i, v2 in enumerate(v):
                it.addChild(self._make(f"[{i}]", v2, False))
        return it

    def _apply_flags(self, it: QTreeWidgetItem) -> None:
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self._read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        it.setFlags(flags)

    def value(self) -> dict:
        """The edited metadata; ValueError (naming the key) when a value does not parse."""
        out = {}
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            key = it.text(KEY).strip()
            if not key:
                raise ValueError("a key is empty")
            if key in out:
                raise ValueError(f"the key '{key}' appears twice")
            out[key] = self._item_value(it, key)
        return out

    def _item_value(self, it: QTreeWidgetItem, path: str) -> Any:
        typ = it.text(TYPE)
        if typ == "dict":
            d = {}
            for i in range(it.childCount()):
                c = it.child(i)
                k = c.text(KEY).strip()
                if not k:
                    raise ValueError(f"'{path}': a key is empty")
                d[k] = self._item_value(c, f"{path}.{k}")
            return d
        if typ == "list":
            return [self._item_value(it.child(i), f"{path}[{i}]") for i in range(it.childCount())]
        return parse_scalar(it.text(VALUE), typ, path)

    # ---- editing -----------------------------------------------------------------------
    def set_read_only(self, read_only: bool, reason: str = "") -> None:
        """Refuse edits (the dataset is read-only); *reason* becomes the tooltip."""
        self._read_only = read_only
        for b in (self.add_button, self.remove_button):
            b.setEnabled(not read_only)
            b.setToolTip(reason if read_only else b.toolTip())
        self.save_button.setEnabled(False if read_only else self.save_button.isEnabled())
        self.tree.setToolTip(reason if read_only else "Double-click a key, value or type to edit it")
        self._filling = True
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            it = stack.pop()
            self._apply_flags(it)
            stack.extend(it.child(i) for i in range(it.childCount()))
        self._filling = False

    @property
    def read_only(self) -> bool:
        """True while edits are refused."""
        return self._read_only

    @property
    def dirty(self) -> bool:
        """True when there are unsaved edits."""
        return self.save_button.isEnabled()

    def add_key(self) -> QTreeWidgetItem | None:
        """Add a new ``key: ""`` row (under the selected dict/list, else at the top)."""
        if self._read_only:
            return None
        sel = self.tree.currentItem()
        self._filling = True
        if sel is not None and sel.text(TYPE) in ("dict", "list"):
            key = f"[{sel.childCount()}]" if sel.text(TYPE) == "list" else self._free_key(sel)
            it = self._make(key, "", sel.text(TYPE) != "list")
            sel.addChild(it)
            sel.setExpanded(True)
            sel.setText(VALUE, f"{sel.childCount()} entries")
        else:
            it = self._make(self._free_key(None), "", True)
            self.tree.addTopLevelItem(it)
        self._filling = False
        self.tree.setCurrentItem(it)
        self._set_dirty(True)
        return it

    def _free_key(self, parent: QTreeWidgetItem | None) -> str:
        names = {(parent.child(i) if parent else self.tree.topLevelItem(i)).text(KEY)
                 for i in range(parent.childCount() if parent else self.tree.topLevelItemCount())}
        n, key = 1, "new_key"
        while key in names:
            n += 1
            key = f"new_key_{n}"
        return key

    def remove_selected(self) -> None:
        """Remove the selected row with its children."""
        it = self.tree.currentItem()
        if it is None or self._read_only:
            return
        parent = it.parent()
        (parent.removeChild(it) if parent else self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(it)))
        if parent is not None and parent.text(TYPE) == "list":
            for i in range(parent.childCount()):
                parent.child(i).setText(KEY, f"[{i}]")
        self._set_dirty(True)

    def _on_tree_item_changed(self, it: QTreeWidgetItem, column: int) -> None:
        if self._filling:
            return
        if column == KEY and not it.data(KEY, Qt.ItemDataRole.UserRole):
            self._filling = True  # list indexes are positions, not names
            parent = it.parent()
            it.setText(KEY, f"[{parent.indexOfChild(it)}]" if parent else it.text(KEY))
            self._filling = False
        if column == TYPE:
            self._convert(it)
        self._set_dirty(True)

    def _convert(self, it: QTreeWidgetItem) -> None:
        """Turn the row's value into its new type, keeping what can be kept."""
        typ = it.text(TYPE)
        self._filling = True
        try:
            if typ in ("dict", "list"):
                if it.childCount() == 0:
                    it.setText(VALUE, "0 entries")
            else:
                while it.childCount():
                    it.removeChild(it.child(0))
                text = it.text(VALUE)
                try:
                    v = parse_scalar(text, typ, it.text(KEY))
                except ValueError:
                    v = {"int": 0, "float": 0.0, "bool": False, "null": None}.get(typ, text)
                it.setText(VALUE, _display(v) if typ != "str" else text)
        finally:
            self._filling = False

    def _set_dirty(self, dirty: bool) -> None:
        self.save_button.setEnabled(dirty and not self._read_only)
        self.revert_button.setEnabled(dirty)
        if dirty:
            self.changed.emit()

    def _on_save_clicked(self) -> None:
        try:
            value = self.value()
        except ValueError as e:
            self.invalid.emit(str(e))
            return
        self.save_requested.emit(value)
