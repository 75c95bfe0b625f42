"""The internal store: content-addressed binaries (sha256) in a folder beside the catalog.

A binary with hash ``ab12...`` lives at ``<root>/ab/12/ab12...``.  Writing the same bytes
twice stores them once; writes go to a temporary file first and are renamed into place,
so a crash never leaves a half-written blob under its final name.

:class:`BlobStore` is the folder; :class:`dsdesk.storage.bucket_store.BucketBlobStore`
keeps the same layout under a bucket prefix (a team's shared store) with the same methods.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dsdesk.errors import NotFoundError, StorageError

CHUNK = 1 << 20


@contextlib.contextmanager
def reading(path: str | os.PathLike) -> Iterator[None]:
    """Turn the errors of reading a local file to store it into clear DsdeskErrors."""
    try:
        yield
    except FileNotFoundError as e:
        raise NotFoundError(f"no such file: {path}") from e
    except IsADirectoryError as e:
        raise StorageError(f"is a directory, not a file: {path}") from e
    except PermissionError as e:
        raise StorageError(f"cannot read {path}: permission denied") from e


def blob_path(key: str) -> str:
    """Where blob *key* lives relative to the store's root: ``ab/12/ab12...``."""
    _valid_key(key)
    return f"{key[:2]}/{key[2:4]}/{key}"


def is_blob_name(name: str) -> bool:
    """True for a file name that is a blob key (not a temporary file of an upload)."""
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _valid_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise StorageError(f"not an internal blob key (sha256 hex expected): {key!r}")
    return key


class BlobStore:
    """A content-addressed store rooted at *root*.  Thread-safe and process-safe."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        """Where the blob with sha256 *key* is (or would be) on disk."""
        _valid_key(key)
        return self.root / key[:2] / key[2:4] / key

    @property
    def label(self) -> str:
        """Where the store is, for messages."""
        return str(self.root)

    def exists(self, key: str) -> bool:
        """True when the blob is present."""
        return self.path_of(key).is_file()

    def stat(self, key: str) -> tuple[int, float]:
        """(size, modification time as a POSIX timestamp) of the blob; NotFoundError when gone."""
        try:
            st = self.path_of(key).stat()
        except FileNotFoundError as e:
            raise NotFoundError(f"internal blob {key[:12]}... not found in {self.root}") from e
        return st.st_size, st.st_mtime

    def iter_blobs(self, older_than: float):
        """(key, where) of every blob file last written before the POSIX time *older_than*
        (the garbage collector's orphan pass); *where* is what :meth:`delete_found` takes."""
        if not self.root.is_dir():
            return
        for dirpath, _dirs, files in os.walk(self.root):
            for f in files:
                p = os.path.join(dirpath, f)
                if is_blob_name(f) and os.path.getmtime(p) < older_than:
                    yield f, p

    def delete_found(self, where: str) -> None:
        """Remove a blob :meth:`iter_blobs` found (OSError when it cannot)."""
        os.unlink(where)

    def put_file(self, path: str | os.PathLike) -> tuple[str, int]:
        """Store the file at *path*; return (sha256 hex, size).  Same bytes → same key, stored once."""
        with reading(path), open(path, "rb") as f:
            return self.put_stream(f)

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        """Store *data*; return (sha256 hex, size)."""
        import io

        return self.put_stream(io.BytesIO(data))

    def put_stream(self, stream: BinaryIO) -> tuple[str, int]:
        """Copy *stream* into the store while hashing it; return (sha256 hex, size)."""
        self.root.mkdir(parents=True, exist_ok=True)
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            key = h.hexdigest()
            final = self.path_of(key)
            if final.exists():
                os.unlink(tmp)
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, final)
            return key, size
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def open(self, key: str) -> BinaryIO:
        """Open the blob for reading (binary); raises NotFoundError when it is gone."""
        try:
            return open(self.path_of(key), "rb")
        except FileNotFoundError as e:
            raise NotFoundError(f"internal blob {key[:12]}... is missing from {self.root}") from e

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` of the blob."""
        with self.open(key) as f:
            f.seek(start)
            return f.read(max(0, end - start))

    def copy_to(self, key: str, dest: str | os.PathLike) -> None:
        """Copy the blob to the local file *dest* (parents created)."""
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        with self.open(key) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, CHUNK)

    def delete(self, key: str) -> bool:
        """Remove the blob; returns False when it was already gone."""
        try:
            self.path_of(key).unlink()
            return True
        except FileNotFoundError:
            return False
