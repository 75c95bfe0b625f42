"""The Merge with… dialog: pick datasets, see the outcome before running, refuse different recipes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.merge_plan import MergePlan, plan_merge


@dataclass
class MergeParams:
    """The user's answer."""

    merge_name: str
    dataset_ids: list[int]
    with_items_annotations: bool
    with_metadata: bool
    with_task_annotations_status: bool


class MergeDialog(QDialog):
    """Pick the datasets to merge with; the outcome is shown (through *planner*, e.g.
    :func:`dsdesk.api.merge_plan.plan_merge`) before running."""

    def __init__(self, parent: QWidget | None, base_id: int, datasets: list[tuple[int, str]], planner,
                 preselected: list[int] | None = None):
        super().__init__(parent)
        self.base_id = base_id
        self._planner = planner
        names = dict(datasets)
        self.setWindowTitle(f"Merge {names.get(base_id, '')} with…")
        self.setMinimumWidth(480)
        self.list = QListWidget(self)
        for did, dname in datasets:
            it = QListWidgetItem(dname)
            it.setData(Qt.ItemDataRole.UserRole, did)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = did == base_id or (preselected and did in preselected)
            it.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            if did == base_id:
                it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsUserCheckable)
            self.list.addItem(it)
        self.list.itemChanged.connect(lambda _it: self._update_plan())
        self.name = QLineEdit(f"{names.get(base_id, 'merged')} merged", self)
        self.with_annotations = QCheckBox("Annotations", self)
        self.with_annotations.setChecked(True)
        self.with_metadata = QCheckBox("Item metadata", self)
        self.with_statuses = QCheckBox("Task statuses", self)
        self.outcome = QLabel("", self)
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Merge")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("New dataset:", self.name)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Datasets to merge:", self))
        lay.addWidget(self.list)
        lay.addLayout(form)
        for w in (self.with_annotations, self.with_metadata, self.with_statuses):
            lay.addWidget(w)
        lay.addWidget(self.outcome)
        lay.addWidget(self.buttons)
        self._update_plan()

    def checked_ids(self) -> list[int]:
        """The datasets ticked (the base one first)."""
        out = []
        for i in range(self.list.count()):
            it = self.list.item(i)
            if it.checkState() == Qt.CheckState.Checked:
                out.append(int(it.data(Qt.ItemDataRole.UserRole)))
        out.sort(key=lambda d: d != self.base_id)
        return out

    def _update_plan(self) -> None:
        ids = self.checked_ids()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        if len(ids) < 2:
            self.outcome.setText("Tick at least one more dataset.")
            ok.setEnabled(False)
            return
        try:
            plan = self._planner(ids)
        except Exception as e:  # noqa: BLE001 - shown to the user, the dialog stays usable
            self.outcome.setText(f"<span style='color:#c0392b'>Cannot plan this merge: {e}</span>")
            ok.setEnabled(False)
            return
        self.outcome.setText(self.describe(plan))
        ok.setEnabled(plan.refusal is None)

    @staticmethod
    def describe(plan: MergePlan) -> str:
        """The outcome as rich text."""
        parts = []
        for g in plan.clone_groups:
            parts.append("Clones of one master, their items become one (annotations united): <b>"
                         + ", ".join(g) + "</b>")
        if plan.summed:
            parts.append("Independent datasets, items are added up (same paths kept both, renamed): <b>"
                         + ", ".join(plan.summed) + "</b>")
        if plan.refusal:
            parts.append(f"<span style='color:#c0392b'><b>Refused:</b> {plan.refusal}</span>")
        return "<br>".join(parts)

    def params(self) -> MergeParams:
        """The answer as it stands."""
        return MergeParams(self.name.text().strip(), self.checked_ids(), self.with_annotations.isChecked(),
                           self.with_metadata.isChecked(), self.with_statuses.isChecked())

    @classmethod
    def ask(cls, parent, base_id: int, datasets, planner, preselected=None) -> MergeParams | None:
        """Run the dialog; the parameters, or None when cancelled."""
        dlg = cls(parent, base_id, datasets, planner, preselected)
        return dlg.params() if dlg.exec() == QDialog.DialogCode.Accepted else None


if __name__ == "__main__":
    from dsdesk.ui.dialogs.common import standalone

    def _build(cat, ds):
        return MergeDialog(None, ds.id, [(d.id, d.name) for d in cat.datasets.list()],
                           lambda ids: plan_merge(cat, ids))

    raise SystemExit(standalone(_build))
