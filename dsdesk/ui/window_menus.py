"""The main window's context menus: on a dataset of the library, on a folder, on the grid's
selection.

They are filled with the window's own actions (:mod:`dsdesk.ui.actions`), so an entry and
its twin in the menu bar are one QAction with one enabled state and one shortcut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QMenu

from dsdesk.ui import actions as acts
from dsdesk.ui.library import DatasetIdRole

if TYPE_CHECKING:
    from dsdesk.ui.main_window import MainWindow


class WindowContextMenus:
    """Builds and shows the window's context menus.  GUI thread only; :meth:`connect` wires
    them to the library's trees and the grid."""

    def __init__(self, window: MainWindow):
        self.w = window

    def connect(self) -> None:
        """Show the menus where the user asks for them (right click, the menu key)."""
        lib = self.w.library
        lib.datasets.customContextMenuRequested.connect(self._on_datasets_tree_context_menu)
        lib.folders.customContextMenuRequested.connect(self._on_folders_tree_context_menu)
        self.w.grid.view.customContextMenuRequested.connect(self._on_grid_context_menu)

    def dataset_menu(self) -> QMenu:
        """The dataset context menu (the Dataset menu's actions)."""
        return acts.fill_menu(QMenu(self.w), self.w.actions, acts.DATASET_ACTIONS)

    def folder_menu(self) -> QMenu:
        """The folder context menu."""
        self.w.update_actions()
        m = acts.fill_menu(QMenu(self.w), self.w.actions, acts.FOLDER_ACTIONS)
        m.addSeparator()
        m.addAction(self.w.dataset_actions["clone"])
        return m

    def grid_menu(self) -> QMenu:
        """The grid's selection context menu."""
        w = self.w
        w.update_actions()
        m = acts.fill_menu(QMenu(w), w.actions, [acts.ACTIONS[n] for n in ("open_item", "clone_items", "delete_items")])
        has = bool(w.grid.view.selected_ids())
        w.act_delete_items.setEnabled(has and w.act_delete_items.isEnabled())
        m.addSeparator()
        m.addAction(w.act_select_all)
        return m

    def _on_datasets_tree_context_menu(self, pos: QPoint) -> None:
        lib = self.w.library
        idx = lib.datasets.indexAt(pos)
        if not idx.isValid() or lib.datasets_model.itemFromIndex(idx.siblingAtColumn(0)) is None:
            return
        ds = idx.data(DatasetIdRole)
        if ds is None:
            return
        if ds != self.w.current_dataset_id:
            lib.select_dataset(ds)
        self.dataset_menu().exec(lib.datasets.viewport().mapToGlobal(pos))

    def _on_folders_tree_context_menu(self, pos: QPoint) -> None:
        folders = self.w.library.folders
        idx = folders.indexAt(pos)
        if idx.isValid():
            folders.setCurrentIndex(idx.siblingAtColumn(0))
        self.folder_menu().exec(folders.viewport().mapToGlobal(pos))

    def _on_grid_context_menu(self, pos: QPoint) -> None:
        self.grid_menu().exec(self.w.grid.view.viewport().mapToGlobal(pos))
