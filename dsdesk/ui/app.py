"""Starting the GUI: ``run_app(catalog)``, or ``python -m dsdesk.ui.app --catalog PATH``.

The platform plugin comes from ``QT_QPA_PLATFORM`` when the environment sets it
(``offscreen`` in tests and benchmarks, ``xcb`` under Xvfb).  Light and dark follow the
system: the Fusion style with a palette picked from ``QStyleHints.colorScheme()``,
switched again when the system's scheme changes.
"""

from __future__ import annotations

import argparse
import os
import sys

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from dsdesk.ui.icons import icon


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style."""
    p = QPalette()
    base, window, text = QColor(37, 38, 41), QColor(47, 49, 53), QColor(225, 227, 230)
    for role, color in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                        (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, QColor(55, 57, 62)),
                        (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
                        (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
                        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor(255, 90, 90)),
                        (QPalette.ColorRole.Highlight, QColor(47, 111, 222)),
                        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
                        (QPalette.ColorRole.Link, QColor(110, 160, 255)), (QPalette.ColorRole.Mid, QColor(80, 82, 88)),
                        (QPalette.ColorRole.Midlight, QColor(66, 68, 74)),
                        (QPalette.ColorRole.PlaceholderText, QColor(140, 142, 148))):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 128))
    return p


def apply_theme(app: QApplication) -> None:
    """Fusion with the system's light or dark scheme."""
    app.setStyle("Fusion")
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        app.setPalette(dark_palette())
    else:
        pal = app.style().standardPalette()
        pal.setColor(QPalette.ColorRole.AlternateBase, QColor(236, 238, 241))
        pal.setColor(QPalette.ColorRole.Midlight, QColor(222, 225, 230))
        app.setPalette(pal)


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), named and themed."""
    # Workers (thumbnails, id streams, jobs) run Python too; with CPython's default 5 ms GIL
    # switch interval the GUI thread can wait several intervals in a row for the GIL
    # (the convoy effect) and a paint stalls for 100+ ms.  1 ms keeps the GUI responsive.
    sys.setswitchinterval(0.001)
    app = QApplication.instance()
    if app is None:
        # QT_QPA_PLATFORM from the environment picks the platform plugin (Qt reads it itself).
        app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("dsdesk")
    app.setOrganizationName("dsdesk")
    app.setApplicationDisplayName("dsdesk")
    app.setWindowIcon(icon("app"))
    apply_theme(app)
    app.styleHints().colorSchemeChanged.connect(lambda _s: apply_theme(app))
    return app


def quit_after(app: QApplication, seconds: float | None) -> None:
    """Quit the event loop *seconds* after it starts (``--quit-after``: smoke tests of an
    installed app or bundle, which must start the real window and exit with status 0)."""
    if seconds is not None:
        QTimer.singleShot(max(0, int(seconds * 1000)), app.quit)


def run_app(catalog_path_or_url=None, quit_after_seconds: float | None = None) -> int:
    """Open the main window on the catalog (default: the last one used, else the default
    catalog) and run the event loop; returns the exit code."""
    import dsdesk
    from dsdesk.ui.main_window import MainWindow
    from dsdesk.ui.settings import UiPrefs

    app = make_application()
    prefs = UiPrefs.load()
    target = catalog_path_or_url or os.environ.get("DSDESK_CATALOG") or None
    try:
        cat = dsdesk.open_catalog(target)
    except dsdesk.DsdeskError as e:
        QMessageBox.critical(None, "dsdesk", f"Cannot open the catalog: {e}")
        return 2
    try:
        cat.mark_interrupted_jobs()
    except dsdesk.DsdeskError:
        pass
    win = MainWindow(cat, prefs)
    win.show()
    quit_after(app, quit_after_seconds)
    code = app.exec()
    win.shutdown()
    cat.close()
    return code


def main(argv: list[str] | None = None) -> int:
    """``python -m dsdesk.ui.app [--catalog PATH]``."""
    ap = argparse.ArgumentParser(prog="python -m dsdesk.ui.app", description="Open the dsdesk main window.")
    ap.add_argument("--catalog", default=None, help="catalog file or database URL")
    ap.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                    help="quit the window after SECONDS (smoke tests)")
    a = ap.parse_args(argv)
    return run_app(a.catalog, a.quit_after)


if __name__ == "__main__":
    sys.exit(main())
