"""DatasetPropertiesDialog: a dataset's facts, its description and its user metadata.

The one properties dialog of the window and the datasets page.  Its facts come from the
API's read model (:func:`dsdesk.api.dataset_facts.read_dataset_facts`), sizes and dates
from :mod:`dsdesk.api.formatting`, so the dialog shows a dataset's size exactly as the
datasets table does.  The user area of the metadata (``metadata["user"]``) is edited as
JSON; the system area is dsdesk's own and is shown read-only.

Two ways to use it:

* :meth:`DatasetPropertiesDialog.ask` (modal): the edits as a :class:`PropertiesAnswer`,
  which the caller saves off the GUI thread;
* :meth:`DatasetPropertiesDialog.for_dataset`: a dialog that saves on OK through
  :func:`dsdesk.api.dataset_facts.save_dataset_properties` and stays open with the
  message when the save is refused (read-only); someone else's newer edit is merged, and
  a key both changed is asked about (:class:`dsdesk.ui.conflict_dialog.ConflictDialog`).

Open it by hand::

    python -m dsdesk.ui.dialogs.properties --catalog /tmp/dp.sqlite --dataset NAME
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
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

from dsdesk.api.conflicts import MetadataConflictError
from dsdesk.api.dataset_facts import DatasetFacts, read_dataset_facts, save_dataset_properties
from dsdesk.api.formatting import format_datetime, format_size
from dsdesk.errors import DsdeskError


@dataclass
class PropertiesAnswer:
    """The edited description and user metadata."""

    description: str
    user_metadata: dict


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


class DatasetPropertiesDialog(QDialog):
    """Properties of one dataset (GUI thread only), built from facts read on a worker.

    OK checks the user metadata (a JSON object) and, when *save* is given, calls it with
    the :class:`PropertiesAnswer`; a refused edit (invalid JSON, a :class:`DsdeskError`
    from *save*) keeps the dialog open with the message.  A read-only dataset shows
    everything locked.
    """

    def __init__(self, facts: DatasetFacts, parent: QWidget | None = None,
                 save: Callable[[PropertiesAnswer], object] | None = None):
        super().__init__(parent)
        self.facts = facts
        self.dataset = ds = facts.dataset
        self._save = save
        self.answer: PropertiesAnswer | None = None
        self.setWindowTitle(f"Properties — {ds.name}")
        self.setObjectName("datasetPropertiesDialog")
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        pct = f" ({ds.annotated_percent:.1f} %)" if ds.items_count else ""
        #: The value labels by fact name (tests and screenshots read them).
        self.fact_labels: dict[str, QLabel] = {}
        for label, value in (
            ("Name", ds.name), ("ID", str(ds.id)), ("Project", facts.project), ("Kind", ds.kind),
            ("Storage", facts.driver), ("Recipe", facts.recipe), ("Source", facts.source or "–"),
            ("Read-only", "yes" if ds.readonly else "no"),
            ("Items", f"{ds.items_count:,}"), ("Annotated items", f"{ds.annotated_count:,}{pct}"),
            ("Annotations", f"{ds.annotations_count:,}"), ("Folders", f"{ds.folders_count:,}"),
            ("Size", format_size(ds.bytes_total)),
            ("Created", format_datetime(ds.created_at)), ("Updated", format_datetime(ds.updated_at)),
        ):
            v = QLabel(value, self)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            v.setWordWrap(True)
            self.fact_labels[label] = v
            form.addRow(f"{label}:", v)
        self.description_edit = QLineEdit(ds.description or "", self)
        self.description_edit.setObjectName("descriptionEdit")
        form.addRow("Description:", self.description_edit)
        facts_page = QWidget(self)
        facts_page.setLayout(form)

        self.user_edit = QPlainTextEdit(self)
        self.user_edit.setObjectName("userMetadataEdit")
        self.user_edit.setFont(mono)
        self.user_edit.setPlainText(_json(ds.metadata.get("user", {})))
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
        self.system_view.setPlainText(_json(ds.metadata.get("system", {})))
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
        buttons = (QDialogButtonBox.StandardButton.Close if ds.readonly
                   else QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.button_box = QDialogButtonBox(buttons, self)
        lay = QVBoxLayout(self)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.message)
        lay.addWidget(self.button_box)
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)
        self.resize(560, 560)

    @classmethod
    def for_dataset(cls, cat, dataset_id: int, parent: QWidget | None = None) -> DatasetPropertiesDialog:
        """A dialog on dataset *dataset_id* of *cat* that saves on OK (NotFoundError when
        the dataset is gone)."""
        facts = read_dataset_facts(cat, dataset_id)
        return cls(facts, parent, save=lambda a: save_dataset_properties(facts.dataset, a.description,
                                                                         a.user_metadata))

    @classmethod
    def ask(cls, parent: QWidget | None, facts: DatasetFacts) -> PropertiesAnswer | None:
        """Run the dialog modally: the edits to save, or None (closed, read-only, or
        nothing changed)."""
        dlg = cls(facts, parent)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.answer

    def _fail(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    def accept(self) -> None:
        """Check the edits and save them (when the dialog saves); stay open with a message if refused."""
        ds = self.dataset
        if ds.readonly:
            super().accept()
            return
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
        description = self.description_edit.text()
        if user == ds.metadata.get("user", {}) and description == (ds.description or ""):
            super().accept()
            return
        answer = PropertiesAnswer(description, user)
        if self._save is not None:
            try:
                self._save(answer)
            except MetadataConflictError as e:  # someone else changed the same keys: ask
                if not self._resolve(e):
                    return
            except DsdeskError as e:
                self._fail(str(e))
                return
        self.answer = answer
        super().accept()


    def _resolve(self, error: MetadataConflictError) -> bool:
        """Ask about a conflicting save and save the decision; False (the dialog stays open
        with a message) when the user went back to editing or the decision was refused."""
        from dsdesk.ui.conflict_dialog import ConflictDialog

        while True:
            choices = ConflictDialog.ask(self, error)
            if choices is None:
                self._fail(f"Not saved: {error}")
                return False
            try:
                self.dataset.resolve_conflicts(error, choices).update()
                return True
            except MetadataConflictError as again:  # changed again meanwhile
                error = again
            except DsdeskError as e:
                self._fail(str(e))
                return False


def main(argv: list[str] | None = None) -> int:
    """Open the dialog on a dataset of a catalog (for manual checks and screenshots)."""
    from PySide6.QtWidgets import QApplication

    from dsdesk.ui.dialogs.common import by_hand_parser, open_catalog_arg, save_screenshot

    p = by_hand_parser("python -m dsdesk.ui.dialogs.properties")
    p.add_argument("--dataset", required=True, help="dataset name")
    args = p.parse_args(argv)
    cat = open_catalog_arg(args.catalog)
    if cat is None:
        return 2
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # held while the dialog lives
    try:
        project = cat.projects.get(args.project) if args.project else cat.projects.list()[0]
        dlg = DatasetPropertiesDialog.for_dataset(cat, project.datasets.get(args.dataset).id)
        if args.screenshot:
            save_screenshot(dlg, args.screenshot)
            return 0
        return 0 if dlg.exec() == QDialog.DialogCode.Accepted else 1
    finally:
        cat.close()


if __name__ == "__main__":
    sys.exit(main())
