"""Thumbnails for the GUI: decoded by worker processes, wrapped as QImages on worker
threads, shown as QPixmaps from an LRU.

Rules this module keeps (STYLE.md, practice 6): workers produce ``QImage`` only;
``QPixmap.fromImage`` runs on the GUI thread; the newest request runs first; work for
cells that scrolled away is dropped; a generation number discards results that belong
to a folder or query the user has left.  The decode is Qt-free and runs in a process
pool (:mod:`dsdesk.ui.thumbnail_worker`: Pillow draft mode and the disk cache of
:mod:`dsdesk.storage.thumbnails`), so its Python never competes with the GUI thread for
the GIL; each pool thread here only waits for one result and copies its pixels.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QPixmap

from dsdesk.storage.thumbnails import DEFAULT_SIZE, ThumbnailCache
from dsdesk.ui.thumbnail_worker import ThumbnailProcessPool


@dataclass(frozen=True, slots=True)
class ThumbKey:
    """What identifies one binary version: enough to find or make its thumbnail."""

    item_id: int
    blob_id: int
    driver_id: int
    storage_key: str
    etag: str | None


class _ThumbJob(QRunnable):
    # Auto-deleted by the pool: a Python-owned runnable freed by the GUI thread while its
    # worker is still returning from run() would be a use-after-free.
    def __init__(self, loader: ThumbnailLoader, gen: int, token: int, key: ThumbKey):
        super().__init__()
        self._loader, self._gen, self._token, self._key = loader, gen, token, key

    def run(self) -> None:  # worker thread: QImage only, never QPixmap or widgets
        ld, k = self._loader, self._key
        if not ld._claim(self._token, k.item_id):
            return  # the cell scrolled away or the folder changed before we started
        img = None
        try:
            got = ld.processes.render(k.driver_id, k.storage_key, k.etag, ld.render_size)
            if not isinstance(got, str):  # a str is why there is no thumbnail
                w, h, pixels = got
                # copy(): the QImage must own its pixels, not borrow the bytes object.
                img = QImage(pixels, w, h, 4 * w, QImage.Format.Format_RGB32).copy()
        except Exception:  # noqa: BLE001 - a worker died or the pool shut down: a broken-image cell
            img = None
        ld.image_ready.emit(self._gen, k.item_id, img)


class ThumbnailLoader(QObject):
    """Thumbnails for one grid: its own thread pool, an LRU of pixmaps, a disk cache.

    GUI thread only, except the workers it starts.  ``thumbnail_ready(item_id)`` is
    emitted on the GUI thread when a pixmap (or a failure) arrived.
    """

    thumbnail_ready = Signal(int)
    image_ready = Signal(int, int, object)  # gen, item id, QImage | None (emitted on workers)

    def __init__(self, db, parent: QObject | None = None, threads: int | None = None, capacity: int = 600):
        super().__init__(parent)
        self.db = db
        self.render_size = DEFAULT_SIZE
        self.cache = ThumbnailCache(db.cache_root) if db is not None else None
        self.processes = ThumbnailProcessPool(db, workers=threads)
        self.pool = QThreadPool(self)
        # One waiting thread per worker process (plus one, so a process never idles while
        # its next result is copied): the queue, with its newest-first order and its
        # dropping of cells that scrolled away, stays here and not in the process pool.
        self.pool.setMaxThreadCount(self.processes.workers + 1)
        self.pool.setExpiryTimeout(5000)
        self.capacity = capacity
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._scaled: dict[tuple[int, int], QPixmap] = {}
        self._scaled_size = 0
        self.failed: set[int] = set()
        self._lock = threading.Lock()
        self._live: dict[int, int] = {}  # item id -> token of the queued job meant to make it (locked)
        self.generation = 0
        self._closed = False
        self._tokens = itertools.count(1)
        self.image_ready.connect(self._on_image_ready, Qt.ConnectionType.QueuedConnection)

    # ---- GUI thread API --------------------------------------------------------------
    def pixmap(self, item_id: int, size: int | None = None) -> QPixmap | None:
        """The thumbnail of *item_id* scaled to fit *size* (None: as rendered), or None."""
        pm = self._pixmaps.get(item_id)
        if pm is None:
            return None
        self._pixmaps.move_to_end(item_id)
        if not size or size >= max(pm.width(), pm.height()):
            return pm
        if size != self._scaled_size:
            self._scaled.clear()
            self._scaled_size = size
        got = self._scaled.get((item_id, size))
        if got is None:
            got = pm.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation)
            if len(self._scaled) > self.capacity:
                self._scaled.clear()
            self._scaled[(item_id, size)] = got
        return got

    def request(self, key: ThumbKey) -> None:
        """Ask for the thumbnail of *key*; newer requests run before older ones."""
        iid = key.item_id
        if iid in self._pixmaps or iid in self.failed or self._closed:
            return
        with self._lock:
            if iid in self._live:
                return
            token = next(self._tokens)
            self._live[iid] = token
        # QThreadPool runs higher priorities first: the newest request is the most wanted.
        self.pool.start(_ThumbJob(self, self.generation, token, key), min(token, 2**31 - 1))

    def keep_only(self, visible_ids: set[int]) -> int:
        """Drop queued work for cells no longer visible; returns how many were dropped."""
        with self._lock:
            gone = [i for i in self._live if i not in visible_ids]
            for i in gone:
                del self._live[i]
        return len(gone)

    def reset(self) -> None:
        """New folder or query: forget queued work and ignore results still in flight."""
        self.generation += 1
        self.pool.clear()
        with self._lock:
            self._live.clear()

    def forget(self, item_ids) -> None:
        """Drop cached pixmaps of *item_ids* (their binary changed)."""
        for i in item_ids:
            self._pixmaps.pop(i, None)
            self.failed.discard(i)
        self._scaled.clear()

    @property
    def pending(self) -> int:
        """Requests queued or running."""
        with self._lock:
            return len(self._live)

    def set_capacity(self, n: int) -> None:
        """How many pixmaps to keep (sized from the viewport: a few screens' worth)."""
        self.capacity = max(64, n)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Drop queued work and wait for running decodes; False when they did not stop in time."""
        self._closed = True
        self.reset()
        self.pool.clear()
        ok = self.pool.waitForDone(timeout_ms)
        self.processes.shutdown()
        return ok

    # ---- worker side -----------------------------------------------------------------
    def _claim(self, token: int, item_id: int) -> bool:
        """Called by a worker before decoding: False when its result is no longer wanted."""
        with self._lock:
            return self._live.get(item_id) == token

    def _on_image_ready(self, gen: int, item_id: int, image: QImage | None) -> None:
        with self._lock:
            self._live.pop(item_id, None)
        if gen != self.generation:
            return
        if image is None:
            self.failed.add(item_id)
        else:
            self._pixmaps[item_id] = QPixmap.fromImage(image)
            self._pixmaps.move_to_end(item_id)
            while len(self._pixmaps) > self.capacity:
                self._pixmaps.popitem(last=False)
        self.thumbnail_ready.emit(item_id)
