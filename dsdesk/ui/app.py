"""Starting the GUI: ``run_app(catalog)``, or ``python -m dsdesk.ui.app --catalog PATH``.

The platform plugin comes from ``QT_QPA_PLATFORM`` when the environment sets it
(``offscreen`` in tests and benchmarks, ``xcb`` under Xvfb).  The theme is the user's
preference (:mod:`dsdesk.ui.theme`: light, dark, or following the system).

Which catalog opens: ``--catalog`` or ``$DSDESK_CATALOG`` when given, else the preferences'
default catalog, else the last one used, else the default catalog file when it exists
(:func:`dsdesk.api.first_start.startup_catalog`).  When there is none (a first start), or
the remembered one cannot be opened, the welcome screen asks (:mod:`dsdesk.ui.welcome`);
a server that wants a password gets the Open catalog dialog.  File > Open catalog… closes
the window and opens the chosen catalog in a new one.
"""

from __future__ import annotations

import argparse
import sys
import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from dsdesk.ui.icons import icon
from dsdesk.ui.theme import apply_theme, dark_palette, follow_system  # noqa: F401 - dark_palette re-exported

APP_NAME = "dsdesk"


def make_application(argv: list[str] | None = None, theme: str = "system") -> QApplication:
    """The QApplication (created once), named, with the app icon and the *theme*."""
    # Workers (thumbnails, id streams, jobs) run Python too; with CPython's default 5 ms GIL
    # switch interval the GUI thread can wait several intervals in a row for the GIL
    # (the convoy effect) and a paint stalls for 100+ ms.  1 ms keeps the GUI responsive.
    sys.setswitchinterval(0.001)
    app = QApplication.instance()
    if app is None:
        # QT_QPA_PLATFORM from the environment picks the platform plugin (Qt reads it itself).
        app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    from dsdesk import __version__

    app.setApplicationVersion(__version__)
    # The installed dsdesk.desktop: desktops match the window to its menu entry and icon.
    app.setDesktopFileName(APP_NAME)
    app.setWindowIcon(icon("app"))
    apply_theme(app, theme)
    follow_system(app)
    return app


def quit_after(app: QApplication, seconds: float | None) -> None:
    """Quit the event loop *seconds* after it starts (``--quit-after``: smoke tests of an
    installed app or bundle, which must start the real window and exit with status 0)."""
    if seconds is not None:
        QTimer.singleShot(max(0, int(seconds * 1000)), app.quit)


def ask_server_catalog(prefs, target: str, message: str) -> tuple[str, dict | None] | None:
    """The Open catalog dialog with the server's fields filled from *target* and *message*
    said (its password was refused or missing); ``(target, internal_store)`` or None when
    cancelled.  Tests replace this function."""
    from dsdesk.ui.dialogs.open_catalog import ask_catalog_switch

    return ask_catalog_switch(None, prefs, target=target, message=message)


def choose_catalog(prefs, explicit: str | None = None, quit_after_seconds: float | None = None,
                   internal_store: dict | None = None, fallback_to_welcome: bool = False):
    """Open the catalog to show: ``(catalog, 0)``, or ``(None, exit code)`` when there is none.

    An *explicit* catalog (``--catalog``) that cannot be opened is an error box and exit
    code 2, as before (with *fallback_to_welcome*, File > Open catalog…'s choice, the welcome
    screen says what went wrong instead); a remembered one that cannot be opened, or none at
    all, shows the welcome screen, with what went wrong; closing it quits (exit code 0), and
    so does *quit_after_seconds* (smoke tests of a first start).  A server that refuses or
    needs a password asks for it (the Open catalog dialog).  *internal_store* is the bucket
    a new catalog keeps its binaries in.  The recent list remembers the catalog without a
    password.
    """
    import dsdesk
    from dsdesk.api import first_start
    from dsdesk.ui.welcome import WelcomeDialog

    target = first_start.startup_catalog(explicit, prefs.default_catalog, prefs.last_catalog)
    store = internal_store
    message = ""
    while True:
        from_welcome = target is None
        if from_welcome:
            dlg = WelcomeDialog(prefs.recent_catalogs, message)
            if quit_after_seconds is not None:
                QTimer.singleShot(max(0, int(quit_after_seconds * 1000)), dlg.reject)
            if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.chosen:
                return None, 0
            target, store = dlg.chosen, dlg.internal_store
        try:
            cat = dsdesk.open_catalog(target, internal_store=store)
        except dsdesk.CatalogAuthError as e:
            answer = ask_server_catalog(prefs, str(target), str(e))
            if answer is not None:
                target, store = answer
                continue
            message = f"Cannot open {first_start.display_name(str(target))}: {e}"
            target, store = None, None
            continue
        except dsdesk.DsdeskError as e:
            if explicit and not from_welcome and not fallback_to_welcome:
                QMessageBox.critical(None, APP_NAME, f"Cannot open the catalog: {e}")
                return None, 2
            message = f"Cannot open {first_start.display_name(str(target))}: {e}"
            target, store = None, None
            continue
        prefs.recent_catalogs = first_start.remember_recent(prefs.recent_catalogs, cat.raw_url)
        prefs.save()
        return cat, 0


def prepare_cache(cat, prefs) -> None:
    """Put the catalog's cache where the preferences say, and trim it to their size limit on a
    background thread (deleting cached files only: they are made again when needed)."""
    from dsdesk.api import local_cache
    from dsdesk.errors import DsdeskError

    try:
        local_cache.use_cache_dir(cat, prefs.cache_dir)
    except DsdeskError as e:
        print(f"dsdesk: {e}; using the default cache location", file=sys.stderr)
    limit = max(0, int(prefs.cache_max_mb)) * 1024 * 1024
    threading.Thread(target=local_cache.trim_cache, args=(cat, limit), name="dsdesk-cache-trim",
                     daemon=True).start()


def run_app(catalog_path_or_url=None, quit_after_seconds: float | None = None) -> int:
    """Open the main window on the catalog (see the module's docstring for which one) and run
    the event loop; returns the exit code."""
    import os

    import dsdesk
    from dsdesk.ui.settings import UiPrefs

    prefs = UiPrefs.load()
    app = make_application(theme=prefs.theme)
    explicit = catalog_path_or_url or os.environ.get("DSDESK_CATALOG") or None
    store, switched = None, False
    from dsdesk.ui.main_window import MainWindow

    while True:
        cat, code = choose_catalog(prefs, explicit, quit_after_seconds, internal_store=store,
                                   fallback_to_welcome=switched)
        if cat is None:
            return code
        try:
            cat.mark_interrupted_jobs()
        except dsdesk.DsdeskError:
            pass
        prepare_cache(cat, prefs)
        win = MainWindow(cat, prefs)
        win.show()
        if not switched:
            quit_after(app, quit_after_seconds)
        code = app.exec()
        win.shutdown()
        cat.close()
        if win.switch_request is None:
            return code
        # File > Open catalog…: this window closed; the chosen catalog opens in a new one.
        (explicit, store), switched = win.switch_request, True
        prefs = UiPrefs.load()


def main(argv: list[str] | None = None) -> int:
    """``python -m dsdesk.ui.app [--catalog PATH] [--quit-after SECONDS]``."""
    ap = argparse.ArgumentParser(prog="python -m dsdesk.ui.app", description="Open the dsdesk main window.")
    ap.add_argument("--catalog", default=None, help="catalog file or database URL")
    ap.add_argument("--quit-after", type=float, default=None, metavar="SECONDS",
                    help="quit the window after SECONDS (smoke tests)")
    a = ap.parse_args(argv)
    return run_app(a.catalog, a.quit_after)


if __name__ == "__main__":
    sys.exit(main())
