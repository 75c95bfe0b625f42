"""The item grid: an ids-only model paged by keyset (:mod:`dsdesk.ui.grid_model`), a
placeholder-painting delegate (:mod:`dsdesk.ui.grid_delegate`), the view and the panel (here).

* :class:`ItemGridModel` holds item ids only (8 bytes each in an ``array``), streamed by a
  worker in pages in the grid order (dir, name, id).  Row facts (name, badges, storage
  key) are fetched for the rows being painted, in batches, off the GUI thread, and kept
  in a bounded LRU.  Both reads are the API's grid read model, :mod:`dsdesk.api.browse`.  ``rowCount`` is the match count, known before the ids.
* :class:`ThumbnailDelegate` has a fixed ``sizeHint`` (the view uses uniform item sizes,
  measured as essential for a million rows) and paints a placeholder until the
  thumbnail arrives from :class:`~dsdesk.ui.thumbnails.ThumbnailLoader`.
* :class:`ItemGridView` is a QListView in IconMode that drags items as
  :data:`~dsdesk.ui.mime.ITEMS_MIME`.
* :class:`GridPanel` adds the search bar, the size slider and the item count.
* Annotation overlays (:meth:`GridPanel.set_overlays_visible`): while on, the model reads
  the shapes of each page of rows being painted (:func:`dsdesk.api.overlays.fetch_overlays`,
  one query per page, off the GUI thread) beside the row facts, and the delegate draws
  them over the thumbnail in label colours.

New work replaces old: changing the dataset, folder or query bumps a generation number,
clears queued work, and results carrying an older generation are dropped.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QDrag, QFont, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSlider,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsdesk.ui.grid_delegate import ThumbnailDelegate
from dsdesk.ui.grid_model import FIRST_PAGE, INFO_PAGE, PAGE, ItemGridModel, ItemInfo, folder_filter
from dsdesk.ui.icons import icon, pixmap
from dsdesk.ui.mime import items_mime
from dsdesk.ui.thumbnails import ThumbnailLoader

__all__ = ["FIRST_PAGE", "INFO_PAGE", "PAGE", "GridPanel", "ItemGridModel", "ItemGridView", "ItemInfo",
           "ThumbnailDelegate", "folder_filter"]


class ItemGridView(QListView):
    """The thumbnail grid: IconMode, static layout, uniform item sizes, batched layout,
    extended selection with a rubber band, and dragging items out."""

    open_requested = Signal(int)  # item id (double-click or Enter)
    visible_ids_changed = Signal(object)  # set of ids in the viewport (debounced)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setUniformItemSizes(True)
        # Batched layout: the first screen is painted after the first batch, the rest of a
        # million rows is laid out in later event-loop turns (QT-PITFALLS.md figures).  Each
        # row of a batch costs two calls of the Python rowCount (QListViewPrivate::isHidden
        # builds a model index per row), ~3-4 us a row in all: 500 rows keep each turn near
        # 2 ms (measured at 1M rows: longest stall of the event loop during the layout 10-13 ms
        # at the 99th percentile, against 20-40 ms with 2,000-row batches).
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSpacing(2)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.doubleClicked.connect(self._on_view_double_clicked)
        self._visible_timer = QTimer(self)
        self._visible_timer.setSingleShot(True)
        self._visible_timer.setInterval(60)
        self._visible_timer.timeout.connect(self._emit_visible)
        self.verticalScrollBar().valueChanged.connect(lambda _v: self._visible_timer.start())

    def set_cell_size(self, side: int) -> None:
        """Resize every cell (the delegate's size hint and the grid follow)."""
        d = self.itemDelegate()
        if isinstance(d, ThumbnailDelegate):
            d.set_cell_size(side)
            hint = d.sizeHint(QStyleOptionViewItem(), QModelIndex())
            self.setGridSize(hint + QSize(4, 4))
            self.verticalScrollBar().setSingleStep(max(20, hint.height() // 3))
            self.doItemsLayout()

    def visible_rows(self) -> range:
        """Rows whose cells intersect the viewport (an estimate from the grid size)."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return range(0)
        vp = self.viewport().rect()
        first = self.indexAt(QPoint(4, 4))
        grid = self.gridSize()
        if not first.isValid() or not grid.isValid():
            start = 0 if not first.isValid() else first.row()
        else:
            start = first.row()
        per_row = max(1, vp.width() // max(1, grid.width()))
        rows = vp.height() // max(1, grid.height()) + 2
        return range(max(0, start - per_row), min(model.rowCount(), start + per_row * (rows + 1)))

    def _emit_visible(self) -> None:
        model = self.model()
        if model is None:
            return
        ids = {model.item_id(r) for r in self.visible_rows()}
        ids.discard(None)
        self.visible_ids_changed.emit(ids)

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        self._visible_timer.start()

    def selected_ids(self) -> list[int]:
        """Ids of the selected items, in grid order."""
        model = self.model()
        sm = self.selectionModel()
        if model is None or sm is None:
            return []
        out: list[int] = []
        for rng in sm.selection():
            for r in range(rng.top(), rng.bottom() + 1):
                iid = model.item_id(r)
                if iid is not None:
                    out.append(iid)
        return out

    def startDrag(self, supported: Qt.DropAction) -> None:
        # Qt's default renders every selected cell into the drag pixmap, which is slow for
        # large selections; we drag a small "N items" badge instead.
        ids = self.selected_ids()
        model = self.model()
        if not ids or model is None:
            return
        drag = QDrag(self)
        drag.setMimeData(items_mime(model.dataset_id or 0, ids))
        pm = QPixmap(140, 34)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setBrush(QBrush(self.palette().color(QPalette.ColorRole.Highlight)))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRoundedRect(0, 0, 140, 34, 8, 8)
        p.setPen(self.palette().color(QPalette.ColorRole.HighlightedText))
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        p.drawText(pm.rect(), Qt.AlignmentFlag.AlignCenter, f"{len(ids):,} item{'s' if len(ids) != 1 else ''}")
        p.end()
        drag.setPixmap(pm)
        drag.exec(supported, Qt.DropAction.MoveAction)

    def keyPressEvent(self, e) -> None:
        if e.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            iid = self.currentIndex().data(ItemGridModel.IdRole)
            if iid is not None:
                self.open_requested.emit(iid)
                return
        super().keyPressEvent(e)

    def _on_view_double_clicked(self, index: QModelIndex) -> None:
        iid = index.data(ItemGridModel.IdRole)
        if iid is not None:
            self.open_requested.emit(iid)


class GridPanel(QWidget):
    """The centre of the browser: search bar, item count, size slider and the grid.

    Owns the grid's model and thumbnail loader (and so their thread pools): call
    :meth:`shutdown` before the catalog closes.
    """

    search_changed = Signal(str)
    cell_size_changed = Signal(int)

    def __init__(self, cat, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = ItemGridModel(cat, self)
        self.loader = ThumbnailLoader(cat, self)
        self.view = ItemGridView(self)
        self.delegate = ThumbnailDelegate(self.loader, self.view)
        self.view.setItemDelegate(self.delegate)
        self.view.setModel(self.model)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search: split:train label:car score>0.5 dir:/train/** \"name\"")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.subfolders = QToolButton(self)
        self.subfolders.setText("Sub-folders")
        self.subfolders.setCheckable(True)
        self.subfolders.setChecked(True)
        self.subfolders.setToolTip("Show the items of sub-folders too")
        self.count_label = QLabel("", self)
        self.count_label.setMinimumWidth(110)
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(64, 320)
        self.slider.setSingleStep(16)
        self.slider.setPageStep(32)
        self.slider.setFixedWidth(130)
        self.slider.setToolTip("Thumbnail size")
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.error_label = QLabel("", self)
        self.error_label.setStyleSheet("color: #c0392b;")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.search, 1)
        top.addWidget(self.subfolders)
        top.addWidget(self.count_label)
        size_icon = QLabel(self)
        size_icon.setPixmap(pixmap("grid", 16))
        top.addWidget(size_icon)
        top.addWidget(self.slider)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 0)
        lay.addLayout(top)
        lay.addWidget(self.error_label)
        lay.addWidget(self.view, 1)
        self.model.rows_changed.connect(self._on_model_rows_changed)
        self.model.count_changed.connect(self._on_model_count_changed)
        self.model.loading_finished.connect(self._on_model_count_changed)
        self.model.query_failed.connect(self._on_model_query_failed)
        self.loader.thumbnail_ready.connect(self._on_loader_thumbnail_ready)
        self.loader.image_sizes_recorded.connect(self._on_loader_image_sizes_recorded)
        self.view.visible_ids_changed.connect(self._on_view_visible_ids_changed)
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(25)  # coalesce many thumbnails into one repaint
        self._repaint.timeout.connect(self.view.viewport().update)
        self.set_cell_size(160)

    def set_cell_size(self, side: int) -> None:
        """Set the thumbnail size (also moves the slider)."""
        if self.slider.value() != side:
            self.slider.blockSignals(True)
            self.slider.setValue(side)
            self.slider.blockSignals(False)
        self.view.set_cell_size(side)
        self.loader.set_display_size(self.delegate.thumb_side())
        vp = self.view.viewport().size()
        per_screen = max(1, (vp.width() // (side + 16)) * (vp.height() // (side + 36) + 1))
        self.loader.set_capacity(per_screen * 6)

    def _on_slider_value_changed(self, v: int) -> None:
        self.set_cell_size(v)
        self.cell_size_changed.emit(v)

    def _on_search_return_pressed(self) -> None:
        self.search_changed.emit(self.search.text())

    def _on_search_text_changed(self, text: str) -> None:
        if not text:  # the clear button: show everything again at once
            self.search_changed.emit("")

    def _on_model_rows_changed(self) -> None:
        self.view.viewport().update()

    def _on_model_count_changed(self, n: int) -> None:
        suffix = "…" if self.model.loading else ""
        self.count_label.setText(f"{n:,} item{'s' if n != 1 else ''}{suffix}")
        if not self.model.loading and not self.error_label.isHidden() and self.model.dataset_id is not None:
            pass

    def _on_model_query_failed(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def clear_error(self) -> None:
        """Hide the query error line."""
        self.error_label.hide()
        self.error_label.clear()

    def _on_loader_thumbnail_ready(self, _item_id: int) -> None:
        if not self._repaint.isActive():
            self._repaint.start()

    def set_overlays_visible(self, on: bool) -> None:
        """Draw the items' annotations over their thumbnails (the toolbar toggle)."""
        self.model.set_overlays_enabled(on)

    @property
    def overlays_visible(self) -> bool:
        """True while annotations are drawn over the thumbnails."""
        return self.model.overlays_enabled

    def _on_loader_image_sizes_recorded(self, sizes: dict) -> None:
        # An item without a recorded size had only its class tags; now its shapes can scale.
        unsized = [i for i in sizes if (ov := self.model.overlay(i)) is not None and not ov.sized]
        if unsized:
            self.model.forget_overlays(unsized)

    def _on_view_visible_ids_changed(self, ids: set) -> None:
        self.loader.keep_only(ids)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop every worker of the grid; False when some did not stop in time."""
        a = self.model.shutdown(timeout_ms)
        b = self.loader.shutdown(timeout_ms)
        return a and b

