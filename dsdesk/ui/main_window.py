"""The main window: library (left), pages in the centre (Datasets table, Browser grid),
inspector (right), jobs (bottom), menus and the status bar (the context menus are
:mod:`dsdesk.ui.window_menus`).

Signals are wired here, in one place; panels never reach into each other.  The actions
are declared once in :mod:`dsdesk.ui.actions`; what they do lives in
:mod:`dsdesk.ui.dataset_actions` and :mod:`dsdesk.ui.item_actions`, which see this
window only as their :class:`~dsdesk.ui.dataset_actions.ActionHost`.  Every catalog
access goes through the API off the GUI thread: short reads and writes through
:class:`TaskRunner`, long operations as jobs the API describes through :class:`JobManager`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from dsdesk.api.jobs import WORKER_PRELOAD
from dsdesk.api.library import read_folders, read_library
from dsdesk.errors import DsdeskError
from dsdesk.ui import actions as acts
from dsdesk.ui.dataset_actions import DatasetActionHandlers
from dsdesk.ui.datasets.page import DatasetsPage
from dsdesk.ui.dialogs import common as dialogs
from dsdesk.ui.grid import GridPanel, folder_filter
from dsdesk.ui.icons import icon
from dsdesk.ui.inspector import InspectorPanel
from dsdesk.ui.item_actions import ItemActionHandlers
from dsdesk.ui.item_inspection import ItemInspection
from dsdesk.ui.jobs import JobManager, JobsPanel
from dsdesk.ui.library import LibraryPanel, ProjectIdRole
from dsdesk.ui.live_refresh import LiveRefresh, affected_views
from dsdesk.ui.settings import UiPrefs, qt_settings
from dsdesk.ui.tasks import TaskRunner
from dsdesk.ui.window_menus import WindowContextMenus

#: The toolbar's dataset actions.
TOOLBAR_ACTIONS = ("clone", "merge", "snapshot", "sync")


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
        cat.tune_for_gui()  # before any worker opens a connection
        self.tasks = TaskRunner(self, threads=2, on_unhandled_error=self._on_tasks_unhandled_error)
        self.jobs = JobManager(cat, self, preload=WORKER_PRELOAD)
        self.current_dataset_id: int | None = None
        self._restored = False
        self._shut_down = False
        #: (target, internal_store) File > Open catalog… chose; the app opens it when this window closed.
        self.switch_request: tuple[str, dict | None] | None = None
        self.dataset_handlers = DatasetActionHandlers(self)
        self.item_handlers = ItemActionHandlers(self)
        self.context_menus = WindowContextMenus(self)

        # ---- centre: the pages ---------------------------------------------------------
        self.pages = QStackedWidget(self)
        self.datasets_page = DatasetsPage(cat, self, prefs=self.prefs)
        self.grid = GridPanel(cat, self)
        self.pages.addWidget(self.datasets_page)
        self.pages.addWidget(self.grid)
        self.setCentralWidget(self.pages)

        # ---- docks ---------------------------------------------------------------------
        self.library = LibraryPanel(self)
        self.inspector = InspectorPanel(self)
        self.jobs_panel = JobsPanel(self.jobs, self, tasks=self.tasks)
        self.library_dock = self._dock("Library", "libraryDock", self.library, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector,
                                         Qt.DockWidgetArea.RightDockWidgetArea)
        self.jobs_dock = self._dock("Jobs", "jobsDock", self.jobs_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.jobs_panel.show_interrupted()  # what a killed session left: Resume / Dismiss
        self.resizeDocks([self.library_dock, self.inspector_dock], [300, 320], Qt.Orientation.Horizontal)
        self.resizeDocks([self.jobs_dock], [150], Qt.Orientation.Vertical)

        # ---- status bar ----------------------------------------------------------------
        self.jobs_status = QLabel("No jobs running", self)
        self.selection_status = QLabel("", self)
        self.statusBar().addWidget(self.selection_status, 1)
        self.statusBar().addPermanentWidget(self.jobs_status)
        self.statusBar().addPermanentWidget(QLabel(cat.url, self))
        self.inspection = ItemInspection(cat, self.tasks, self.grid, self.inspector, self.selection_status,
                                         lambda: self.current_dataset_id, self.show_status, self)

        self._make_actions()
        self._make_menus()
        self._wire()
        self.grid.set_cell_size(self.prefs.thumbnail_size)
        self.grid.subfolders.setChecked(self.prefs.include_subfolders)
        self.actions["toggle_overlays"].setChecked(self.prefs.show_annotations)
        self.grid.set_overlays_visible(self.prefs.show_annotations)
        self.show_page(self.prefs.page)  # enables the actions for the page's selection
        self._restore_window_state()
        self.reload_library()
        # Other clients' writes, within a second: only the views they affect are read again.
        self.live = LiveRefresh(cat, self.tasks, self)
        self.live.changes_arrived.connect(self._on_live_changes_arrived)
        self.live.start()

    # ==================================================================== construction
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
        """A window action that is not a dataset, folder or item action (pages, view, app)."""
        a = QAction(icon(icon_name), text, self) if icon_name else QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setCheckable(checkable)
        if slot is not None:
            a.triggered.connect(lambda _checked=False: slot())
        self.addAction(a)
        return a

    def _make_actions(self) -> None:
        ih = self.item_handlers
        slots: dict[str, Callable[[], None]] = {
            "new_folder": ih.new_folder, "rename_folder": ih.rename_folder, "delete_folder": ih.delete_folder,
            "upload": ih.upload, "delete_items": self.delete_selected_items, "open_item": self.inspection.open_current,
            "select_all": lambda: self.grid.view.selectAll(),
            "clone_items": lambda: self.run_dataset_action("clone", self.selected_dataset_ids(), scope="selected"),
            "toggle_overlays": lambda: self.grid.set_overlays_visible(self.actions["toggle_overlays"].isChecked()),
        }
        self.actions: dict[str, QAction] = {}
        for d in acts.ACTIONS.values():
            slot = slots.get(d.id) or (lambda n=d.id: self.run_dataset_action(n, self.selected_dataset_ids()))
            self.actions[d.id] = a = acts.make_action(self, d, slot)
            self.addAction(a)
        self.dataset_actions = {d.id: self.actions[d.id] for d in acts.DATASET_ACTIONS}
        (self.act_new_folder, self.act_rename_folder, self.act_delete_folder, self.act_upload,
         self.act_open_item, self.act_clone_items, self.act_delete_items, self.act_select_all) = (
            self.actions[n] for n in ("new_folder", "rename_folder", "delete_folder", "upload", "open_item",
                                      "clone_items", "delete_items", "select_all"))
        self.act_open_catalog = self._action("Open catalog…", "project", QKeySequence.StandardKey.Open,
                                             self.open_catalog_dialog)
        self.act_storage = self._action("Storage connections…", "storage", "Ctrl+Shift+K", self.open_storage_dialog)
        self.act_refresh = self._action("Refresh", "refresh", QKeySequence.StandardKey.Refresh, self.refresh_all)
        self.act_quit = self._action("Quit", None, QKeySequence.StandardKey.Quit, self.close)
        self.act_preferences = self._action("Preferences…", "properties", "Ctrl+,", self.open_preferences)
        self.act_focus_search = self._action("Search", "search", QKeySequence.StandardKey.Find, self.focus_search)
        self.act_columns = self._action("Datasets table columns…", "table", None, self.open_column_settings)
        group = QActionGroup(self)
        self.act_page_datasets = self._action("Datasets page", "table", "Ctrl+1",
                                              lambda: self.show_page("datasets"), checkable=True)
        self.act_page_browser = self._action("Browser page", "grid", "Ctrl+2",
                                             lambda: self.show_page("browser"), checkable=True)
        group.addAction(self.act_page_datasets)
        group.addAction(self.act_page_browser)

    def _make_menus(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open_catalog)
        m.addSeparator()
        m.addAction(self.act_upload)
        m.addAction(self.act_storage)
        m.addAction(self.act_preferences)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Edit")
        for a in (self.act_new_folder, self.act_rename_folder, self.act_delete_folder):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_open_item, self.act_clone_items, self.act_delete_items, self.act_select_all,
                  self.act_focus_search):
            m.addAction(a)
        acts.fill_menu(mb.addMenu("&Dataset"), self.actions, acts.DATASET_ACTIONS)
        m = mb.addMenu("&View")
        m.addAction(self.act_page_datasets)
        m.addAction(self.act_page_browser)
        m.addAction(self.act_columns)
        m.addAction(self.actions["toggle_overlays"])
        m.addSeparator()
        for d in (self.library_dock, self.inspector_dock, self.jobs_dock):
            m.addAction(d.toggleViewAction())
        m.addSeparator()
        m.addAction(self.act_refresh)
        m = mb.addMenu("&Help")
        m.addAction(self._action("About dsdesk", "app", None, self._about))
        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolBar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.act_page_datasets)
        tb.addAction(self.act_page_browser)
        tb.addSeparator()
        for n in TOOLBAR_ACTIONS:
            tb.addAction(self.dataset_actions[n])
        tb.addSeparator()
        tb.addAction(self.act_upload)
        tb.addAction(self.act_new_folder)
        tb.addSeparator()
        tb.addAction(self.actions["toggle_overlays"])

    def _wire(self) -> None:
        lib, ih = self.library, self.item_handlers
        self.context_menus.connect()
        lib.dataset_selected.connect(self._on_library_dataset_selected)
        lib.folder_selected.connect(self._on_library_folder_selected)
        lib.datasets.items_dropped.connect(ih.items_dropped_on_dataset)
        lib.folders.items_dropped.connect(ih.items_dropped_on_folder)
        lib.folders.folder_dropped.connect(ih.folder_dropped_on_folder)
        lib.folders.files_dropped.connect(ih.files_dropped_on_folder)
        page = self.datasets_page
        page.open_dataset_requested.connect(self._on_datasets_page_open_dataset_requested)
        page.dataset_action_requested.connect(self.run_dataset_action)
        page.selection_changed.connect(lambda _ids: self.update_actions())
        g = self.grid
        g.search_changed.connect(self._on_grid_search_changed)
        g.subfolders.toggled.connect(lambda _on: self._apply_grid_query())
        g.cell_size_changed.connect(self._on_grid_cell_size_changed)
        g.view.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        self.jobs.running_count_changed.connect(self._on_jobs_running_count_changed)
        self.jobs.catalog_changed.connect(self._on_catalog_changed)
        self.jobs.job_finished.connect(self._on_jobs_job_finished)
        # Staying in sync: poll for datasets whose auto-sync interval has elapsed.
        self.auto_sync_timer = QTimer(self)
        self.auto_sync_timer.setInterval(int(self.dataset_handlers.autosync.poll_seconds * 1000))
        self.auto_sync_timer.timeout.connect(self._on_auto_sync_timer_timeout)
        self.auto_sync_timer.start()

    # ==================================================================== pages & state
    def show_page(self, page: str) -> None:
        """Show the ``datasets`` or the ``browser`` page."""
        browser = page != "datasets"
        self.pages.setCurrentWidget(self.grid if browser else self.datasets_page)
        (self.act_page_browser if browser else self.act_page_datasets).setChecked(True)
        self.prefs.page = "browser" if browser else "datasets"
        self.update_actions()  # the Dataset menu acts on the page's selection

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
        self.prefs.last_catalog = self.cat.raw_url
        self.prefs.last_dataset_id = self.current_dataset_id
        self.prefs.last_folder = self.library.current_folder
        self.prefs.thumbnail_size = self.grid.slider.value()
        self.prefs.include_subfolders = self.grid.subfolders.isChecked()
        self.prefs.show_annotations = self.grid.overlays_visible
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
        self.inspection.close_viewers()
        ok = self.jobs.shutdown(timeout_ms)
        ok = self.datasets_page.shutdown(timeout_ms) and ok
        ok = self.grid.shutdown(timeout_ms) and ok
        ok = self.tasks.shutdown(timeout_ms) and ok
        self.live.stop()  # after the runner: no poll is using the feed any more
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
        self.update_actions()

    def _select_dataset(self, dataset_id: int | None, folder: str = "/") -> None:
        if dataset_id is not None:
            self.library.select_dataset(dataset_id, emit=False)
            self.library.current_folder = folder
        self.current_dataset_id = dataset_id
        self.library.folders.dataset_id = dataset_id
        self.inspector.show_nothing()
        self.reload_folders(select=folder)
        self._apply_grid_query()
        row = self.dataset_row(dataset_id)
        if row is not None and self.datasets_page.project_id != row.project_id:
            try:
                self.datasets_page.set_project(row.project_id)
            except DsdeskError as e:
                self.show_error("Datasets page", str(e))
        self.setWindowTitle(f"dsdesk — {row.name}" if row else "dsdesk")
        self.update_actions()

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
        """Reload the library, the folder tree, the grid and the datasets page."""
        self.reload_library()
        self.reload_folders()
        self.grid.loader.reset()
        self.grid.model.reload()
        self.datasets_page.refresh()

    # ==================================================================== slots: library, pages
    def _on_library_dataset_selected(self, dataset_id: int) -> None:
        self._select_dataset(dataset_id if dataset_id >= 0 else None)
        if dataset_id >= 0:
            self.show_page("browser")

    def _on_library_folder_selected(self, _path: str) -> None:
        self.inspector.show_nothing()
        self._apply_grid_query()
        self.update_actions()

    def _on_datasets_page_open_dataset_requested(self, dataset_id: int) -> None:
        if dataset_id not in self.library.rows:
            self.reload_library()
        self._select_dataset(dataset_id)
        self.show_page("browser")

    def _on_datasets_page(self) -> bool:
        return self.pages.currentWidget() is self.datasets_page

    def selected_dataset_ids(self) -> list[int]:
        """The datasets the Dataset menu acts on: the table's selection on the Datasets page,
        else the library's current dataset."""
        if self._on_datasets_page():
            ids = list(self.datasets_page.selected_dataset_ids())
            if ids:
                return ids
        return [self.current_dataset_id] if self.current_dataset_id is not None else []

    def selection(self) -> acts.Selection:
        """What the actions act on now (see :func:`dsdesk.ui.actions.disabled_reason`)."""
        ids = self.selected_dataset_ids()
        rows = [self.library.rows.get(i) for i in ids]
        internal = next((r.name for r in rows if r is not None and r.driver_kind == "internal"), None)
        current = self.dataset_row(self.current_dataset_id)
        return acts.Selection(datasets=len(ids), readonly=bool(rows) and all(r is not None and r.readonly for r in rows),
                              internal=internal, writable=current is not None and not current.readonly,
                              items=len(self.grid.view.selected_ids()),
                              root=self.library.current_folder in (None, "/"))

    def update_actions(self) -> None:
        """Enable and check each action for the selection of the page on show."""
        sel = self.selection()
        for name, a in self.actions.items():
            acts.update_action(a, acts.ACTIONS[name], sel)

    # ==================================================================== the actions' host
    def run_dataset_action(self, name: str, dataset_ids: list, **kw) -> None:
        """Run the dataset action *name* on *dataset_ids* (the datasets page routes here too)."""
        self.dataset_handlers.run(name, dataset_ids, **kw)

    @property
    def last_diff_dialog(self):
        """The newest diff report dialog (or None)."""
        return self.dataset_handlers.last_diff_dialog

    def widget(self) -> QWidget:
        """The parent of the actions' dialogs."""
        return self

    def dataset_row(self, dataset_id: int | None):
        """The library's row of a dataset, or None."""
        return self.library.rows.get(dataset_id) if dataset_id is not None else None

    def dataset_name(self, dataset_id: int) -> str:
        """A dataset's name as the library shows it."""
        row = self.dataset_row(dataset_id)
        return row.name if row else f"dataset {dataset_id}"

    def project_datasets(self, dataset_id: int) -> list[tuple[int, str]]:
        """(id, name) of the datasets in the project of *dataset_id*."""
        row = self.dataset_row(dataset_id)
        return [(r.id, r.name) for r in self.library.rows.values() if row is None or r.project_id == row.project_id]

    def selected_item_ids(self) -> list[int]:
        """The grid's selected items."""
        return self.grid.view.selected_ids()

    def search_text(self) -> str:
        """The grid's search text."""
        return self.grid.search.text()

    def current_folder(self) -> str:
        """The library's current folder."""
        return self.library.current_folder or "/"

    def set_current_folder(self, path: str) -> None:
        """Make *path* the current folder (before the tree is read again)."""
        self.library.current_folder = path

    def run_write(self, title: str, fn: Callable, changes=frozenset(), on_done: Callable | None = None) -> None:
        """Run a short write off the GUI thread; errors (read-only, clashes) are shown."""
        self.statusBar().showMessage(f"{title}…", 3000)

        def done(result) -> None:
            self.statusBar().showMessage(f"{title}: done", 4000)
            self._on_catalog_changed(set(changes))
            if on_done is not None:
                on_done(result)

        def failed(e: BaseException) -> None:
            self.show_error(title, str(e) if isinstance(e, DsdeskError) else f"{type(e).__name__}: {e}",
                            getattr(e, "details", ""))
            self._on_catalog_changed(set(changes))

        self.tasks.run(fn, done, failed)

    def show_error(self, title: str, message: str, details: str = "") -> None:
        """Show an error to the user (a message box; tests patch ``dialogs.show_error``)."""
        self.statusBar().showMessage(f"{title}: {message}", 8000)
        dialogs.show_error(self, title, message, details)

    def show_status(self, message: str, ms: int = 4000) -> None:
        """A passing message in the status bar."""
        self.statusBar().showMessage(message, ms)

    def _on_tasks_unhandled_error(self, e: BaseException) -> None:
        self.show_error("Error", str(e), getattr(e, "details", ""))

    def _on_read_failed(self, e: BaseException) -> None:
        self.statusBar().showMessage(f"Could not read the catalog: {e}", 8000)

    # ==================================================================== window actions
    def delete_selected_items(self) -> None:
        """Delete what is selected on the page on show: datasets (to the trash) or the grid's items,
        after a confirmation.  The Delete key never acts on a page the user cannot see."""
        if self._on_datasets_page():
            ids = list(self.datasets_page.selected_dataset_ids())
            if ids:
                self.run_dataset_action("delete", ids)
            return
        self.item_handlers.delete_items()

    def focus_search(self) -> None:
        """Find: the search box of the page on show (datasets table or item grid)."""
        box = self.datasets_page.search if self._on_datasets_page() else self.grid.search
        if box is self.grid.search:
            self.show_page("browser")
        box.setFocus()
        box.selectAll()

    def open_column_settings(self) -> None:
        """The datasets table's column settings dialog (also in its header's context menu)."""
        self.show_page("datasets")
        self.datasets_page.open_column_settings()

    def open_catalog_dialog(self) -> None:
        """File > Open catalog…: choose another catalog; the window closes and the app opens
        that one in a new window (:attr:`switch_request`, see :mod:`dsdesk.ui.app`)."""
        from dsdesk.ui.dialogs.open_catalog import ask_catalog_switch

        self.switch_request = ask_catalog_switch(self, self.prefs)
        if self.switch_request is not None:
            self.close()

    def open_storage_dialog(self) -> None:
        """The storage connections dialog of the current dataset's project."""
        from dsdesk.ui.dialogs.storage import StorageConnectionsDialog

        m = self.library.datasets_model
        projects = [(m.item(r).data(ProjectIdRole), m.item(r).text()) for r in range(m.rowCount())]
        row = self.dataset_row(self.current_dataset_id)
        if row is None and not projects:
            self.show_error("Storage connections", "Create a project first")
            return
        pid = row.project_id if row is not None else projects[0][0]
        pname = next((name for p, name in projects if p == pid), "")
        dlg = StorageConnectionsDialog(self, self.cat, pid, pname, self.tasks)
        self.storage_dialog = dlg
        dlg.exec()

    # ==================================================================== grid
    def _on_grid_search_changed(self, _text: str) -> None:
        self._apply_grid_query()

    def _on_grid_cell_size_changed(self, v: int) -> None:
        self.prefs.thumbnail_size = v

    # ==================================================================== jobs
    def _on_auto_sync_timer_timeout(self) -> None:
        """Datasets whose auto-sync interval has elapsed are synced, as jobs like any other
        (in worker processes, shown in the jobs panel)."""
        if not self._shut_down:
            self.dataset_handlers.sync_due()

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

    def _on_catalog_changed(self, changes: set) -> None:
        """Read again what a job or a write changed (``datasets``, ``folders``, ``items``,
        ``annotations``); the inspector follows any change (its item's dataset may have
        become read-only, or the item itself changed)."""
        if "datasets" in changes:
            self.reload_library()
            QTimer.singleShot(0, self.datasets_page.refresh)
        if "folders" in changes:
            self.reload_folders()
        if "items" in changes:
            self.grid.loader.reset()
            self.grid.model.reload()
        if changes:
            self.inspection.catalog_changed(changes)

    def _on_live_changes_arrived(self, changes: list) -> None:
        """Another client committed *changes*: read again only the views they affect (the
        grid, folder tree and inspector of the dataset on show; the datasets' rows)."""
        views = affected_views(changes, self.current_dataset_id, self.library.rows)
        if "datasets" in views:
            self.reload_library()
            self.datasets_page.refresh()
        if "folders" in views:
            self.reload_folders()
        if "items" in views:
            self.grid.loader.reset()
            self.grid.model.reload()
        if views & {"annotations", "inspector"}:
            self.inspection.catalog_changed(views & {"annotations", "items"})

    def open_preferences(self) -> None:
        """The preferences dialog: theme, thumbnail size, cache, default catalog."""
        from dsdesk.ui.dialogs.preferences import open_preferences

        open_preferences(self)

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
