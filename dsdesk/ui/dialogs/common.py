"""Helpers shared by the dialogs: confirmation boxes and a tiny standalone runner."""

from __future__ import annotations

import argparse
import sys

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
