"""The internal store in a bucket: the folder store's content-addressed layout under an S3,
GCS or Azure prefix, so every client of a team catalog reaches the same binaries.

A binary with hash ``ab12...`` is the object ``<prefix>ab/12/ab12...``.  The same bytes are
uploaded once: a put hashes first and skips the upload when the object is there (a HEAD
request).  Objects are written whole by the cloud (a failed upload leaves no object under
its final name), so no temporary name is needed.  Reads, writes and error messages go
through the cloud drivers of :mod:`dsdesk.storage.drivers.cloud` (fsspec; secrets resolved
from a credentials reference, never stored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from dsdesk.errors import NotFoundError
from dsdesk.storage.blobstore import CHUNK, blob_path, is_blob_name, reading
from dsdesk.storage.drivers.interface import BaseDriver


class BucketBlobStore:
    """A content-addressed store under the prefix of the cloud driver *driver*; the methods
    of :class:`~dsdesk.storage.blobstore.BlobStore`.  Thread-safe (the driver is)."""

    def __init__(self, driver: BaseDriver):
        self.driver = driver
        self.prefix = driver.prefix

    @property
    def label(self) -> str:
        """``s3://bucket/prefix/`` style, for messages."""
        return self.driver.label

    def object_key(self, key: str) -> str:
        """The object key of blob *key*: ``<prefix>ab/12/ab12...``."""
        return self.prefix + blob_path(key)

    def exists(self, key: str) -> bool:
        """True when the blob is in the bucket."""
        try:
            self.driver.info(self.object_key(key))
            return True
        except NotFoundError:
            return False

    def stat(self, key: str) -> tuple[int, float]:
        """(size, modification time as a POSIX timestamp); NotFoundError when gone."""
        e = self.driver.info(self.object_key(key))
        return e.size, _timestamp(e.last_modified)

    def put_file(self, path: str | os.PathLike) -> tuple[str, int]:
        """Store the file at *path*; return (sha256 hex, size).  Same bytes, one object."""
        with reading(path):
            key, size = _hash_file(path)
        if not self.exists(key):
            self.driver.put_file(path, self.object_key(key))
        return key, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store *data*; return (sha256 hex, size)."""
        key = hashlib.sha256(data).hexdigest()
        if not self.exists(key):
            self.driver.put_bytes(self.object_key(key), data)
        return key, len(data)

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Store what *stream* holds (spooled to a temporary file: the key is its hash)."""
        fd, tmp = tempfile.mkstemp(prefix="dsdesk-upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
            return self.put_file(tmp)
        finally:
            os.unlink(tmp)

    def open(self, key: str) -> BinaryIO:
        """The blob opened for reading; NotFoundError when it is gone."""
        try:
            return self.driver.open(self.object_key(key))
        except NotFoundError as e:
            raise NotFoundError(f"internal blob {key[:12]}... is missing from {self.label}") from e

    def read(self, key: str) -> bytes:
        """The whole blob."""
        return self.driver.read(self.object_key(key))

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the blob."""
        if end <= start:
            return b""
        return self.driver.read(self.object_key(key), start, end)

    def copy_to(self, key: str, dest: str | os.PathLike) -> None:
        """Copy the blob to the local file *dest* (parents created)."""
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        with self.open(key) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)

    def delete(self, key: str) -> bool:
        """Remove the blob; False when it was already gone."""
        return self.driver.delete(self.object_key(key))

    def iter_blobs(self, older_than: float):
        """(key, object key) of every blob written before the POSIX time *older_than* (the
        garbage collector's orphan pass)."""
        for page in self.driver.list_pages():
            for e in page.entries:
                name = e.key.rsplit("/", 1)[-1]
                if not e.is_dir and is_blob_name(name) and _timestamp(e.last_modified) < older_than:
                    yield name, e.key

    def delete_found(self, where: str) -> None:
        """Remove an object :meth:`iter_blobs` found."""
        self.driver.delete(where)

    def check(self) -> None:
        """Prove the store usable before anything relies on it: list the prefix, write and
        delete a small test object under ``<prefix>.dsdesk/``.  StorageError naming what
        failed (missing bucket, refused credentials, unreachable endpoint); a failed list
        writes nothing."""
        self.driver.test(write=True)


def _hash_file(path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def _timestamp(when) -> float:
    """A naive-UTC datetime (what the drivers give) as a POSIX timestamp; 0 when unknown."""
    if when is None:
        return 0.0
    return when.replace(tzinfo=dt.UTC).timestamp() if when.tzinfo is None else when.timestamp()

