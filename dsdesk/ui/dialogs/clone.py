"""The Clone… dialog: name, destination (a new dataset or an existing one) and folder,
the three copy flags, and what to clone (everything, the selected items, this search)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)


@dataclass
class CloneParams:
    """What the user asked for: ``dst_dataset_id`` None means a new dataset named ``clone_name``."""

    clone_name: str | None
    dst_dataset_id: int | None
    target_directory: str
    with_items_annotations: bool
    with_metadata: bool
    with_task_annotations_status: bool
    scope: str  # "all" | "selected" | "search"


class CloneDialog(QDialog):
    """Ask how to clone a dataset (or part of it)."""

    def __init__(self, parent: QWidget | None, src_name: str, src_id: int, datasets: list[tuple[int, str]],
                 selected_count: int = 0, search: str = ""):
        super().__init__(parent)
        self.setWindowTitle(f"Clone {src_name}")
        self.setMinimumWidth(440)
        self.name = QLineEdit(f"{src_name} clone", self)
        self.dest = QComboBox(self)
        self.dest.addItem("A new dataset", None)
        for did, dname in datasets:
            if did != src_id:
                self.dest.addItem(f"Existing: {dname}", did)
        self.dest.currentIndexChanged.connect(self._on_dest_current_index_changed)
        self.folder = QLineEdit("/", self)
        self.folder.setToolTip("The folder the cloned items go under (created if missing)")
        self.with_annotations = QCheckBox("Annotations", self)
        self.with_annotations.setChecked(True)
        self.with_metadata = QCheckBox("Item metadata", self)
        self.with_metadata.setChecked(True)
        self.with_statuses = QCheckBox("Task statuses", self)
        self.with_statuses.setChecked(True)
        flags = QGroupBox("Copy along with the items", self)
        fl = QVBoxLayout(flags)
        for w in (self.with_annotations, self.with_metadata, self.with_statuses):
            fl.addWidget(w)
        note = QLabel("Binaries are never copied: clones point at the master's files.", self)
        note.setStyleSheet("color: palette(mid);")
        fl.addWidget(note)
        scope = QGroupBox("What to clone", self)
        sl = QVBoxLayout(scope)
        self.scope_all = QRadioButton(f"The whole dataset '{src_name}'", self)
        self.scope_selected = QRadioButton(f"Only the selected items ({selected_count:,})", self)
        self.scope_search = QRadioButton(f"Only this search: {search}" if search else "Only this search", self)
        self.scope_selected.setEnabled(selected_count > 0)
        self.scope_search.setEnabled(bool(search.strip()))
        self._group = QButtonGroup(self)
        for b in (self.scope_all, self.scope_selected, self.scope_search):
            self._group.addButton(b)
            sl.addWidget(b)
        (self.scope_selected if selected_count else self.scope_all).setChecked(True)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Destination:", self.dest)
        form.addRow("Into folder:", self.folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Clone")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(scope)
        lay.addWidget(flags)
        lay.addWidget(buttons)

    def _on_dest_current_index_changed(self, _i: int) -> None:
        self.name.setEnabled(self.dest.currentData() is None)

    def params(self) -> CloneParams:
        """The answer as it stands."""
        scope = "selected" if self.scope_selected.isChecked() else "search" if self.scope_search.isChecked() else "all"
        dst = self.dest.currentData()
        return CloneParams(self.name.text().strip() if dst is None else None, dst, self.folder.text().strip() or "/",
                           self.with_annotations.isChecked(), self.with_metadata.isChecked(),
                           self.with_statuses.isChecked(), scope)

    @classmethod
    def ask(cls, parent, src_name: str, src_id: int, datasets, selected_count: int = 0,
            search: str = "") -> CloneParams | None:
        """Run the dialog; the parameters, or None when cancelled."""
        dlg = cls(parent, src_name, src_id, datasets, selected_count, search)
        return dlg.params() if dlg.exec() == QDialog.DialogCode.Accepted else None


if __name__ == "__main__":
    from dsdesk.ui.dialogs.common import standalone

    raise SystemExit(standalone(lambda cat, ds: CloneDialog(None, ds.name, ds.id,
                                                            [(d.id, d.name) for d in cat.datasets.list()], 12,
                                                            "split:train")))
