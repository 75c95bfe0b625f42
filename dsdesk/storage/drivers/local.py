"""The drivers on this machine: the app's own content-addressed store (:class:`InternalDriver`)
and a folder of files (:class:`LocalDriver`)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dsdesk.errors import InvalidInputError, NotFoundError, StorageError
from dsdesk.storage.base import StoredObject
from dsdesk.storage.blobstore import BlobStore
from dsdesk.storage.drivers.interface import DEFAULT_PAGE, BaseDriver, DriverConfig, Entry, Page
from dsdesk.storage.drivers.keys import EPOCH, check_key, stored_object, to_utc


class InternalDriver(BaseDriver):
    """The app's own content-addressed store; keys are sha256 hex.  Not listable/syncable.

    The store is the catalog's (:func:`dsdesk.storage.internal_store.open_store`): the
    folder beside it, or a bucket prefix a team shares; both have the same methods.
    """

    kind = "internal"

    def __init__(self, config: DriverConfig, blob_root: str | os.PathLike | None = None, *, store=None):
        super().__init__(config)
        if store is None and blob_root is None:
            raise InvalidInputError("the internal driver needs the catalog's store or blob_root")
        self.store = store if store is not None else BlobStore(blob_root)

    @property
    def label(self) -> str:
        return f"internal://{self.store.label}"

    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        raise StorageError("the internal store is not synced: only external drivers (local, s3, gcs, azure) are")

    def read(self, key, start=None, end=None):
        if start is None and end is None:
            with self.store.open(key) as f:
                return f.read()
        size = self.store.stat(key)[0] if end is None else end
        return self.store.read_range(key, start or 0, size)

    def open(self, key):
        return self.store.open(key)

    def info(self, key):
        size, mtime = self.store.stat(key)
        return Entry(key, size, key, to_utc(mtime))

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
        if not isinstance(self.store, BlobStore):
            if write:
                self.store.check()
            else:
                self.store.driver.test(False)
            return {"driver": self.label, "list": None, "read": True, "write": bool(write) or None}
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
        return self.base / check_key(key)

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
                    yield Entry(key, 0, None, to_utc(st.st_mtime), True)
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
                            EPOCH + dt.timedelta(microseconds=st.st_mtime_ns // 1000))

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
        return Entry(key, st.st_size, self._etag(st), EPOCH + dt.timedelta(microseconds=st.st_mtime_ns // 1000))

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
        return stored_object(self.info(key))

    def put_bytes(self, key, data):
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".part-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
        return stored_object(self.info(key))

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
