"""Properties of a dataset: facts, lineage, description and editable user metadata."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from dsdesk.ui.inspector import human_size
from dsdesk.ui.metadata_editor import MetadataEditor


@dataclass
class DatasetFacts:
    """What the properties dialog shows (read on a worker)."""

    dataset: object  # dsdesk.api.datasets.Dataset
    project: str
    driver: str
    recipe: str
    source: str | None


def read_dataset_facts(cat, dataset_id: int) -> DatasetFacts:
    """Read a dataset's facts (Qt-free)."""
    from dsdesk.catalog.models import Driver

    ds = cat.dataset_by_id(dataset_id)
    with cat.db.session() as s:
        drv = s.get(Driver, ds.driver_id)
    recipe = ds.recipe
    src = None
    if ds.src_dataset_id:
        try:
            src = cat.dataset_by_id(ds.src_dataset_id).name
        except Exception:  # noqa: BLE001 - the source was deleted: say so
            src = f"dataset {ds.src_dataset_id} (deleted)"
    return DatasetFacts(ds, ds.project.name, f"{drv.name} ({drv.kind})" if drv else "?",
                        f"{recipe.name}: {', '.join(recipe.label_names)}" if recipe else "(none)", src)


@dataclass
class PropertiesAnswer:
    """The edited description and user metadata."""

    description: str
    user_metadata: dict


class DatasetPropertiesDialog(QDialog):
    """Show a dataset's facts; edit its description and user metadata (unless read-only)."""

    def __init__(self, parent: QWidget | None, facts: DatasetFacts):
        super().__init__(parent)
        ds = facts.dataset
        self.setWindowTitle(f"Properties of {ds.name}")
        self.setMinimumWidth(480)
        form = QFormLayout()
        for label, value in (("Name", ds.name), ("Project", facts.project), ("Kind", ds.kind),
                             ("Storage", facts.driver), ("Recipe", facts.recipe),
                             ("Source", facts.source or "–"), ("Read-only", "yes" if ds.readonly else "no"),
                             ("Items", f"{ds.items_count:,} ({ds.annotated_percent:.1f}% annotated)"),
                             ("Annotations", f"{ds.annotations_count:,}"), ("Folders", f"{ds.folders_count:,}"),
                             ("Size", human_size(ds.bytes_total)),
                             ("Created", f"{ds.created_at:%Y-%m-%d %H:%M}" if ds.created_at else "")):
            lab = QLabel(str(value), self)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setWordWrap(True)
            form.addRow(f"{label}:", lab)
        self.description = QLineEdit(ds.description or "", self)
        self.description.setReadOnly(ds.readonly)
        form.addRow("Description:", self.description)
        self.editor = MetadataEditor(self)
        self.editor.set_value(ds.metadata.get("user") or {})
        self.editor.save_button.hide()
        self.editor.revert_button.hide()
        self.editor.set_read_only(ds.readonly, "the dataset is read-only")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
                                   if not ds.readonly else QDialogButtonBox.StandardButton.Close, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel("", self)
        self.error.setStyleSheet("color: #c0392b;")
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(QLabel("User metadata:", self))
        lay.addWidget(self.editor, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)

    def accept(self) -> None:
        try:
            self.editor.value()
        except ValueError as e:
            self.error.setText(str(e))
            return
        super().accept()

    @classmethod
    def ask(cls, parent, facts: DatasetFacts) -> PropertiesAnswer | None:
        """The edits to save, or None (closed, or nothing to save)."""
        dlg = cls(parent, facts)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return PropertiesAnswer(dlg.description.text(), dlg.editor.value())


if __name__ == "__main__":
    from dsdesk.ui.dialogs.common import standalone

    raise SystemExit(standalone(lambda cat, ds: DatasetPropertiesDialog(None, read_dataset_facts(cat, ds.id))))
