"""What a storage write returns (shared by every driver in ``dsdesk.storage.drivers``).

Keys are the storage keys kept in ``blob.storage_key``: for the internal store the sha256
of the bytes, for external stores the object key (prefix included).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StoredObject:
    """What a write produced: the key to record and the change markers to keep."""

    storage_key: str
    size: int
    etag: str | None = None
    content_hash: str | None = None
