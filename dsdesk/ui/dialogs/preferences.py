"""The preferences dialog: theme, thumbnail size, the local cache (location, size limit, clear)
and the catalog opened at start.

It edits a copy of :class:`~dsdesk.ui.settings.UiPrefs`; OK writes the copy back, saves it
and applies it (:func:`apply_preferences`), Cancel leaves everything as it was (a theme
previewed while the dialog was open is put back).  The cache's size is measured and the
cache cleared on a worker thread.  ``python -m dsdesk.ui.dialogs.preferences --catalog PATH``
opens it by hand.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api import first_start, local_cache
from dsdesk.api.formatting import format_size
from dsdesk.ui.icons import icon
from dsdesk.ui.settings import UiPrefs
from dsdesk.ui.tasks import TaskRunner
from dsdesk.ui.theme import THEME_LABELS, THEMES, apply_theme, current_theme

#: The UiPrefs fields this dialog edits.
PREFERENCE_FIELDS = ("theme", "thumbnail_size", "cache_dir", "cache_max_mb", "default_catalog")
#: The thumbnail sizes the grid's slider offers.
THUMB_MIN, THUMB_MAX = 64, 320


def ask_folder(parent: QWidget, start: str) -> str:
    """A folder, asked with a folder dialog ("" when cancelled; tests patch this)."""
    return QFileDialog.getExistingDirectory(parent, "Cache location", start)


def ask_catalog_file(parent: QWidget) -> str:
    """A catalog file, asked with an open dialog ("" when cancelled; tests patch this)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Default catalog", "", "dsdesk catalogs (*.sqlite *.db);;All (*)")
    return path


class PreferencesDialog(QDialog):
    """Edit the GUI preferences; :attr:`prefs` is the edited copy once accepted.

    *cat* (optional) is the open catalog, whose cache the Cache box measures and clears.
    Never touch widgets in the functions given to :attr:`tasks` (they run on a worker).
    """

    def __init__(self, prefs: UiPrefs, cat=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setWindowIcon(icon("properties"))
        self.setObjectName("PreferencesDialog")
        self._original = prefs
        self.prefs = replace(prefs, recent_catalogs=list(prefs.recent_catalogs))
        self.cat = cat
        self.tasks = TaskRunner(self, threads=1)
        app = QApplication.instance()
        self._theme_before = current_theme(app) if app is not None else "system"
        self._build()
        self.refresh_cache_usage()

    # ---- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)

        look = QGroupBox("Appearance")
        form = QFormLayout(look)
        self.theme = QComboBox()
        for t in THEMES:
            self.theme.addItem(THEME_LABELS[t], t)
        self.theme.setCurrentIndex(max(0, self.theme.findData(self.prefs.theme)))
        self.theme.currentIndexChanged.connect(self._on_theme_changed)
        form.addRow("Theme:", self.theme)
        size_row = QHBoxLayout()
        self.thumb_slider = QSlider(Qt.Orientation.Horizontal)
        self.thumb_slider.setRange(THUMB_MIN, THUMB_MAX)
        self.thumb_slider.setSingleStep(16)
        self.thumb_slider.setPageStep(32)
        self.thumb_size = QSpinBox()
        self.thumb_size.setRange(THUMB_MIN, THUMB_MAX)
        self.thumb_size.setSuffix(" px")
        self.thumb_slider.valueChanged.connect(self.thumb_size.setValue)
        self.thumb_size.valueChanged.connect(self.thumb_slider.setValue)
        self.thumb_size.setValue(min(THUMB_MAX, max(THUMB_MIN, self.prefs.thumbnail_size)))
        size_row.addWidget(self.thumb_slider, 1)
        size_row.addWidget(self.thumb_size)
        form.addRow("Thumbnail size:", size_row)
        lay.addWidget(look)

        cache = QGroupBox("Cache (thumbnails and recently viewed originals)")
        form = QFormLayout(cache)
        loc_row = QHBoxLayout()
        self.cache_dir = QLineEdit(self.prefs.cache_dir or "")
        self.cache_dir.setPlaceholderText("Beside each catalog (default)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_cache_browse_clicked)
        loc_row.addWidget(self.cache_dir, 1)
        loc_row.addWidget(browse)
        form.addRow("Location:", loc_row)
        self.cache_max = QSpinBox()
        self.cache_max.setRange(64, 1_000_000)
        self.cache_max.setSingleStep(256)
        self.cache_max.setSuffix(" MB")
        self.cache_max.setValue(max(64, self.prefs.cache_max_mb))
        form.addRow("Size limit:", self.cache_max)
        use_row = QHBoxLayout()
        self.cache_usage = QLabel("No catalog open" if self.cat is None else "Measuring…")
        self.clear_button = QPushButton(icon("delete"), "Clear cache")
        self.clear_button.setEnabled(self.cat is not None)
        self.clear_button.clicked.connect(self._on_clear_clicked)
        use_row.addWidget(self.cache_usage, 1)
        use_row.addWidget(self.clear_button)
        form.addRow("In use:", use_row)
        note = QLabel("A new location and the size limit take effect at the next start. Everything in the "
                      "cache is made again from the originals when needed.")
        note.setWordWrap(True)
        note.setEnabled(False)
        form.addRow(note)
        lay.addWidget(cache)

        start = QGroupBox("Start")
        form = QFormLayout(start)
        cat_row = QHBoxLayout()
        self.default_catalog = QLineEdit(self.prefs.default_catalog or "")
        self.default_catalog.setPlaceholderText("The last catalog used")
        current = QPushButton("Current")
        current.setToolTip("Open the catalog open now at every start")
        current.setEnabled(self.cat is not None)
        # A method, not a lambda holding self: PySide6 crashes collecting such a cycle
        # ("shared QObject was deleted directly") when the dialog is garbage-collected.
        current.clicked.connect(self._on_current_catalog_clicked)
        pick = QPushButton("Browse…")
        pick.clicked.connect(self._on_catalog_browse_clicked)
        cat_row.addWidget(self.default_catalog, 1)
        cat_row.addWidget(current)
        cat_row.addWidget(pick)
        form.addRow("Default catalog:", cat_row)
        lay.addWidget(start)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    # ---- cache --------------------------------------------------------------------------

    def refresh_cache_usage(self) -> None:
        """Measure the open catalog's cache (worker thread) and show it."""
        if self.cat is None:
            return
        cat = self.cat
        self.tasks.run(lambda: local_cache.cache_usage(cat), self._on_cache_measured, key="usage")

    def _on_cache_measured(self, n: int) -> None:
        self.cache_usage.setText(f"{format_size(n)} in {local_cache.cache_folder(self.cat)}")

    def _on_clear_clicked(self) -> None:
        cat = self.cat
        self.clear_button.setEnabled(False)
        self.cache_usage.setText("Clearing…")
        self.tasks.run(lambda: local_cache.clear_cache(cat), self._on_cache_cleared, self._on_cache_clear_failed)

    def _on_cache_clear_failed(self, error: BaseException) -> None:
        self.clear_button.setEnabled(True)
        self.cache_usage.setText(f"Could not clear the cache: {error}")

    def _on_cache_cleared(self, freed: int) -> None:
        self.clear_button.setEnabled(True)
        self.cache_usage.setText(f"Cleared {format_size(freed)}")
        self.refresh_cache_usage()

    def _on_cache_browse_clicked(self) -> None:
        folder = ask_folder(self, self.cache_dir.text())
        if folder:
            self.cache_dir.setText(folder)

    def _on_current_catalog_clicked(self) -> None:
        self.default_catalog.setText(self.cat.raw_url if self.cat is not None else "")

    def _on_catalog_browse_clicked(self) -> None:
        path = ask_catalog_file(self)
        if path:
            self.default_catalog.setText(path)

    # ---- theme and result ---------------------------------------------------------------

    def _on_theme_changed(self, _index: int) -> None:
        app = QApplication.instance()
        if app is not None:
            apply_theme(app, self.theme.currentData())  # a preview; Cancel puts the old one back

    def edited(self) -> UiPrefs:
        """The preferences as the dialog shows them now."""
        p = replace(self.prefs, recent_catalogs=list(self.prefs.recent_catalogs))
        p.theme = self.theme.currentData()
        p.thumbnail_size = self.thumb_size.value()
        p.cache_dir = self.cache_dir.text().strip() or None
        p.cache_max_mb = self.cache_max.value()
        text = self.default_catalog.text().strip()
        p.default_catalog = (first_start.team_catalog_url(text) if text.startswith("postgres") else text) or None
        return p

    def accept(self) -> None:
        """Keep the edited preferences; a bad team URL is shown and the dialog stays open."""
        from dsdesk.errors import DsdeskError

        try:
            self.prefs = self.edited()
        except DsdeskError as e:
            self.default_catalog.setToolTip(str(e))
            self.default_catalog.setStyleSheet("border: 1px solid #d9534f;")
            return
        self.tasks.shutdown()
        super().accept()

    def reject(self) -> None:
        """Leave everything as it was, the theme too."""
        app = QApplication.instance()
        if app is not None and current_theme(app) != self._theme_before:
            apply_theme(app, self._theme_before)
        self.tasks.shutdown()
        super().reject()


def apply_preferences(prefs: UiPrefs, window=None) -> None:
    """Apply *prefs* to the running app (theme) and to *window* (thumbnail size), and save them."""
    app = QApplication.instance()
    if app is not None:
        apply_theme(app, prefs.theme)
    if window is not None:
        for name in PREFERENCE_FIELDS:  # the window's prefs also hold its state (last dataset, ...)
            setattr(window.prefs, name, getattr(prefs, name))
        window.grid.slider.setValue(prefs.thumbnail_size)
        window.grid.set_cell_size(prefs.thumbnail_size)
        prefs = window.prefs
    prefs.save()


def open_preferences(window) -> bool:
    """The window's Preferences… action: edit and apply; True when the user pressed OK."""
    dlg = PreferencesDialog(window.prefs, window.cat, window)
    if dlg.exec() != QDialog.DialogCode.Accepted:
        return False
    apply_preferences(dlg.prefs, window)
    return True


def main() -> int:
    """``python -m dsdesk.ui.dialogs.preferences [--catalog PATH]``: open it by hand."""
    import argparse

    import dsdesk
    from dsdesk.ui.app import make_application

    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", default=None)
    a = ap.parse_args()
    prefs = UiPrefs.load()
    app = make_application()
    apply_theme(app, prefs.theme)
    cat = dsdesk.open_catalog(a.catalog) if a.catalog else None
    dlg = PreferencesDialog(prefs, cat)
    if dlg.exec() == QDialog.DialogCode.Accepted:
        apply_preferences(dlg.prefs)
    if cat is not None:
        cat.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
