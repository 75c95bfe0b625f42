"""Storage drivers: one interface over the internal store, a local folder, S3, GCS and Azure Blob.

A driver addresses objects by *key*: the object's key in its bucket, prefix included
(``datasets/cats/001.jpg`` for a driver with path ``datasets``), which is what
``blob.storage_key`` keeps; keys ending in ``/`` are folder markers.  For the internal
store the key is the sha256 of the bytes.  Listing is streamed
page by page with a resumable cursor, in the byte order of the keys, so a sync holds
one page in memory and can continue where a killed run stopped.

Cloud drivers go through fsspec (s3fs, gcsfs, adlfs) with short timeouts and few retries:
a wrong endpoint or a dead server must surface as a :class:`~dsdesk.errors.StorageError`
in seconds, never a hang.  Every library error is translated into a StorageError that
names the bucket and the key; secrets never appear in a message.

This module knows nothing about the catalog: callers pass a :class:`DriverConfig`.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import shutil
import stat
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from dsdesk.errors import InvalidInputError, NotFoundError, StorageError
from dsdesk.storage import credentials as creds
from dsdesk.storage.base import StoredObject
from dsdesk.storage.blobstore import BlobStore

GENERATED_PREFIX = ".dsdesk/"  # generated files (thumbnails ...) live here; never synced
DEFAULT_PAGE = 1000
CONNECT_TIMEOUT = 5  # seconds; an unreachable endpoint fails fast
READ_TIMEOUT = 60
RETRIES = 2  # attempts per request (1 retry): transient blips pass, dead servers fail fast


@dataclass(frozen=True)
class DriverConfig:
    """What is needed to open a driver; the catalog's ``driver`` row maps onto it."""

    kind: str
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None
    credentials_ref: dict[str, Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    allow_external_delete: bool = False
    write_generated: bool = False
    name: str = ""


@dataclass(slots=True)
class Entry:
    """One object as a listing sees it.  ``etag`` is the cloud's content marker (S3 ETag,
    GCS md5Hash, Azure Content-MD5 or ETag, inode+mtime for local files)."""

    key: str
    size: int = 0
    etag: str | None = None
    last_modified: dt.datetime | None = None  # naive UTC
    is_dir: bool = False
    version: str | None = None  # GCS generation, Azure ETag: changes on every overwrite


@dataclass(slots=True)
class Page:
    """One page of a listing and the cursor that resumes *after* it."""

    entries: list[Entry]
    cursor: str | None


def normalize_prefix(prefix: str | None) -> str:
    """``"a/b"``, ``"/a/b/"`` → ``"a/b/"``; empty → ``""``.  Refuses ``..`` and backslashes."""
    p = (prefix or "").strip().strip("/")
    if not p:
        return ""
    parts = p.split("/")
    if any(s in ("", ".", "..") for s in parts) or "\\" in p:
        raise InvalidInputError(f"illegal driver path {prefix!r}: empty, '.' or '..' segments or backslashes")
    return p + "/"


_EPOCH = dt.datetime(1970, 1, 1)


def _utc(t: Any) -> dt.datetime | None:
    """A naive-UTC datetime (microseconds) from what a library returned."""
    if t is None:
        return None
    if isinstance(t, (int, float)):
        return dt.datetime.fromtimestamp(t, dt.UTC).replace(tzinfo=None)
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _stored(e: Entry) -> StoredObject:
    return StoredObject(e.key, e.size, etag=e.etag)


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or key.startswith("/") or "\\" in key:
        raise InvalidInputError(f"illegal storage key {key!r}")
    if any(s in (".", "..") for s in key.split("/")):
        raise InvalidInputError(f"illegal storage key {key!r}: '.' and '..' segments are not allowed")
    return key


class BaseDriver(ABC):
    """The interface every driver implements.  Instances are safe to share between threads."""

    kind = "?"

    def __init__(self, config: DriverConfig):
        self.config = config
        self.prefix = normalize_prefix(config.prefix)

    # -- identity -------------------------------------------------------------
    @property
    def label(self) -> str:
        """``s3://bucket/prefix`` style, for messages."""
        return f"{self.kind}://{self.config.bucket}/{self.prefix}"

    # -- listing --------------------------------------------------------------
    def list_pages(self, cursor: str | None = None, page_size: int = DEFAULT_PAGE) -> Iterator[Page]:
        """Yield the objects under the prefix page by page in key order, starting after
        *cursor* (the ``cursor`` of an earlier :class:`Page`: the last key it held)."""
        raise StorageError(f"{self.kind} storage cannot be listed")

    def list_all(self) -> Iterator[Entry]:
        """Every entry under the prefix (streamed)."""
        for page in self.list_pages():
            yield from page.entries

    # -- objects --------------------------------------------------------------
    @abstractmethod
    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        """The bytes of *key*, or only ``[start, end)`` of them."""

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of *key* (a ranged GET on the clouds)."""
        return self.read(key, start, end)

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable binary file object on *key* (seekable; ranges fetched on demand)."""

    @abstractmethod
    def info(self, key: str) -> Entry:
        """The entry of *key*; NotFoundError when it does not exist."""

    def exists(self, key: str) -> bool:
        """True when *key* exists."""
        try:
            self.info(key)
            return True
        except NotFoundError:
            return False

    @abstractmethod
    def put_file(self, local_path: str | os.PathLike, key: str | None = None) -> StoredObject:
        """Write the local file as object *key* (prefix included; the upload path builds it
        as prefix + item path) and return what was stored."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> StoredObject:
        """Write *data* as object *key* and return what was stored."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove *key*; False when it was already gone."""

    def download(self, key: str, dest: str | os.PathLike) -> None:
        """Copy *key* to the local file *dest* (parents created, written atomically)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, self.open(key) as src:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # -- checks ---------------------------------------------------------------
    def test(self, write: bool = False) -> dict[str, Any]:
        """Check access: list one page, read one object, and (only when *write*) write and
        delete a small test file under ``.dsdesk/``.  Returns what was checked; raises
        StorageError naming the first thing that failed."""
        out: dict[str, Any] = {"driver": self.label, "list": False, "read": None, "write": None}
        first: Entry | None = None
        for page in self.list_pages(page_size=50):
            out["list"] = True
            first = next((e for e in page.entries if not e.is_dir and e.size > 0
                          and not e.key.startswith(self.prefix + GENERATED_PREFIX)), None)
            break
        out["list"] = True
        if first is not None:
            self.read(first.key, 0, 1)
            out["read"] = first.key
        if write:
            key = self.prefix + GENERATED_PREFIX + "test-write"
            self.put_bytes(key, b"dsdesk write test\n")
            self.delete(key)
            out["write"] = True
        return out

    def close(self) -> None:  # noqa: B027 - an optional hook, not part of the abstract interface
        """Release connections (optional)."""


# ============================================================================ internal
class InternalDriver(BaseDriver):
    """The app's own content-addressed store; keys are sha256 hex.  Not listable/syncable."""

    kind = "internal"

    def __init__(self, config: DriverConfig, blob_root: str | os.PathLike):
        super().__init__(config)
        self.store = BlobStore(blob_root)

    @property
    def label(self) -> str:
        return f"internal://{self.store.root}"

    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        raise StorageError("the internal store is not synced: only external drivers (local, s3, gcs, azure) are")

    def read(self, key, start=None, end=None):
        if start is None and end is None:
            with self.store.open(key) as f:
                return f.read()
        size = self.store.path_of(key).stat().st_size if end is None else end
        return self.store.read_range(key, start or 0, size)

    def open(self, key):
        return self.store.open(key)

    def info(self, key):
        p = self.store.path_of(key)
        try:
            st = p.stat()
        except FileNotFoundError as e:
            raise NotFoundError(f"internal blob {key[:12]}... not found") from e
        return Entry(key, st.st_size, key, _utc(st.st_mtime))

    def put_file(self, local_path, key=None):
        """Store the file; the key is its sha256 (an explicit *key* is ignored: content decides)."""
        k, size = self.store.put_file(local_path)
        return StoredObject(k, size, etag=k, content_hash=k)

    def put_bytes(self, key, data):
        k, size = self.store.put_bytes(data)
        return StoredObject(k, size, etag=k, content_hash=k)

    def delete(self, key):
        return self.store.delete(key)

    def test(self, write=False):
        self.store.root.mkdir(parents=True, exist_ok=True)
        if write and not os.access(self.store.root, os.W_OK):
            raise StorageError(f"internal store {self.store.root} is not writable")
        return {"driver": self.label, "list": None, "read": True, "write": bool(write) or None}


# =============================================================================== local
class LocalDriver(BaseDriver):
    """A folder on this machine (or a mounted share).  ``bucket`` is the folder's path."""

    kind = "local"

    def __init__(self, config: DriverConfig):
        super().__init__(config)
        if not config.bucket:
            raise InvalidInputError("a local driver needs a folder path (bucket_name)")
        self.base = Path(os.path.expanduser(config.bucket)).resolve()
        self.root = self.base / self.prefix

    @property
    def label(self) -> str:
        return f"local://{self.root}"

    def _path(self, key: str) -> Path:
        return self.base / _check_key(key)

    @staticmethod
    def _etag(st: os.stat_result) -> str:
        # Inode + mtime: changes when the file is rewritten, survives a rename (so sync
        # recognises a moved file) and costs no read.
        return f"{st.st_ino:x}-{st.st_mtime_ns:x}"

    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        if not self.root.is_dir():
            raise StorageError(f"local folder does not exist: {self.root}")
        after = cursor or ""
        page: list[Entry] = []
        for e in self._walk(str(self.root), self.prefix, after):
            page.append(e)
            if len(page) >= page_size:
                yield Page(page, page[-1].key)
                page = []
        if page:
            yield Page(page, page[-1].key)

    def _walk(self, path: str, rel: str, after: str) -> Iterator[Entry]:
        # Entries sorted by name with "/" appended to folders give exactly the byte order
        # of the flat keys, which is what makes the "last key" cursor valid.
        try:
            with os.scandir(path) as it:
                ents = sorted(((d.name + "/" if d.is_dir(follow_symlinks=False) else d.name), d) for d in it)
        except PermissionError as e:
            raise StorageError(f"cannot list {path}: permission denied") from e
        except FileNotFoundError:
            return
        for name, d in ents:
            key = rel + name
            if name.endswith("/"):
                if key <= after and not after.startswith(key):
                    continue
                if key > after:
                    st = d.stat(follow_symlinks=False)
                    yield Entry(key, 0, None, _utc(st.st_mtime), True)
                yield from self._walk(d.path, key, after)
            else:
                if key <= after:
                    continue
                try:
                    st = d.stat()
                except FileNotFoundError:  # vanished while listing, or a dangling link
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue  # sockets, fifos, devices
                yield Entry(key, st.st_size, f"{st.st_ino:x}-{st.st_mtime_ns:x}",
                            _EPOCH + dt.timedelta(microseconds=st.st_mtime_ns // 1000))

    def read(self, key, start=None, end=None):
        try:
            with open(self._path(key), "rb") as f:
                if start:
                    f.seek(start)
                return f.read() if end is None else f.read(max(0, end - (start or 0)))
        except FileNotFoundError as e:
            raise NotFoundError(f"{key!r} not found in {self.label}") from e
        except OSError as e:
            raise StorageError(f"cannot read {key!r} from {self.label}: {e.strerror}") from e

    def open(self, key):
        try:
            return open(self._path(key), "rb")
        except FileNotFoundError as e:
            raise NotFoundError(f"{key!r} not found in {self.label}") from e

    def info(self, key):
        try:
            st = self._path(key).stat()
        except FileNotFoundError as e:
            raise NotFoundError(f"{key!r} not found in {self.label}") from e
        return Entry(key, st.st_size, self._etag(st), _EPOCH + dt.timedelta(microseconds=st.st_mtime_ns // 1000))

    def put_file(self, local_path, key):
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        os.close(fd)
        try:
            shutil.copyfile(local_path, tmp)
            os.replace(tmp, dest)
        except FileNotFoundError as e:
            os.path.exists(tmp) and os.unlink(tmp)
            raise NotFoundError(f"no such file: {local_path}") from e
        except BaseException:
            os.path.exists(tmp) and os.unlink(tmp)
            raise
        return _stored(self.info(key))

    def put_bytes(self, key, data):
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
        return _stored(self.info(key))

    def delete(self, key):
        try:
            self._path(key).unlink()
            return True
        except FileNotFoundError:
            return False

    def test(self, write=False):
        if not self.root.is_dir():
            raise StorageError(f"local folder does not exist: {self.root}")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise StorageError(f"local folder is not readable: {self.root}")
        return super().test(write)


# ============================================================================== fsspec
def _sync(fs, coro):
    """Run *coro* on the filesystem's event loop from this (non-loop) thread."""
    from fsspec.asyn import sync

    return sync(fs.loop, lambda: coro)


class FsspecDriver(BaseDriver):
    """Common code of the cloud drivers: paths, reads, writes, error translation."""

    def __init__(self, config: DriverConfig):
        super().__init__(config)
        if not config.bucket or "/" in config.bucket.strip("/"):
            raise InvalidInputError(f"a {self.kind} driver needs a bucket name without '/', not {config.bucket!r}")
        self.bucket = config.bucket.strip("/")
        self.fs = self._make_fs(creds.resolve(self.kind, config.credentials_ref))

    @abstractmethod
    def _make_fs(self, kw: dict[str, Any]):
        """The fsspec filesystem for this cloud, from the resolved credential keywords *kw*."""

    def _full(self, key: str) -> str:
        return f"{self.bucket}/{_check_key(key)}"

    def _translate(self, e: BaseException, what: str) -> StorageError:
        """A StorageError that says what went wrong in words a user can act on."""
        return translate_error(e, what, self)

    def read(self, key, start=None, end=None):
        try:
            return self.fs.cat_file(self._full(key), start=start, end=end)
        except Exception as e:  # noqa: BLE001 - translated below
            raise self._translate(e, f"read {key!r}") from e

    def open(self, key):
        try:
            return self.fs.open(self._full(key), "rb", block_size=4 << 20, cache_type="readahead")
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"open {key!r}") from e

    def info(self, key):
        try:
            self.fs.invalidate_cache()
            return self._entry(self.fs.info(self._full(key)))
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"stat {key!r}") from e

    def put_file(self, local_path, key=None):
        if key is None:
            raise InvalidInputError(f"writing to {self.label} needs an object key")
        if not os.path.isfile(local_path):
            raise NotFoundError(f"no such file: {local_path}")
        try:
            self.fs.put_file(os.fspath(local_path), self._full(key))
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"write {key!r}") from e
        return _stored(self.info(key))

    def put_bytes(self, key, data):
        try:
            self.fs.pipe_file(self._full(key), data)
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"write {key!r}") from e
        return _stored(self.info(key))

    def delete(self, key):
        try:
            self.fs.rm_file(self._full(key))
            self.fs.invalidate_cache()
            return True
        except FileNotFoundError:
            return False
        except Exception as e:  # noqa: BLE001
            err = self._translate(e, f"delete {key!r}")
            if isinstance(err, NotFoundError):
                return False
            raise err from e

    @abstractmethod
    def _entry(self, info: dict) -> Entry:
        """An Entry from one fsspec ``info`` dict of this cloud (its own change markers)."""

    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        """Pages in key order.  The cursor is the last key of the previous page, so a
        resumed listing asks the server to start there (S3 StartAfter, GCS startOffset)."""
        after = cursor or None
        while True:
            try:
                entries, more = _sync(self.fs, self._list_page(after, page_size))
            except StorageError:
                raise
            except Exception as e:  # noqa: BLE001
                raise self._translate(e, "list") from e
            entries = [e for e in entries if after is None or e.key > after]
            if entries:
                after = entries[-1].key
                yield Page(entries, after)
            if not more:
                return
            if not entries:
                # A server that ignores the start position would hand out the same page
                # forever; say so instead of spinning.
                raise StorageError(f"cannot list {self.label}: the listing did not advance past {after!r}")

    async def _list_page(self, after: str | None, n: int) -> tuple[list[Entry], bool]:
        """One page of at most *n* entries after *after*, and whether more follow (drivers
        that list through this class implement it; Azure overrides list_pages instead)."""
        raise StorageError(f"{self.kind} storage cannot be listed page by page")

    def close(self):
        pass


class S3Driver(FsspecDriver):
    """Amazon S3 and S3-compatible stores (``endpoint_url``; path-style addressing)."""

    kind = "s3"

    def _make_fs(self, kw):
        import s3fs

        c = self.config
        client_kwargs: dict[str, Any] = {}
        if c.endpoint_url:
            client_kwargs["endpoint_url"] = c.endpoint_url
        if c.region:
            client_kwargs["region_name"] = c.region
        path_style = c.options.get("path_style", bool(c.endpoint_url))
        config_kwargs = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT,
                         "retries": {"max_attempts": RETRIES, "mode": "standard"}}
        if path_style:
            config_kwargs["s3"] = {"addressing_style": "path"}
        fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False,
                               client_kwargs=client_kwargs, config_kwargs=config_kwargs, **kw)
        fs.retries = RETRIES  # s3fs's own retry loop (5 by default, with backoff)
        return fs

    def _entry(self, info):
        key = info["name"].split("/", 1)[1]
        etag = (info.get("ETag") or info.get("etag") or "").strip('"') or None
        return Entry(key, int(info.get("size") or info.get("Size") or 0), etag,
                     _utc(info.get("LastModified")), key.endswith("/") or info.get("type") == "directory", etag)

    async def _list_page(self, after, n):
        client = await self.fs.set_session()
        kw: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": n}
        if after:
            kw["StartAfter"] = after
        resp = await client.list_objects_v2(**kw)
        out = []
        for o in resp.get("Contents", []):
            key = o["Key"]
            if key == self.prefix:
                continue  # the prefix's own folder marker
            etag = (o.get("ETag") or "").strip('"') or None
            out.append(Entry(key, int(o.get("Size", 0)), etag, _utc(o.get("LastModified")), key.endswith("/"), etag))
        return out, bool(resp.get("IsTruncated"))


class GCSDriver(FsspecDriver):
    """Google Cloud Storage (``endpoint_url`` for emulators and private endpoints)."""

    kind = "gcs"

    def _make_fs(self, kw):
        # gcsfs >= 2026.3 makes a gRPC layout call per bucket that hangs ~60 s against
        # anything but Google itself; the switch is read at import time.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        import aiohttp
        import gcsfs

        cls = _quick_gcs_class(gcsfs)
        c = self.config
        extra: dict[str, Any] = {}
        if c.endpoint_url:
            extra["endpoint_url"] = c.endpoint_url
        project = c.options.get("project") or "dsdesk"
        return cls(project=project, skip_instance_cache=True,
                   requests_timeout=aiohttp.ClientTimeout(total=READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                   **extra, **kw)

    def _entry(self, info):
        return self._from_object(info["name"].split("/", 1)[1], info)

    @staticmethod
    def _from_object(key: str, o: dict) -> Entry:
        md5 = o.get("md5Hash")
        etag = base64.b64decode(md5).hex() if md5 else (o.get("etag") or None)
        return Entry(key, int(o.get("size") or 0), etag, _utc(o.get("updated")),
                     key.endswith("/") or o.get("type") == "directory", str(o.get("generation") or "") or None)

    async def _list_page(self, after, n):
        # One page per call: the driver keeps the position itself (startOffset = last key,
        # inclusive, filtered by list_pages) instead of a page token that dies with the process.
        params: dict[str, Any] = {"prefix": self.prefix, "maxResults": n}
        if after:
            # startOffset is inclusive: ask for one more, the first is the key we had.
            params.update(startOffset=after, maxResults=n + 1)
        page = await self.fs._call("GET", "b/{}/o", self.bucket, json_out=True, **params)
        out = []
        for o in page.get("items", []):
            key = o["name"]
            if key != self.prefix:
                out.append(self._from_object(key, o))
        return out, bool(page.get("nextPageToken"))


_QUICK_GCS = None


def _quick_gcs_class(gcsfs):
    """GCSFileSystem with one quick retry instead of six with up to 32 s back-off each."""
    global _QUICK_GCS
    if _QUICK_GCS is not None:
        return _QUICK_GCS
    import aiohttp
    from gcsfs.retry import HttpError

    raw = gcsfs.GCSFileSystem._request.__wrapped__

    class QuickGCSFileSystem(gcsfs.GCSFileSystem):
        async def _request(self, *args, **kwargs):
            for attempt in range(RETRIES):
                try:
                    return await raw(self, *args, **kwargs)
                except (TimeoutError, aiohttp.ClientError, HttpError) as e:
                    code = getattr(e, "code", None) or getattr(e, "status", None)
                    transient = code is None or code in (408, 429, 500, 502, 503, 504)
                    if attempt == RETRIES - 1 or not transient:
                        raise
                    await asyncio.sleep(0.2)

    _QUICK_GCS = QuickGCSFileSystem
    return _QUICK_GCS


class AzureDriver(FsspecDriver):
    """Azure Blob Storage; ``bucket`` is the container, ``endpoint_url`` the blob endpoint
    (``http://127.0.0.1:10000/devstoreaccount1`` for Azurite)."""

    kind = "azure"

    def _make_fs(self, kw):
        import adlfs
        from azure.storage.blob.aio import BlobServiceClient

        c = self.config
        conn = kw.get("connection_string")
        name = kw.get("account_name") or c.options.get("account_name")
        if conn and c.endpoint_url:
            # The driver's endpoint wins over the one inside the connection string, so one
            # secret serves a driver pointed at a different (e.g. private) endpoint.
            parts = [p for p in conn.split(";") if p and not p.startswith("BlobEndpoint=")]
            conn = ";".join(parts + [f"BlobEndpoint={c.endpoint_url}"]) + ";"
        if not conn and c.endpoint_url and name and kw.get("account_key"):
            proto = c.endpoint_url.split("://", 1)[0]
            conn = (f"DefaultEndpointsProtocol={proto};AccountName={name};"
                    f"AccountKey={kw['account_key']};BlobEndpoint={c.endpoint_url};")
        retry = {"retry_total": RETRIES - 1, "retry_connect": RETRIES - 1, "retry_read": RETRIES - 1,
                 "retry_status": RETRIES - 1, "initial_backoff": 0.2, "backoff_factor": 0.2,
                 "connection_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT}
        if conn:
            fs = adlfs.AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
            client = BlobServiceClient.from_connection_string(conn, **retry)
        else:
            if not name and not c.endpoint_url:
                raise StorageError("an Azure driver needs an account: give endpoint_url or account_name "
                                   "in its credentials or options")
            url = (c.endpoint_url or f"https://{name}.blob.core.windows.net").rstrip("/")
            sas = kw.get("sas_token")
            cred = kw.get("account_key")
            if cred and name:
                cred = {"account_name": name, "account_key": cred}
            fs = adlfs.AzureBlobFileSystem(account_name=name or "anonymous", anon=cred is None and not sas,
                                           sas_token=sas, account_key=kw.get("account_key"),
                                           skip_instance_cache=True)
            if sas:
                url += ("" if sas.startswith("?") else "?") + sas
            client = BlobServiceClient(url, credential=cred, **retry)
        # adlfs builds its client with the SDK's default retry policy (back-off of 15 s and
        # more per attempt); every adlfs call goes through fs.service_client, so swap it.
        fs.service_client = client
        return fs

    def _entry(self, info):
        return self._from_props(info["name"].split("/", 1)[1], info)

    @staticmethod
    def _from_props(key: str, p) -> Entry:
        get = (lambda k: p.get(k)) if isinstance(p, dict) else (lambda k: getattr(p, k, None))
        cs = get("content_settings")
        md5 = (cs.get("content_md5") if isinstance(cs, dict) else getattr(cs, "content_md5", None)) if cs else None
        raw_etag = (get("etag") or "").strip('"') or None
        # Content-MD5 is what the service stores for single-shot uploads and keeps on copy:
        # it makes renames recognisable.  Block uploads have none; the ETag stands in.
        etag = bytes(md5).hex() if md5 else raw_etag
        return Entry(key, int(get("size") or 0), etag, _utc(get("last_modified")), key.endswith("/"), raw_etag)

    # Azure has no "start after": the cursor is the last key, and a resumed listing pages
    # from the start of the prefix, skipping what it already has (its continuation marker
    # is only valid inside one listing).
    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        after = cursor or None
        cc = self.fs.service_client.get_container_client(self.bucket)

        async def first():
            pager = cc.list_blobs(name_starts_with=self.prefix or None, results_per_page=page_size,
                                  include=[]).by_page()
            return pager

        async def nxt(pager):
            try:
                page = await pager.__anext__()
            except StopAsyncIteration:
                return None
            out = []
            async for b in page:
                key = b.name
                if key != self.prefix and (after is None or key > after):
                    out.append(self._from_props(key, b))
            return out

        try:
            pager = _sync(self.fs, first())
            while True:
                entries = _sync(self.fs, nxt(pager))
                if entries is None:
                    return
                if entries:
                    after = entries[-1].key
                    yield Page(entries, after)
        except StorageError:
            raise
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, "list") from e


# ============================================================================= errors
def translate_error(e: BaseException, what: str, drv: BaseDriver) -> StorageError:
    """Map a library exception to StorageError / NotFoundError with an actionable message."""
    where = drv.label
    endpoint = drv.config.endpoint_url or "the default endpoint"
    name = type(e).__name__
    text = str(e)
    code = None
    status = None
    # botocore
    resp = getattr(e, "response", None)
    if isinstance(resp, dict):
        code = (resp.get("Error") or {}).get("Code")
        status = (resp.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    # gcsfs HttpError has .code, aiohttp errors .status, azure errors .status_code
    for attr in ("code", "status", "status_code"):
        v = getattr(e, attr, None)
        if status is None and isinstance(v, int):
            status = v
    # azure
    code = code or getattr(e, "error_code", None)
    lowered = (text + " " + name + " " + str(code)).lower()
    conn_words = ("could not connect", "connect call failed", "cannot connect", "connection refused",
                  "endpointconnectionerror", "connecttimeout", "serviceerror", "name or service not known",
                  "clientconnectorerror", "timeout", "servertimeout", "connection reset", "disconnected")
    if isinstance(e, FileNotFoundError) or status == 404 or code in ("NoSuchKey", "BlobNotFound", "404",
                                                                        "NoSuchBucket", "ContainerNotFound"):
        if code in ("NoSuchBucket", "ContainerNotFound") or "bucket" in lowered and "not" in lowered and "exist" in lowered \
                or "containernotfound" in lowered or "nosuchbucket" in lowered:
            return StorageError(f"cannot {what}: bucket/container '{drv.config.bucket}' does not exist at {endpoint}")
        if what == "list":
            return StorageError(f"cannot list {where}: bucket/container '{drv.config.bucket}' not found at {endpoint}")
        return NotFoundError(f"{what.split(' ', 1)[-1]} not found in {where}")
    if isinstance(e, PermissionError) or status in (401, 403) or code in (
            "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthenticationFailed",
            "AuthorizationFailure", "InvalidClientTokenId"):
        return StorageError(f"cannot {what} in {where}: access denied ({code or status or name}); check the "
                            f"driver's credentials ({creds.describe(drv.config.credentials_ref)})")
    if isinstance(e, (ConnectionError, TimeoutError, asyncio.TimeoutError)) or any(w in lowered for w in conn_words):
        return StorageError(f"cannot {what} in {where}: endpoint {endpoint} is unreachable ({name})")
    return StorageError(f"cannot {what} in {where}: {name}: {text[:300]}")


# ============================================================================ factory
def make_driver(config: DriverConfig, *, blob_root: str | os.PathLike | None = None) -> BaseDriver:
    """Open the driver described by *config* (``blob_root`` is needed for ``internal``);
    the class is the kind's in :data:`dsdesk.storage.kinds.REGISTRY`."""
    # Imported here: the registry names this module's classes.
    from dsdesk.storage.kinds import storage_kind

    cls = storage_kind(config.kind).driver
    if cls is InternalDriver:
        if blob_root is None:
            raise InvalidInputError("the internal driver needs the catalog's blob_root")
        return InternalDriver(config, blob_root)
    return cls(config)


def config_from_row(row: Any) -> DriverConfig:
    """A DriverConfig from a ``driver`` catalog row (duck-typed: storage does not import the catalog)."""
    return DriverConfig(kind=row.kind, bucket=row.bucket or "", prefix=row.prefix or "",
                        endpoint_url=row.endpoint_url, region=row.region,
                        credentials_ref=dict(row.credentials_ref) if row.credentials_ref else None,
                        options=dict(row.options or {}), allow_external_delete=bool(row.allow_external_delete),
                        write_generated=bool(row.write_generated), name=row.name or "")


_OPEN: dict[tuple, BaseDriver] = {}
_OPEN_LOCK = threading.Lock()


def open_driver(db: Any, row: Any) -> BaseDriver:
    """The driver for a ``driver`` catalog row of the catalog *db*.

    Drivers are cached per process (a cloud client costs tens of milliseconds to build and
    holds a connection pool); a changed row (new bucket, endpoint, credentials reference)
    gets a new instance.  :func:`forget_drivers` drops the cache (e.g. after a secret changed).
    """
    cfg = config_from_row(row)
    key = (str(getattr(db, "url", "")), row.id, repr(cfg))
    with _OPEN_LOCK:
        drv = _OPEN.get(key)
    if drv is None:
        drv = make_driver(cfg, blob_root=getattr(db, "blob_root", None))
        with _OPEN_LOCK:
            drv = _OPEN.setdefault(key, drv)
    return drv


def forget_drivers() -> None:
    """Drop every cached driver so the next :func:`open_driver` reads credentials afresh."""
    with _OPEN_LOCK:
        _OPEN.clear()
