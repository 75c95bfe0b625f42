"""Thumbnails of item binaries, for the grid's worker processes (Qt-free).

The GUI decodes thumbnails in worker processes of its own (``dsdesk.ui.thumbnail_worker``);
this module is what such a worker needs of the catalog and the storage:

* :class:`CatalogLocation` / :func:`catalog_location`: where an open catalog lives (its
  URL, its internal store, its cache folder), which a fresh process needs to open it again;
* :class:`ThumbnailRenderer`: one per worker process.  It holds the catalog open (read
  use), a storage driver per driver id (read once), and the disk cache of
  :mod:`dsdesk.storage.thumbnails`; :meth:`ThumbnailRenderer.render` makes (or reads
  back) one thumbnail as raw RGBX pixels;
* :class:`ThumbKey`: what identifies one binary version, enough to find or make its
  thumbnail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dsdesk.errors import NotFoundError
from dsdesk.storage.kinds import storage_kind
from dsdesk.storage.thumbnails import DEFAULT_SIZE, ThumbnailCache, original_size, thumbnail_image, warm_up

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

__all__ = ["DEFAULT_SIZE", "CatalogLocation", "ThumbKey", "ThumbnailRenderer", "catalog_location"]

#: What :meth:`ThumbnailRenderer.render` returns for an image: (width, height, RGBX bytes,
#: the original's (width, height) or None).
Rendered = tuple[int, int, bytes, "tuple[int, int] | None"]


@dataclass(frozen=True, slots=True)
class ThumbKey:
    """What identifies one binary version: enough to find or make its thumbnail."""

    item_id: int
    blob_id: int
    driver_id: int
    storage_key: str
    etag: str | None
    needs_size: bool = False  # the catalog has no width/height for the blob: record the original's


@dataclass(frozen=True, slots=True)
class CatalogLocation:
    """Where a catalog lives: enough for another process to open it (picklable)."""

    url: str = field(repr=False)  # may carry the catalog's password: never in a repr
    blob_root: str
    cache_root: str


def catalog_location(cat: Catalog) -> CatalogLocation:
    """The location of the open catalog *cat*."""
    db = cat.db
    return CatalogLocation(db.url, str(db.blob_root), str(db.cache_root))


class ThumbnailRenderer:
    """Makes thumbnails of one catalog's binaries; one per worker process, not thread-safe.

    Opening the catalog can raise :class:`~dsdesk.errors.CatalogError` (an unreachable
    server, not a dsdesk catalog); :meth:`render` never raises.
    """

    def __init__(self, location: CatalogLocation):
        from dsdesk.catalog.engine import open_database

        warm_up()  # plugins and first-use costs now, not inside the first thumbnail's timing
        self._db = open_database(location.url, upgrade=False)
        self._db.blob_root, self._db.cache_root = Path(location.blob_root), Path(location.cache_root)
        self._cache = ThumbnailCache(self._db.cache_root)
        self._drivers: dict[int, object] = {}

    def _driver(self, driver_id: int):
        """The storage driver of *driver_id*, read from the catalog once per renderer."""
        drv = self._drivers.get(driver_id)
        if drv is None:
            from dsdesk.catalog.models import Driver
            from dsdesk.transfer.reader import driver_for_row

            with self._db.session() as s:
                row = s.get(Driver, driver_id)
                if row is None:
                    raise NotFoundError(f"storage driver {driver_id} not found")
                drv = self._drivers[driver_id] = driver_for_row(self._db, row)
        return drv

    def render(self, driver_id: int, storage_key: str, etag: str | None, size: int) -> Rendered | str:
        """The thumbnail of one object version as (width, height, RGBX bytes, the original's
        (width, height) or None), or the reason there is none (not an image, missing in
        storage, unreadable)."""
        local = False

        def opener():
            nonlocal local
            try:
                drv = self._driver(driver_id)
                # The internal store and local folders: re-reading an original costs a
                # local file read, so a cheap one needs no cached thumbnail.
                local = not storage_kind(drv.kind).remote
                return drv.open(storage_key)
            except Exception:
                self._drivers.pop(driver_id, None)  # credentials or the row may have changed: read it again
                raise

        try:
            im = thumbnail_image(self._cache, driver_id, storage_key, etag, opener, size, local=lambda: local)
            original = original_size(im)
            if im.mode != "RGB":
                im = im.convert("RGB")
            # 4 bytes a pixel: Pillow's layout, a memcpy
            return im.width, im.height, im.tobytes("raw", "RGBX"), original
        except Exception as e:  # noqa: BLE001 - the cell shows a broken-image glyph for any failure
            return f"{type(e).__name__}: {e}"
