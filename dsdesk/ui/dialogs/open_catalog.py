"""File > Open catalog… (and the welcome screen's "Connect to a team catalog"): a local file,
or a PostgreSQL server, or one of the recent catalogs.

The dialog only chooses and checks: :attr:`OpenCatalogDialog.chosen` is the path or URL to
open (a password the user typed is in it, in memory only) and
:attr:`OpenCatalogDialog.internal_store` the bucket a *new* catalog keeps its binaries in;
the caller opens it.  Before accepting a server it connects once on a worker thread, so a
wrong password is said in the dialog, which stays open.  The password is never written
anywhere but the OS keyring, and there only when "Remember in keyring" is ticked.  The
rules (URLs, keyring, the recent list) are :mod:`dsdesk.api.catalog_locations`.

``python -m dsdesk.ui.dialogs.open_catalog [--screenshot PNG]`` shows it by hand.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api import catalog_locations as locations
from dsdesk.api import first_start
from dsdesk.api import internal_store as stores
from dsdesk.errors import CatalogAuthError, DsdeskError
from dsdesk.ui.dialogs.internal_store_box import InternalStoreBox
from dsdesk.ui.icons import icon
from dsdesk.ui.tasks import TaskRunner

FILE_TAB, SERVER_TAB = 0, 1
_ERROR_STYLE = "color: #d9534f;"
_OK_STYLE = "color: #3c8d40;"


class OpenCatalogDialog(QDialog):
    """Choose a catalog: a file, a server, or a recent one.  GUI thread only; the connection
    check runs on a TaskRunner thread (never touch widgets in its function).

    ``recent_changed(list)`` is emitted when the user removes an entry from the recent list;
    the caller saves it.
    """

    recent_changed = Signal(list)

    def __init__(self, recent: list[str] | None = None, parent: QWidget | None = None, *,
                 target: str | None = None, message: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Open catalog")
        self.setWindowIcon(icon("app"))
        self.setObjectName("OpenCatalogDialog")
        self.chosen: str | None = None
        self.internal_store: dict | None = None
        self.recent_targets = list(dict.fromkeys(locations.location(r) for r in recent or []))
        self.tasks = TaskRunner(self, threads=1)
        self._build()
        self._fill_recent()
        if target:
            self.show_target(target)
        if message:
            self.show_message(message)
        self.resize(780, 560)

    # ---- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(18, 16, 18, 14)
        body = QHBoxLayout()
        lay.addLayout(body, 1)

        side = QVBoxLayout()
        side.addWidget(_bold(QLabel("Recent catalogs")))
        self.recent = QListWidget()
        self.recent.setObjectName("recentCatalogs")
        self.recent.setMinimumWidth(250)
        self.recent.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # the tooltip has the whole location
        self.recent.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.recent.itemActivated.connect(self._on_recent_activated)
        self.recent.itemClicked.connect(lambda it: self.show_target(it.data(Qt.ItemDataRole.UserRole)))
        self.recent.currentItemChanged.connect(lambda cur, _prev: self.remove_recent_button.setEnabled(
            cur is not None and cur.data(Qt.ItemDataRole.UserRole) is not None))
        side.addWidget(self.recent, 1)
        self.remove_recent_button = QPushButton(icon("remove"), "Remove from list")
        self.remove_recent_button.setEnabled(False)
        self.remove_recent_button.clicked.connect(self._on_remove_recent_clicked)
        QShortcut(QKeySequence.StandardKey.Delete, self.recent, self._on_remove_recent_clicked,
                  context=Qt.ShortcutContext.WidgetShortcut)
        side.addWidget(self.remove_recent_button)
        body.addLayout(side)

        main = QVBoxLayout()
        self.tabs = QTabWidget()
        self.tabs.addTab(self._file_tab(), icon("file"), "Local file")
        self.tabs.addTab(self._server_tab(), icon("storage"), "Server")
        self.tabs.currentChanged.connect(lambda _i: self._set_result(""))
        main.addWidget(self.tabs)
        self.store_box = InternalStoreBox()
        main.addWidget(self.store_box)
        main.addStretch(1)
        body.addLayout(main, 1)

        self.message = QLabel()
        self.message.setObjectName("openCatalogMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        lay.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.open_button = self.buttons.button(QDialogButtonBox.StandardButton.Open)
        self.buttons.accepted.connect(self._on_open_clicked)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def _file_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        row = QHBoxLayout()
        self.file_path = QLineEdit()
        self.file_path.setObjectName("catalogFile")
        self.file_path.setPlaceholderText("/path/to/catalog.sqlite")
        row.addWidget(self.file_path, 1)
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._on_browse_clicked)
        row.addWidget(self.browse_button)
        form.addRow("Catalog file:", row)
        self.new_file_button = QPushButton(icon("add"), "New catalog file…")
        self.new_file_button.clicked.connect(self._on_new_file_clicked)
        form.addRow("", self.new_file_button)
        hint = QLabel("A catalog on this computer. A new one keeps uploaded binaries in a folder beside it, "
                      "or in a bucket (below).")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        form.addRow(hint)
        return w

    def _server_tab(self) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        self.host = QLineEdit()
        self.host.setPlaceholderText("db.example.org")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(locations.DEFAULT_PORT)
        self.database = QLineEdit()
        self.database.setPlaceholderText("dsdesk")
        self.user = QLineEdit()
        self.sslmode = QComboBox()
        self.sslmode.addItem("libpq default (prefer)", "")
        for mode in locations.SSL_MODES:
            self.sslmode.addItem(mode, mode)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("empty: from the keyring or ~/.pgpass")
        self.remember = QCheckBox("Remember in keyring")
        self.remember.setToolTip("Save the password in the operating system's keyring (never in dsdesk's settings)")
        for label, field in (("Host:", self.host), ("Port:", self.port), ("Database:", self.database),
                             ("User:", self.user), ("SSL mode:", self.sslmode), ("Password:", self.password),
                             ("", self.remember)):
            form.addRow(label, field)
        row = QHBoxLayout()
        self.test_button = QPushButton(icon("test"), "Test connection")
        self.test_button.clicked.connect(self._on_test_clicked)
        row.addWidget(self.test_button)
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        row.addWidget(self.test_result, 1)
        form.addRow(row)
        return w

    def _fill_recent(self) -> None:
        self.recent.clear()
        for target in self.recent_targets:
            server = locations.is_server(target)
            it = QListWidgetItem(icon("storage" if server else "file"), locations.describe(target))
            it.setData(Qt.ItemDataRole.UserRole, target)
            it.setToolTip(target)
            self.recent.addItem(it)
        if not self.recent_targets:
            empty = QListWidgetItem("No recent catalogs")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.recent.addItem(empty)

    # ---- what the fields say ------------------------------------------------------------

    def show_target(self, target: str | None) -> None:
        """Fill the file or server fields from *target* (a path or URL; a password is dropped)."""
        if not target:
            return
        if locations.is_server(target):
            s = locations.parse_server_url(target)
            self.host.setText(s.host)
            self.port.setValue(s.port)
            self.database.setText(s.database)
            self.user.setText(s.user)
            self.sslmode.setCurrentIndex(max(0, self.sslmode.findData(s.sslmode)))
            self.password.clear()
            self.tabs.setCurrentIndex(SERVER_TAB)
        else:
            from sqlalchemy.engine import make_url

            self.file_path.setText(make_url(target).database if target.startswith("sqlite:") else target)
            self.tabs.setCurrentIndex(FILE_TAB)

    def server_location_url(self) -> str:
        """The server URL the fields describe, without a password (InvalidInputError naming a bad field)."""
        return locations.server_url(self.host.text(), self.port.value(), self.database.text(), self.user.text(),
                                    self.sslmode.currentData() or "")

    def store_spec(self) -> dict | None:
        """The bucket store the fields describe, validated (None when the box is unticked)."""
        return self.store_box.spec()

    def show_message(self, text: str, ok: bool = False) -> None:
        """Say something under the fields (an error unless *ok*); the dialog stays open."""
        self.message.setText(text)
        self.message.setStyleSheet(_OK_STYLE if ok else _ERROR_STYLE)
        self.message.setVisible(bool(text))

    def _set_result(self, text: str, ok: bool = True) -> None:
        self.test_result.setText(text)
        self.test_result.setStyleSheet(_OK_STYLE if ok else _ERROR_STYLE)

    def _set_busy(self, busy: bool, what: str = "") -> None:
        for w in (self.open_button, self.test_button, self.tabs, self.recent, self.store_box):
            w.setEnabled(not busy)
        if busy:
            self.show_message(what, ok=True)

    # ---- recent list --------------------------------------------------------------------

    def _on_recent_activated(self, it: QListWidgetItem) -> None:
        target = it.data(Qt.ItemDataRole.UserRole)
        if target:
            self.show_target(target)
            self._on_open_clicked()

    def _on_remove_recent_clicked(self) -> None:
        it = self.recent.currentItem()
        target = it.data(Qt.ItemDataRole.UserRole) if it is not None else None
        if not target:
            return
        self.recent_targets = locations.forget_recent(self.recent_targets, target)
        self._fill_recent()
        self.recent_changed.emit(list(self.recent_targets))

    # ---- files --------------------------------------------------------------------------

    def _on_browse_clicked(self) -> None:
        from dsdesk.ui import welcome

        path = welcome.ask_catalog_file(self)
        if path:
            self.file_path.setText(path)

    def _on_new_file_clicked(self) -> None:
        from dsdesk.ui import welcome

        path = welcome.ask_new_catalog_path(self)
        if not path:
            return
        try:
            target = first_start.new_catalog_path(path)
        except DsdeskError as e:
            self.show_message(str(e))
            return
        self.file_path.setText(target)
        self._open_file(target, new=True)

    def _open_file(self, path: str, new: bool) -> None:
        try:
            spec = self.store_spec() if new else None
        except DsdeskError as e:
            self.show_message(f"The bucket for the new catalog: {e}")
            return
        if spec is None:
            self._finish(path, None)
            return
        self._set_busy(True, f"Checking {stores.describe_location(spec)}…")
        self.tasks.run(lambda: stores.checked_location(spec, must_be_empty=True), lambda loc: self._finish(path, loc),
                       self._on_check_failed)

    # ---- servers ------------------------------------------------------------------------

    def _on_test_clicked(self) -> None:
        self._check_server(accept=False)

    def _on_open_clicked(self) -> None:
        if self.tabs.currentIndex() == SERVER_TAB:
            self._check_server(accept=True)
            return
        path = self.file_path.text().strip()
        if not path:
            self.show_message("Choose a catalog file (Browse…), or make one (New catalog file…).")
            return
        if not Path(path).expanduser().is_file():
            self.show_message(f"There is no catalog at {path}: use New catalog file… to create one.")
            return
        self._open_file(str(Path(path).expanduser()), new=False)

    def _check_server(self, accept: bool) -> None:
        try:
            url = self.server_location_url()
            spec = self.store_spec() if accept else None
        except DsdeskError as e:
            (self.show_message if accept else lambda t: self._set_result(t, ok=False))(str(e))
            return
        typed = self.password.text() or None
        remember = self.remember.isChecked() and typed is not None

        def check():  # worker thread: no widgets here
            return locations.prepare_server(url, typed, remember=remember, internal_store=spec, for_open=accept)

        self._set_result("Connecting…")
        self._set_busy(True, "")
        self.message.hide()
        self.tasks.run(check, lambda r: self._on_server_checked(r, accept), self._on_check_failed)

    def _on_server_checked(self, result, accept: bool) -> None:
        found, full, store = result
        self._set_busy(False)
        self.message.hide()
        self._set_result(found.summary())
        if accept:
            self._finish(full, store)

    def _on_check_failed(self, e: BaseException) -> None:
        self._set_busy(False)
        self._set_result("")
        if isinstance(e, CatalogAuthError):
            self.show_message(f"{e}\nType the password (or fix the user) and try again.")
            self.tabs.setCurrentIndex(SERVER_TAB)
            self.password.setFocus()
            self.password.selectAll()
        elif isinstance(e, DsdeskError):
            self.show_message(str(e))
        else:
            self.show_message(f"Unexpected error: {type(e).__name__}")

    def _finish(self, target: str, store: dict | None) -> None:
        self._set_busy(False)
        self.chosen, self.internal_store = target, store
        self.accept()

    def done(self, result: int) -> None:
        """Closing waits for a connection check still running (its timeout is 5 s)."""
        self.tasks.shutdown()
        super().done(result)


def ask_catalog_switch(parent: QWidget | None, prefs, target: str | None = None,
                       message: str = "") -> tuple[str, dict | None] | None:
    """Show the dialog over *parent*; ``(target, internal_store)`` when the user chose one,
    None when cancelled.  Removals from the recent list are saved in *prefs* (UiPrefs) at
    once.  Tests replace this function instead of clicking the dialog."""
    dlg = OpenCatalogDialog(prefs.recent_catalogs, parent, target=target, message=message)

    def save_recent(recent: list[str]) -> None:
        prefs.recent_catalogs = recent
        prefs.save()

    dlg.recent_changed.connect(save_recent)
    if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.chosen:
        return None
    return dlg.chosen, dlg.internal_store


def _bold(label: QLabel) -> QLabel:
    f = label.font()
    f.setBold(True)
    label.setFont(f)
    return label


def main(argv: list[str] | None = None) -> int:
    """``python -m dsdesk.ui.dialogs.open_catalog [--screenshot PNG]``: show the dialog, print the choice."""
    from dsdesk.ui.app import make_application
    from dsdesk.ui.dialogs.common import save_screenshot
    from dsdesk.ui.settings import UiPrefs

    ap = argparse.ArgumentParser(prog="python -m dsdesk.ui.dialogs.open_catalog")
    ap.add_argument("--target", help="fill the fields from this path or URL")
    ap.add_argument("--screenshot", metavar="PNG", help="save a picture of the dialog and exit")
    a = ap.parse_args(argv)
    app = make_application()
    dlg = OpenCatalogDialog(UiPrefs.load().recent_catalogs, target=a.target)
    if a.screenshot:
        save_screenshot(dlg, a.screenshot)
        return 0
    dlg.show()
    app.exec()
    print(locations.location(dlg.chosen) if dlg.chosen else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
