"""The interface every storage driver implements, and the internal store's driver.

A driver reads and writes the binaries of one ``driver`` catalog row.  Keys are the
storage keys kept in ``blob.storage_key``: for the internal store the sha256 of the bytes,
for external stores the object key (prefix included).  ``open_driver(db, row)`` in
``dsdesk.storage.drivers`` picks the implementation by ``row.kind``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from dsdesk.storage.blobstore import BlobStore


@dataclass
class StoredObject:
    """What a write produced: the key to record and the change markers to keep."""

    storage_key: str
    size: int
    etag: str | None = None
    content_hash: str | None = None


class StorageDriver(Protocol):
    """What the catalog layers need from a store (see ``dsdesk.storage.drivers`` for the cloud ones)."""

    kind: str

    def put_file(self, local_path: str | os.PathLike, key: str | None = None) -> StoredObject:
        """Store a local file; *key* is the object key for external stores (ignored internally)."""

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the object."""

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the object."""

    def delete(self, key: str) -> bool:
        """Remove the object; False when it was already gone."""


class InternalDriver:
    """The content-addressed internal store as a StorageDriver."""

    kind = "internal"

    def __init__(self, root: str | os.PathLike):
        self.store = BlobStore(root)

    def put_file(self, local_path, key=None) -> StoredObject:
        digest, size = self.store.put_file(local_path)
        return StoredObject(digest, size, etag=digest, content_hash=digest)

    def open(self, key: str) -> BinaryIO:
        return self.store.open(key)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        return self.store.read_range(key, start, end)

    def delete(self, key: str) -> bool:
        return self.store.delete(key)
