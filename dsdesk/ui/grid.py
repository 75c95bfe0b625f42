"""The item grid: an ids-only model paged by keyset, a placeholder-painting delegate, the view.

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

import threading
from array import array
from collections import OrderedDict
from contextlib import closing

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QRectF,
    QRunnable,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QDrag, QFont, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSlider,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from dsdesk.api import browse
from dsdesk.api.browse import ItemInfo
from dsdesk.api.overlays import ItemOverlay, fetch_overlays
from dsdesk.api.queries import scoped_filter
from dsdesk.errors import QueryError
from dsdesk.ui.annotations.overlay_painter import OverlayPainter
from dsdesk.ui.icons import icon, pixmap
from dsdesk.ui.mime import ITEMS_MIME, items_mime
from dsdesk.ui.thumbnails import ThumbnailLoader

__all__ = ["GridPanel", "ItemGridModel", "ItemGridView", "ItemInfo", "ThumbnailDelegate", "folder_filter"]

FIRST_PAGE = browse.FIRST_PAGE  # ids in the first page: enough for a full screen of small cells
PAGE = browse.PAGE  # ids per later page
INFO_CAPACITY = 20_000
INFO_PAGE = 256  # rows whose facts are read together: a painted cell brings its neighbours along
OVERLAY_CAPACITY = 20_000  # items whose overlays are kept


def folder_filter(folder: str | None, include_subfolders: bool, search: str = ""):
    """The query of a folder view plus the user's search text (``dsdesk.api.queries.scoped_filter``).

    Search text that does not parse is handed on as it is: the id stream's worker then
    reports its QueryError in the search bar, as for any bad query (never on the GUI thread).
    """
    try:
        return scoped_filter(folder or None, search, recursive=include_subfolders)
    except QueryError:
        return search


class _IdStream(QRunnable):
    """Streams the matching ids in grid order (:func:`dsdesk.api.browse.stream_item_ids`)
    and posts each page as bytes of an ``array('q')``; stops as soon as the view is stale.
    The first page goes out before anything else, so the first screen does not wait for
    the count."""

    def __init__(self, model: ItemGridModel, gen: int, dataset_id: int, filters):
        super().__init__()
        self._m, self._gen, self._ds, self._filters = model, gen, dataset_id, filters

    def run(self) -> None:  # worker thread
        m, gen = self._m, self._gen
        try:
            pages = browse.stream_item_ids(m.cat, self._ds, self._filters, first_page=FIRST_PAGE, page=PAGE)
            with closing(pages):
                for got in pages:
                    if got.total is not None:
                        # The count lets the view lay out every row at once (one insertion).
                        m._ids_counted.emit(gen, got.total)
                    if got.ids:
                        m._ids_chunk.emit(gen, got.ids.tobytes())
                    if m._stale(gen):
                        break
            m._ids_done.emit(gen)
        except Exception as e:  # noqa: BLE001 - a bad query or a vanished dataset shows in the search bar
            m._ids_failed.emit(gen, str(e))


class _InfoFetch(QRunnable):
    """Reads the cell facts of some ids (one page of rows, or single ids) on a worker;
    with an *overlay_version*, the page's overlays too, posted right after the facts so
    the view repaints once for both."""

    def __init__(self, model: ItemGridModel, gen: int, ids, page: int = -1, overlay_version: int | None = None):
        super().__init__()
        self._m, self._gen, self._ids, self._page = model, gen, ids, page
        self._overlay_version = overlay_version

    def run(self) -> None:  # worker thread
        if self._m._stale(self._gen):
            return
        try:
            infos = browse.fetch_infos(self._m.cat, self._ids)
        except Exception:  # noqa: BLE001 - the cells stay placeholders; the next paint asks again
            infos = {}
        overlays = None
        if self._overlay_version is not None:
            try:
                overlays = fetch_overlays(self._m.cat, self._ids)
            except Exception:  # noqa: BLE001 - the cells show no overlay; the next paint asks again
                overlays = {}
        self._m._infos_ready.emit(self._gen, self._ids, infos, self._page)
        if overlays is not None:
            self._m._overlays_ready.emit(self._gen, self._overlay_version, overlays, self._page)


class _OverlayFetch(QRunnable):
    """Reads the annotation overlays of one page of rows on a worker."""

    def __init__(self, model: ItemGridModel, gen: int, version: int, ids, page: int):
        super().__init__()
        self._m, self._gen, self._version, self._ids, self._page = model, gen, version, ids, page

    def run(self) -> None:  # worker thread
        if self._m._stale(self._gen):
            return
        try:
            got = fetch_overlays(self._m.cat, self._ids)
        except Exception:  # noqa: BLE001 - the cells show no overlay; the next paint asks again
            got = {}
        self._m._overlays_ready.emit(self._gen, self._version, got, self._page)


class ItemGridModel(QAbstractListModel):
    """Item ids of one dataset view (folder and query), streamed by keyset pages.

    GUI thread only; its workers post results through queued signals.  ``data()`` never
    touches the catalog: a missing row fact is queued for a batched fetch and the cell
    paints a placeholder meanwhile.  ``rows_changed`` asks the view to repaint.
    """

    IdRole = Qt.ItemDataRole.UserRole + 1
    InfoRole = Qt.ItemDataRole.UserRole + 2
    OverlayRole = Qt.ItemDataRole.UserRole + 3  # an ItemOverlay while overlays are on, else None

    loading_finished = Signal(int)  # total rows
    query_failed = Signal(str)
    rows_changed = Signal()
    count_changed = Signal(int)
    overlays_changed = Signal()  # overlays turned on or off, read, or forgotten

    _ids_counted = Signal(int, int)
    _ids_chunk = Signal(int, object)
    _ids_done = Signal(int)
    _ids_failed = Signal(int, str)
    _infos_ready = Signal(int, object, object, int)  # gen, ids, {id: ItemInfo}, row page or -1 (object: no QVariant conversion)
    _overlays_ready = Signal(int, int, object, int)  # gen, overlay version, {id: ItemOverlay}, row page

    def __init__(self, cat, parent: QObject | None = None):
        super().__init__(parent)
        self.cat = cat
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.pool.setExpiryTimeout(5000)
        self._gen = 0
        self._gen_lock = threading.Lock()
        self._ids = array("q")
        self._total = 0
        self.dataset_id: int | None = None
        self.filters = None
        self.loading = False
        self._closed = False  # after shutdown(): no new work (a late paint must not restart a pool)
        self._info: OrderedDict[int, ItemInfo] = OrderedDict()
        self._want: set[int] = set()
        self._inflight: set[int] = set()
        self._want_pages: set[int] = set()  # pages of INFO_PAGE rows to read
        self._pages_inflight: set[int] = set()
        self.overlays_enabled = False
        self._overlays: OrderedDict[int, ItemOverlay] = OrderedDict()
        self._overlay_version = 0  # bumped by forget_overlays: older results are dropped
        self._want_overlay_pages: set[int] = set()
        self._overlay_pages_inflight: set[int] = set()
        self._info_timer = QTimer(self)
        self._info_timer.setSingleShot(True)
        self._info_timer.setInterval(0)
        self._info_timer.timeout.connect(self._flush_info_requests)
        q = Qt.ConnectionType.QueuedConnection
        self._ids_counted.connect(self._on_stream_counted, q)
        self._ids_chunk.connect(self._on_stream_chunk, q)
        self._ids_done.connect(self._on_stream_done, q)
        self._ids_failed.connect(self._on_stream_failed, q)
        self._infos_ready.connect(self._on_fetch_infos_ready, q)
        self._overlays_ready.connect(self._on_fetch_overlays_ready, q)

    # ---- loading -----------------------------------------------------------------------
    def set_query(self, dataset_id: int | None, filters=None) -> None:
        """Show the items of *dataset_id* matching *filters* (a search-bar string, DQL or None)."""
        with self._gen_lock:
            self._gen += 1
            gen = self._gen
        self.pool.clear()
        self.beginResetModel()
        self._ids = array("q")
        self._total = 0
        self._info.clear()
        self._want.clear()
        self._inflight.clear()
        self._want_pages.clear()
        self._pages_inflight.clear()
        self._overlays.clear()
        self._want_overlay_pages.clear()
        self._overlay_pages_inflight.clear()
        self.dataset_id, self.filters = dataset_id, filters
        self.endResetModel()
        self.count_changed.emit(0)
        if dataset_id is None or self._closed:
            self.loading = False
            return
        self.loading = True
        self.pool.start(_IdStream(self, gen, dataset_id, filters))

    def reload(self) -> None:
        """Read the same view again (after a change in the catalog)."""
        self.set_query(self.dataset_id, self.filters)

    def _stale(self, gen: int) -> bool:
        with self._gen_lock:
            return gen != self._gen

    def _on_stream_counted(self, gen: int, total: int) -> None:
        if gen != self._gen or total <= self._total:
            return
        # One insertion of every row: the view lays them out in batches (uniform sizes).
        self.beginInsertRows(QModelIndex(), self._total, total - 1)
        self._total = total
        self.endInsertRows()
        self.count_changed.emit(total)

    def _on_stream_chunk(self, gen: int, data: bytes) -> None:
        if gen != self._gen:
            return
        self._ids.frombytes(data)
        if len(self._ids) > self._total:  # rows added since the count: show them too
            self.beginInsertRows(QModelIndex(), self._total, len(self._ids) - 1)
            self._total = len(self._ids)
            self.endInsertRows()
            self.count_changed.emit(self._total)
        self.rows_changed.emit()

    def _on_stream_done(self, gen: int) -> None:
        if gen != self._gen:
            return
        if len(self._ids) < self._total:  # rows removed since the count
            self.beginRemoveRows(QModelIndex(), len(self._ids), self._total - 1)
            self._total = len(self._ids)
            self.endRemoveRows()
            self.count_changed.emit(self._total)
        self.loading = False
        self.loading_finished.emit(self._total)

    def _on_stream_failed(self, gen: int, message: str) -> None:
        if gen != self._gen:
            return
        self.loading = False
        self.query_failed.emit(message)
        self.loading_finished.emit(self._total)

    # ---- row facts ---------------------------------------------------------------------
    def info(self, item_id: int, fetch: bool = True) -> ItemInfo | None:
        """The cell facts of *item_id* if known; queues a fetch otherwise."""
        got = self._info.get(item_id)
        if got is None and fetch and item_id not in self._inflight:
            self._want.add(item_id)
            if not self._info_timer.isActive():
                self._info_timer.start()
        return got

    def _info_at(self, row: int, item_id: int) -> ItemInfo | None:
        """The facts of the item at *row*; on a miss its whole page of rows is queued."""
        got = self._info.get(item_id)
        if got is None:
            page = row // INFO_PAGE
            if page not in self._pages_inflight:
                self._want_pages.add(page)
                if not self._info_timer.isActive():
                    self._info_timer.start()
        return got

    def _flush_info_requests(self) -> None:
        if self._closed:
            return
        for page in self._want_pages:
            self._pages_inflight.add(page)
            # A page's overlays are read with its facts, not after them (a cell asks for its
            # overlay only once the facts brought its thumbnail: two round trips, two repaints).
            with_overlays = (self.overlays_enabled and page not in self._overlay_pages_inflight
                             and self.item_id(page * INFO_PAGE) not in self._overlays)
            if with_overlays:
                self._overlay_pages_inflight.add(page)
                self._want_overlay_pages.discard(page)
            # An array slice: the worker reads plain ints, the GUI thread copies 2 KB.
            self.pool.start(_InfoFetch(self, self._gen, self._ids[page * INFO_PAGE:(page + 1) * INFO_PAGE], page,
                                       self._overlay_version if with_overlays else None))
        self._want_pages.clear()
        ids = list(self._want)
        self._want.clear()
        self._inflight.update(ids)
        for i in range(0, len(ids), 500):
            self.pool.start(_InfoFetch(self, self._gen, ids[i:i + 500]))
        for page in self._want_overlay_pages:
            self._overlay_pages_inflight.add(page)
            self.pool.start(_OverlayFetch(self, self._gen, self._overlay_version,
                                          self._ids[page * INFO_PAGE:(page + 1) * INFO_PAGE], page))
        self._want_overlay_pages.clear()

    def _on_fetch_infos_ready(self, gen: int, ids, infos: dict, page: int) -> None:
        if gen != self._gen:
            return
        if page >= 0:
            self._pages_inflight.discard(page)
        else:
            self._inflight.difference_update(ids)
        self._info.update(infos)
        while len(self._info) > INFO_CAPACITY:
            self._info.popitem(last=False)
        self.rows_changed.emit()

    # ---- annotation overlays -----------------------------------------------------------
    def set_overlays_enabled(self, on: bool) -> None:
        """Read and hand out overlays (OverlayRole) or not; the cache survives a toggle."""
        self.overlays_enabled = bool(on)
        self.rows_changed.emit()
        self.overlays_changed.emit()

    def overlay(self, item_id: int) -> ItemOverlay | None:
        """The cached overlay of *item_id* (None: not read yet), without queueing a read."""
        return self._overlays.get(item_id)

    def _overlay_at(self, row: int, item_id: int) -> ItemOverlay | None:
        got = self._overlays.get(item_id)
        if got is None and row < len(self._ids):
            page = row // INFO_PAGE
            if page not in self._overlay_pages_inflight:
                self._want_overlay_pages.add(page)
                if not self._info_timer.isActive():
                    self._info_timer.start()
        return got

    def _on_fetch_overlays_ready(self, gen: int, version: int, got: dict, page: int) -> None:
        if gen != self._gen:
            return
        self._overlay_pages_inflight.discard(page)
        if version != self._overlay_version:
            return  # read before an edit: the next paint reads the page again
        self._overlays.update(got)
        while len(self._overlays) > OVERLAY_CAPACITY:
            self._overlays.popitem(last=False)
        self.rows_changed.emit()
        self.overlays_changed.emit()

    def forget_overlays(self, item_ids=None) -> None:
        """Drop cached overlays (all, or of *item_ids*): they are read again when painted
        (after an annotation edit, or once a synced item's image size is known)."""
        self._overlay_version += 1
        self._overlay_pages_inflight.clear()
        if item_ids is None:
            self._overlays.clear()
        else:
            for i in item_ids:
                self._overlays.pop(i, None)
        self.rows_changed.emit()
        self.overlays_changed.emit()

    def forget_infos(self, item_ids=None) -> None:
        """Drop cached row facts (all, or of *item_ids*) so they are read again."""
        if item_ids is None:
            self._info.clear()
        else:
            for i in item_ids:
                self._info.pop(i, None)
        self.rows_changed.emit()

    # ---- Qt model interface ------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._total

    def item_id(self, row: int) -> int | None:
        """The id at *row*, or None while it is still loading."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, item_id: int) -> int | None:
        """The row showing *item_id*, or None (a linear scan in C: fine for one lookup)."""
        try:
            return self._ids.index(item_id)
        except ValueError:
            return None

    @property
    def loaded_ids(self) -> array:
        """The ids streamed so far, in grid order."""
        return self._ids

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = index.row()
        iid = self._ids[row] if row < len(self._ids) else None
        if role == self.IdRole:
            return iid
        if iid is None:
            return None
        if role == self.InfoRole:
            return self._info_at(row, iid)
        if role == self.OverlayRole:
            return self._overlay_at(row, iid) if self.overlays_enabled else None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            inf = self._info_at(row, iid)
            if inf is None:
                return None
            return inf.name if role == Qt.ItemDataRole.DisplayRole else inf.filename
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled

    def mimeTypes(self) -> list[str]:
        return [ITEMS_MIME]

    def mimeData(self, indexes):
        ids = [self._ids[i.row()] for i in indexes if i.row() < len(self._ids)]
        return items_mime(self.dataset_id or 0, ids)

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Stop streaming and wait for the workers (False: they did not stop in time)."""
        self._closed = True
        self._info_timer.stop()
        with self._gen_lock:
            self._gen += 1
        self.pool.clear()
        return self.pool.waitForDone(timeout_ms)


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints one grid cell: thumbnail or placeholder, name, and annotated/missing/changed badges.

    ``sizeHint`` is fixed (the view's uniform item sizes depend on it); painting never
    waits: missing facts and thumbnails are requested and the cell repaints when they come.
    """

    TEXT_H = 20
    COMPOSED_CAPACITY = 600  # thumbnails kept with their overlay drawn (a few screens' worth)

    def __init__(self, loader: ThumbnailLoader, parent: QObject | None = None):
        super().__init__(parent)
        self.loader = loader
        self.cell = 160
        self._badges: dict[str, QPixmap] = {}
        self._placeholder_icons: dict[tuple[str, int], QPixmap] = {}
        self._composed: OrderedDict[tuple[int, int], tuple[ItemOverlay, QPixmap]] = OrderedDict()

    def set_cell_size(self, size: int) -> None:
        """The thumbnail side in pixels (the cell adds a margin and a line of text)."""
        self.cell = int(size)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(self.cell + 12, self.cell + self.TEXT_H + 14)

    def thumb_side(self) -> int:
        """The side :meth:`paint` draws a thumbnail at in a cell of the hinted size."""
        return min(self.cell, self.cell + 12 - 6 - 8)

    def _badge(self, name: str) -> QPixmap:
        pm = self._badges.get(name)
        if pm is None:
            pm = self._badges[name] = pixmap(name, 18)
        return pm

    def _glyph(self, name: str, size: int) -> QPixmap:
        key = (name, size)
        pm = self._placeholder_icons.get(key)
        if pm is None:
            pm = self._placeholder_icons[key] = pixmap(name, size)
        return pm

    def _with_overlay(self, item_id: int, pm: QPixmap, ov: ItemOverlay) -> QPixmap:
        """The thumbnail with its annotations drawn on it, made once per thumbnail and
        overlay: a cell is repainted many times while it scrolls by, and one pixmap is
        all the overlay then costs (measured in benchmarks/bench_grid_overlays.py)."""
        key = (item_id, pm.cacheKey())
        got = self._composed.get(key)
        if got is not None and (got[0] is ov or got[0] == ov):
            self._composed.move_to_end(key)
            return got[1]
        out = QPixmap(pm)
        dpr = pm.devicePixelRatio() or 1.0
        painter = QPainter(out)
        OverlayPainter(QRectF(0, 0, pm.width() / dpr, pm.height() / dpr), pen_width=1.5).paint(painter, ov.shapes)
        painter.end()
        self._composed[key] = (ov, out)
        while len(self._composed) > self.COMPOSED_CAPACITY:
            self._composed.popitem(last=False)
        return out

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        r = option.rect.adjusted(3, 3, -3, -3)
        pal = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if selected:
            hl = QColor(pal.color(QPalette.ColorRole.Highlight))
            p.setPen(QPen(hl, 2))
            hl.setAlpha(70)
            p.setBrush(hl)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(QPalette.ColorRole.AlternateBase))
        p.drawRoundedRect(r, 6, 6)
        side = min(self.cell, r.width() - 8)
        thumb = QRect(r.x() + (r.width() - side) // 2, r.y() + 4, side, side)
        info = index.data(ItemGridModel.InfoRole)
        pm = self.loader.pixmap(info.id, side) if info is not None else None
        if pm is not None:
            x = thumb.x() + (thumb.width() - pm.width()) // 2
            y = thumb.y() + (thumb.height() - pm.height()) // 2
            ov = index.data(ItemGridModel.OverlayRole)
            if ov is not None and ov.shapes:
                pm = self._with_overlay(info.id, pm, ov)
            p.drawPixmap(x, y, pm)
        else:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.color(QPalette.ColorRole.Midlight) if not selected else pal.color(QPalette.ColorRole.Mid))
            p.drawRoundedRect(thumb, 4, 4)
            if info is not None:
                if info.id in self.loader.failed:
                    g = self._glyph("broken" if info.missing else
                                    ("image" if (info.mimetype or "").startswith("image/") else "file"), side // 3)
                    p.drawPixmap(thumb.center() - QPoint(g.width() // 2, g.height() // 2), g)
                else:
                    self.loader.request(info.thumb_key)
        if info is not None:
            text_rect = QRect(r.x() + 4, thumb.bottom() + 3, r.width() - 8, self.TEXT_H)
            # The selection is a translucent tint over the cell, so normal text colour stays readable.
            p.setPen(pal.color(QPalette.ColorRole.Text))
            name = option.fontMetrics.elidedText(info.name, Qt.TextElideMode.ElideMiddle, text_rect.width())
            p.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter, name)
            bx = thumb.right() - 20
            for flag, name in ((info.missing, "badge-missing"), (info.changed, "badge-changed"),
                               (info.annotated, "badge-annotated")):
                if flag:
                    p.drawPixmap(bx, thumb.y() + 3, self._badge(name))
                    bx -= 20
        p.restore()


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
