"""The welcome screen: shown at start when there is no catalog yet (a first start), or when
the catalog the user picked could not be opened.

It offers the ways in: open the demo (built on a worker thread the first time), create a
catalog file, connect to a team's PostgreSQL catalog, or open a recent one.  It only chooses:
:attr:`WelcomeDialog.chosen` is the path or URL to open, and the caller opens it.
``python -m dsdesk.ui.welcome`` shows it by hand.

The modal questions go through :func:`ask_new_catalog_path`, :func:`ask_catalog_file` and
:func:`ask_team_url`, which tests replace instead of clicking dialogs.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCommandLinkButton,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api import first_start
from dsdesk.errors import DsdeskError
from dsdesk.ui.icons import icon, pixmap
from dsdesk.ui.tasks import TaskRunner

CATALOG_FILTER = "dsdesk catalogs (*.sqlite *.db);;All files (*)"


def ask_new_catalog_path(parent: QWidget) -> str:
    """The file a new catalog goes to, asked with a save dialog ("" when cancelled)."""
    path, _ = QFileDialog.getSaveFileName(parent, "Create a catalog", "catalog.sqlite", CATALOG_FILTER,
                                          options=QFileDialog.Option.DontConfirmOverwrite)
    return path


def ask_catalog_file(parent: QWidget) -> str:
    """An existing catalog file, asked with an open dialog ("" when cancelled)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Open a catalog", "", CATALOG_FILTER)
    return path


def ask_team_url(parent: QWidget, text: str = "") -> str:
    """A team catalog's URL, asked with the Open catalog dialog on its Server tab ("" when
    cancelled).  The dialog connected once before answering, so the password (typed, from
    the keyring or ~/.pgpass) was right; a typed one is in the URL, in memory only."""
    from dsdesk.ui.dialogs.open_catalog import SERVER_TAB, OpenCatalogDialog
    from dsdesk.ui.settings import UiPrefs

    prefs = UiPrefs.load()
    dlg = OpenCatalogDialog(prefs.recent_catalogs, parent, target=text or None)
    dlg.tabs.setCurrentIndex(SERVER_TAB)
    dlg.recent_changed.connect(lambda recent: _save_recent(recent))
    if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.chosen:
        return ""
    if isinstance(parent, WelcomeDialog):
        parent.internal_store = dlg.internal_store
    return dlg.chosen


def _save_recent(recent: list[str]) -> None:
    from dsdesk.ui.settings import UiPrefs

    prefs = UiPrefs.load()
    prefs.recent_catalogs = list(recent)
    prefs.save()


class WelcomeDialog(QDialog):
    """Choose a catalog to open; :attr:`chosen` holds it once the dialog is accepted.

    The demo is built on a TaskRunner thread (never touch widgets in its function); the
    dialog stays responsive and shows a busy bar meanwhile.
    """

    catalog_chosen = Signal(str)

    def __init__(self, recent: list[str] | None = None, message: str = "", parent: QWidget | None = None,
                 demo_images: int = first_start.DEMO_IMAGES):
        super().__init__(parent)
        self._demo_images = demo_images
        self.setWindowTitle("Welcome to dsdesk")
        self.setWindowIcon(icon("app"))
        self.setObjectName("WelcomeDialog")
        self.chosen: str | None = None
        #: The bucket a new team catalog chosen here keeps its binaries in (None: a folder).
        self.internal_store: dict | None = None
        self.tasks = TaskRunner(self, threads=1)
        self._build(recent or [], message)
        self.resize(620, 560)

    # ---- layout -------------------------------------------------------------------------

    def _build(self, recent: list[str], message: str) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(28, 24, 28, 20)
        lay.setSpacing(10)
        head = QHBoxLayout()
        logo = QLabel()
        logo.setPixmap(pixmap("app", 64))
        head.addWidget(logo)
        titles = QVBoxLayout()
        title = QLabel("Welcome to dsdesk")
        f = QFont(title.font())
        f.setPointSizeF(f.pointSizeF() * 1.6)
        f.setBold(True)
        title.setFont(f)
        titles.addWidget(title)
        sub = QLabel("Curate image datasets: a catalog of projects, datasets and folders, cloud sync and "
                     "versions without copies. Choose where your catalog lives.")
        sub.setWordWrap(True)
        titles.addWidget(sub)
        head.addLayout(titles, 1)
        lay.addLayout(head)

        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.message.setObjectName("welcomeMessage")
        self.message.setStyleSheet("color: #d9534f;")
        self.message.setVisible(bool(message))
        lay.addWidget(self.message)

        self.demo_button = self._choice("Open the demo", "A demo catalog with real images, folders, annotations, "
                                        "a clone and a snapshot, built on this machine in a few seconds.", "image")
        self.create_button = self._choice("Create a catalog here…", "A new, empty catalog file on this computer; "
                                          "binaries you upload are kept beside it.", "add")
        self.team_button = self._choice("Connect to a team catalog…", "A shared catalog on a PostgreSQL server "
                                        "(postgresql://user@host/dsdesk); binaries stay in your buckets.", "storage")
        for b, slot in ((self.demo_button, self._on_demo_clicked), (self.create_button, self._on_create_clicked),
                        (self.team_button, self._on_team_clicked)):
            b.clicked.connect(slot)
            lay.addWidget(b)

        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.progress.hide()
        lay.addWidget(self.progress)

        recent_label = QLabel("Open recent")
        rf = QFont(recent_label.font())
        rf.setBold(True)
        recent_label.setFont(rf)
        lay.addWidget(recent_label)
        self.recent = QListWidget()
        self.recent.setObjectName("recentCatalogs")
        self.recent.setIconSize(QSize(20, 20))
        for target in recent:
            server = "://" in target and not target.startswith("sqlite")
            it = QListWidgetItem(icon("storage" if server else "file"),
                                 first_start.display_name(target))
            it.setData(Qt.ItemDataRole.UserRole, target)
            it.setToolTip(first_start.display_name(target))
            self.recent.addItem(it)
        if not recent:
            empty = QListWidgetItem("No catalog opened yet")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(empty)
        self.recent.itemActivated.connect(self._on_recent_activated)
        self.recent.setMinimumHeight(90)
        lay.addWidget(self.recent, 1)
        row = QHBoxLayout()
        self.open_file_button = QPushButton(icon("folder"), "Open a catalog file…")
        self.open_file_button.clicked.connect(self._on_open_file_clicked)
        row.addWidget(self.open_file_button)
        self.open_recent_button = QPushButton("Open selected")
        self.open_recent_button.setEnabled(False)
        # Methods, not lambdas holding self (PySide6 crashes collecting such cycles).
        self.open_recent_button.clicked.connect(self._on_open_recent_clicked)
        self.recent.currentItemChanged.connect(self._on_recent_current_changed)
        row.addWidget(self.open_recent_button)
        row.addStretch(1)
        quit_button = QPushButton("Quit")
        quit_button.clicked.connect(self.reject)
        row.addWidget(quit_button)
        lay.addLayout(row)

    def _choice(self, title: str, description: str, icon_name: str) -> QCommandLinkButton:
        b = QCommandLinkButton(title, description)
        b.setIcon(icon(icon_name))
        b.setIconSize(QSize(28, 28))
        return b

    # ---- choices ------------------------------------------------------------------------

    def _choose(self, target: str) -> None:
        self.chosen = target
        self.catalog_chosen.emit(target)
        self.accept()

    def show_error(self, text: str) -> None:
        """Say what went wrong above the choices (and stay open)."""
        self.message.setText(text)
        self.message.show()

    def _set_busy(self, busy: bool) -> None:
        for w in (self.demo_button, self.create_button, self.team_button, self.recent, self.open_file_button):
            w.setEnabled(not busy)
        self.progress.setVisible(busy)

    def _on_demo_clicked(self) -> None:
        self._set_busy(True)
        self.demo_button.setDescription("Building the demo catalog…")
        n = self._demo_images
        self.tasks.run(lambda: first_start.build_demo_catalog(n), self._on_demo_built, self._on_demo_failed)

    def _on_demo_built(self, path: str) -> None:
        self._set_busy(False)
        self._choose(path)

    def _on_demo_failed(self, e: BaseException) -> None:
        self._set_busy(False)
        self.show_error(f"The demo could not be built: {e}")

    def _on_create_clicked(self) -> None:
        path = ask_new_catalog_path(self)
        if not path:
            return
        try:
            self._choose(first_start.new_catalog_path(path))
        except DsdeskError as e:
            self.show_error(str(e))

    def _on_team_clicked(self) -> None:
        text = ""
        while True:
            text = ask_team_url(self, text)
            if not text:
                return
            try:
                url = first_start.team_catalog_url(text)
            except DsdeskError as e:
                self.show_error(str(e))
                continue
            self._choose(url)
            return

    def _on_open_file_clicked(self) -> None:
        path = ask_catalog_file(self)
        if path:
            self._choose(path)

    def _on_open_recent_clicked(self) -> None:
        self._on_recent_activated(self.recent.currentItem())

    def _on_recent_current_changed(self, cur: QListWidgetItem | None, _prev) -> None:
        self.open_recent_button.setEnabled(cur is not None and cur.data(Qt.ItemDataRole.UserRole) is not None)

    def _on_recent_activated(self, it: QListWidgetItem | None) -> None:
        target = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        if target:
            self._choose(target)

    def done(self, result: int) -> None:
        """Closing waits for a demo build still running (a few seconds at most)."""
        self.tasks.shutdown()
        super().done(result)


def main(argv: list[str] | None = None) -> int:
    """``python -m dsdesk.ui.welcome``: show the welcome screen and print the choice."""
    from dsdesk.ui.app import make_application
    from dsdesk.ui.settings import UiPrefs

    app = make_application(argv)
    dlg = WelcomeDialog(UiPrefs.load().recent_catalogs)
    dlg.show()
    app.exec()
    print(dlg.chosen or "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
