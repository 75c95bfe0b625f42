"""The inspector: preview, file facts, lineage, user metadata, annotations and task statuses
of the selected item (or a summary of a multi-selection), and the dataset's label legend
(each label's colour with its annotation and item counts; "Filter the grid" asks for the
items carrying the chosen label through ``label_filter_requested``).

Reading happens on workers (:func:`dsdesk.api.item_details.read_item_details`); edits are
asked for through ``metadata_save_requested`` and saved by the main window through the
API, which also enforces read-only below the UI.  A read-only dataset shows the editor locked.
A save that conflicts with someone else's (:class:`dsdesk.api.conflicts.MetadataConflictError`)
shows the conflict panel in the Metadata tab (:meth:`InspectorPanel.show_conflicts`); the
user's choices come back through ``conflict_resolution_requested``.  While the editor holds
unsaved edits, a re-read of the same item (another client's change seen) keeps them: the
save merges them with the newer row.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api.conflicts import MetadataConflictError
from dsdesk.api.formatting import format_datetime, format_size
from dsdesk.api.item_details import ItemDetails
from dsdesk.api.labels import label_color
from dsdesk.api.overlays import ItemOverlay
from dsdesk.ui.annotations.legend import LabelLegend
from dsdesk.ui.annotations.overlay_painter import OverlayPainter, swatch
from dsdesk.ui.conflict_panel import ConflictPanel
from dsdesk.ui.metadata_editor import MetadataEditor


class InspectorPanel(QWidget):
    """The right panel.  ``metadata_save_requested(item_id, dict)`` asks the main window to
    save; ``conflict_resolution_requested(item_id, error, choices)`` to save the user's
    decision on a conflict; :meth:`show_details` / :meth:`show_selection` fill it."""

    metadata_save_requested = Signal(int, dict)
    conflict_resolution_requested = Signal(int, object, object)  # item id, MetadataConflictError, choices
    error_shown = Signal(str)
    label_filter_requested = Signal(str)  # a label: show the grid's items carrying it

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.preview = QLabel(self)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(180)
        self.preview.setStyleSheet("background: palette(alternate-base); border-radius: 6px;")
        self.title = QLabel("Nothing selected", self)
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts_box = QWidget(self)  # hidden with the preview while a conflict is decided
        self.facts = QFormLayout(self.facts_box)
        self.facts.setContentsMargins(0, 0, 0, 0)
        self.facts.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._fact_labels: dict[str, QLabel] = {}
        for key in ("Path", "Size", "Type", "Dimensions", "Storage", "Lineage", "Created", "Updated"):
            lab = QLabel("", self)
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self._fact_labels[key] = lab
            self.facts.addRow(f"{key}:", lab)
        self.readonly_label = QLabel("", self)
        self.readonly_label.setStyleSheet("color: #a06a12;")
        self.readonly_label.hide()
        self.editor = MetadataEditor(self)
        self.editor.save_requested.connect(self._on_editor_save_requested)
        self.editor.invalid.connect(self.show_error)
        self.conflicts = ConflictPanel(self)
        self.conflicts.resolved.connect(self._on_conflicts_resolved)
        self.conflicts.cancelled.connect(self._on_conflicts_cancelled)
        self.conflicts.hide()
        metadata_page = QWidget(self)
        mlay = QVBoxLayout(metadata_page)
        mlay.setContentsMargins(0, 0, 0, 0)
        mlay.addWidget(self.conflicts, 1)
        mlay.addWidget(self.editor, 1)
        self.annotations = QListWidget(self)
        self.statuses = QListWidget(self)
        self.legend = LabelLegend(self)
        self.legend.filter_requested.connect(self.label_filter_requested)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(metadata_page, "Metadata")
        self.tabs.addTab(self.annotations, "Annotations")
        self.tabs.addTab(self.statuses, "Tasks")
        self.tabs.addTab(self.legend, "Labels")
        self.error_label = QLabel("", self)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.preview)
        lay.addWidget(self.title)
        lay.addWidget(self.facts_box)
        lay.addWidget(self.readonly_label)
        lay.addWidget(self.error_label)
        lay.addWidget(self.tabs, 1)
        self.details: ItemDetails | None = None
        # The item entity the editor's content is an edit of: a re-read of the same item
        # while edits are unsaved keeps the old one, so their save merges against what
        # they were made from instead of overwriting what came in meanwhile.
        self.edit_item = None
        self._saving = False  # a save was asked for and its result has not come back
        self.show_nothing()

    def _set_fact(self, key: str, text: str) -> None:
        self._fact_labels[key].setText(text)

    def show_nothing(self, text: str = "Nothing selected") -> None:
        """Clear the panel."""
        self.details = None
        self.edit_item = None
        self._saving = False
        if self.conflicts.error is None:
            self.hide_conflicts()
        # else an undecided conflict stays: the grid lost its selection (it was read again),
        # the user did not choose another item, and the decision is about the saved item
        self.title.setText(text)
        self.preview.setPixmap(QPixmap())
        self.preview.setText("")
        for k in self._fact_labels:
            self._set_fact(k, "")
        self.editor.set_value({})
        self.editor.set_read_only(True, "select one item to edit its metadata")
        self.annotations.clear()
        self.statuses.clear()
        self.readonly_label.hide()
        self.error_label.hide()

    def show_selection(self, count: int) -> None:
        """A multi-selection summary."""
        self.show_nothing(f"{count:,} items selected")

    def set_preview(self, pm: QPixmap | None, overlay: ItemOverlay | None = None) -> None:
        """The preview image (None: a placeholder text), with *overlay*'s annotations drawn
        on it when the grid shows them."""
        if pm is None or pm.isNull():
            self.preview.setPixmap(QPixmap())
            self.preview.setText("no preview")
            return
        w = max(120, self.preview.width() - 8)
        scaled = pm.scaled(w, 240, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        if overlay is not None and overlay.shapes:
            dpr = scaled.devicePixelRatio() or 1.0
            p = QPainter(scaled)
            OverlayPainter(QRectF(0, 0, scaled.width() / dpr, scaled.height() / dpr), pen_width=2.0).paint(
                p, overlay.shapes)
            p.end()
        self.preview.setPixmap(scaled)

    def show_details(self, d: ItemDetails) -> None:
        """Fill the panel with one item's details.  The same item again while the editor
        has unsaved edits (and no save is under way) keeps the edits and an open conflict."""
        same = self.details is not None and self.details.item.id == d.item.id
        saved = self._saving  # the read after a save (or after a save's decision)
        keep_edits = same and self.editor.dirty and not saved
        if not same or saved:
            self.hide_conflicts()
        self.details = d
        self._saving = False
        it = d.item
        self.error_label.hide()
        self.title.setText(it.name)
        self._set_fact("Path", f"{d.dataset_name}:{it.filename}")
        self._set_fact("Size", format_size(it.size) or "?")
        self._set_fact("Type", it.mimetype or "unknown")
        self._set_fact("Dimensions", f"{it.width} × {it.height}" if it.width and it.height else "–")
        flags = []
        if it.missing:
            flags.append("missing in storage")
        if it.changed:
            flags.append("changed in storage")
        self._set_fact("Storage", d.storage + (f" ({', '.join(flags)})" if flags else ""))
        if it.master_item_id is None:
            lineage = "master item (owns its binary)"
        else:
            lineage = f"clone of {d.parent or it.parent_item_id}"
            if d.master and d.master != d.parent:
                lineage += f"; master {d.master}"
        self._set_fact("Lineage", lineage)
        self._set_fact("Created", format_datetime(it.created_at))
        self._set_fact("Updated", format_datetime(it.updated_at))
        if not keep_edits:  # (kept edits are saved later, merged with this newer row)
            self.editor.set_value(it.metadata.get("user") or {})
            self.edit_item = it
        if d.readonly:
            reason = f"dataset '{d.dataset_name}' is read-only"
            self.editor.set_read_only(True, reason)
            self.readonly_label.setText(f"🔒 {reason}: edits are refused")
            self.readonly_label.show()
        else:
            self.editor.set_read_only(False)
            self.readonly_label.hide()
        self.annotations.clear()
        for a in d.annotations:
            text = f"{a.label or '(no label)'}  ·  {a.type}"
            c = a.coordinates
            if a.type == "box" and isinstance(c, list) and len(c) >= 2:
                text += f"   ({c[0]['x']:.0f}, {c[0]['y']:.0f}) – ({c[1]['x']:.0f}, {c[1]['y']:.0f})"
            elif a.type == "point" and isinstance(c, dict):
                text += f"   ({c['x']:.0f}, {c['y']:.0f})"
            li = QListWidgetItem(swatch(d.label_colors.get(a.label or "") or label_color(a.label)), text)
            li.setData(Qt.ItemDataRole.UserRole, a.id)
            self.annotations.addItem(li)
        self.tabs.setTabText(1, f"Annotations ({len(d.annotations)})")
        self.statuses.clear()
        for st in d.statuses:
            self.statuses.addItem(f"{st['task']}: {st['status']}" + (f" by {st['creator']}" if st.get("creator") else ""))
        self.tabs.setTabText(2, f"Tasks ({len(d.statuses)})")

    def set_dimensions(self, width: int, height: int) -> None:
        """Show the image size learnt after the details were read (a synced item's size is
        recorded when its thumbnail is made)."""
        self._set_fact("Dimensions", f"{width} × {height}")

    def show_error(self, message: str) -> None:
        """Show an error under the facts (a refused edit, a value that does not parse)."""
        self.error_label.setText(message)
        self.error_label.show()
        self.error_shown.emit(message)

    def show_conflicts(self, error: MetadataConflictError) -> None:
        """A save conflicted: show its conflicts to decide on, in place of the editor."""
        self._saving = False
        self.error_label.hide()
        self.conflicts.show_conflict(error)
        self.editor.hide()
        # The decision needs the room: the preview and the facts wait until it is made.
        self.preview.hide()
        self.facts_box.hide()
        self.conflicts.show()
        self.tabs.setCurrentIndex(0)
        self.tabs.setTabText(0, "Metadata ⚠")

    def hide_conflicts(self) -> None:
        """Back to the editor (its unsaved edits, if any, are still there)."""
        self.conflicts.hide()
        self.conflicts.error = None
        self.editor.show()
        self.preview.show()
        self.facts_box.show()
        self.tabs.setTabText(0, "Metadata")

    def save_failed(self, error: BaseException) -> None:
        """A save came back with *error*: a conflict opens the conflict panel, anything else
        is shown under the facts."""
        self._saving = False
        if isinstance(error, MetadataConflictError):
            self.show_conflicts(error)
        else:
            self.show_error(f"Not saved: {error}")

    def _on_editor_save_requested(self, value: dict) -> None:
        if self.edit_item is None:
            return
        self._saving = True
        self.metadata_save_requested.emit(self.edit_item.id, value)

    def _on_conflicts_cancelled(self) -> None:
        # Back to editing: the editor shows the merge with the user's values where both
        # sides changed, as edits of theirs (the item is rebased on the version the
        # conflict found), so the next save keeps their other changes.
        error, d = self.conflicts.error, self.details
        self.hide_conflicts()
        if error is not None and d is not None and d.item.id == error.object_id:
            d.item.resolve_conflicts(error, "mine")
            self.edit_item = d.item
            self.editor.show_edits(d.item.metadata["user"], error.theirs.document["user"])

    def _on_conflicts_resolved(self, choices: dict) -> None:
        error = self.conflicts.error
        if error is None:
            return
        self._saving = True
        self.conflict_resolution_requested.emit(error.object_id, error, choices)

