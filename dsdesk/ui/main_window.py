"""The main window: library (left), pages in the centre (Datasets table, Browser grid),
inspector (right), jobs (bottom), menus, context menus and the status bar.

Signals are wired here, in one place; panels never reach into each other.  Every catalog
access runs off the GUI thread: short reads and writes through :class:`TaskRunner`, long
operations as jobs through :class:`JobManager`.  Dataset actions (``clone``, ``merge``,
``snapshot``, ``rollback``, ``diff``, ``switch_recipe``, ``sync``, ``readonly``,
``delete``, ``properties``) are reachable from the menu bar (with shortcuts), the
library's and the datasets page's context menus, through :meth:`run_dataset_action`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QWidget,
)

from dsdesk.api.item_details import read_item_details
from dsdesk.api.library import read_folders, read_library
from dsdesk.errors import DsdeskError
from dsdesk.ui import operations as ops
from dsdesk.ui.dialogs import common as dialogs
from dsdesk.ui.grid import GridPanel, folder_filter
from dsdesk.ui.icons import icon
from dsdesk.ui.inspector import InspectorPanel
from dsdesk.ui.jobs import JobManager, JobsPanel
from dsdesk.ui.library import LibraryPanel
from dsdesk.ui.settings import UiPrefs, qt_settings
from dsdesk.ui.tasks import TaskRunner
from dsdesk.ui.viewer import ItemViewerDialog, load_image

#: (name, text, icon, shortcut) of the dataset actions, in menu order.
DATASET_ACTIONS: tuple[tuple[str, str, str, str | None], ...] = (
    ("clone", "Clone…", "clone", "Ctrl+Shift+C"),
    ("merge", "Merge with…", "merge", "Ctrl+Shift+M"),
    ("snapshot", "Snapshot", "snapshot", "Ctrl+Shift+S"),
    ("rollback", "Rollback to…", "rollback", "Ctrl+Shift+R"),
    ("diff", "Diff with…", "diff", "Ctrl+Shift+D"),
    ("switch_recipe", "Switch recipe…", "recipe", None),
    ("sync", "Sync now", "sync", "Ctrl+Shift+Y"),
    ("sync_restore", "Sync and bring back deleted items…", "sync", None),
    ("readonly", "Set read-only", "readonly", "Ctrl+Shift+L"),
    ("delete", "Delete", "delete", "Ctrl+Shift+Del"),
    ("properties", "Properties", "properties", "Alt+Return"),
)
_SEPARATOR_AFTER = {"diff", "switch_recipe", "readonly"}
AUTO_SYNC_POLL_MS = 30_000  # how often the window looks for datasets whose auto-sync is due


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """Ask for one line of text; None when cancelled (tests patch this function)."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value.strip() if ok and value.strip() else None


def ask_files(parent: QWidget | None, title: str) -> list[str]:
    """Ask for local files to upload (tests patch this function)."""
    files, _ = QFileDialog.getOpenFileNames(parent, title)
    return files


class MainWindow(QMainWindow):
    """The dsdesk main window over one open catalog (``dsdesk.api.catalog.Catalog``).

    GUI thread only.  Call :meth:`shutdown` (``close()`` does) before closing the catalog:
    it cancels jobs and stops every worker pool with a timeout.
    """

    def __init__(self, cat, prefs: UiPrefs | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.cat = cat
        self.prefs = prefs or UiPrefs.load()
        self.setWindowTitle("dsdesk")
        self.setWindowIcon(icon("app"))
        self.setObjectName("dsdeskMainWindow")
        self.setDockNestingEnabled(True)
        ops.tune_catalog_for_gui(cat.db)  # before any worker opens a connection
        self.tasks = TaskRunner(self, threads=2, on_unhandled_error=self._on_tasks_unhandled_error)
        self.jobs = JobManager(cat.db, self)
        self.current_dataset_id: int | None = None
        self._restored = False
        self._viewers: list[ItemViewerDialog] = []
        self._shut_down = False

        # ---- centre: the pages ---------------------------------------------------------
        self.pages = QStackedWidget(self)
        self.datasets_page = self._make_datasets_page()
        self.grid = GridPanel(cat, self)
        self.pages.addWidget(self.datasets_page)
        self.pages.addWidget(self.grid)
        self.setCentralWidget(self.pages)

        # ---- docks ---------------------------------------------------------------------
        self.library = LibraryPanel(self)
        self.inspector = InspectorPanel(self)
        self.jobs_panel = JobsPanel(self.jobs, self)
        self.library_dock = self._dock("Library", "libraryDock", self.library, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_dock = self._dock("Jobs", "jobsDock", self.jobs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.resizeDocks([self.library_dock, self.inspector_dock], [300, 320], Qt.Orientation.Horizontal)
        self.resizeDocks([self.jobs_dock], [150], Qt.Orientation.Vertical)

        # ---- status bar ----------------------------------------------------------------
        self.jobs_status = QLabel("No jobs running", self)
        self.selection_status = QLabel("", self)
        self.statusBar().addWidget(self.selection_status, 1)
        self.statusBar().addPermanentWidget(self.jobs_status)
        self.statusBar().addPermanentWidget(QLabel(cat.url, self))

        self._make_actions()
        self._make_menus()
        self._wire()
        self.grid.set_cell_size(self.prefs.thumbnail_size)
        self.grid.subfolders.setChecked(self.prefs.include_subfolders)
        self._update_actions()
        self.show_page(self.prefs.page)
        self._restore_window_state()
        self.reload_library()

    # ==================================================================== construction
    def _make_datasets_page(self) -> QWidget:
        try:
            from dsdesk.ui.datasets.page import DatasetsPage
        except ImportError as e:
            lab = QLabel(f"The datasets table is not part of this build ({e.name or e}).\n"
                         "Use the library on the left and the Browser page.", self)
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
            lab.setObjectName("datasetsPlaceholder")
            return lab
        page = DatasetsPage(self.cat, self, prefs=self.prefs)
        page.open_dataset_requested.connect(self._on_datasets_page_open_dataset_requested)
        page.dataset_action_requested.connect(self.run_dataset_action)
        return page

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        d.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                      | QDockWidget.DockWidgetFeature.DockWidgetClosable
                      | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, d)
        return d

    def _action(self, text: str, icon_name: str | None = None, shortcut=None, slot: Callable | None = None,
                checkable: bool = False) -> QAction:
        a = QAction(icon(icon_name) if icon_name else icon("properties"), text, self) if icon_name else QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setCheckable(checkable)
        if slot is not None:
            a.triggered.connect(lambda _checked=False: slot())
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        self.dataset_actions: dict[str, QAction] = {}
        self.unavailable: dict[str, str] = {}
        for name, text, icon_name, shortcut in DATASET_ACTIONS:
            a = self._action(text, icon_name, shortcut,
                             lambda n=name: self.run_dataset_action(n, self.selected_dataset_ids()))
            a.setObjectName(f"action_{name}")
            a.setStatusTip(f"{text.rstrip('…')} the selected dataset")
            reason = ops.available(name)
            if reason:
                self.unavailable[name] = reason
            self.dataset_actions[name] = a
        self.dataset_actions["readonly"].setCheckable(True)
        self.dataset_actions["sync_restore"].setStatusTip(
            "Sync the selected dataset, bringing back the items deleted in dsdesk whose objects are still in storage")
        self.act_new_folder = self._action("New folder…", "folder-new", "Ctrl+Shift+N", self.new_folder)
        self.act_rename_folder = self._action("Rename folder…", "rename", "F2", self.rename_folder)
        self.act_delete_folder = self._action("Delete folder…", "delete", None, self.delete_folder)
        self.act_upload = self._action("Upload files…", "upload", "Ctrl+U", self.upload_files)
        self.act_delete_items = self._action("Delete selected items…", "delete", QKeySequence.StandardKey.Delete,
                                             self.delete_selected_items)
        self.act_clone_items = self._action("Clone selected items…", "clone", None,
                                            lambda: self.run_dataset_action("clone", self.selected_dataset_ids(),
                                                                            scope="selected"))
        self.act_open_item = self._action("Open", "image", None, self._open_current_item)
        self.act_select_all = self._action("Select all", None, QKeySequence.StandardKey.SelectAll,
                                           lambda: self.grid.view.selectAll())
        self.act_storage = self._action("Storage connections…", "storage", "Ctrl+Shift+K", self.open_storage_dialog)
        self.act_refresh = self._action("Refresh", "refresh", QKeySequence.StandardKey.Refresh, self.refresh_all)
        self.act_quit = self._action("Quit", None, QKeySequence.StandardKey.Quit, self.close)
        self.act_focus_search = self._action("Search", "search", QKeySequence.StandardKey.Find, self.focus_search)
        self.act_columns = self._action("Datasets table columns…", "table", None, self.open_column_settings)
        group = QActionGroup(self)
        self.act_page_datasets = self._action("Datasets page", "table", "Ctrl+1",
                                              lambda: self.show_page("datasets"), checkable=True)
        self.act_page_browser = self._action("Browser page", "grid", "Ctrl+2",
                                             lambda: self.show_page("browser"), checkable=True)
        group.addAction(self.act_page_datasets)
        group.addAction(self.act_page_browser)
        if self.unavailable.get("storage"):
            self.act_storage.setEnabled(False)
            self.act_storage.setToolTip(self.unavailable["storage"])

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_upload)
        m.addAction(self.act_storage)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        for a in (self.act_new_folder, self.act_rename_folder, self.act_delete_folder):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_open_item, self.act_clone_items, self.act_delete_items, self.act_select_all,
                  self.act_focus_search):
            m.addAction(a)
        m = mb.addMenu("&Dataset")
        self._fill_dataset_menu(m)
        m = mb.addMenu("&View")
        m.addAction(self.act_page_datasets)
        m.addAction(self.act_page_browser)
        m.addAction(self.act_columns)
        m.addSeparator()
        for d in (self.library_dock, self.inspector_dock, self.jobs_dock):
            m.addAction(d.toggleViewAction())
        m.addSeparator()
        m.addAction(self.act_refresh)
        m = mb.addMenu("&Help")
        about = self._action("About dsdesk", "app", None, self._about)
        m.addAction(about)
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.act_page_datasets)
        tb.addAction(self.act_page_browser)
        tb.addSeparator()
        for n in ("clone", "merge", "snapshot", "sync"):
            tb.addAction(self.dataset_actions[n])
        tb.addSeparator()
        tb.addAction(self.act_upload)
        tb.addAction(self.act_new_folder)

    def _fill_dataset_menu(self, m: QMenu) -> None:
        for name, *_ in DATASET_ACTIONS:
            m.addAction(self.dataset_actions[name])
            if name in _SEPARATOR_AFTER:
                m.addSeparator()

    def _wire(self) -> None:
        lib = self.library
        lib.dataset_selected.connect(self._on_library_dataset_selected)
        lib.folder_selected.connect(self._on_library_folder_selected)
        lib.datasets.customContextMenuRequested.connect(self._on_datasets_tree_context_menu)
        lib.folders.customContextMenuRequested.connect(self._on_folders_tree_context_menu)
        lib.datasets.items_dropped.connect(self._on_datasets_tree_items_dropped)
        lib.folders.items_dropped.connect(self._on_folders_tree_items_dropped)
        lib.folders.folder_dropped.connect(self._on_folders_tree_folder_dropped)
        lib.folders.files_dropped.connect(self._on_folders_tree_files_dropped)
        g = self.grid
        g.search_changed.connect(self._on_grid_search_changed)
        g.subfolders.toggled.connect(lambda _on: self._apply_grid_query())
        g.cell_size_changed.connect(self._on_grid_cell_size_changed)
        g.view.open_requested.connect(self.open_item)
        g.view.customContextMenuRequested.connect(self._on_grid_context_menu)
        g.view.selectionModel().selectionChanged.connect(self._on_grid_selection_changed)
        g.model.modelReset.connect(self._on_grid_selection_changed)
        g.loader.thumbnail_ready.connect(self._on_loader_thumbnail_ready)
        g.loader.image_sizes_recorded.connect(self._on_loader_image_sizes_recorded)
        self.inspector.metadata_save_requested.connect(self._on_inspector_metadata_save_requested)
        self.jobs.running_count_changed.connect(self._on_jobs_running_count_changed)
        self.jobs.views_touched.connect(self._on_jobs_views_touched)
        self.jobs.job_finished.connect(self._on_jobs_job_finished)
        # Staying in sync: poll for datasets whose auto-sync interval has elapsed.
        self.auto_sync_timer = QTimer(self)
        self.auto_sync_timer.setInterval(AUTO_SYNC_POLL_MS)
        self.auto_sync_timer.timeout.connect(self._on_auto_sync_timer_timeout)
        self.auto_sync_timer.start()

    # ==================================================================== pages & state
    def show_page(self, page: str) -> None:
        """Show the ``datasets`` or the ``browser`` page."""
        browser = page != "datasets"
        self.pages.setCurrentWidget(self.grid if browser else self.datasets_page)
        (self.act_page_browser if browser else self.act_page_datasets).setChecked(True)
        self.prefs.page = "browser" if browser else "datasets"

    def _restore_window_state(self) -> None:
        s = qt_settings()
        geo = s.value("geometry")
        state = s.value("state")
        if isinstance(geo, QByteArray):
            self.restoreGeometry(geo)
        else:
            screen = QGuiApplication.primaryScreen()
            avail = screen.availableGeometry() if screen else None
            if avail is not None:
                self.resize(min(1440, avail.width()), min(900, avail.height()))
        if isinstance(state, QByteArray):
            self.restoreState(state)
        split = s.value("librarySplitter")
        if isinstance(split, QByteArray):
            self.library.splitter.restoreState(split)

    def save_state(self) -> None:
        """Save geometry, docks and splitters (QSettings) and the preferences (typed JSON)."""
        s = qt_settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState())
        s.setValue("librarySplitter", self.library.splitter.saveState())
        s.sync()
        self.prefs.last_catalog = self.cat.db.url
        self.prefs.last_dataset_id = self.current_dataset_id
        self.prefs.last_folder = self.library.current_folder
        self.prefs.thumbnail_size = self.grid.slider.value()
        self.prefs.include_subfolders = self.grid.subfolders.isChecked()
        self.prefs.save()

    def closeEvent(self, e) -> None:
        self.save_state()
        self.shutdown()
        super().closeEvent(e)

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel jobs and stop every worker pool (with a timeout); True when all stopped."""
        if self._shut_down:
            return True
        self._shut_down = True
        self.auto_sync_timer.stop()
        for v in list(self._viewers):
            v.close()
        ok = self.jobs.shutdown(timeout_ms)
        if hasattr(self.datasets_page, "shutdown"):
            ok = self.datasets_page.shutdown(timeout_ms) and ok
        ok = self.grid.shutdown(timeout_ms) and ok
        ok = self.tasks.shutdown(timeout_ms) and ok
        return ok

    # ==================================================================== loading
    def reload_library(self) -> None:
        """Read projects and datasets again (worker) and show them."""
        self.tasks.run(lambda: read_library(self.cat), self._on_library_read, key="library")

    def _on_library_read(self, projects) -> None:
        self.library.set_library(projects)
        if not self._restored:
            self._restored = True
            want = self.prefs.last_dataset_id
            if want is None or want not in self.library.rows:
                want = next((d.id for p in projects for d in p.datasets), None)
            if want is not None:
                self.library.current_folder = self.prefs.last_folder or "/"
                self._select_dataset(want, folder=self.prefs.last_folder or "/")
        elif self.current_dataset_id is not None and self.current_dataset_id not in self.library.rows:
            self._select_dataset(None)
        self._update_actions()

    def _select_dataset(self, dataset_id: int | None, folder: str = "/") -> None:
        if dataset_id is not None:
            self.library.select_dataset(dataset_id, emit=False)
            self.library.current_folder = folder
        self.current_dataset_id = dataset_id
        self.library.folders.dataset_id = dataset_id
        self.inspector.show_nothing()
        self.reload_folders(select=folder)
        self._apply_grid_query()
        row = self.library.rows.get(dataset_id) if dataset_id is not None else None
        page = self.datasets_page
        if row is not None and hasattr(page, "set_project") and getattr(page, "project_id", None) != row.project_id:
            try:
                page.set_project(row.project_id)
            except DsdeskError as e:
                self.show_error("Datasets page", str(e))
        self.setWindowTitle(f"dsdesk — {row.name}" if row else "dsdesk")
        self._update_actions()

    def reload_folders(self, select: str | None = None) -> None:
        """Read the current dataset's folder tree again (worker)."""
        ds = self.current_dataset_id
        if ds is None:
            self.library.set_folders(None)
            return

        def done(tree) -> None:
            if ds == self.current_dataset_id:
                self.library.set_folders(tree, select=select)

        self.tasks.run(lambda: read_folders(self.cat, ds), done, self._on_read_failed, key="folders")

    def current_filter(self):
        """The grid's query: folder (with or without sub-folders) and the search text."""
        return folder_filter(self.library.current_folder, self.grid.subfolders.isChecked(), self.grid.search.text())

    def _apply_grid_query(self) -> None:
        self.grid.clear_error()
        self.grid.loader.reset()
        self.grid.model.set_query(self.current_dataset_id, self.current_filter())

    def refresh_all(self) -> None:
        """Reload the library, the folder tree, the grid and the inspector."""
        self.reload_library()
        self.reload_folders()
        self.grid.loader.reset()
        self.grid.model.reload()
        if hasattr(self.datasets_page, "refresh"):
            self.datasets_page.refresh()

    # ==================================================================== slots: library
    def _on_library_dataset_selected(self, dataset_id: int) -> None:
        self._select_dataset(dataset_id if dataset_id >= 0 else None)
        if dataset_id >= 0:
            self.show_page("browser")

    def _on_library_folder_selected(self, path: str) -> None:
        self.inspector.show_nothing()
        self._apply_grid_query()

    def _on_datasets_page_open_dataset_requested(self, dataset_id: int) -> None:
        if dataset_id not in self.library.rows:
            self.reload_library()
        self._select_dataset(dataset_id)
        self.show_page("browser")

    def selected_dataset_ids(self) -> list[int]:
        """The datasets the Dataset menu acts on: the table's selection on the Datasets page,
        else the library's current dataset."""
        if self.pages.currentWidget() is self.datasets_page and hasattr(self.datasets_page, "selected_dataset_ids"):
            ids = list(self.datasets_page.selected_dataset_ids())
            if ids:
                return ids
        return [self.current_dataset_id] if self.current_dataset_id is not None else []

    def _update_actions(self) -> None:
        row = self.library.rows.get(self.current_dataset_id) if self.current_dataset_id is not None else None
        have = row is not None
        for name, a in self.dataset_actions.items():
            reason = self.unavailable.get(name)
            if reason:
                a.setEnabled(False)
                a.setToolTip(f"Not available: {reason}")
                continue
            a.setEnabled(have or self.pages.currentWidget() is self.datasets_page)
            a.setToolTip(a.text().rstrip("…"))
        if row is not None:
            ro = self.dataset_actions["readonly"]
            ro.blockSignals(True)
            ro.setChecked(row.readonly)
            ro.blockSignals(False)
            if row.driver_kind == "internal" and not self.unavailable.get("sync"):
                for n in ("sync", "sync_restore"):
                    self.dataset_actions[n].setEnabled(False)
                    self.dataset_actions[n].setToolTip("Sync applies to datasets on external storage; "
                                                       f"'{row.name}' is in the app's internal store")
        writable = have and not row.readonly
        for a in (self.act_new_folder, self.act_rename_folder, self.act_delete_folder, self.act_upload,
                  self.act_delete_items):
            a.setEnabled(writable)
            a.setToolTip("" if writable else ("the dataset is read-only" if have else "select a dataset"))

    # ==================================================================== drops
    def _on_folders_tree_items_dropped(self, payload, folder: str, copy: bool) -> None:
        ds = self.current_dataset_id
        if ds is None:
            return
        if payload.dataset_id == ds and not copy:
            ids = list(payload.item_ids)
            self.run_write(f"Move {len(ids)} item(s) to {folder}",
                           lambda: self.cat.dataset_by_id(ds).items.move_items(folder, item_ids=ids),
                           touches={"folders", "items", "inspector"})
            return
        self.clone_items_to(payload.dataset_id, payload.item_ids, ds, folder)

    def clone_items_to(self, src_id: int, item_ids: list[int], dst_id: int, folder: str = "/") -> None:
        """Clone items (by id) into *folder* of *dst_id*, as a job."""
        if self.unavailable.get("clone"):
            self.show_error("Clone", self.unavailable["clone"])
            return
        name = self.library.rows[dst_id].name if dst_id in self.library.rows else str(dst_id)
        self.jobs.submit("clone", f"Clone {len(item_ids):,} item(s) into {name}:{folder}",
                         ops.clone_items_to_folder_job, src_id, list(item_ids), dst_id, folder, dataset_id=dst_id,
                         spec={"src_dataset_id": src_id, "dst_dataset_id": dst_id, "items": len(item_ids),
                               "folder": folder},
                         touches={"datasets", "folders", "items"})

    def _on_folders_tree_folder_dropped(self, payload, folder: str) -> None:
        ds = self.current_dataset_id
        if ds is None or payload.dataset_id != ds:
            return
        self.run_write(f"Move {payload.path} into {folder}",
                       lambda: self.cat.dataset_by_id(ds).items.move_folder(payload.path, folder),
                       touches={"folders", "items"})

    def _on_folders_tree_files_dropped(self, files: list[str], folder: str) -> None:
        if self.current_dataset_id is not None:
            self.upload_paths(files, folder)

    def _on_datasets_tree_items_dropped(self, payload, dataset_id: int) -> None:
        self.clone_items_to(payload.dataset_id, payload.item_ids, dataset_id, "/")

    # ==================================================================== writes
    def run_write(self, title: str, fn: Callable, touches=frozenset(), on_done: Callable | None = None) -> None:
        """Run a short write off the GUI thread; errors (read-only, clashes) are shown."""
        self.statusBar().showMessage(f"{title}…", 3000)

        def done(result) -> None:
            self.statusBar().showMessage(f"{title}: done", 4000)
            self._on_jobs_views_touched(set(touches))
            if on_done is not None:
                on_done(result)

        def failed(e: BaseException) -> None:
            self.show_error(title, str(e) if isinstance(e, DsdeskError) else f"{type(e).__name__}: {e}",
                            getattr(e, "details", ""))
            self._on_jobs_views_touched(set(touches))

        self.tasks.run(fn, done, failed)

    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Show an error to the user (a message box; tests patch ``dialogs.show_error``)."""
        self.statusBar().showMessage(f"{title}: {message}", 8000)
        dialogs.show_error(self, title, message, details)

    def _on_tasks_unhandled_error(self, e: BaseException) -> None:
        self.show_error("Error", str(e), getattr(e, "details", ""))

    def _on_read_failed(self, e: BaseException) -> None:
        self.statusBar().showMessage(f"Could not read the catalog: {e}", 8000)

    def new_folder(self) -> None:
        """Create a folder under the current one."""
        ds, parent = self.current_dataset_id, self.library.current_folder or "/"
        if ds is None:
            return
        name = ask_text(self, "New folder", f"New folder in {parent}:", "new folder")
        if not name:
            return
        path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
        self.run_write(f"Create {path}", lambda: self.cat.dataset_by_id(ds).items.make_dir(path),
                       touches={"folders"}, on_done=lambda p: self.reload_folders(select=p))

    def rename_folder(self) -> None:
        """Rename the current folder."""
        ds, path = self.current_dataset_id, self.library.current_folder
        if ds is None or not path or path == "/":
            return
        name = ask_text(self, "Rename folder", f"New name for {path}:", path.rsplit("/", 1)[1])
        if not name:
            return
        self.run_write(f"Rename {path}", lambda: self.cat.dataset_by_id(ds).items.rename_folder(path, name),
                       touches={"folders", "items"}, on_done=lambda p: self.reload_folders(select=p))

    def delete_folder(self) -> None:
        """Delete the current folder with everything under it, after a confirmation with counts."""
        ds, path = self.current_dataset_id, self.library.current_folder
        if ds is None or not path or path == "/":
            return

        def ask(counts) -> None:
            items, subs = counts
            if not dialogs.confirm(self, "Delete folder",
                                   f"Delete {path} with {items:,} item(s) and {subs:,} sub-folder(s)?\n"
                                   "Binaries no other item or snapshot uses are removed from storage.",
                                   "Delete", danger=True):
                return
            self.library.current_folder = path.rsplit("/", 1)[0] or "/"
            self.jobs.submit("delete", f"Delete folder {path}", ops.delete_items_job, ds, folder=path,
                             dataset_id=ds, spec={"dataset_id": ds, "folder": path},
                             touches={"datasets", "folders", "items"})

        self.tasks.run(lambda: ops.folder_counts(self.cat, ds, path), ask)

    def _on_datasets_page(self) -> bool:
        return self.pages.currentWidget() is self.datasets_page and hasattr(self.datasets_page, "search")

    def focus_search(self) -> None:
        """Find: the search box of the page on show (datasets table or item grid)."""
        box = self.datasets_page.search if self._on_datasets_page() else self.grid.search
        if box is self.grid.search:
            self.show_page("browser")
        box.setFocus()
        box.selectAll()

    def open_column_settings(self) -> None:
        """The datasets table's column settings dialog (also in its header's context menu)."""
        if hasattr(self.datasets_page, "open_column_settings"):
            self.show_page("datasets")
            self.datasets_page.open_column_settings()

    def delete_selected_items(self) -> None:
        """Delete what is selected on the page on show: datasets (to the trash) or the grid's items,
        after a confirmation.  The Delete key never acts on a page the user cannot see."""
        if self._on_datasets_page():
            ids = list(self.datasets_page.selected_dataset_ids())
            if ids:
                self.run_dataset_action("delete", ids)
            return
        ds = self.current_dataset_id
        ids = self.grid.view.selected_ids()
        if ds is None or not ids:
            return
        if not dialogs.confirm(self, "Delete items", f"Delete {len(ids):,} selected item(s)?", "Delete", danger=True):
            return
        self.jobs.submit("delete", f"Delete {len(ids):,} item(s)", ops.delete_items_job, ds, ids, dataset_id=ds,
                         spec={"dataset_id": ds, "items": len(ids)}, touches={"datasets", "folders", "items"})

    def upload_files(self) -> None:
        """Upload local files into the current folder."""
        if self.current_dataset_id is None:
            return
        files = ask_files(self, f"Upload into {self.library.current_folder}")
        if files:
            self.upload_paths(files, self.library.current_folder or "/")

    def upload_paths(self, files: list[str], folder: str) -> None:
        """Upload *files* (files or folders) into *folder* of the current dataset, as a job."""
        ds = self.current_dataset_id
        self.jobs.submit("upload", f"Upload {len(files)} file(s) to {folder}", ops.upload_files_job, ds, list(files),
                         folder, dataset_id=ds, spec={"dataset_id": ds, "folder": folder, "files": len(files)},
                         touches={"datasets", "folders", "items"})

    def _on_inspector_metadata_save_requested(self, item_id: int, value: dict) -> None:
        ds = self.current_dataset_id
        d = self.inspector.details
        if ds is None or d is None or d.item.id != item_id:
            return
        item = d.item

        def save():
            item.metadata["user"] = value
            return item.update()

        def done(_r) -> None:
            self.statusBar().showMessage("Metadata saved", 4000)
            self._load_inspector(item_id)

        def failed(e) -> None:
            self.inspector.show_error(f"Not saved: {e}")

        self.tasks.run(save, done, failed)

    # ==================================================================== grid
    def _on_grid_search_changed(self, _text: str) -> None:
        self._apply_grid_query()

    def _on_grid_cell_size_changed(self, v: int) -> None:
        self.prefs.thumbnail_size = v

    def _on_grid_selection_changed(self, *_a) -> None:
        ids = self.grid.view.selected_ids()
        n = len(ids)
        self.selection_status.setText(f"{n:,} selected" if n else "")
        if n == 1:
            self._load_inspector(ids[0])
        elif n > 1:
            self.inspector.show_selection(n)
        else:
            self.inspector.show_nothing()

    def _load_inspector(self, item_id: int) -> None:
        ds = self.current_dataset_id
        if ds is None:
            return

        def done(details) -> None:
            sel = self.grid.view.selected_ids()
            if len(sel) == 1 and sel[0] == item_id:
                self.inspector.show_details(details)
                self._update_inspector_preview()
                got = self.grid.loader.measured_size(item_id)  # recorded while the details were read
                if got is not None:
                    self._on_loader_image_sizes_recorded({item_id: got})

        self.tasks.run(lambda: read_item_details(self.cat, ds, item_id), done,
                       lambda e: self.inspector.show_nothing(f"Cannot read the item: {e}"), key="inspector")

    def _update_inspector_preview(self) -> None:
        d = self.inspector.details
        if d is None:
            return
        pm = self.grid.loader.pixmap(d.item.id)
        if pm is None and d.item.id in self.grid.loader.failed:
            self.inspector.set_preview(None)
        elif pm is None:
            info = self.grid.model.info(d.item.id)
            if info is not None:
                self.grid.loader.request(info.thumb_key)
        else:
            self.inspector.set_preview(pm)

    def _on_loader_thumbnail_ready(self, item_id: int) -> None:
        d = self.inspector.details
        if d is not None and d.item.id == item_id:
            self._update_inspector_preview()

    def _on_loader_image_sizes_recorded(self, sizes: dict) -> None:
        d = self.inspector.details
        if d is not None and not (d.item.width and d.item.height):
            got = sizes.get(d.item.id)
            if got is not None:
                self.inspector.set_dimensions(*got)

    def _open_current_item(self) -> None:
        ids = self.grid.view.selected_ids()
        if ids:
            self.open_item(ids[0])

    def open_item(self, item_id: int) -> ItemViewerDialog | None:
        """Open the item viewer (non-modal) with the annotations drawn."""
        ds = self.current_dataset_id
        if ds is None:
            return None
        v = ItemViewerDialog(self)
        self._viewers.append(v)
        v.destroyed.connect(lambda _o=None, v=v: self._viewers.remove(v) if v in self._viewers else None)
        self.tasks.run(lambda: load_image(self.cat, ds, item_id), v.set_loaded, v.set_failed)
        v.show()
        return v

    # ==================================================================== context menus
    def dataset_menu(self) -> QMenu:
        """The dataset context menu (the Dataset menu's actions)."""
        m = QMenu(self)
        self._fill_dataset_menu(m)
        return m

    def folder_menu(self) -> QMenu:
        """The folder context menu."""
        m = QMenu(self)
        for a in (self.act_new_folder, self.act_rename_folder, self.act_delete_folder, self.act_upload):
            m.addAction(a)
        root = self.library.current_folder in (None, "/")
        self.act_rename_folder.setEnabled(not root and self.act_new_folder.isEnabled())
        self.act_delete_folder.setEnabled(not root and self.act_new_folder.isEnabled())
        m.addSeparator()
        m.addAction(self.dataset_actions["clone"])
        return m

    def grid_menu(self) -> QMenu:
        """The grid's selection context menu."""
        m = QMenu(self)
        for a in (self.act_open_item, self.act_clone_items, self.act_delete_items):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.act_select_all)
        has = bool(self.grid.view.selected_ids())
        self.act_open_item.setEnabled(has)
        self.act_clone_items.setEnabled(has and not self.unavailable.get("clone"))
        row = self.library.rows.get(self.current_dataset_id)
        self.act_delete_items.setEnabled(has and row is not None and not row.readonly)
        return m

    def _on_datasets_tree_context_menu(self, pos: QPoint) -> None:
        idx = self.library.datasets.indexAt(pos)
        if not idx.isValid() or self.library.datasets_model.itemFromIndex(idx.siblingAtColumn(0)) is None:
            return
        from dsdesk.ui.library import DatasetIdRole

        ds = idx.data(DatasetIdRole)
        if ds is None:
            return
        if ds != self.current_dataset_id:
            self.library.select_dataset(ds)
        self.dataset_menu().exec(self.library.datasets.viewport().mapToGlobal(pos))

    def _on_folders_tree_context_menu(self, pos: QPoint) -> None:
        idx = self.library.folders.indexAt(pos)
        if idx.isValid():
            self.library.folders.setCurrentIndex(idx.siblingAtColumn(0))
        self.folder_menu().exec(self.library.folders.viewport().mapToGlobal(pos))

    def _on_grid_context_menu(self, pos: QPoint) -> None:
        self.grid_menu().exec(self.grid.view.viewport().mapToGlobal(pos))

    # ==================================================================== dataset actions
    def run_dataset_action(self, name: str, dataset_ids: list, **kw) -> None:
        """Run the dataset action *name* on *dataset_ids* (the datasets page routes here too)."""
        ids = [int(i) for i in dataset_ids]
        if name in self.unavailable:
            self.show_error(name, f"Not available: {self.unavailable[name]}")
            return
        handler = getattr(self, f"_action_{name}", None)
        if handler is None:
            self.show_error("Unknown action", f"dsdesk has no dataset action named {name!r}")
            return
        if not ids:
            self.statusBar().showMessage("Select a dataset first", 4000)
            return
        handler(ids, **kw)

    def _name(self, ds: int) -> str:
        row = self.library.rows.get(ds)
        return row.name if row else f"dataset {ds}"

    def _project_datasets(self, ds: int) -> list[tuple[int, str]]:
        row = self.library.rows.get(ds)
        return [(r.id, r.name) for r in self.library.rows.values() if row is None or r.project_id == row.project_id]

    def _action_clone(self, ids: list[int], scope: str | None = None) -> None:
        from dsdesk.ui.dialogs.clone import CloneDialog
        from dsdesk.versioning.jobs import clone_job

        src = ids[0]
        current = src == self.current_dataset_id
        selected = self.grid.view.selected_ids() if current else []
        search = self.grid.search.text().strip() if current else ""
        p = CloneDialog.ask(self, self._name(src), src, self._project_datasets(src), len(selected), search)
        if p is None:
            return
        scope = p.scope
        filters = None
        if scope == "selected" and selected:
            filters = ops.ids_filter(selected)
        elif scope == "search" and current:
            filters = self.current_filter()
        what = {"selected": f"{len(selected):,} item(s) of ", "search": "a search of "}.get(scope, "")
        dest = p.clone_name or self._name(p.dst_dataset_id)
        self.jobs.submit("clone", f"Clone {what}{self._name(src)} → {dest}", clone_job, src,
                         clone_name=p.clone_name, filters=filters, with_items_annotations=p.with_items_annotations,
                         with_metadata=p.with_metadata, with_task_annotations_status=p.with_task_annotations_status,
                         dst_dataset_id=p.dst_dataset_id, target_directory=p.target_directory,
                         dataset_id=src, spec={"src_dataset_id": src, "clone_name": p.clone_name, "scope": scope,
                                               "dst_dataset_id": p.dst_dataset_id},
                         touches={"datasets", "folders", "items"})

    def _action_merge(self, ids: list[int]) -> None:
        from dsdesk.api.merge_plan import plan_merge
        from dsdesk.ui.dialogs.merge import MergeDialog
        from dsdesk.versioning.jobs import merge_job

        base = ids[0]
        p = MergeDialog.ask(self, base, self._project_datasets(base), lambda d: plan_merge(self.cat, d),
                            preselected=ids)
        if p is None:
            return
        self.jobs.submit("merge", f"Merge {', '.join(self._name(i) for i in p.dataset_ids)} → {p.merge_name}",
                         merge_job, p.merge_name, p.dataset_ids, with_items_annotations=p.with_items_annotations,
                         with_metadata=p.with_metadata, with_task_annotations_status=p.with_task_annotations_status,
                         dataset_id=base, spec={"merge_name": p.merge_name, "dataset_ids": p.dataset_ids},
                         touches={"datasets"})

    def _action_snapshot(self, ids: list[int]) -> None:
        from dsdesk.ui.dialogs.versions import SnapshotDialog
        from dsdesk.versioning.jobs import snapshot_job

        for ds in ids:
            p = SnapshotDialog.ask(self, self._name(ds))
            if p is None:
                return
            self.jobs.submit("snapshot", f"Snapshot {self._name(ds)} as '{p.name}'", snapshot_job, ds, p.name,
                             p.description, dataset_id=ds, spec={"dataset_id": ds, "name": p.name},
                             touches={"datasets"})

    def _action_rollback(self, ids: list[int]) -> None:
        from dsdesk.ui.dialogs.versions import RollbackDialog
        from dsdesk.versioning.jobs import rollback_job

        ds = ids[0]

        def ask(snaps) -> None:
            if not snaps:
                self.show_error("Rollback", f"'{self._name(ds)}' has no snapshot to roll back to")
                return
            name = RollbackDialog.ask(self, self._name(ds), snaps)
            if name is None:
                return
            self.jobs.submit("rollback", f"Roll {self._name(ds)} back to '{name}'", rollback_job, ds, name,
                             dataset_id=ds, spec={"dataset_id": ds, "snapshot": name},
                             touches={"datasets", "folders", "items", "inspector"})

        self.tasks.run(lambda: ops.list_snapshots(self.cat, ds), ask)

    def _action_diff(self, ids: list[int]) -> None:
        from dsdesk.ui.dialogs.versions import DiffDialog, DiffReportDialog
        from dsdesk.versioning.jobs import diff_job

        if len(ids) > 1:
            self.show_error("Diff", "Diff compares versions (snapshots) of one dataset: select one dataset")
            return
        ds = ids[0]

        def ask(snaps) -> None:
            if not snaps:
                self.show_error("Diff", f"'{self._name(ds)}' has no snapshot to compare with: take one first")
                return
            ab = DiffDialog.ask(self, self._name(ds), snaps)
            if ab is None:
                return
            a, b = ab

            def show(report) -> None:
                dlg = DiffReportDialog(self, report)
                self.last_diff_dialog = dlg
                dlg.show()

            self.jobs.submit("diff", f"Diff {self._name(ds)}: {a} → {b or 'now'}", diff_job, ds, a, b,
                             dataset_id=ds, spec={"dataset_id": ds, "a": a, "b": b}, on_success=show)

        self.tasks.run(lambda: ops.list_snapshots(self.cat, ds), ask)

    def _action_switch_recipe(self, ids: list[int]) -> None:
        from dsdesk.ui.dialogs.recipe import SwitchRecipeDialog

        ds = ids[0]

        def ask(data) -> None:
            current, recipes = data
            rid = SwitchRecipeDialog.ask(self, self._name(ds), current, recipes)
            if rid is None or rid == current:
                return
            for d in ids:
                self.run_write(f"Switch the recipe of {self._name(d)}",
                               lambda d=d: ops.switch_recipe(self.cat, d, rid), touches={"datasets"})

        self.tasks.run(lambda: ops.read_recipes(self.cat, ds), ask)

    def _action_sync_restore(self, ids: list[int]) -> None:
        """Sync after forgetting the items the user deleted, so their keys come back.

        Sync keeps deleted keys out while their object is unchanged (tombstones); this asks
        first, with how many would come back, since it undoes deletions.
        """
        from dsdesk.sync.state import sync_state

        def ask(counts: dict[int, int]) -> None:
            total = sum(counts.values())
            if total == 0:
                self.statusBar().showMessage("No deleted items to bring back: syncing as usual", 4000)
            elif not dialogs.confirm(
                    self, "Bring back deleted items",
                    f"{total:,} item(s) deleted in dsdesk are still in storage and are kept out of "
                    f"{', '.join(self._name(i) for i in ids)} by sync.\n"
                    "Sync now and bring them back as new items (without their old annotations)?", "Sync"):
                return
            self._action_sync(ids, restore_deleted=True)

        self.tasks.run(lambda: {ds: sync_state(self.cat.db, ds)["deleted_keys"] for ds in ids}, ask)

    def _action_sync(self, ids: list[int], auto: bool = False, restore_deleted: bool = False) -> None:
        from dsdesk.sync.engine import sync_job
        from dsdesk.sync.state import mark_attempt

        for ds in ids:
            if any(h.kind == "sync" and h.dataset_id == ds and not h.finished for h in self.jobs.handles.values()):
                continue  # one sync of a dataset at a time
            on_failure = (lambda _ev, ds=ds: self.tasks.run(lambda: mark_attempt(self.cat.db, ds), None)) if auto else None
            self.jobs.submit("sync", f"{'Auto-sync' if auto else 'Sync'} {self._name(ds)}", sync_job, ds,
                             restore_deleted=restore_deleted, dataset_id=ds,
                             spec={"dataset_id": ds, "auto": auto, "restore_deleted": restore_deleted},
                             on_failure=on_failure,
                             touches={"datasets", "folders", "items", "inspector"})

    def _on_auto_sync_timer_timeout(self) -> None:
        """Datasets with an auto-sync interval that has elapsed are synced, as jobs like any other
        (in worker processes, shown in the jobs panel); the due check runs off the GUI thread."""
        from dsdesk.sync.state import datasets_due

        if not self._shut_down:
            self.tasks.run(lambda: datasets_due(self.cat.db),
                           lambda due: due and self._action_sync(list(due), auto=True), key="auto-sync")

    def _action_readonly(self, ids: list[int]) -> None:
        rows = [self.library.rows.get(i) for i in ids]
        state = not all(r is not None and r.readonly for r in rows)
        for ds in ids:
            self.run_write(f"{'Lock' if state else 'Unlock'} {self._name(ds)}",
                           lambda ds=ds: self.cat.dataset_by_id(ds).set_readonly(state),
                           touches={"datasets", "inspector"})

    def _action_delete(self, ids: list[int]) -> None:
        rows = [self.library.rows.get(i) for i in ids]
        items = sum(r.items_count for r in rows if r is not None)
        names = ", ".join(self._name(i) for i in ids)
        if not dialogs.confirm(self, "Delete datasets",
                               f"Move {names} ({items:,} item(s)) to the trash?\n"
                               "Trashed datasets can be restored until they are purged.", "Delete", danger=True):
            return
        for ds in ids:
            self.run_write(f"Delete {self._name(ds)}", lambda ds=ds: self.cat.dataset_by_id(ds).delete(),
                           touches={"datasets"})

    def _action_properties(self, ids: list[int]) -> None:
        from dsdesk.api.dataset_facts import read_dataset_facts
        from dsdesk.ui.dialogs.properties import DatasetPropertiesDialog

        ds = ids[0]

        def ask(facts) -> None:
            ans = DatasetPropertiesDialog.ask(self, facts)
            if ans is None or facts.dataset.readonly:
                return
            d = facts.dataset

            def save():
                d.description = ans.description
                d.metadata["user"] = ans.user_metadata
                return d.update()

            self.run_write(f"Save the properties of {d.name}", save, touches={"datasets"})

        self.tasks.run(lambda: read_dataset_facts(self.cat, ds), ask)

    # ==================================================================== storage
    def open_storage_dialog(self) -> None:
        """The storage connections dialog of the current dataset's project."""
        from dsdesk.ui.dialogs.storage import StorageConnectionsDialog

        row = self.library.rows.get(self.current_dataset_id) if self.current_dataset_id is not None else None
        if row is None:
            projects = [self.library.datasets_model.item(r).data(Qt.ItemDataRole.UserRole + 11)
                        for r in range(self.library.datasets_model.rowCount())]
            if not projects:
                self.show_error("Storage connections", "Create a project first")
                return
            pid, pname = projects[0], self.library.datasets_model.item(0).text()
        else:
            pid = row.project_id
            pname = next((self.library.datasets_model.item(r).text() for r in
                          range(self.library.datasets_model.rowCount())
                          if self.library.datasets_model.item(r).data(Qt.ItemDataRole.UserRole + 11) == pid), "")
        dlg = StorageConnectionsDialog(self, self.cat, pid, pname, self.tasks)
        self.storage_dialog = dlg
        dlg.exec()

    # ==================================================================== jobs
    def _on_jobs_running_count_changed(self, n: int) -> None:
        self.jobs_status.setText(f"{n} job{'s' if n != 1 else ''} running" if n else "No jobs running")

    def _on_jobs_job_finished(self, uid: int) -> None:
        h = self.jobs.handles.get(uid)
        if h is None:
            return
        if h.status == "failed" and h.last is not None:
            self.statusBar().showMessage(f"{h.title} failed: {h.last.error}", 10000)
            self.jobs_dock.show()
        elif h.status == "succeeded":
            self.statusBar().showMessage(f"{h.title}: done", 5000)

    def _on_jobs_views_touched(self, views: set) -> None:
        if "datasets" in views:
            self.reload_library()
            if hasattr(self.datasets_page, "refresh"):
                QTimer.singleShot(0, self.datasets_page.refresh)
        if "folders" in views:
            self.reload_folders()
        if "items" in views:
            self.grid.loader.reset()
            self.grid.model.reload()
        if "inspector" in views:
            self._on_grid_selection_changed()

    def _about(self) -> None:
        import dsdesk

        dialogs.show_error(self, "About dsdesk",
                           f"dsdesk {dsdesk.__version__}: dataset curation with zero-copy versioning and cloud sync.\n"
                           f"Catalog: {self.cat.url}")


def running_app() -> QApplication:
    """The QApplication (it must exist)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app
