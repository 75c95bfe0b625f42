"""Thumbnails for the GUI: decoded by worker processes, wrapped as QImages on the pool's
reader thread, shown as QPixmaps from an LRU.

Rules this module keeps (STYLE.md, practice 6): workers produce ``QImage`` only;
``QPixmap.fromImage`` runs on the GUI thread; the newest request runs first; work for
cells that scrolled away is dropped; a generation number discards results that belong
to a folder or query the user has left.  The decode is Qt-free and runs in a process
pool (:mod:`dsdesk.ui.thumbnail_worker`, rendering through
:class:`dsdesk.api.thumbnails.ThumbnailRenderer`: Pillow draft mode and a disk cache), so its Python never competes with the GUI thread for
the GIL.  The pool's reader thread copies each result's pixels into a QImage and queues
it; the GUI thread takes every queued image in one slot call (one queued signal per
burst, not per thumbnail) and converts each to a pixmap.

Each result also tells the original image's size.  For a blob the catalog has no size
for (a synced object: see :attr:`ThumbKey.needs_size`) the reader thread hands it to an
:class:`~dsdesk.api.image_sizes.ImageSizeRecorder`, which writes batches on a thread of its
own; ``image_sizes_recorded`` then tells the GUI thread which items got one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap

from dsdesk.api.image_sizes import ImageSizeRecorder, MeasuredSize
from dsdesk.api.thumbnails import DEFAULT_SIZE, ThumbKey, catalog_location
from dsdesk.ui.thumbnail_worker import ThumbnailProcessPool

__all__ = ["ThumbKey", "ThumbnailLoader"]


class ThumbnailLoader(QObject):
    """Thumbnails for one grid of the catalog *cat*: its own pool of worker processes, an
    LRU of pixmaps, a disk cache.

    GUI thread only (the pool's reader thread only calls :meth:`_on_pool_result`).
    ``thumbnail_ready(item_id)`` is emitted on the GUI thread when a pixmap (or a
    failure) arrived; ``image_sizes_recorded({item_id: (width, height)})`` when the sizes
    of blobs that had none were written to the catalog (:attr:`measured` keeps them too).
    """

    thumbnail_ready = Signal(int)
    image_sizes_recorded = Signal(object)  # {item id: (width, height)}; object: a dict with int keys is no QVariantMap
    _results_queued = Signal()  # emitted by the pool's reader thread when its batch was empty

    def __init__(self, cat, parent: QObject | None = None, threads: int | None = None, capacity: int = 600):
        super().__init__(parent)
        self.render_size = DEFAULT_SIZE
        # The queue, with its newest-first order and its dropping of cells that scrolled
        # away, lives in the pool: each worker holds at most two requests.
        self.processes = ThumbnailProcessPool(catalog_location(cat), self._on_pool_result, workers=threads)
        self.capacity = capacity
        self._pixmaps: OrderedDict[int, QPixmap] = OrderedDict()
        self._scaled: dict[tuple[int, int], QPixmap] = {}
        self._scaled_size = 0
        self.failed: set[int] = set()
        self._lock = threading.Lock()
        # (gen, item id, image, display size, image scaled to it or None) (locked)
        self._results: list[tuple[int, int, QImage | None, int, QImage | None]] = []
        #: The side the grid's cells paint thumbnails at (0: as rendered).  Read by the pool's
        #: reader thread, which scales each new image to it, so that the GUI thread's only work
        #: per thumbnail is the pixmap conversion.
        self.display_size = 0
        self.generation = 0
        self._closed = False
        self._results_queued.connect(self._on_results_queued, Qt.ConnectionType.QueuedConnection)
        #: Writes the original sizes the workers report for blobs without one (its own thread).
        self.sizes = ImageSizeRecorder(cat, self._on_sizes_written)
        #: {item id: (width, height)} recorded by :attr:`sizes` (bounded; any thread writes, locked).
        self.measured: OrderedDict[int, tuple[int, int]] = OrderedDict()

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

    def set_display_size(self, side: int) -> None:
        """The side cells paint thumbnails at: images are scaled to it off the GUI thread."""
        self.display_size = max(0, int(side))

    def request(self, key: ThumbKey) -> None:
        """Ask for the thumbnail of *key*; newer requests run before older ones."""
        iid = key.item_id
        if iid in self._pixmaps or iid in self.failed or self._closed:
            return
        want_size = (key.blob_id, key.etag) if key.needs_size else None
        self.processes.submit((self.generation, iid, want_size), key.driver_id, key.storage_key, key.etag,
                              self.render_size)

    def keep_only(self, visible_ids: set[int]) -> int:
        """Drop queued work for cells no longer visible; returns how many were dropped."""
        return self.processes.retain(lambda tag: tag[1] in visible_ids)

    def reset(self) -> None:
        """New folder or query: forget queued work and ignore results still in flight."""
        self.generation += 1
        self.processes.clear()

    def forget(self, item_ids) -> None:
        """Drop cached pixmaps of *item_ids* (their binary changed)."""
        for i in item_ids:
            self._pixmaps.pop(i, None)
            self.failed.discard(i)
        self._scaled.clear()

    def measured_size(self, item_id: int) -> tuple[int, int] | None:
        """The original size recorded for *item_id* by :attr:`sizes`, or None."""
        with self._lock:
            return self.measured.get(item_id)

    @property
    def pending(self) -> int:
        """Requests queued or running."""
        return self.processes.queued + self.processes.running

    def set_capacity(self, n: int) -> None:
        """How many pixmaps to keep (sized from the viewport: a few screens' worth)."""
        self.capacity = max(64, n)
        while len(self._pixmaps) > self.capacity:
            self._pixmaps.popitem(last=False)

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Drop queued work, stop the worker processes and write the sizes they reported;
        False when either did not finish in time."""
        self._closed = True
        self.reset()
        ok = self.processes.shutdown(timeout_ms / 1000)
        return self.sizes.shutdown(timeout_ms / 1000) and ok

    # ---- the pool's reader thread ----------------------------------------------------
    def _on_pool_result(self, tag: tuple[int, int, tuple | None], result) -> None:
        """A worker's result (reader thread: QImage only, never QPixmap or widgets)."""
        gen, iid, want_size = tag
        img = scaled = None
        size = self.display_size
        if not isinstance(result, str):  # a str is why there is no thumbnail
            w, h, pixels, original = result
            if want_size is not None and original is not None:
                self.sizes.add(MeasuredSize(*want_size, *original, item_id=iid))
            try:
                # The conversion is the copy the QImage needs (it must own its pixels, not
                # borrow the pool's buffer) and gives the format pixmaps paint fastest.
                img = QImage(pixels, w, h, 4 * w, QImage.Format.Format_RGBX8888).convertToFormat(
                    QImage.Format.Format_RGB32)
            except Exception:  # noqa: BLE001 - a short buffer: a broken-image cell
                img = None
            if img is not None and 0 < size < max(w, h):
                scaled = img.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)
        with self._lock:
            first = not self._results
            self._results.append((gen, iid, img, size, scaled))
        if first:
            self._results_queued.emit()

    # ---- the size recorder's thread ------------------------------------------------------
    def _on_sizes_written(self, written: list[MeasuredSize]) -> None:
        got = {m.item_id: (m.width, m.height) for m in written if m.item_id is not None}
        with self._lock:
            self.measured.update(got)
            while len(self.measured) > 10_000:
                self.measured.popitem(last=False)
        if got:
            self.image_sizes_recorded.emit(got)

    # ---- GUI thread --------------------------------------------------------------------
    def _on_results_queued(self) -> None:
        with self._lock:
            batch, self._results = self._results, []
        done = False
        for gen, iid, image, size, scaled in batch:
            if gen != self.generation:
                continue
            if image is None or image.isNull():
                self.failed.add(iid)
            else:
                self._pixmaps[iid] = QPixmap.fromImage(image)
                self._pixmaps.move_to_end(iid)
                if scaled is not None and size == self.display_size:  # not for a size already left
                    if size != self._scaled_size:
                        self._scaled.clear()
                        self._scaled_size = size
                    if len(self._scaled) > self.capacity:
                        self._scaled.clear()
                    self._scaled[(iid, size)] = QPixmap.fromImage(scaled)
            done = True
            self.thumbnail_ready.emit(iid)
        if done:
            while len(self._pixmaps) > self.capacity:
                self._pixmaps.popitem(last=False)
