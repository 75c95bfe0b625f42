"""The driver interface: :class:`BaseDriver`, what it is configured with (:class:`DriverConfig`)
and what it lists (:class:`Entry`, :class:`Page`).

This package knows nothing about the catalog: callers pass a :class:`DriverConfig`.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from dsdesk.errors import InvalidInputError, NotFoundError, StorageError
from dsdesk.storage.base import StoredObject

GENERATED_PREFIX = ".dsdesk/"  # generated files (thumbnails ...) live here; never synced
DEFAULT_PAGE = 1000


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
