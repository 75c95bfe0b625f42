"""Switch recipe…: pick another recipe of the project for a dataset."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QWidget


class SwitchRecipeDialog(QDialog):
    """Pick the recipe a dataset should use (what a refused merge asks for)."""

    def __init__(self, parent: QWidget | None, dataset_name: str, current_id: int | None,
                 recipes: list[tuple[int, str, list[str]]]):
        super().__init__(parent)
        self.setWindowTitle(f"Switch the recipe of {dataset_name}")
        self.combo = QComboBox(self)
        for rid, name, labels in recipes:
            self.combo.addItem(f"{name}  ({', '.join(labels[:6])}{'…' if len(labels) > 6 else ''})", rid)
            if rid == current_id:
                self.combo.setCurrentIndex(self.combo.count() - 1)
        form = QFormLayout(self)
        form.addRow(QLabel("Annotations keep their labels; the recipe decides which labels the dataset offers "
                           "and whether datasets can be merged.", self))
        form.addRow("Recipe:", self.combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @classmethod
    def ask(cls, parent, dataset_name: str, current_id, recipes) -> int | None:
        """The chosen recipe id, or None."""
        dlg = cls(parent, dataset_name, current_id, recipes)
        return dlg.combo.currentData() if dlg.exec() == QDialog.DialogCode.Accepted else None
