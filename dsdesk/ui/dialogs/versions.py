"""Snapshot, Rollback to…, Diff with… and the diff report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.formatting import format_datetime

NOW = "(the dataset now)"


@dataclass
class SnapshotParams:
    """Name and description of a new snapshot."""

    name: str
    description: str


class SnapshotDialog(QDialog):
    """Name a new snapshot."""

    def __init__(self, parent: QWidget | None, dataset_name: str):
        super().__init__(parent)
        self.setWindowTitle(f"Snapshot {dataset_name}")
        self.name = QLineEdit(f"{dataset_name} {dt.datetime.now():%Y-%m-%d %H.%M}", self)
        self.description = QLineEdit("", self)
        form = QFormLayout(self)
        form.addRow("Name:", self.name)
        form.addRow("Description:", self.description)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Take snapshot")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @classmethod
    def ask(cls, parent, dataset_name: str) -> SnapshotParams | None:
        """Run the dialog; the parameters, or None when cancelled."""
        dlg = cls(parent, dataset_name)
        if dlg.exec() != QDialog.DialogCode.Accepted or not dlg.name.text().strip():
            return None
        return SnapshotParams(dlg.name.text().strip(), dlg.description.text())


def _label(s) -> str:
    when = format_datetime(s.created_at)
    return f"{s.name}   ·   {when}   ·   {s.item_count:,} items{'   (automatic)' if s.auto else ''}"


class RollbackDialog(QDialog):
    """Pick the snapshot to restore (a safety snapshot is taken first)."""

    def __init__(self, parent: QWidget | None, dataset_name: str, snapshots: list):
        super().__init__(parent)
        self.setWindowTitle(f"Roll {dataset_name} back to…")
        self.setMinimumWidth(480)
        self.list = QListWidget(self)
        for s in snapshots:
            it = QListWidgetItem(_label(s))
            it.setData(Qt.ItemDataRole.UserRole, s.name)
            self.list.addItem(it)
        if snapshots:
            self.list.setCurrentRow(0)
        note = QLabel("The dataset becomes exactly what it was in the snapshot. A safety snapshot of its "
                      "current state is taken first, so a rollback can itself be undone.", self)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Roll back")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(snapshots))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.list)
        lay.addWidget(note)
        lay.addWidget(buttons)

    @classmethod
    def ask(cls, parent, dataset_name: str, snapshots: list) -> str | None:
        """The chosen snapshot's name, or None."""
        dlg = cls(parent, dataset_name, snapshots)
        if dlg.exec() != QDialog.DialogCode.Accepted or dlg.list.currentItem() is None:
            return None
        return dlg.list.currentItem().data(Qt.ItemDataRole.UserRole)


class DiffDialog(QDialog):
    """Pick the two versions to compare: a snapshot and the dataset now, or two snapshots."""

    def __init__(self, parent: QWidget | None, dataset_name: str, snapshots: list):
        super().__init__(parent)
        self.setWindowTitle(f"Diff {dataset_name} with…")
        self.a = QComboBox(self)
        self.b = QComboBox(self)
        for s in snapshots:
            self.a.addItem(_label(s), s.name)
        self.b.addItem(NOW, None)
        for s in snapshots:
            self.b.addItem(_label(s), s.name)
        form = QFormLayout(self)
        form.addRow("From (older):", self.a)
        form.addRow("To (newer):", self.b)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(snapshots))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @classmethod
    def ask(cls, parent, dataset_name: str, snapshots: list) -> tuple[str, str | None] | None:
        """(a, b) snapshot names (b None: the dataset now), or None."""
        dlg = cls(parent, dataset_name, snapshots)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        return dlg.a.currentData(), dlg.b.currentData()


class DiffReportDialog(QDialog):
    """Added / removed / changed items of a diff, non-modal."""

    def __init__(self, parent: QWidget | None, report):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Diff: {report.a} → {report.b}")
        self.resize(640, 480)
        counts = report.counts or {}
        summary = QLabel(f"{counts.get('added', len(report.added)):,} added, "
                         f"{counts.get('removed', len(report.removed)):,} removed, "
                         f"{counts.get('changed', len(report.changed)):,} changed"
                         + ("  (lists truncated)" if report.truncated else ""), self)
        summary.setStyleSheet("font-weight: 600;")
        self.tabs = QTabWidget(self)
        for title, rows in (("Added", report.added), ("Removed", report.removed), ("Changed", report.changed)):
            lw = QListWidget(self)
            for r in rows:
                extra = f"   ({', '.join(r['changes'])})" if r.get("changes") else ""
                lw.addItem(f"{r['filename']}{extra}")
            self.tabs.addTab(lw, f"{title} ({len(rows):,})")
        # open on the first list that has something (after a cleanup that is "Removed")
        first = next((i for i, rows in enumerate((report.added, report.removed, report.changed)) if rows), 0)
        self.tabs.setCurrentIndex(first)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(summary)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(buttons)


if __name__ == "__main__":
    from dsdesk.ui.dialogs.common import standalone

    raise SystemExit(standalone(lambda cat, ds: SnapshotDialog(None, ds.name)))
