"""Image sizes learnt from thumbnails, written back to the catalog (Qt-free; the GUI's
thumbnail loader uses it, any other reader of images may).

A sync lists objects and never reads them, so the blobs it adds have no width and height
(only an upload to the internal store measures the bytes).  The grid's thumbnail workers
decode the image anyway and report the original's size with each thumbnail; the loader
hands the sizes of blobs that have none to an :class:`ImageSizeRecorder`, which writes
them in batches — one short write transaction every :attr:`ImageSizeRecorder.delay`
seconds at most — on a thread of its own with its own sessions: a SQLite catalog has one
writer at a time, and a sync or an import can hold the write lock for a long while, which
the GUI thread must never wait for.

A size is written only to a blob that still has none and still has the version (etag)
the thumbnail was made from: a blob a sync found changed meanwhile got its width and
height cleared and a new etag, and the old version's size must not land on it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, bindparam, update

from dsdesk.catalog.models import Blob

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

log = logging.getLogger(__name__)

#: The longest wait between two tries of a batch that cannot be written (seconds).
MAX_RETRY_DELAY = 300.0


@dataclass(frozen=True, slots=True)
class MeasuredSize:
    """The size of one blob version, learnt while making the thumbnail of *item_id*."""

    blob_id: int
    etag: str | None
    width: int
    height: int
    item_id: int | None = None


_SET_SIZE = (update(Blob)
             .where(and_(Blob.id == bindparam("b_id"), Blob.width.is_(None), Blob.height.is_(None),
                         Blob.etag.is_not_distinct_from(bindparam("b_etag"))))
             .values(width=bindparam("b_width"), height=bindparam("b_height")))


def record_image_sizes(cat: Catalog, sizes: Iterable[MeasuredSize]) -> list[MeasuredSize]:
    """Write *sizes* to their blobs in one transaction; returns those written (a blob that
    has a size already, or another etag now, or is gone, is left alone).  Raises the
    catalog's error when it cannot write (locked past its busy timeout, read-only)."""
    sizes = list(sizes)
    if not sizes:
        return []
    written = []
    with cat.db.session(write=True) as s:
        con = s.connection()
        for m in sizes:
            r = con.execute(_SET_SIZE, {"b_id": m.blob_id, "b_etag": m.etag, "b_width": m.width,
                                        "b_height": m.height})
            if r.rowcount == 1:
                written.append(m)
    return written


class ImageSizeRecorder:
    """Collects :class:`MeasuredSize` from any thread; a thread of its own writes them.

    :meth:`add` is cheap (a lock and an append) and never touches the catalog.  The first
    size of a batch starts a wait of :attr:`delay` seconds (a screen of thumbnails arrives
    within it), then the batch is written with :func:`record_image_sizes`; when that fails
    (the catalog is locked past its busy timeout, or read-only) the batch is kept and tried
    again after :attr:`retry_delay`, twice as long after each failure in a row (up to
    :data:`MAX_RETRY_DELAY`).  *on_written* gets each written batch on the
    recorder's thread.  A blob version is written once per recorder: the grid's cached
    row facts still say "no size" and its thumbnails are made again when scrolled back to.
    """

    def __init__(self, cat: Catalog, on_written: Callable[[list[MeasuredSize]], None] | None = None, *,
                 delay: float = 1.0, retry_delay: float = 5.0, max_pending: int = 50_000):
        self.cat = cat
        self.delay = delay
        self.retry_delay = retry_delay
        self.max_pending = max_pending
        self._on_written = on_written
        self._cond = threading.Condition()
        self._pending: dict[tuple[int, str | None], MeasuredSize] = {}
        self._seen: set[tuple[int, str | None]] = set()  # queued or written by this recorder
        self._thread: threading.Thread | None = None
        self._flush = False
        self._closed = False
        self.written = 0  # sizes written so far (for tests and the curious)
        self.last_error: str | None = None

    # ---- any thread ------------------------------------------------------------------
    def add(self, size: MeasuredSize) -> bool:
        """Queue *size* for writing; False when this blob version was queued already, the
        recorder is closed or too much is pending (a catalog that stays locked)."""
        key = (size.blob_id, size.etag)
        with self._cond:
            if self._closed or key in self._seen or len(self._pending) >= self.max_pending:
                return False
            self._seen.add(key)
            self._pending[key] = size
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dsdesk-image-sizes", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return True

    @property
    def pending(self) -> int:
        """Sizes waiting to be written (the batch being written included)."""
        with self._cond:
            return len(self._pending)

    def flush(self, timeout: float = 10.0) -> bool:
        """Write what is pending now and wait for it; False when that did not happen within
        *timeout* seconds (the catalog is locked, say)."""
        with self._cond:
            self._flush = True
            self._cond.notify_all()
            return self._cond.wait_for(lambda: not self._pending or self._thread is None, timeout)

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Write what is pending (waiting at most *timeout* seconds) and stop the thread.
        False when the thread did not end in time: it is left to finish its write (a daemon
        thread; the sizes are learnt again with the next thumbnails otherwise)."""
        with self._cond:
            self._closed = self._flush = True
            thread = self._thread
            self._cond.notify_all()
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    # ---- the recorder's thread ---------------------------------------------------------
    def _run(self) -> None:
        failures = 0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    self._thread = None
                    self._cond.notify_all()
                    return
                # Let a batch gather: a screen of thumbnails arrives within the delay.
                self._cond.wait_for(lambda: self._flush or self._closed, self.delay)
                self._flush = False
                batch = list(self._pending.values())
            try:
                written = record_image_sizes(self.cat, batch)
            except Exception as e:  # noqa: BLE001 - locked past the busy timeout, read-only, gone: try later
                self.last_error = f"{type(e).__name__}: {e}"
                (log.debug if failures else log.warning)("cannot record %d image sizes: %s", len(batch),
                                                          self.last_error)
                wait = min(MAX_RETRY_DELAY, self.retry_delay * 2 ** failures)
                failures += 1
                with self._cond:
                    if self._closed:  # no retries while the window closes: learnt again next time
                        self._pending.clear()
                        self._cond.notify_all()
                        continue
                    self._cond.wait_for(lambda: self._closed, wait)
                continue
            failures = 0
            with self._cond:
                for m in batch:
                    self._pending.pop((m.blob_id, m.etag), None)
                self.written += len(written)
                self._cond.notify_all()
            if written and self._on_written is not None:
                try:
                    self._on_written(written)
                except Exception:  # noqa: BLE001 - a receiver deleted while the window closes
                    pass
