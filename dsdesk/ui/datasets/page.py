"""DatasetsPage: every dataset of a project in a table the user customises.

Dataloop's Datasets page with calibre's column handling: standard and custom metadata
columns (``project.columns``), shown, hidden, dragged into another order and resized from
the header; the layout is saved per project in the catalog by column key, so a new page
on the same catalog (tomorrow, or a teammate's) finds it again.  Sorting is typed (numbers
as numbers, missing values last); the search box takes words or the query syntax.

Wiring for the main window: ``set_project(project_id)``, the ``refresh()`` slot (call it
after a job finished; F5 does it too), and the signals ``open_dataset_requested(int)``
(double-click, Enter) and ``dataset_action_requested(str, list)`` (the row menu).

Threading: the catalog is read on the page's own worker (``self.tasks``); the snapshot
arrives on the GUI thread, where everything else happens.  Only small writes (the column
layout, a dialog's OK) and a search in the query syntax (one indexed query) run on the GUI
thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QMetaMethod,
    QPoint,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QHeaderView, QMenu, QMessageBox, QVBoxLayout, QWidget

from dsdesk.api.columns import STANDARD_BY_NAME, Column
from dsdesk.api.dataset_table import DatasetTable
from dsdesk.errors import DsdeskError
from dsdesk.ui.datasets import menus
from dsdesk.ui.datasets.delegates import LinkDelegate
from dsdesk.ui.datasets.model import DATASET_ID_ROLE, DatasetTableModel
from dsdesk.ui.datasets.toolbar import DatasetsToolbar
from dsdesk.ui.datasets.view import DatasetsTableView
from dsdesk.ui.settings import UiPrefs
from dsdesk.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

_CUSTOM_WIDTH = 120  # a new custom column's width until the user resizes it
_SAVE_DELAY_MS = 400  # resizing fires many events: save once the user let go


class DatasetsPage(QWidget):
    """The datasets page.  Use it from the GUI thread only; it reads the catalog on its
    own worker (``self.tasks``) and never touches widgets there.

    Reads the catalog through :class:`dsdesk.api.dataset_table.DatasetTable` (two queries,
    cached counts, never an item scan) and writes only the column layout and a dataset's
    user metadata (F2 on a custom column's cell, or the properties dialog).  Call
    :meth:`shutdown` when the window closes.
    """

    open_dataset_requested = Signal(int)
    dataset_action_requested = Signal(str, list)
    selection_changed = Signal(list)  # the selected dataset ids, in row order
    table_loaded = Signal()  # new rows from the catalog are shown
    load_failed = Signal(str)  # reading the catalog failed (the message)

    def __init__(self, catalog, parent: QWidget | None = None, prefs: UiPrefs | None = None):
        super().__init__(parent)
        self._cat = catalog
        # The window's preferences when it has them (it saves them on close), else our own.
        self._prefs = prefs if prefs is not None else UiPrefs.load()
        self._restore_sort: tuple[str, bool] | None = None
        self._project_id: int | None = None
        self._applying_layout = False
        self._loading = False
        self._pending_keep = True
        # Reads of the catalog run here, off the GUI thread; one thread is enough and a
        # newer read replaces an older one (same key).
        self.tasks = TaskRunner(self, threads=1)
        self._link_delegate = LinkDelegate(self.open_url, self)

        self.toolbar = DatasetsToolbar(self)
        self.search = self.toolbar.search
        self.count_label = self.toolbar.count_label
        self.columns_button = self.toolbar.columns_button
        self.refresh_button = self.toolbar.refresh_button

        self.model = DatasetTableModel(self)
        self.view = DatasetsTableView(self)
        self.view.setModel(self.model)
        self._plain_delegate = self.view.itemDelegate()  # for columns that are not links
        self.empty_label = self.view.empty_label
        hh = self.view.horizontalHeader()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(6)
        lay.addWidget(self.toolbar)
        lay.addWidget(self.view, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(_SAVE_DELAY_MS)

        # Idle-time preparation of the search text (see DatasetTable.warm_up_steps): a
        # zero-interval timer runs one column per turn of the event loop, so input is
        # never blocked for long.
        self._warm_timer = QTimer(self)
        self._warm_timer.setInterval(0)
        self._warm_steps = None

        # F5 and Ctrl+F are handled in keyPressEvent, not as shortcuts: inside the main window,
        # which has window-wide Refresh and Find actions on the same keys, two shortcuts
        # would be ambiguous and Qt would fire neither.

        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_timer_timeout)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self._save_timer.timeout.connect(self.save_layout)
        self._warm_timer.timeout.connect(self._on_warm_timer_timeout)
        self.columns_button.clicked.connect(self.open_column_settings)
        self.refresh_button.clicked.connect(self.refresh)
        hh.sectionClicked.connect(self._on_header_section_clicked)
        hh.sectionMoved.connect(self._on_header_layout_changed)
        hh.sectionResized.connect(self._on_header_layout_changed)
        hh.customContextMenuRequested.connect(self._on_header_context_menu)
        self.view.customContextMenuRequested.connect(self._on_view_context_menu)
        self.view.doubleClicked.connect(self._on_view_double_clicked)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.model.rows_changed.connect(self._update_count)
        self.model.edit_failed.connect(self._on_model_edit_failed)
        self._update_count()

    # ---- public API ------------------------------------------------------------------------
    @property
    def project_id(self) -> int | None:
        """The project shown, or None."""
        return self._project_id

    def set_project(self, project_id: int | None, *, wait: bool = False) -> None:
        """Show the datasets of *project_id* (None: an empty page).

        The catalog is read on a worker thread and ``table_loaded`` is emitted once the
        rows are shown; with ``wait=True`` the read happens here, before returning.
        """
        self._flush_layout_save()
        if project_id != self._project_id:
            self.model.set_table(None)  # never show (and act on) another project's rows
        self._project_id = project_id
        self.model.sort_by(None)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        saved = self._prefs.datasets_sort.get(self._sort_key()) if project_id is not None else None
        self._restore_sort = (saved[0], bool(saved[1])) if isinstance(saved, list) and len(saved) == 2 else None
        self._reload(keep_view_state=False, wait=wait or project_id is None)

    @Slot()
    def refresh(self) -> None:
        """Reload the datasets and columns from the catalog (on a worker thread), keeping
        the selection, the current row, the sort, the search and the scroll position as
        they are when the new rows arrive.  ``table_loaded`` tells when they are shown."""
        self._flush_layout_save()
        self._reload(keep_view_state=True)

    @property
    def loading(self) -> bool:
        """True while a read of the catalog is under way."""
        return self._loading

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop background reads (the window is closing); False if one did not end in time."""
        self._warm_timer.stop()
        self._save_timer.stop()
        return self.tasks.shutdown(timeout_ms)

    def selected_dataset_ids(self) -> list[int]:
        """The selected datasets' ids, in row order."""
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.dataset_id(r) for r in rows]

    def select_datasets(self, ids, current: int | None = None) -> None:
        """Select the rows of datasets *ids* (those visible) and make *current* current."""
        sm = self.view.selectionModel()
        sel = QItemSelection()
        last = self.model.columnCount() - 1
        for r in self.model.rows_of_datasets(ids):
            sel.select(self.model.index(r, 0), self.model.index(r, last))
        sm.select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if current is not None:
            row = self.model.row_of_dataset(current)
            if row >= 0:
                sm.setCurrentIndex(self.model.index(row, self.view.first_visible_column()),
                                   QItemSelectionModel.SelectionFlag.NoUpdate)

    def current_layout(self) -> list[dict]:
        """The header's layout: ``{"name", "visible", "width"}`` per column, in visual order."""
        hh = self.view.horizontalHeader()
        cols = self.model.columns
        out = []
        for v in range(hh.count()):
            logical = hh.logicalIndex(v)
            c = cols[logical]
            hidden = hh.isSectionHidden(logical)
            # A hidden section reports width 0: keep the width it had.
            width = c.width if hidden else hh.sectionSize(logical)
            out.append({"name": c.name, "visible": not hidden, "width": width})
        return out

    @Slot()
    def save_layout(self) -> None:
        """Save the header's layout (order, visibility, widths) in the catalog now."""
        self._save_timer.stop()
        if self._project_id is None or self.model.table is None:
            return
        layout = self.current_layout()
        try:
            cols = self._project().columns.save_layout(layout)
        except DsdeskError as e:
            QMessageBox.warning(self, "Column layout", f"The column layout could not be saved: {e}")
            return
        # Keep the model's column objects in step with what was saved (widths for hidden ones).
        by_name = {c.name: c for c in cols}
        self.model.table.columns[:] = [by_name.get(c.name, c) for c in self.model.table.columns]

    def restore_default_layout(self) -> None:
        """Standard columns back to their default order, visibility and widths."""
        if self._project_id is None:
            return
        self._save_timer.stop()
        self._project().columns.restore_default()
        self._reload(keep_view_state=True, wait=True)

    def open_column_settings(self):
        """Open the column settings dialog (window-modal, not blocking); the page reloads
        when it is applied.  Returns the dialog."""
        from dsdesk.ui.datasets.column_settings import ColumnSettingsDialog

        if self._project_id is None:
            return None
        self._flush_layout_save()
        dlg = ColumnSettingsDialog(self._cat, self._project_id, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self.refresh)
        dlg.open()
        return dlg

    def open_properties(self, dataset_id: int):
        """Open the properties dialog of a dataset (window-modal, not blocking); the page
        reloads when it is saved.  Returns the dialog."""
        from dsdesk.ui.dialogs.properties import DatasetPropertiesDialog

        try:
            dlg = DatasetPropertiesDialog.for_dataset(self._cat, dataset_id, self)
        except DsdeskError as e:
            QMessageBox.warning(self, "Dataset properties", str(e))
            return None
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self.refresh)
        dlg.open()
        return dlg

    def open_url(self, url: str) -> None:
        """Open a link cell's URL in the user's browser."""
        QDesktopServices.openUrl(QUrl(url))

    # ---- loading ---------------------------------------------------------------------------
    def _project(self):
        return self._cat.projects.get(project_id=self._project_id)

    def _reload(self, keep_view_state: bool, wait: bool = False) -> None:
        pid = self._project_id
        # A read already under way for a new project must not turn into a "keep the view"
        # one: the selection and scroll it would keep belong to the previous project.
        keep = keep_view_state and not (self._loading and not self._pending_keep)
        if wait or pid is None:
            table = DatasetTable.load(self._cat, pid) if pid is not None else None
            self._loading = False
            self._show_table(table, keep)
            return
        self._loading, self._pending_keep = True, keep
        self._update_count()
        cat = self._cat
        self.tasks.run(lambda: DatasetTable.load(cat, pid),
                       lambda table: self._on_table_loaded(pid, table, keep),
                       lambda error: self._on_table_load_failed(pid, error), key="datasets-table")

    def _on_table_loaded(self, pid: int, table: DatasetTable, keep: bool) -> None:
        if pid != self._project_id:
            return  # the user switched projects meanwhile
        self._loading = False
        self._show_table(table, keep)

    def _on_table_load_failed(self, pid: int, error: BaseException) -> None:
        if pid != self._project_id:
            return
        self._loading = False
        self._update_count()
        msg = str(error) if isinstance(error, DsdeskError) else f"{type(error).__name__}: {error}"
        self.toolbar.show_load_error(msg)
        self.load_failed.emit(msg)

    def _show_table(self, table: DatasetTable | None, keep_view_state: bool) -> None:
        selected = self.selected_dataset_ids() if keep_view_state else []
        cur = self.view.currentIndex()
        current = self.model.dataset_id(cur.row()) if keep_view_state and cur.isValid() else None
        vscroll = self.view.verticalScrollBar().value()
        hscroll = self.view.horizontalScrollBar().value()
        was_saving = self._save_timer.isActive()
        self._applying_layout = True  # a model reset re-lays out the header: not the user's doing
        try:
            self.model.set_table(table)
        finally:
            self._applying_layout = False
        self._apply_layout()
        if not was_saving:
            self._save_timer.stop()
        if self._restore_sort is not None and table is not None:
            name, ascending = self._restore_sort
            self._restore_sort = None
            col = self.model.column_index(name)
            if col >= 0 and self.model.columns[col].sortable:  # a column since deleted: unsorted
                self.model.sort_by(name, ascending)
        self._apply_sort_indicator()
        self._show_search_state()
        if keep_view_state:
            self.select_datasets(selected, current)
            self.view.verticalScrollBar().setValue(vscroll)
            self.view.horizontalScrollBar().setValue(hscroll)
        self.count_label.setToolTip("")
        self._update_count()
        self._start_warm_up()
        self.table_loaded.emit()

    def _start_warm_up(self) -> None:
        t = self.model.table
        self._warm_steps = t.warm_up_steps() if t is not None and len(t) else None
        if self._warm_steps is not None:
            self._warm_timer.start()
        else:
            self._warm_timer.stop()

    def _on_warm_timer_timeout(self) -> None:
        try:
            next(self._warm_steps)
        except (StopIteration, TypeError):
            self._warm_timer.stop()
            self._warm_steps = None

    @property
    def warmed_up(self) -> bool:
        """True once the idle-time search preparation is done."""
        return self._warm_steps is None

    def _apply_layout(self) -> None:
        """Make the header show the model's columns as saved: order, visibility, widths,
        resize modes, delegates.  Does not save anything back."""
        hh = self.view.horizontalHeader()
        self._applying_layout = True
        try:
            cols = self.model.columns
            for logical in range(len(cols)):
                # The model's column order is the saved order: undo any earlier header move.
                v = hh.visualIndex(logical)
                if v != logical:
                    hh.moveSection(v, logical)
            for logical, c in enumerate(cols):
                hh.setSectionHidden(logical, not c.visible)
                width = c.width or self._default_width(c)
                hh.setSectionResizeMode(logical, QHeaderView.ResizeMode.Interactive if c.resizable
                                        else QHeaderView.ResizeMode.Fixed)
                hh.resizeSection(logical, width)
                self.view.setItemDelegateForColumn(logical, self._link_delegate if c.link else self._plain_delegate)
            if cols and all(hh.isSectionHidden(i) for i in range(len(cols))):
                hh.setSectionHidden(0, False)
        finally:
            self._applying_layout = False

    @staticmethod
    def _default_width(c: Column) -> int:
        sc = STANDARD_BY_NAME.get(c.name)
        if sc is not None and not c.custom and sc.width:
            return sc.width
        return _CUSTOM_WIDTH

    def _sort_key(self) -> str:
        return f"{self._cat.raw_url}#{self._project_id}"

    def _save_sort(self, name: str, ascending: bool) -> None:
        """Remember the user's sort for this catalog and project (a small JSON file, written now)."""
        self._prefs.datasets_sort[self._sort_key()] = [name, ascending]
        try:
            self._prefs.save()
        except OSError as e:  # a read-only config folder: the sort just is not remembered
            log.warning("could not save the datasets table's sort: %s", e)

    def _apply_sort_indicator(self) -> None:
        hh = self.view.horizontalHeader()
        st = self.model.sort_state
        if st is None:
            hh.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        else:
            hh.setSortIndicator(self.model.column_index(st[0]),
                                Qt.SortOrder.AscendingOrder if st[1] else Qt.SortOrder.DescendingOrder)

    def _flush_layout_save(self) -> None:
        if self._save_timer.isActive():
            self.save_layout()

    # ---- search ----------------------------------------------------------------------------
    def _on_search_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_search_timer_timeout(self) -> None:
        self._search_timer.stop()
        selected = self.selected_dataset_ids()
        cur = self.view.currentIndex()
        current = self.model.dataset_id(cur.row()) if cur.isValid() else None
        self.model.apply_search(self.search.text())
        self.select_datasets(selected, current)
        self._show_search_state()

    def apply_search_now(self, text: str) -> None:
        """Set the search text and filter at once (no typing delay)."""
        self.search.setText(text)
        self._on_search_timer_timeout()

    def _show_search_state(self) -> None:
        res = self.model.search_result
        self.toolbar.show_search_error(res.error if res is not None else None)

    def _on_find_triggered(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _update_empty_label(self) -> None:
        total, shown = self.model.total, self.model.rowCount()
        text = ""
        if self._project_id is not None and not self._loading and shown == 0:
            if total == 0:
                text = "No datasets in this project yet.\nCreate one, or sync a storage driver, from the Dataset menu."
            else:
                text = f"No dataset matches “{self.search.text().strip()}”."
                res = self.model.search_result
                if res is not None and res.error:
                    text += f"\nThe query syntax was not understood ({res.error}), so its words were searched."
        self.view.show_notice(text)

    def _update_count(self) -> None:
        self._update_empty_label()
        self.toolbar.show_count(self.model.total, self.model.rowCount(),
                                loading=self._loading and self.model.table is None,
                                has_project=self._project_id is not None)

    # ---- header ----------------------------------------------------------------------------
    def _on_header_section_clicked(self, logical: int) -> None:
        cols = self.model.columns
        if not 0 <= logical < len(cols):
            return
        c = cols[logical]
        if not c.sortable:
            self._apply_sort_indicator()  # the click moved the indicator: put it back
            return
        st = self.model.sort_state
        if st is not None and st[0] == c.name:
            ascending = not st[1]
        else:
            ascending = c.value_type not in ("number", "date")  # big numbers and recent dates first
        selected = self.selected_dataset_ids()
        self._restore_sort = None  # the user's click wins over a saved sort still to apply
        self.model.sort_by(c.name, ascending)
        self._apply_sort_indicator()
        self._save_sort(c.name, ascending)
        if selected:
            cur = self.view.currentIndex()
            if cur.isValid():
                self.view.scrollTo(cur)

    def _on_header_layout_changed(self, *_args) -> None:
        if not self._applying_layout and self._project_id is not None:
            self._save_timer.start()

    def set_column_visible(self, name: str, visible: bool) -> None:
        """Show or hide a column (saved at once).  The last visible column cannot be hidden."""
        logical = self.model.column_index(name)
        if logical < 0:
            return
        hh = self.view.horizontalHeader()
        if not visible and hh.count() - hh.hiddenSectionCount() <= 1:
            return
        hh.setSectionHidden(logical, not visible)
        if visible and hh.sectionSize(logical) < hh.minimumSectionSize():
            hh.resizeSection(logical, self.model.columns[logical].width or self._default_width(self.model.columns[logical]))
        self.save_layout()
        self._start_warm_up()

    def header_menu(self) -> QMenu:
        """The header's context menu: a check per column, then the layout actions."""
        return menus.header_menu(self, self.view.horizontalHeader(), self.model.columns, self.set_column_visible,
                                 self.open_column_settings, self.restore_default_layout)

    def _on_header_context_menu(self, pos: QPoint) -> None:
        if self.model.table is None:
            return
        menu = self.header_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.horizontalHeader().mapToGlobal(pos))

    # ---- rows ------------------------------------------------------------------------------
    def row_menu(self, ids: list[int]) -> QMenu:
        """The row context menu for the datasets *ids*: the dataset actions of
        :mod:`dsdesk.ui.actions`, enabled for this selection."""
        return menus.row_menu(self, ids, menus.selection_of(self.model.table, ids), self._on_row_action)

    def _on_view_context_menu(self, pos: QPoint) -> None:
        idx = self.view.indexAt(pos)
        if not idx.isValid():
            return
        ids = self.selected_dataset_ids()
        clicked = idx.data(DATASET_ID_ROLE)
        if clicked not in ids:
            self.select_datasets([clicked], clicked)
            ids = [clicked]
        menu = self.row_menu(ids)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def _on_row_action(self, action: str, ids: list[int]) -> None:
        self.dataset_action_requested.emit(action, list(ids))
        if action == "properties" and ids and not self._has_action_listener():
            self.open_properties(ids[0])

    def _has_action_listener(self) -> bool:
        return self.isSignalConnected(QMetaMethod.fromSignal(self.dataset_action_requested))

    def _on_model_edit_failed(self, message: str) -> None:
        QMessageBox.warning(self, "Edit dataset metadata", message)

    def _on_view_double_clicked(self, index) -> None:
        if index.isValid():
            self.open_dataset_requested.emit(int(index.data(DATASET_ID_ROLE)))

    def _on_selection_changed(self, *_args) -> None:
        self.selection_changed.emit(self.selected_dataset_ids())

    # ---- events ----------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802
        key = event.key()
        if key == Qt.Key.Key_F5 or event.matches(QKeySequence.StandardKey.Refresh):
            self.refresh()
            return
        if event.matches(QKeySequence.StandardKey.Find):
            self._on_find_triggered()
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.view.hasFocus():
            cur = self.view.currentIndex()
            if cur.isValid():
                self.open_dataset_requested.emit(int(cur.data(DATASET_ID_ROLE)))
                return
        if key == Qt.Key.Key_Escape and self.search.hasFocus() and self.search.text():
            self.search.clear()
            return
        super().keyPressEvent(event)
