"""What the drivers share below the interface: a storage key checked, a library's time as
naive UTC, and the :class:`~dsdesk.storage.base.StoredObject` a write returns."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dsdesk.errors import InvalidInputError
from dsdesk.storage.base import StoredObject
from dsdesk.storage.drivers.interface import Entry

EPOCH = dt.datetime(1970, 1, 1)  # naive UTC, like every time a driver returns


def to_utc(t: Any) -> dt.datetime | None:
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


def stored_object(e: Entry) -> StoredObject:
    """What a write stored, from the entry of the written object."""
    return StoredObject(e.key, e.size, etag=e.etag)


def check_key(key: str) -> str:
    """*key* if it is a legal storage key (relative, no backslash, no '.' or '..' segment)."""
    if not isinstance(key, str) or not key or key.startswith("/") or "\\" in key:
        raise InvalidInputError(f"illegal storage key {key!r}")
    if any(s in (".", "..") for s in key.split("/")):
        raise InvalidInputError(f"illegal storage key {key!r}: '.' and '..' segments are not allowed")
    return key
