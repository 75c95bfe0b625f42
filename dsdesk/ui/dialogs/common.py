"""Helpers shared by the dialogs: confirmation boxes, and opening a dialog by hand
(``python -m dsdesk.ui.dialogs.properties --catalog ...``) for checks and screenshots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(parent: QWidget | None, title: str, text: str, ok_text: str = "OK", danger: bool = False) -> bool:
    """Ask a yes/no question; True when the user accepted (tests patch this function)."""
    box = QMessageBox(QMessageBox.Icon.Warning if danger else QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Cancel, parent)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel if danger else ok)
    box.exec()
    return box.clickedButton() is ok


def show_error(parent: QWidget | None, title: str, text: str, details: str = "") -> None:
    """An error box (tests patch this function)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Close, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def standalone(build) -> int:
    """Open a dialog by hand against a catalog: ``build(cat, first_dataset) -> QDialog``."""
    from PySide6.QtWidgets import QApplication

    import dsdesk

    ap = argparse.ArgumentParser()
    ap.add_argument("--catalog", required=True)
    a = ap.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    cat = dsdesk.open_catalog(a.catalog)
    datasets = cat.datasets.list()
    if not datasets:
        print("the catalog has no dataset: run `dsdesk demo --no-gui` first", file=sys.stderr)
        return 2
    dlg = build(cat, datasets[0])
    dlg.show()
    code = app.exec()
    cat.close()
    return code


def by_hand_parser(prog: str, description: str | None = None) -> argparse.ArgumentParser:
    """The command line of a dialog opened by hand: ``--catalog`` (required), ``--project``
    (default: the first) and ``--screenshot PNG``; the dialog adds its own."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--catalog", required=True, help="catalog file or URL")
    p.add_argument("--project", help="project name (default: the first)")
    p.add_argument("--screenshot", metavar="PNG", help="save a picture of the dialog and exit")
    return p


def open_catalog_arg(path_or_url: str):
    """The catalog a by-hand run names on its command line, or None (said on stderr) when it
    is a file that does not exist: a typo must not create an empty catalog."""
    if "://" not in path_or_url and not Path(path_or_url).exists():
        print(f"no catalog at {path_or_url}", file=sys.stderr)
        return None
    from dsdesk.api.catalog import Catalog

    return Catalog.open(path_or_url)


def save_screenshot(dlg: QWidget, png: str) -> None:
    """Show *dlg*, let it lay out, and save a picture of it to *png*."""
    from PySide6.QtWidgets import QApplication

    dlg.show()
    QApplication.processEvents()
    dlg.grab().save(png)
