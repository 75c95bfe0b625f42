"""DatasetTableModel: the Qt face of :class:`dsdesk.api.dataset_table.DatasetTable`.

The model's columns are *all* the project's columns in their saved order (hidden ones too,
so showing a column is a header operation, not a model reset); the page hides sections and
moves them.  Rows are a list of indices into the table snapshot: sorting and searching
re-order or subset that list in Python on data that is already loaded, so neither touches
the catalog (except a search in the query syntax, one SQL query).
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from dsdesk.api.columns import Column
from dsdesk.api.dataset_edits import edit_text, parse_cell_text, set_user_field
from dsdesk.api.dataset_table import DatasetTable, SearchResult
from dsdesk.errors import DsdeskError
from dsdesk.ui.icons import icon

#: Custom roles.
DATASET_ID_ROLE = Qt.ItemDataRole.UserRole + 1
LINK_ROLE = Qt.ItemDataRole.UserRole + 2  # the URL of a link cell ("" when none)
SORT_ROLE = Qt.ItemDataRole.UserRole + 3  # the raw value

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_EDIT = int(Qt.ItemDataRole.EditRole)
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_EDITABLE_FLAGS = _FLAGS | Qt.ItemFlag.ItemIsEditable
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def link_url(value: Any) -> str:
    """The URL a link cell opens, or "" when the value does not look like one.

    Only web, mail and file URLs: a metadata value is data anyone may have written, and
    other schemes could start arbitrary handlers.
    """
    if not isinstance(value, str):
        return ""
    v = value.strip()
    low = v.lower()
    if low.startswith(("http://", "https://", "mailto:", "file://", "ftp://")):
        return v
    if low.startswith("www."):
        return "https://" + v
    return ""


class DatasetTableModel(QAbstractTableModel):
    """Table model over a :class:`DatasetTable` snapshot (GUI thread only).

    ``set_table`` swaps the snapshot in (a model reset); ``sort`` and ``apply_search``
    change the visible rows.  Selection by dataset id survives both (the page saves and
    restores it around them).
    """

    rows_changed = Signal()  # the visible row set or order changed (sort, search, new table)
    dataset_edited = Signal(int)  # a cell edit was saved to this dataset
    edit_failed = Signal(str)  # a cell edit was refused (the message)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._table: DatasetTable | None = None
        self._rows: list[int] = []
        self._sort: tuple[str, bool] | None = None  # (column name, ascending)
        self._search: SearchResult | None = None
        self._search_text = ""
        self._bold = QFont()
        self._bold.setBold(True)
        self._link_brush = QBrush(QColor("#1a5fb4"))
        self._icons: dict = {}
        self._index_columns()

    # ---- state -----------------------------------------------------------------------------
    @property
    def table(self) -> DatasetTable | None:
        """The snapshot shown (None before a project is set)."""
        return self._table

    @property
    def columns(self) -> list[Column]:
        """The model's columns (all of them, in saved order)."""
        return self._table.columns if self._table is not None else []

    @property
    def sort_state(self) -> tuple[str, bool] | None:
        """``(column name, ascending)`` or None (name order)."""
        return self._sort

    @property
    def search_result(self) -> SearchResult | None:
        """The last search's result (None when the search box is empty)."""
        return self._search

    @property
    def total(self) -> int:
        """How many datasets the project has (before the search)."""
        return len(self._table) if self._table is not None else 0

    def column_index(self, name: str) -> int:
        """The model column of column *name*, or -1."""
        for i, c in enumerate(self.columns):
            if c.name == name:
                return i
        return -1

    def dataset_id(self, row: int) -> int:
        """The dataset id shown in *row*."""
        return self._table.records[self._rows[row]].id

    def row_of_dataset(self, dataset_id: int) -> int:
        """The visible row of a dataset, or -1 when it is filtered out or gone."""
        if self._table is None:
            return -1
        r = self._table.row_of(dataset_id)
        if r is None:
            return -1
        try:
            return self._rows.index(r)
        except ValueError:
            return -1

    def rows_of_datasets(self, ids) -> list[int]:
        """Visible rows of several datasets (one pass, for restoring a selection)."""
        if self._table is None:
            return []
        want = {self._table.row_of(i) for i in ids} - {None}
        return [k for k, r in enumerate(self._rows) if r in want]

    # ---- changes ---------------------------------------------------------------------------
    def set_table(self, table: DatasetTable | None) -> None:
        """Show a new snapshot, keeping the sort and re-running the search."""
        self.beginResetModel()
        self._table = table
        self._index_columns()
        if self._sort is not None and (table is None or self.column_index(self._sort[0]) < 0):
            self._sort = None
        self._search = self._run_search(self._search_text)
        self._rows = self._compute_rows()
        self.endResetModel()
        self.rows_changed.emit()

    def _index_columns(self) -> None:
        cols = self.columns
        self._names = [c.name for c in cols]
        self._links = [c.link for c in cols]
        self._types = [c.value_type for c in cols]
        self._editable = [c.custom and (c.field or "").startswith("user.") for c in cols]
        self._align = [_RIGHT if c.value_type == "number" else _CENTER if c.value_type == "bool" else _LEFT
                       for c in cols]
        self._name_col = self._names.index("name") if "name" in self._names else -1

    def _kind_icon(self, kind: str):
        ic = self._icons.get(kind)
        if ic is None:
            ic = self._icons[kind] = icon(f"dataset-{kind}" if kind in ("master", "clone", "merge") else "dataset-master")
        return ic

    def apply_search(self, text: str) -> SearchResult | None:
        """Show only the datasets matching *text* (see :meth:`DatasetTable.search`)."""
        self._search_text = text or ""
        self.beginResetModel()
        self._search = self._run_search(self._search_text)
        self._rows = self._compute_rows()
        self.endResetModel()
        self.rows_changed.emit()
        return self._search

    def sort_by(self, name: str | None, ascending: bool = True) -> None:
        """Sort by column *name* (None: by dataset name), keeping persistent indexes."""
        self._sort = (name, ascending) if name is not None else None
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self.dataset_id(p.row()) if p.isValid() and p.row() < len(self._rows) else None
               for p in persistent]
        self._rows = self._compute_rows()
        if persistent:
            pos = {r: k for k, r in enumerate(self._rows)}
            new = []
            for p, i in zip(persistent, ids, strict=True):
                tr = self._table.row_of(i) if i is not None else None
                k = pos.get(tr, -1) if tr is not None else -1
                new.append(self.index(k, p.column()) if k >= 0 else QModelIndex())
            self.changePersistentIndexList(persistent, new)
        self.layoutChanged.emit()
        self.rows_changed.emit()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:  # noqa: D102
        if 0 <= column < len(self.columns) and self.columns[column].sortable:
            self.sort_by(self.columns[column].name, order == Qt.SortOrder.AscendingOrder)

    def _run_search(self, text: str) -> SearchResult | None:
        if self._table is None or not text.strip():
            return None
        return self._table.search(text)

    def _compute_rows(self) -> list[int]:
        t = self._table
        if t is None:
            return []
        subset = self._search.rows if self._search is not None else None
        if self._sort is None:
            return list(range(len(t))) if subset is None else list(subset)
        name, asc = self._sort
        return t.order(name, asc, subset)

    # ---- Qt's model interface --------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        c = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return c.label
        if role == Qt.ItemDataRole.ToolTipRole:
            what = f"metadata field {c.field}; F2 edits a cell" if c.custom else "standard column"
            return f"{c.label} ({c.name}): {what}" + ("" if c.sortable else "; not sortable")
        if role == Qt.ItemDataRole.TextAlignmentRole:
            # Left for every column, numbers too: the styles draw the sort arrow at the
            # right edge, over a right-aligned label.
            return _LEFT
        return None

    def _cell(self, row: int, col: int, role: int):
        # The one place cell data is computed, for data() and multiData(); keep the common
        # roles first: a repaint asks ~7 roles for each of hundreds of cells.
        t = self._table
        if role == _DISPLAY:
            return t.text(row, self._names[col])
        if role == _ALIGN:
            return self._align[col]
        if role == _FONT:
            return self._bold if col == self._name_col else None
        if role == _FOREGROUND:
            return self._link_brush if self._links[col] and link_url(t.value(row, self._names[col])) else None
        if role == _DECORATION:
            return self._kind_icon(t.records[row].kind) if col == self._name_col else None
        if role == DATASET_ID_ROLE:
            return t.records[row].id
        if role == LINK_ROLE:
            return link_url(t.value(row, self._names[col])) if self._links[col] else ""
        if role == _TOOLTIP:
            name = self._names[col]
            if self._links[col]:
                url = link_url(t.value(row, name))
                return f"Open {url}" if url else None
            if col == self._name_col:
                return t.records[row].description or None
            text = t.text(row, name)
            return text if len(text) > 30 else None
        if role == SORT_ROLE:
            return t.value(row, self._names[col])
        if role == _EDIT:
            return edit_text(t.value(row, self._names[col]), self._types[col])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self._table is None:
            return None
        return self._cell(self._rows[index.row()], index.column(), int(role))

    def multiData(self, index, roleDataSpan) -> None:  # noqa: N802, N803
        # One Python call per painted cell instead of one per role (the delegate asks for
        # all its roles at once through multiData).
        if not index.isValid() or self._table is None:
            return
        row, col = self._rows[index.row()], index.column()
        cell = self._cell
        for k in range(len(roleDataSpan)):
            rd = roleDataSpan[k]
            rd.setData(cell(row, col, rd.role()))

    def is_editable(self, index) -> bool:
        """A cell of a custom column on the user area of a writable dataset."""
        if not index.isValid() or self._table is None:
            return False
        return self._editable[index.column()] and not self._table.records[self._rows[index.row()]].readonly

    def flags(self, index):
        # Called for every painted cell: precomputed flag values, since combining Python
        # enum flags allocates new enum members each time.
        if not index.isValid():
            return _NO_FLAGS
        return _EDITABLE_FLAGS if self.is_editable(index) else _FLAGS

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        """Save an edited custom-column cell to the dataset's user metadata (``ds.update()``,
        from the row version and metadata shown, so someone else's newer edit is merged, never
        overwritten; the same field changed by both is a conflict).
        Refusals (a value of the wrong type, a read-only dataset, a conflict) emit
        ``edit_failed`` with the message and return False."""
        if role != Qt.ItemDataRole.EditRole or not self.is_editable(index):
            return False
        t = self._table
        row, col = self._rows[index.row()], self.columns[index.column()]
        rec = t.records[row]
        try:
            new = parse_cell_text("" if value is None else str(value), col.value_type)
            old = t.value(row, col.name)
            if new == old and type(new) is type(old):
                return True
            ds = set_user_field(t.catalog, rec.id, col.field, new, rec.row_version, base_user=rec.meta_user)
        except DsdeskError as e:
            self.edit_failed.emit(f"{rec.name}, {col.label}: {e}")
            return False
        t.replace_user_metadata(row, copy.deepcopy(ds.metadata["user"]), ds.row_version)
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), self.columnCount() - 1))
        self.dataset_edited.emit(rec.id)
        return True
