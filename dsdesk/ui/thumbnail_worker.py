"""The Qt-free half of the grid's thumbnails: decoding in worker processes.

Kept free of Qt on purpose (it runs in worker processes that must start fast and stay
small): :class:`ThumbnailProcessPool` is a process pool whose workers hold the catalog
open, and :func:`render` makes (or reads from the disk cache) one thumbnail and returns
its pixels as raw ``BGRX`` bytes — the byte order of ``QImage.Format_RGB32`` on
little-endian machines, so the GUI process builds its QImage with one copy and no decode.

Why processes: a JPEG decode in Pillow releases the GIL, but the Python around it (the
blob lookup, draft, EXIF, encoding for the cache, the QImage decode of the result) does
not, and on a busy grid those pieces made the GUI thread wait for the GIL.  The parent
process now does a pipe read and a memcpy per thumbnail.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from dsdesk.jobs.process import mp_context

_db = None
_cache = None
_drivers: dict[int, object] = {}


def _init_worker(url: str, blob_root: str, cache_root: str, env: dict[str, str]) -> None:
    """Worker initializer: the parent's environment and an open catalog (read-only use)."""
    global _db, _cache
    os.environ.clear()
    os.environ.update(env)
    from dsdesk.catalog.engine import open_database
    from dsdesk.storage.thumbnails import ThumbnailCache

    _db = open_database(url, upgrade=False)
    _db.blob_root, _db.cache_root = Path(blob_root), Path(cache_root)
    _cache = ThumbnailCache(_db.cache_root)


def _driver(driver_id: int):
    """The storage driver of *driver_id*, read from the catalog once per worker."""
    drv = _drivers.get(driver_id)
    if drv is None:
        from dsdesk.catalog.models import Driver
        from dsdesk.errors import NotFoundError
        from dsdesk.transfer.reader import driver_for_row

        with _db.session() as s:
            row = s.get(Driver, driver_id)
            if row is None:
                raise NotFoundError(f"storage driver {driver_id} not found")
            drv = _drivers[driver_id] = driver_for_row(_db, row)
    return drv


def render(driver_id: int, storage_key: str, etag: str | None, size: int) -> tuple[int, int, bytes] | str:
    """(width, height, BGRX bytes) of the thumbnail of one object version, or the reason
    there is none (not an image, missing in storage).  Runs in a worker process."""
    from dsdesk.storage.thumbnails import thumbnail_image

    def opener():
        try:
            return _driver(driver_id).open(storage_key)
        except Exception:
            _drivers.pop(driver_id, None)  # credentials or the row may have changed: read it again next time
            raise

    try:
        im = thumbnail_image(_cache, driver_id, storage_key, etag, opener, size)
        if im.mode != "RGB":
            im = im.convert("RGB")
        return im.width, im.height, im.tobytes("raw", "BGRX" if sys.byteorder == "little" else "XRGB")
    except Exception as e:  # noqa: BLE001 - the cell shows a broken-image glyph for any failure
        return f"{type(e).__name__}: {e}"


class ThumbnailProcessPool:
    """A pool of worker processes for :func:`render` over one catalog.

    Thread-safe (``submit`` from the loader's threads).  The processes start on the first
    request; :meth:`shutdown` stops them.
    """

    def __init__(self, db, workers: int | None = None):
        self._args = (db.url, str(db.blob_root), str(db.cache_root), dict(os.environ))
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, driver_id: int, storage_key: str, etag: str | None, size: int) -> Future:
        """Schedule :func:`render`; the future's result is its return value."""
        with self._lock:
            ex = self._executor
            if ex is None:
                ex = self._executor = ProcessPoolExecutor(self.workers, mp_context=mp_context(),
                                                          initializer=_init_worker, initargs=self._args)
        return ex.submit(render, driver_id, storage_key, etag, size)

    def render(self, driver_id: int, storage_key: str, etag: str | None, size: int) -> tuple[int, int, bytes] | str:
        """:func:`render` in a worker, waited for (call it from a thread, never the GUI's).

        A worker that died (a crash in a decoder) breaks the whole executor; the pool is
        then replaced and the render tried once more, so one bad file does not blank the
        grid.  A second failure is reported as the reason."""
        try:
            return self.submit(driver_id, storage_key, etag, size).result()
        except BrokenProcessPool:
            self._replace_broken()
        try:
            return self.submit(driver_id, storage_key, etag, size).result()
        except BrokenProcessPool as e:
            self._replace_broken()
            return f"the thumbnail worker died: {e}"

    def _replace_broken(self) -> None:
        with self._lock:
            ex = self._executor
            if ex is not None and getattr(ex, "_broken", False):
                self._executor = None
            else:
                ex = None
        if ex is not None:
            ex.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        """Stop the workers (queued renders are dropped, a running one finishes first)."""
        with self._lock:
            ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
