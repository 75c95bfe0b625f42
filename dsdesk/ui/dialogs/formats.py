"""The Import annotations… and Export… dialogs: a format, a path and the options of each,
and the report dialog that accounts for every entry when the job is done.

The dialogs only ask; the dataset actions start the API's import or export job on the
window's job manager (progress and cancel in the jobs panel, like any long operation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

#: What the dialog says about each format's path (a file, a folder, or either).
PATH_HINTS = {
    "coco": "A COCO .json file, or a folder of them (its images are uploaded too)",
    "yolo": "A YOLO folder: data.yaml, labels/ (and images/, uploaded too)",
    "json": "A folder of Dataloop JSON files (json/…), or one export file",
    "voc": "A Pascal VOC folder: Annotations/ (and JPEGImages/, uploaded too)",
    "cvat": "A CVAT for images annotations.xml, or the folder holding it",
}


#: Where each format's export writes, below the chosen folder.
EXPORT_HINTS = {
    "coco": "Writes annotations/instances_default.json (one file per split), images under images/",
    "yolo": "Writes data.yaml and labels/<split>/…txt, images under images/<split>/",
    "json": "Writes json/<folders>/<name>.json per item (as dataset.download_annotations), images under items/",
    "voc": "Writes Annotations/<name>.xml per item, images under JPEGImages/",
    "cvat": "Writes annotations.xml (CVAT for images 1.1), images under images/",
}


@dataclass
class ImportParams:
    """What the user asked to import."""

    path: str
    format: str
    with_images: bool
    skip_bad: bool


@dataclass
class ExportParams:
    """What the user asked to export; *scope* is ``all`` or ``search``."""

    path: str
    format: str
    with_images: bool
    link: bool
    split_by_folder: bool
    scope: str


class _PathRow(QWidget):
    """A path field with a Browse… button (a file or a folder)."""

    def __init__(self, parent: QWidget, save: bool):
        super().__init__(parent)
        self.edit = QLineEdit(self)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        if not save:  # an import may read one annotation file
            self.browse_file = QPushButton("File…", self)
            self.browse_file.clicked.connect(self._on_browse_file_clicked)
            lay.addWidget(self.browse_file)
        self.browse = QPushButton("Folder…", self)
        self.browse.clicked.connect(self._on_browse_clicked)
        lay.addWidget(self.browse)

    def _on_browse_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text())
        if path:
            self.edit.setText(path)

    def _on_browse_file_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an annotation file", self.edit.text(),
                                              "Annotations (*.json *.xml);;All files (*)")
        if path:
            self.edit.setText(path)


class _FormatDialog(QDialog):
    def __init__(self, parent: QWidget | None, title: str, formats: list[tuple[str, str]], ok: str, save: bool):
        super().__init__(parent)
        self.hints = EXPORT_HINTS if save else PATH_HINTS
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self.format = QComboBox(self)
        for name, label in formats:
            self.format.addItem(label, name)
        self.path = _PathRow(self, save)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        self.form = QFormLayout()
        self.form.addRow("Format:", self.format)
        self.form.addRow("Path:", self.path)
        self.form.addRow("", self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.format.currentIndexChanged.connect(self._on_format_current_index_changed)
        self.path.edit.textChanged.connect(self._on_path_text_changed)
        self.lay = QVBoxLayout(self)
        self.lay.addLayout(self.form)

    def _finish(self) -> None:
        self.lay.addWidget(self.buttons)
        self._on_format_current_index_changed(0)
        self._on_path_text_changed("")

    def _on_format_current_index_changed(self, _i: int) -> None:
        self.hint.setText(self.hints.get(self.format.currentData(), ""))

    def _on_path_text_changed(self, text: str) -> None:
        self.ok.setEnabled(bool(text.strip()))


class ImportDialog(_FormatDialog):
    """Ask what to import into a dataset."""

    def __init__(self, parent: QWidget | None, dataset_name: str, formats: list[tuple[str, str]]):
        super().__init__(parent, f"Import annotations into {dataset_name}", formats, "Import", save=False)
        self.with_images = QCheckBox("Upload the images the folder holds (a dataset as it ships)", self)
        self.with_images.setChecked(True)
        self.skip_bad = QCheckBox("Skip bad entries and list them (else a bad entry imports nothing)", self)
        for w in (self.with_images, self.skip_bad):
            self.lay.addWidget(w)
        note = QLabel("Entries are matched to items by path, then by file name when only one item has it. "
                      "Entries that match nothing are listed in the report.", self)
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid);")
        self.lay.addWidget(note)
        self._finish()

    def params(self) -> ImportParams:
        """The answer as it stands."""
        return ImportParams(self.path.edit.text().strip(), self.format.currentData(), self.with_images.isChecked(),
                            self.skip_bad.isChecked())

    @classmethod
    def ask(cls, parent, dataset_name: str, formats) -> ImportParams | None:
        """Run the dialog; the parameters, or None when cancelled."""
        dlg = cls(parent, dataset_name, formats)
        return dlg.params() if dlg.exec() == QDialog.DialogCode.Accepted else None


class ExportDialog(_FormatDialog):
    """Ask how to export a dataset (or its current search)."""

    def __init__(self, parent: QWidget | None, dataset_name: str, formats: list[tuple[str, str]], search: str = ""):
        super().__init__(parent, f"Export {dataset_name}", formats, "Export", save=True)
        self.with_images = QCheckBox("Copy the images beside the annotations", self)
        self.link = QCheckBox("Hard-link images on this disk instead of copying them", self)
        self.link.setEnabled(False)
        self.with_images.toggled.connect(self.link.setEnabled)
        self.split = QCheckBox("Each top folder is a split (train/, val/ …)", self)
        self.only_search = QCheckBox(f"Only this search: {search}" if search else "Only this search", self)
        self.only_search.setEnabled(bool(search.strip()))
        for w in (self.with_images, self.link, self.split, self.only_search):
            self.lay.addWidget(w)
        self._finish()

    def params(self) -> ExportParams:
        """The answer as it stands."""
        return ExportParams(self.path.edit.text().strip(), self.format.currentData(), self.with_images.isChecked(),
                            self.link.isChecked() and self.with_images.isChecked(), self.split.isChecked(),
                            "search" if self.only_search.isChecked() else "all")

    @classmethod
    def ask(cls, parent, dataset_name: str, formats, search: str = "") -> ExportParams | None:
        """Run the dialog; the parameters, or None when cancelled."""
        dlg = cls(parent, dataset_name, formats, search)
        return dlg.params() if dlg.exec() == QDialog.DialogCode.Accepted else None


def report_lines(report: Any) -> list[str]:
    """The lines a finished import or export's report shows (a report object or its JSON)."""
    r = report.to_json() if hasattr(report, "to_json") else dict(report or {})
    lines: list[str] = []
    if "annotations_written" in r:
        n = r["entries"]
        lines.append(f"{r['annotations_written']:,} annotation(s) written onto {r['items_matched']:,} item(s)"
                     f" from {n:,} {'entry' if n == 1 else 'entries'} in {len(r['files'])} file(s)")
        if r.get("images_uploaded"):
            lines.append(f"{r['images_uploaded']:,} image(s) uploaded")
        sections = (("Labels added to the recipe", r.get("labels_added")), ("Matched no item", r.get("unmatched")),
                    ("Skipped", r.get("skipped")))
    else:
        lines.append(f"{r.get('annotations', 0):,} annotation(s) of {r.get('items', 0):,} item(s) written to "
                     f"{r.get('path')}")
        if r.get("images_copied"):
            lines.append(f"{r['images_copied']:,} image(s) copied")
        sections = (("Not carried by the format", r.get("not_carried")),)
    for title, entries in sections:
        if entries:
            lines += ["", f"{title} ({len(entries):,}):", *(f"  {e}" for e in entries)]
    return lines


class FormatReportDialog(QDialog):
    """Show a finished import's or export's report (every entry accounted for)."""

    def __init__(self, parent: QWidget | None, title: str, report: Any):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(620, 380)
        self.text = QPlainTextEdit("\n".join(report_lines(report)), self)
        self.text.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text)
        lay.addWidget(buttons)


if __name__ == "__main__":
    from dsdesk.api.format_jobs import formats
    from dsdesk.ui.dialogs.common import standalone

    raise SystemExit(standalone(lambda cat, ds: ImportDialog(None, ds.name, formats())))
