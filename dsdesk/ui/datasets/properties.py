"""DatasetPropertiesDialog: a dataset's facts, its description and its user metadata.

The user area of the metadata (``metadata["user"]``) is edited as JSON and saved with
``ds.update()``, the same path the API takes, so the read-only guard and the row-version
check apply; the system area is dsdesk's own and is shown read-only.

Open it by hand::

    python -m dsdesk.ui.datasets.properties --catalog /tmp/dp.sqlite --dataset NAME
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.dataset_table import format_datetime, format_size
from dsdesk.errors import DsdeskError


class DatasetPropertiesDialog(QDialog):
    """Properties of one dataset (GUI thread only).  Raises NotFoundError on construction
    when the dataset is gone.  OK saves and closes; a refused save (invalid JSON, a
    read-only dataset, someone else's newer edit) keeps the dialog open with the message."""

    def __init__(self, catalog, dataset_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._cat = catalog
        self.dataset = catalog.dataset_by_id(dataset_id)
        ds = self.dataset
        self.setWindowTitle(f"Properties — {ds.name}")
        self.setObjectName("datasetPropertiesDialog")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        facts = QFormLayout()
        pct = f" ({ds.annotated_percent:.1f} %)" if ds.items_count else ""
        for label, value in (
            ("Name", ds.name), ("ID", str(ds.id)), ("Kind", ds.kind),
            ("Read-only", "yes" if ds.readonly else "no"),
            ("Items", f"{ds.items_count:,}"), ("Annotated items", f"{ds.annotated_count:,}{pct}"),
            ("Annotations", f"{ds.annotations_count:,}"), ("Folders", f"{ds.folders_count:,}"),
            ("Size of binaries", format_size(ds.bytes_total)),
            ("Created", format_datetime(ds.created_at)), ("Updated", format_datetime(ds.updated_at)),
        ):
            v = QLabel(value, self)
            v.setTextInteractionFlags(v.textInteractionFlags() | v.textInteractionFlags().TextSelectableByMouse)
            facts.addRow(label, v)
        self.description_edit = QLineEdit(ds.description, self)
        self.description_edit.setObjectName("descriptionEdit")
        facts.addRow("Description", self.description_edit)
        facts_page = QWidget(self)
        facts_page.setLayout(facts)

        self.user_edit = QPlainTextEdit(self)
        self.user_edit.setObjectName("userMetadataEdit")
        self.user_edit.setFont(mono)
        self.user_edit.setPlainText(json.dumps(ds.metadata.get("user", {}), indent=2, ensure_ascii=False,
                                               sort_keys=True, default=str))
        user_page = QWidget(self)
        ul = QVBoxLayout(user_page)
        hint = ("The dataset's own metadata, as JSON.  Custom columns show its fields "
                "(user.owner is the key \"owner\" here).")
        if ds.readonly:
            hint = "This dataset is read-only: its metadata cannot change."
            self.user_edit.setReadOnly(True)
            self.description_edit.setReadOnly(True)
        h = QLabel(hint, user_page)
        h.setWordWrap(True)
        ul.addWidget(h)
        ul.addWidget(self.user_edit, 1)

        self.system_view = QPlainTextEdit(self)
        self.system_view.setObjectName("systemMetadataView")
        self.system_view.setFont(mono)
        self.system_view.setReadOnly(True)
        self.system_view.setPlainText(json.dumps(ds.metadata.get("system", {}), indent=2, ensure_ascii=False,
                                                 sort_keys=True, default=str))
        sys_page = QWidget(self)
        sl = QVBoxLayout(sys_page)
        sl.addWidget(QLabel("dsdesk's own metadata (read-only).", sys_page))
        sl.addWidget(self.system_view, 1)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(facts_page, "General")
        self.tabs.addTab(user_page, "User metadata")
        self.tabs.addTab(sys_page, "System metadata")

        self.message = QLabel(self)
        self.message.setObjectName("propertiesMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c01c28;")
        self.message.hide()
        self.button_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                           self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.button_box)
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)
        self.resize(560, 520)

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def accept(self) -> None:
        """Save the description and the user metadata; stay open with a message if refused."""
        ds = self.dataset
        try:
            user = json.loads(self.user_edit.toPlainText() or "{}")
        except json.JSONDecodeError as e:
            self.tabs.setCurrentIndex(1)
            self._fail(f"The user metadata is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}.")
            return
        if not isinstance(user, dict):
            self.tabs.setCurrentIndex(1)
            self._fail("The user metadata must be a JSON object: { \"key\": value, ... }.")
            return
        if user == ds.metadata.get("user", {}) and self.description_edit.text() == ds.description:
            super().accept()
            return
        ds.metadata["user"] = user
        ds.description = self.description_edit.text()
        try:
            ds.update()
        except DsdeskError as e:
            self._fail(str(e))
            return
        super().accept()


def main(argv: list[str] | None = None) -> int:
    """Open the dialog on a dataset of a catalog (for manual checks and screenshots)."""
    from PySide6.QtWidgets import QApplication

    from dsdesk.api.catalog import Catalog

    p = argparse.ArgumentParser(prog="python -m dsdesk.ui.datasets.properties")
    p.add_argument("--catalog", required=True)
    p.add_argument("--project", help="project name (default: the first)")
    p.add_argument("--dataset", required=True, help="dataset name")
    p.add_argument("--screenshot", metavar="PNG", help="save a picture of the dialog and exit")
    args = p.parse_args(argv)
    if "://" not in args.catalog and not Path(args.catalog).exists():
        print(f"no catalog at {args.catalog}", file=sys.stderr)  # do not create one by a typo
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    cat = Catalog.open(args.catalog)
    try:
        project = cat.projects.get(args.project) if args.project else cat.projects.list()[0]
        dlg = DatasetPropertiesDialog(cat, project.datasets.get(args.dataset).id)
        if args.screenshot:
            dlg.show()
            app.processEvents()
            dlg.grab().save(args.screenshot)
            return 0
        return 0 if dlg.exec() == QDialog.DialogCode.Accepted else 1
    finally:
        cat.close()


if __name__ == "__main__":
    sys.exit(main())
