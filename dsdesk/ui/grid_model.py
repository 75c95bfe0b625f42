"""The grid's model: item ids only, streamed by keyset in the grid order, row facts and
annotation overlays fetched for the rows being painted, off the GUI thread.

:class:`ItemGridModel` holds item ids only (8 bytes each in an ``array``), streamed by a
worker in pages in the grid order (dir, name, id).  Row facts (name, badges, storage key)
are fetched for the rows being painted, in batches, and kept in a bounded LRU; both reads
are the API's grid read model, :mod:`dsdesk.api.browse`.  ``rowCount`` is the match count,
known before the ids.  While overlays are on, each page's shapes come with its facts
(:func:`dsdesk.api.overlays.fetch_overlays`, one query per page).  New work replaces old:
changing the dataset, folder or query bumps a generation number, clears queued work, and
results carrying an older generation are dropped.
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
    QRunnable,
    Qt,
    QThreadPool,
    QTimer,
    Signal,
)

from dsdesk.api import browse
from dsdesk.api.browse import ItemInfo
from dsdesk.api.overlays import ItemOverlay, fetch_overlays
from dsdesk.api.queries import scoped_filter
from dsdesk.errors import QueryError
from dsdesk.ui.mime import ITEMS_MIME, items_mime

__all__ = ["FIRST_PAGE", "INFO_PAGE", "PAGE", "ItemGridModel", "ItemInfo", "folder_filter"]

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


