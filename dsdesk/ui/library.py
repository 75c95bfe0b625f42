"""The library panel: projects and their datasets, and the selected dataset's folder tree.

Both trees accept drops (see :mod:`dsdesk.ui.mime`) and only *report* them through
signals; the main window decides what a drop does (move, clone, upload) and runs it off
the GUI thread.  Their contents are read by the API's read model
(:func:`dsdesk.api.library.read_library`, :func:`dsdesk.api.library.read_folders`) on
workers and handed in with :meth:`LibraryPanel.set_library` and :meth:`LibraryPanel.set_folders`.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QDrag, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.drivers import kind_icon
from dsdesk.api.library import DatasetRow, ProjectRow
from dsdesk.ui.icons import icon
from dsdesk.ui.mime import (
    FOLDER_MIME,
    ITEMS_MIME,
    folder_mime,
    read_folder,
    read_items,
    read_local_files,
)

DatasetIdRole = Qt.ItemDataRole.UserRole + 10
ProjectIdRole = Qt.ItemDataRole.UserRole + 11
PathRole = Qt.ItemDataRole.UserRole + 12


def dataset_icon_name(kind: str) -> str:
    """The icon of a dataset kind."""
    return {"clone": "dataset-clone", "merge": "dataset-merge"}.get(kind, "dataset-master")


class _DropTree(QTreeView):
    """A tree view that accepts our drops and tells what landed where."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformRowHeights(True)

    def _accepts(self, md) -> bool:
        return md.hasFormat(ITEMS_MIME) or md.hasFormat(FOLDER_MIME) or md.hasUrls()

    def _target(self, pos: QPoint) -> QModelIndex:
        idx = self.indexAt(pos)
        return idx.siblingAtColumn(0) if idx.isValid() else idx

    def dragEnterEvent(self, e) -> None:
        if self._accepts(e.mimeData()):
            e.acceptProposedAction()
        else:
            e.ignore()

    def dragMoveEvent(self, e) -> None:
        idx = self._target(e.position().toPoint())
        if idx.isValid() and self._can_drop(e.mimeData(), idx):
            e.acceptProposedAction()
        else:
            e.ignore()

    def _can_drop(self, md, idx: QModelIndex) -> bool:
        return True

    @staticmethod
    def _is_copy(e) -> bool:
        # Decided by the modifier, not proposedAction(): a drop without a QDrag of ours
        # (another app, a synthesized event) gets CopyAction proposed by QPlatformDrag's
        # fallback, which would turn every plain move into a clone.  Option on macOS.
        mods = e.modifiers()
        return bool(mods & Qt.KeyboardModifier.ControlModifier) or (
            sys.platform == "darwin" and bool(mods & Qt.KeyboardModifier.AltModifier))


class DatasetTreeView(_DropTree):
    """Projects and datasets.  Dropping grid items onto a dataset clones them into it."""

    items_dropped = Signal(object, int)  # ItemsPayload, target dataset id

    def _can_drop(self, md, idx: QModelIndex) -> bool:
        ds = idx.data(DatasetIdRole)
        payload = read_items(md)
        return ds is not None and payload is not None and payload.dataset_id != ds

    def dropEvent(self, e) -> None:
        idx = self._target(e.position().toPoint())
        payload = read_items(e.mimeData())
        ds = idx.data(DatasetIdRole) if idx.isValid() else None
        if payload is None or ds is None or payload.dataset_id == ds:
            e.ignore()
            return
        e.setDropAction(Qt.DropAction.CopyAction)
        e.accept()
        self.items_dropped.emit(payload, int(ds))


class FolderTreeView(_DropTree):
    """One dataset's folders.  Drops: grid items move (Ctrl: clone) into the folder, a
    folder moves under the folder, files from the desktop upload into it."""

    items_dropped = Signal(object, str, bool)  # ItemsPayload, folder, copy
    folder_dropped = Signal(object, str)  # FolderPayload, folder
    files_dropped = Signal(list, str)  # local paths, folder

    dataset_id: int | None = None

    def startDrag(self, supported) -> None:
        idx = self.currentIndex().siblingAtColumn(0)
        path = idx.data(PathRole) if idx.isValid() else None
        if not path or path == "/" or self.dataset_id is None:
            return
        drag = QDrag(self)
        drag.setMimeData(folder_mime(self.dataset_id, path))
        drag.setPixmap(icon("folder").pixmap(24, 24))
        drag.exec(Qt.DropAction.MoveAction, Qt.DropAction.MoveAction)

    def _can_drop(self, md, idx: QModelIndex) -> bool:
        target = idx.data(PathRole)
        f = read_folder(md)
        if f is not None:
            return f.dataset_id == self.dataset_id and target != f.path and \
                not (target + "/").startswith(f.path.rstrip("/") + "/")
        return True

    def dropEvent(self, e) -> None:
        idx = self._target(e.position().toPoint())
        if not idx.isValid():
            e.ignore()
            return
        target = idx.data(PathRole)
        md = e.mimeData()
        items = read_items(md)
        folder = read_folder(md)
        files = read_local_files(md)
        if items is not None:
            copy = self._is_copy(e)
            e.setDropAction(Qt.DropAction.CopyAction if copy else Qt.DropAction.MoveAction)
            e.accept()
            self.items_dropped.emit(items, target, copy)
        elif folder is not None and self._can_drop(md, idx):
            e.setDropAction(Qt.DropAction.MoveAction)
            e.accept()
            self.folder_dropped.emit(folder, target)
        elif files:
            e.setDropAction(Qt.DropAction.CopyAction)
            e.accept()
            self.files_dropped.emit(files, target)
        else:
            e.ignore()


class LibraryPanel(QWidget):
    """The left panel: dataset tree above, folder tree below (a splitter between them)."""

    dataset_selected = Signal(int)
    folder_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.datasets_model = QStandardItemModel(self)
        self.datasets_model.setHorizontalHeaderLabels(["Dataset", "Items", "", ""])  # icon columns: storage, lock
        self.datasets = DatasetTreeView(self)
        self.datasets.setModel(self.datasets_model)
        self.datasets.setDragEnabled(False)
        hdr = self.datasets.header()
        hdr.setStretchLastSection(False)
        hdr.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            hdr.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.folders_model = QStandardItemModel(self)
        self.folders_model.setHorizontalHeaderLabels(["Folder", "Items"])
        self.folders = FolderTreeView(self)
        self.folders.setModel(self.folders_model)
        self.folders.setDragEnabled(True)
        fh = self.folders.header()
        fh.setStretchLastSection(False)
        fh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        fh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.folders_title = QLabel("Folders", self)
        self.folders_title.setStyleSheet("font-weight: 600; padding: 4px 2px 2px 2px;")
        lower = QWidget(self)
        ll = QVBoxLayout(lower)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.folders_title)
        ll.addWidget(self.folders)
        upper = QWidget(self)
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addWidget(self.datasets)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("librarySplitter")
        self.splitter.addWidget(upper)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.splitter)
        self.rows: dict[int, DatasetRow] = {}
        self.current_dataset_id: int | None = None
        self.current_folder: str = "/"
        self._pending_folder: str | None = None
        self.datasets.selectionModel().currentChanged.connect(self._on_datasets_current_changed)
        self.folders.selectionModel().currentChanged.connect(self._on_folders_current_changed)

    # ---- datasets ----------------------------------------------------------------------
    def set_library(self, projects: list[ProjectRow]) -> None:
        """Show *projects*; the current dataset stays selected when it still exists."""
        keep = self.current_dataset_id
        self.datasets.selectionModel().blockSignals(True)
        self.datasets_model.removeRows(0, self.datasets_model.rowCount())
        self.rows.clear()
        for p in projects:
            pi = QStandardItem(icon("project"), p.name)
            pi.setData(p.id, ProjectIdRole)
            pi.setToolTip(f"Project {p.name}")
            blank = [QStandardItem() for _ in range(3)]
            for d in p.datasets:
                self.rows[d.id] = d
                name = QStandardItem(icon(dataset_icon_name(d.kind)), d.name)
                name.setData(d.id, DatasetIdRole)
                name.setData(p.id, ProjectIdRole)
                name.setToolTip(f"{d.name}: {d.kind} dataset on {d.driver_name} ({d.driver_kind})"
                                f"{', read-only' if d.readonly else ''}\n{d.description}".rstrip())
                count = QStandardItem(f"{d.items_count:,}")
                count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                drv = QStandardItem(icon(kind_icon(d.driver_kind)), "")
                drv.setToolTip(f"Storage: {d.driver_name} ({d.driver_kind})")
                lock = QStandardItem(icon("readonly") if d.readonly else icon("writable"), "")
                lock.setToolTip("Read-only" if d.readonly else "Writable")
                for it in (name, count, drv, lock):
                    it.setData(d.id, DatasetIdRole)
                pi.appendRow([name, count, drv, lock])
            self.datasets_model.appendRow([pi, *blank])
        self.datasets.expandAll()
        self.datasets.selectionModel().blockSignals(False)
        if keep is not None and keep in self.rows:
            self.select_dataset(keep, emit=False)
        elif keep is not None:
            self.current_dataset_id = None
            self.set_folders(None)
            self.dataset_selected.emit(-1)

    def dataset_index(self, dataset_id: int) -> QModelIndex:
        """The tree index of *dataset_id* (invalid when not shown)."""
        m = self.datasets_model
        for r in range(m.rowCount()):
            p = m.index(r, 0)
            for c in range(m.rowCount(p)):
                idx = m.index(c, 0, p)
                if idx.data(DatasetIdRole) == dataset_id:
                    return idx
        return QModelIndex()

    def select_dataset(self, dataset_id: int, emit: bool = True) -> bool:
        """Make *dataset_id* current; False when it is not in the library."""
        idx = self.dataset_index(dataset_id)
        if not idx.isValid():
            return False
        if not emit:
            self.datasets.selectionModel().blockSignals(True)
        self.datasets.setCurrentIndex(idx)
        self.datasets.scrollTo(idx)
        if not emit:
            self.datasets.selectionModel().blockSignals(False)
            self.current_dataset_id = dataset_id
        return True

    def selected_dataset_ids(self) -> list[int]:
        """The current dataset as a list (empty when none)."""
        return [self.current_dataset_id] if self.current_dataset_id is not None else []

    def _on_datasets_current_changed(self, cur: QModelIndex, _prev: QModelIndex) -> None:
        ds = cur.data(DatasetIdRole) if cur.isValid() else None
        if ds is None or ds == self.current_dataset_id:
            return
        self.current_dataset_id = int(ds)
        self.current_folder = "/"
        self.folders.dataset_id = int(ds)
        self.dataset_selected.emit(int(ds))

    # ---- folders -----------------------------------------------------------------------
    def set_folders(self, tree, select: str | None = None) -> None:
        """Show a DirectoryTree (None: empty); keeps or sets the current folder."""
        want = select or self.current_folder or "/"
        self.folders.selectionModel().blockSignals(True)
        self.folders_model.removeRows(0, self.folders_model.rowCount())
        self.folders.dataset_id = self.current_dataset_id
        found = None
        if tree is not None:
            nodes: dict[str, QStandardItem] = {}
            for d in tree.dirs:
                name = QStandardItem(icon("folder"), d.name if d.path != "/" else "/ (all items)")
                name.setData(d.path, PathRole)
                name.setToolTip(f"{d.path}: {d.items:,} item(s) here, {d.total:,} with sub-folders")
                count = QStandardItem(f"{d.total:,}")
                count.setData(d.path, PathRole)
                count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                parent = nodes.get(d.parent) if d.parent else None
                (parent.appendRow if parent is not None else self.folders_model.appendRow)([name, count])
                nodes[d.path] = name
            self.folders.expandToDepth(1)
            found = nodes.get(want) or nodes.get("/")
        self.folders.selectionModel().blockSignals(False)
        if found is not None:
            idx = found.index()
            self.folders.selectionModel().blockSignals(True)
            self.folders.setCurrentIndex(idx)
            self.folders.scrollTo(idx)
            self.folders.selectionModel().blockSignals(False)
            self.current_folder = idx.data(PathRole)
        ds = self.rows.get(self.current_dataset_id) if self.current_dataset_id is not None else None
        self.folders_title.setText(f"Folders of {ds.name}" if ds else "Folders")

    def folder_index(self, path: str) -> QModelIndex:
        """The index of folder *path* (invalid when not shown)."""
        hits = self.folders_model.match(self.folders_model.index(0, 0), PathRole, path, 1,
                                        Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive)
        return hits[0] if hits else QModelIndex()

    def select_folder(self, path: str) -> bool:
        """Make folder *path* current (emits folder_selected)."""
        idx = self.folder_index(path)
        if not idx.isValid():
            return False
        self.folders.setCurrentIndex(idx)
        return True

    def _on_folders_current_changed(self, cur: QModelIndex, _prev: QModelIndex) -> None:
        path = cur.data(PathRole) if cur.isValid() else None
        if path is None or path == self.current_folder:
            return
        self.current_folder = path
        self.folder_selected.emit(path)
