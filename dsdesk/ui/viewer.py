"""The item viewer: the image scaled to the window with its annotations, and their editing.

The image is read and decoded on a worker (:func:`load_image`: a QImage); the dialog
converts it to a pixmap on the GUI thread.  Annotations are drawn in their label's recipe
colour (:mod:`dsdesk.ui.annotations.canvas`).  The toolbar selects, draws a box, a
polygon or a point, adds a class tag, relabels (the label box: it labels what is drawn
next, or relabels the selected annotation) and deletes (Del).  Every edit is an undo
command (Ctrl+Z, Ctrl+Shift+Z) saved through the API, undo included
(:mod:`dsdesk.ui.annotations.commands`); so is a shape dragged with the select tool (moved,
a box's side or corner, a polygon's corner).  The wheel and + / - zoom, 0 fits, the middle
button or Space + drag pans.  A read-only dataset shows its annotations with
the editing tools disabled and a banner saying why; the API refuses below the UI too.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QImage, QKeySequence, QPixmap, QUndoStack
from PySide6.QtWidgets import QComboBox, QDialog, QLabel, QMenu, QToolBar, QVBoxLayout, QWidget

from dsdesk.api.item_details import ItemDetails, read_item_binary
from dsdesk.api.labels import label_color
from dsdesk.ui.annotations.canvas import AnnotationCanvas
from dsdesk.ui.annotations.commands import (
    AddAnnotationCommand,
    DeleteAnnotationCommand,
    RelabelAnnotationCommand,
    ReshapeAnnotationCommand,
)
from dsdesk.ui.annotations.document import AnnotationDocument, AnnotationRecord
from dsdesk.ui.annotations.overlay_painter import swatch

#: (tool, text, shortcut) of the drawing tools, in toolbar order.
TOOL_ACTIONS = (("select", "Select", "S"), ("box", "Box", "B"), ("polygon", "Polygon", "P"),
                ("point", "Point", "O"))


@dataclass
class ViewerData:
    """What the viewer opens with: the item's details and its decoded image."""

    details: ItemDetails
    image: QImage

    @property
    def title(self) -> str:
        return f"{self.details.dataset_name}:{self.details.item.filename}"


def load_image(cat, dataset_id: int, item_id: int) -> ViewerData:
    """The details and decoded image of an item (worker thread: a QImage, never a pixmap)."""
    d, data = read_item_binary(cat, dataset_id, item_id)
    return ViewerData(d, QImage.fromData(data))


class ItemViewerDialog(QDialog):
    """A non-modal window showing one item large, with its annotations to edit.

    ``annotations_saved(item_id)`` after each edit reached the catalog (the grid and the
    inspector read the item again); ``error_shown(message)`` when one was refused.
    """

    annotations_saved = Signal(int)
    error_shown = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Item")
        self.resize(960, 720)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.doc: AnnotationDocument | None = None
        self.details: ItemDetails | None = None
        self.read_only_reason: str | None = "loading"
        self._edited = False
        self._pending_select: int | None = None  # an annotation id to select once loaded
        self.undo_stack = QUndoStack(self)
        self.canvas = AnnotationCanvas(self)
        self.canvas.shape_drawn.connect(self._on_canvas_shape_drawn)
        self.canvas.shape_edited.connect(self._on_canvas_shape_edited)
        self.canvas.selection_changed.connect(self._on_canvas_selection_changed)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self._on_canvas_context_menu)
        self.banner = QLabel("", self)
        self.banner.setStyleSheet("background: #fff3cd; color: #6b4e00; padding: 4px 8px;")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.caption = QLabel("", self)
        self._make_toolbar()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.setSpacing(2)
        lay.addWidget(self.toolbar)
        lay.addWidget(self.banner)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.caption)
        self._update_tools()

    # ---- construction --------------------------------------------------------------------
    def _make_toolbar(self) -> None:
        tb = self.toolbar = QToolBar(self)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.tool_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for tool, text, key in TOOL_ACTIONS:
            a = QAction(text, self)
            a.setObjectName(f"tool_{tool}")
            a.setCheckable(True)
            a.setShortcut(QKeySequence(key))
            a.triggered.connect(lambda _c=False, t=tool: self.set_tool(t))
            group.addAction(a)
            tb.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions["select"].setChecked(True)
        self.act_class = QAction("Class tag", self)
        self.act_class.setShortcut(QKeySequence("T"))
        self.act_class.setStatusTip("Tag the whole image with the chosen label")
        self.act_class.triggered.connect(self.add_class_tag)
        tb.addAction(self.act_class)
        tb.addSeparator()
        tb.addWidget(QLabel(" Label: ", self))
        self.label_box = QComboBox(self)
        self.label_box.setMinimumWidth(140)
        self.label_box.activated.connect(self._on_label_box_activated)
        tb.addWidget(self.label_box)
        self.act_delete = QAction("Delete", self)
        # Del only: Backspace takes back a polygon's last corner while one is being drawn.
        self.act_delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.act_delete.triggered.connect(self.delete_selected)
        tb.addAction(self.act_delete)
        tb.addSeparator()
        self.act_undo = self.undo_stack.createUndoAction(self, "Undo")
        self.act_undo.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.act_redo = self.undo_stack.createRedoAction(self, "Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        for a in (*self.tool_actions.values(), self.act_class, self.act_delete, self.act_undo, self.act_redo):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(a)

    # ---- loading -------------------------------------------------------------------------
    def set_loaded(self, data: ViewerData) -> None:
        """Show what :func:`load_image` returned (GUI thread)."""
        d, img = data.details, data.image
        self.details = d
        self.setWindowTitle(data.title)
        if img.isNull():
            self.canvas.message = "This file is not an image dsdesk can show."
        else:
            self.canvas.pixmap = QPixmap.fromImage(img)
        self.doc = AnnotationDocument(d.item, d.label_colors, self)
        self.doc.changed.connect(self._on_doc_changed)
        self.doc.saved.connect(lambda: self.annotations_saved.emit(d.item.id))
        self.doc.save_failed.connect(self._on_doc_save_failed)
        self.canvas.set_document(self.doc)
        self.doc.set_annotations(d.annotations)
        self.label_box.clear()
        for tag in d.label_colors or {}:
            self.label_box.addItem(swatch(d.label_colors[tag]), tag, tag)
        self.read_only_reason = (f"dataset '{d.dataset_name}' is read-only: annotations are shown, edits are refused"
                                 if d.readonly else None)
        if self.read_only_reason is None and img.isNull():
            self.read_only_reason = "this file is not an image: there is nothing to draw on"
        if d.readonly:
            self.banner.setText(f"Read-only: {self.read_only_reason}")
            self.banner.show()
        if self._pending_select is not None:
            self.select_annotation(self._pending_select)
        self._update_tools()

    def set_failed(self, error: BaseException) -> None:
        """Show why the item could not be opened."""
        self.canvas.message = f"Cannot open the item: {error}"
        self.canvas.update()

    # ---- state ---------------------------------------------------------------------------
    @property
    def current_label(self) -> str | None:
        """The label the label box shows (what is drawn next gets it)."""
        return self.label_box.currentData() if self.label_box.count() else None

    def set_current_label(self, label: str) -> None:
        """Show *label* in the label box (added to it when the recipe lacks it)."""
        i = self.label_box.findData(label)
        if i < 0:
            self.label_box.addItem(swatch(label_color(label)), f"{label} (not in recipe)", label)
            i = self.label_box.count() - 1
        self.label_box.setCurrentIndex(i)

    def select_annotation(self, annotation_id: int) -> None:
        """Select the annotation with *annotation_id* (once loaded, if it is not yet)."""
        if self.doc is None:
            self._pending_select = int(annotation_id)
            return
        self._pending_select = None
        rec = next((r for r in self.doc.records if r.id == int(annotation_id)), None)
        self.canvas.select(rec.key if rec is not None else None)

    def selected_record(self) -> AnnotationRecord | None:
        """The annotation selected on the canvas."""
        return self.doc.by_key(self.canvas.selected_key) if self.doc is not None else None

    def _update_tools(self) -> None:
        reason = self.read_only_reason
        editable = reason is None
        for tool, a in self.tool_actions.items():
            a.setEnabled(editable or tool == "select")
            a.setToolTip(reason if not editable and tool != "select" else f"{a.text()} ({a.shortcut().toString()})")
        has_label = self.current_label is not None
        self.act_class.setEnabled(editable and has_label)
        self.act_class.setToolTip(reason or ("Tag the image with the chosen label" if has_label
                                             else "the recipe has no labels"))
        selected = self.selected_record() is not None
        self.act_delete.setEnabled(editable and selected)
        self.act_delete.setToolTip(reason or ("Delete the selected annotation (Del)" if selected
                                              else "select an annotation first"))
        self.label_box.setEnabled(editable)
        self.canvas.editable = editable  # the select tool drags shapes only when edits are allowed
        self.label_box.setToolTip(reason or "The label of what you draw next, or of the selected annotation")
        if not editable:
            self.undo_stack.setActive(False)
            self.act_undo.setEnabled(False)
            self.act_redo.setEnabled(False)
        n = len(self.doc.records) if self.doc is not None else 0
        if self.canvas.pixmap is not None:
            size = f"{self.canvas.pixmap.width()} × {self.canvas.pixmap.height()} · "
            self.caption.setText(f"  {size}{n} annotation(s)" + (f" · {self.canvas.tool}" if editable else ""))

    def set_tool(self, tool: str) -> None:
        """Switch the canvas tool (refused on a read-only dataset, except selecting)."""
        if self.read_only_reason is not None and tool != "select":
            return
        self.canvas.set_tool(tool)
        self.tool_actions[tool].setChecked(True)
        self._update_tools()

    # ---- edits ---------------------------------------------------------------------------
    def _push(self, command) -> None:
        if self.read_only_reason is not None or self.doc is None:
            return
        self._edited = True
        self.undo_stack.push(command)

    def _on_canvas_shape_drawn(self, kind: str, coordinates) -> None:
        label = self.current_label
        if label is None:
            self._show_error("The recipe has no labels: add one (Dataset > Edit labels…) before drawing.")
            return
        rec = AnnotationRecord({"type": kind, "label": label, "coordinates": coordinates})
        self._push(AddAnnotationCommand(self.doc, rec))
        self.canvas.select(rec.key)  # what was just drawn is what a relabel or Del acts on

    def _on_canvas_shape_edited(self, key: int, coordinates) -> None:
        rec = self.doc.by_key(key) if self.doc is not None else None
        if rec is not None:
            self._push(ReshapeAnnotationCommand(self.doc, rec, coordinates))

    def add_class_tag(self) -> None:
        """Tag the whole image with the current label (a class annotation)."""
        label = self.current_label
        if label is None or self.doc is None:
            return
        rec = AnnotationRecord({"type": "class", "label": label, "coordinates": []})
        self._push(AddAnnotationCommand(self.doc, rec))

    def delete_selected(self) -> None:
        """Delete the selected annotation."""
        rec = self.selected_record()
        if rec is not None:
            self._push(DeleteAnnotationCommand(self.doc, rec))

    def relabel_selected(self, label: str) -> None:
        """Give the selected annotation *label*."""
        rec = self.selected_record()
        if rec is not None and label and label != rec.label:
            self._push(RelabelAnnotationCommand(self.doc, rec, label))

    def _on_label_box_activated(self, index: int) -> None:
        label = self.label_box.itemData(index)
        if self.selected_record() is not None:
            self.relabel_selected(label)
        self._update_tools()

    def _on_canvas_selection_changed(self, _key) -> None:
        rec = self.selected_record()
        if rec is not None and rec.label:
            self.set_current_label(rec.label)
        self._update_tools()

    def _on_canvas_context_menu(self, pos) -> None:
        key = self.canvas.shape_at(pos.toPointF())
        if key is None:
            return
        self.canvas.select(key)
        menu = self.selection_menu()
        menu.exec(self.canvas.mapToGlobal(pos))

    def selection_menu(self) -> QMenu:
        """The selected annotation's menu: its labels to pick from, and Delete."""
        menu = QMenu(self)
        rec = self.selected_record()
        labels = menu.addMenu("Label")
        for i in range(self.label_box.count()):
            tag = self.label_box.itemData(i)
            a = labels.addAction(self.label_box.itemIcon(i), self.label_box.itemText(i))
            a.setCheckable(True)
            a.setChecked(rec is not None and rec.label == tag)
            a.triggered.connect(lambda _c=False, t=tag: self.relabel_selected(t))
        labels.setEnabled(self.read_only_reason is None)
        menu.addAction(self.act_delete)
        return menu

    def _on_doc_changed(self) -> None:
        self._update_tools()

    def _on_doc_save_failed(self, message: str) -> None:
        # The catalog refused: what the stack would undo is no longer what is shown.
        self.undo_stack.clear()
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.show()
        self.error_shown.emit(message)

    def _flush(self) -> None:
        # Closing never drops an edit: wait for the queued saves, and tell the window once
        # more (the saves' own signals die with this dialog).
        if self.doc is not None:
            self.doc.flush()
            if self._edited and self.details is not None:
                self.annotations_saved.emit(self.details.item.id)
            self._edited = False

    def done(self, result: int) -> None:
        self._flush()
        super().done(result)

    def closeEvent(self, e) -> None:
        self._flush()
        super().closeEvent(e)
