"""Thumbnails and the local caches of generated files and originals.

* :func:`make_thumbnail` turns image bytes into a 256 px JPEG (quality 85).  JPEGs are
  decoded in draft mode (libjpeg scales by 1/2, 1/4, 1/8 while decoding: a 1920x1080
  photo costs a fraction of a full decode), the EXIF orientation is applied, and a file
  Pillow cannot read gives :class:`ThumbnailError`, never a crash.
* :class:`ThumbnailCache` keeps thumbnails on local disk under ``<cache_root>/thumbnails``,
  keyed by (driver, key, etag): a changed object has a new etag, hence a new thumbnail.
* :class:`Thumbnailer` gets a thumbnail for an object of a driver: local cache, then (when
  the driver has ``write_generated``) the shared copy in ``<prefix>/.dsdesk/thumbnails/``,
  then the original (through :class:`OriginalsCache`, size-bounded) — and writes what it
  made back to both.  :meth:`Thumbnailer.many` runs a batch on a thread pool: Pillow
  releases the GIL while decoding and resizing, so threads use every core without the
  cost of shipping bytes between processes.
* A thumbnail knows the size of its original (:func:`original_size`): the pixel size in
  the image's header, the same figure an upload records (:func:`dsdesk.storage.media.probe`;
  no EXIF rotation).  The cached JPEG keeps it in a comment, so a thumbnail read from the
  cache tells it too.  The GUI writes it back to blobs that were never measured (a sync
  lists objects, it does not read them).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from dsdesk.errors import DsdeskError, NotFoundError, StorageError
from dsdesk.storage.kinds import REGISTRY

THUMB_SIZE = 256
DEFAULT_SIZE = THUMB_SIZE  # the name the GUI's loader uses
QUALITY = 85
GENERATED_THUMBS = ".dsdesk/thumbnails/"
#: Where a thumbnail image keeps its original's (width, height) (``Image.info``), and the
#: comment its JPEG keeps it in.
ORIGINAL_SIZE = "dsdesk_original_size"
_COMMENT_PREFIX = b"dsdesk original "
ORIGINALS_MAX_BYTES = 2 << 30  # 2 GiB of recent originals
Image.MAX_IMAGE_PIXELS = 400_000_000  # refuse decompression bombs beyond 400 Mpx


class ThumbnailError(DsdeskError):
    """The bytes are not an image Pillow can decode (corrupt, truncated, unknown format)."""


def make_thumbnail(data: bytes | io.BufferedIOBase, size: int = THUMB_SIZE, quality: int = QUALITY) -> bytes:
    """A JPEG thumbnail (longest side *size*) of the image in *data*; ThumbnailError when
    it cannot be decoded."""
    return encode_thumbnail(make_thumbnail_image(data, size), quality)


def make_thumbnail_image(data: bytes | io.BufferedIOBase, size: int = THUMB_SIZE) -> Image.Image:
    """The thumbnail (longest side *size*, RGB or L) of the image in *data* as a Pillow
    image; ThumbnailError when it cannot be decoded."""
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    try:
        with Image.open(stream) as im:
            original = im.size  # the header's, as an upload records it; draft changes it
            # Draft first: it only works before the pixels are loaded.
            im.draft("RGB", (size, size))
            # In place: without an orientation tag nothing is copied (a copy cost 12 % of
            # the whole thumbnail, measured on 1920x1080 JPEGs).
            ImageOps.exif_transpose(im, in_place=True)
            im.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
            if im.mode not in ("RGB", "L"):
                im = _flatten(im)
            im.load()
            im.info[ORIGINAL_SIZE] = original
            return im
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            EOFError, IndexError, TypeError) as e:
        raise ThumbnailError(f"cannot make a thumbnail: {type(e).__name__}: {e}") from e


def encode_thumbnail(im: Image.Image, quality: int = QUALITY) -> bytes:
    """*im* as JPEG bytes (what the caches store), with its original's size in a comment
    (never the original's own comment, which Pillow would copy otherwise)."""
    size = original_size(im)
    comment = _COMMENT_PREFIX + b"%dx%d" % size if size else b""
    out = io.BytesIO()
    im.save(out, "JPEG", quality=quality, optimize=False, comment=comment)
    return out.getvalue()


def original_size(im: Image.Image) -> tuple[int, int] | None:
    """(width, height) of the original of the thumbnail *im* (one made here, or read back
    from a cached JPEG), None when unknown (a thumbnail cached before sizes were kept)."""
    size = im.info.get(ORIGINAL_SIZE)
    if size is not None:
        return size
    comment = im.info.get("comment")
    if isinstance(comment, bytes) and comment.startswith(_COMMENT_PREFIX):
        w, _x, h = comment[len(_COMMENT_PREFIX):].partition(b"x")
        if w.isdigit() and h.isdigit() and int(w) > 0 and int(h) > 0:
            return int(w), int(h)
    return None


def _flatten(im: Image.Image) -> Image.Image:
    """RGB on white for images with alpha or a palette (JPEG has neither)."""
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return im.convert("RGB")


_PLACEHOLDER: bytes | None = None


def placeholder_jpeg(size: int = THUMB_SIZE) -> bytes:
    """A neutral grey JPEG the grid shows for an item whose thumbnail cannot be made."""
    global _PLACEHOLDER
    if _PLACEHOLDER is None or size != THUMB_SIZE:
        out = io.BytesIO()
        Image.new("RGB", (size, size), (200, 200, 200)).save(out, "JPEG", quality=QUALITY)
        if size != THUMB_SIZE:
            return out.getvalue()
        _PLACEHOLDER = out.getvalue()
    return _PLACEHOLDER


def _digest(*parts: object) -> str:
    return hashlib.sha1("\x00".join(str(p) for p in parts).encode("utf-8", "surrogatepass")).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ThumbnailCache:
    """Thumbnails on local disk, keyed by (driver id, storage key, etag)."""

    def __init__(self, cache_root: str | os.PathLike):
        self.root = Path(cache_root) / "thumbnails"

    def path(self, driver_id: int, key: str, etag: str | None, size: int = THUMB_SIZE) -> Path:
        """Where the thumbnail of this version of the object is cached."""
        h = _digest(driver_id, key, etag) if size == THUMB_SIZE else _digest(driver_id, key, etag, size)
        return self.root / str(driver_id) / h[:2] / f"{h}.jpg"

    def get(self, driver_id: int, key: str, etag: str | None) -> Path | None:
        """The cached thumbnail's path, or None."""
        p = self.path(driver_id, key, etag)
        return p if p.is_file() else None

    def failed(self, driver_id: int, key: str, etag: str | None) -> str | None:
        """The recorded reason this version could not be thumbnailed, or None."""
        p = self.path(driver_id, key, etag).with_suffix(".err")
        try:
            return p.read_text()
        except OSError:
            return None

    def put(self, driver_id: int, key: str, etag: str | None, data: bytes) -> Path:
        """Store a thumbnail; returns its path."""
        p = self.path(driver_id, key, etag)
        _atomic_write(p, data)
        return p

    def put_failure(self, driver_id: int, key: str, etag: str | None, reason: str) -> None:
        """Remember that this version cannot be thumbnailed (no retry until it changes)."""
        _atomic_write(self.path(driver_id, key, etag).with_suffix(".err"), reason.encode())

    def invalidate(self, driver_id: int, key: str, etag: str | None) -> None:
        """Forget the thumbnail (and failure) of this version of the object."""
        p = self.path(driver_id, key, etag)
        for q in (p, p.with_suffix(".err")):
            try:
                q.unlink()
            except FileNotFoundError:
                pass


class OriginalsCache:
    """Recently read originals on local disk, bounded to *max_bytes* (oldest dropped first)."""

    def __init__(self, cache_root: str | os.PathLike, max_bytes: int = ORIGINALS_MAX_BYTES):
        self.root = Path(cache_root) / "originals"
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._size: int | None = None

    def path(self, driver_id: int, key: str, etag: str | None) -> Path:
        """Where this version of the object is (or would be) cached."""
        h = _digest(driver_id, key, etag)
        return self.root / h[:2] / h

    def get(self, driver, driver_id: int, key: str, etag: str | None) -> Path:
        """The local copy of the object, downloaded through *driver* on a miss."""
        p = self.path(driver_id, key, etag)
        if p.is_file():
            os.utime(p)  # recency for eviction
            return p
        driver.download(key, p)
        self._added(p.stat().st_size)
        return p

    def read(self, driver, driver_id: int, key: str, etag: str | None) -> bytes:
        """The object's bytes, from the cache when it holds them."""
        return self.get(driver, driver_id, key, etag).read_bytes()

    def _added(self, n: int) -> None:
        with self._lock:
            if self._size is None:
                self._size = sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())
            else:
                self._size += n
            if self._size <= self.max_bytes:
                return
            files = sorted((f for f in self.root.rglob("*") if f.is_file()), key=lambda f: f.stat().st_mtime)
            total = sum(f.stat().st_size for f in files)
            # Drop down to 80 % so eviction does not run on every download.
            for f in files:
                if total <= self.max_bytes * 0.8:
                    break
                try:
                    sz = f.stat().st_size
                    f.unlink()
                    total -= sz
                except FileNotFoundError:
                    pass
            self._size = total


@dataclass
class Thumbnail:
    """The outcome for one object: a JPEG file, or the reason there is none."""

    key: str
    path: Path | None = None
    error: str | None = None
    source: str = ""  # "cache", "shared" (from .dsdesk/ in the bucket) or "made"

    @property
    def ok(self) -> bool:
        """True when :attr:`path` holds a thumbnail."""
        return self.path is not None

    def data(self) -> bytes:
        """The thumbnail's bytes, or the placeholder when it could not be made."""
        return self.path.read_bytes() if self.path is not None else placeholder_jpeg()


class Thumbnailer:
    """Thumbnails of one driver's objects: cached locally, shared through ``.dsdesk/`` when
    the driver allows writing generated files."""

    def __init__(self, driver, driver_id: int, cache_root: str | os.PathLike, *, write_generated: bool | None = None,
                 originals: OriginalsCache | None = None, size: int = THUMB_SIZE):
        self.driver = driver
        self.driver_id = driver_id
        self.cache = ThumbnailCache(cache_root)
        self.originals = originals
        self.size = size
        wg = getattr(getattr(driver, "config", None), "write_generated", False) if write_generated is None \
            else write_generated
        entry = REGISTRY.get(getattr(driver, "kind", "internal"))
        self.write_generated = bool(wg) and entry is not None and entry.shares_generated

    def shared_key(self, key: str, etag: str | None) -> str:
        """The object key of the shared thumbnail in ``<prefix>/.dsdesk/thumbnails/``."""
        h = _digest(key, etag)
        return f"{getattr(self.driver, 'prefix', '')}{GENERATED_THUMBS}{h[:2]}/{h}.jpg"

    def get(self, key: str, etag: str | None) -> Thumbnail:
        """The thumbnail of *key* at version *etag*; never raises for a bad image."""
        p = self.cache.get(self.driver_id, key, etag)
        if p is not None:
            return Thumbnail(key, p, source="cache")
        reason = self.cache.failed(self.driver_id, key, etag)
        if reason is not None:
            return Thumbnail(key, error=reason)
        if self.write_generated:
            try:
                data = self.driver.read(self.shared_key(key, etag))
                return Thumbnail(key, self.cache.put(self.driver_id, key, etag, data), source="shared")
            except (NotFoundError, StorageError):
                pass  # not shared yet (or unreadable): make it
        try:
            data = (self.originals.read(self.driver, self.driver_id, key, etag) if self.originals is not None
                    else self.driver.read(key))
        except NotFoundError as e:
            return Thumbnail(key, error=str(e))
        try:
            thumb = make_thumbnail(data, self.size)
        except ThumbnailError as e:
            self.cache.put_failure(self.driver_id, key, etag, str(e))
            return Thumbnail(key, error=str(e))
        path = self.cache.put(self.driver_id, key, etag, thumb)
        if self.write_generated:
            try:
                self.driver.put_bytes(self.shared_key(key, etag), thumb)
            except (StorageError, DsdeskError):
                pass  # sharing is best effort; the local copy serves this client
        return Thumbnail(key, path, source="made")

    def many(self, objects: Iterable[tuple[str, str | None]], workers: int | None = None) -> list[Thumbnail]:
        """Thumbnails of many (key, etag) pairs in parallel (all cores by default), in order.

        A storage failure on one object is recorded on its result, not raised.
        """
        objs = list(objects)

        def one(ke):
            try:
                return self.get(*ke)
            except (StorageError, DsdeskError, OSError) as e:
                return Thumbnail(ke[0], error=str(e))

        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            return list(pool.map(one, objs))


def thumbnail_bytes(cache: ThumbnailCache, driver_id: int, key: str, etag: str | None,
                    opener, size: int = THUMB_SIZE) -> bytes:
    """The JPEG thumbnail of one object version: from *cache*, or made from the stream
    ``opener()`` returns and cached.  Raises ThumbnailError for an undecodable image and
    whatever *opener* raises when the bytes cannot be read (the GUI's worker shows a
    broken-image cell for both)."""
    p = cache.path(driver_id, key, etag, size)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        pass
    with opener() as f:
        thumb = make_thumbnail(f.read(), size)
    _atomic_write(p, thumb)
    return thumb


def warm_up() -> None:
    """Make two tiny thumbnails (a JPEG, a PNG with alpha), so that a fresh process's
    first real one does not pay for plugin imports and first use (its make time decides
    whether it is cached, see :func:`thumbnail_image`)."""
    Image.preinit()
    for fmt, mode in (("JPEG", "RGB"), ("PNG", "RGBA")):
        out = io.BytesIO()
        Image.new(mode, (2 * THUMB_SIZE, THUMB_SIZE)).save(out, fmt)
        make_thumbnail_image(out.getvalue())


#: CPU time (seconds) under which a thumbnail of a *local* original is not written to the disk
#: cache by :func:`thumbnail_image`: making it again costs a few milliseconds (a small JPEG in
#: draft mode: 1920x1080 at ~110 KB took 2.6 ms here), while the cache's JPEG encode and file
#: write add ~0.25 ms (~10 %) to every first view and 10-20 KB of disk per item.  A bigger
#: or slower original (a 1 MB photo takes 8-10 ms, a PNG a full decode) is cached.
#: A measured time, so the decision for an image near it depends on the machine's speed at
#: that moment (the same 640x480 JPEG took 2-3.3 ms, with spikes past 5 ms, on one VM).
CHEAP_REMAKE_SECONDS = 0.004
#: Overrides :data:`CHEAP_REMAKE_SECONDS` (in milliseconds) for this process and the thumbnail
#: workers it starts (they get its environment): 0 caches every thumbnail (a "local" folder
#: on a slow network mount), a large value none of local originals (what the tests pin, so
#: that the speed of the machine cannot decide what they see).
CHEAP_REMAKE_ENV = "DSDESK_THUMBNAIL_CHEAP_MS"


def cheap_remake_seconds() -> float:
    """The CPU time under which a local original's thumbnail is not cached: ``$DSDESK_THUMBNAIL_CHEAP_MS``
    when set to a number, else :data:`CHEAP_REMAKE_SECONDS`."""
    raw = os.environ.get(CHEAP_REMAKE_ENV)
    if raw:
        try:
            return max(0.0, float(raw) / 1000)
        except ValueError:
            pass
    return CHEAP_REMAKE_SECONDS


def thumbnail_image(cache: ThumbnailCache, driver_id: int, key: str, etag: str | None,
                    opener, size: int = THUMB_SIZE, *, local: bool | Callable[[], bool] = False) -> Image.Image:
    """Like :func:`thumbnail_bytes`, but the decoded thumbnail: the one just made is
    returned as it is (not decoded again from the JPEG written to the cache).

    *local* (a bool, or a function asked after ``opener()`` ran) says the original lies on
    local disk (the internal store, a local folder): a thumbnail that took less than
    :func:`cheap_remake_seconds` of CPU to make is then not cached (made again when
    needed).  Remote originals (S3, GCS, Azure) and costly decodes are always cached.
    A cached thumbnail is used whatever *local* says; the cache stays keyed by
    (driver, key, etag)."""
    p = cache.path(driver_id, key, etag, size)
    try:
        with Image.open(p) as im:
            im.load()
            return im
    except (UnidentifiedImageError, OSError, SyntaxError):
        pass  # not cached yet, or a damaged cache file: make it (again)
    with opener() as f:
        t0 = time.thread_time()  # after the opener: a driver's first connection is not the image's cost
        im = make_thumbnail_image(f.read(), size)
    cheap = time.thread_time() - t0 < cheap_remake_seconds()
    if not (cheap and (local() if callable(local) else local)):
        _atomic_write(p, encode_thumbnail(im))
    return im
