"""Virtual paths inside a dataset.

Every item lives at ``dir`` + ``/`` + ``name`` where ``dir`` is an absolute folder path
(``/`` for the root, no trailing slash otherwise).  These helpers are the only place that
decides what a legal path is, so uploads, moves, sync and imports all refuse the same
things: empty names, ``.`` and ``..`` segments, backslashes, NUL and control characters.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache

from dsdesk.errors import InvalidPathError

ROOT = "/"
_ILLEGAL = re.compile(r"[\x00-\x1f\x7f\\/]")
MAX_NAME = 255


def check_name(name: str) -> str:
    """Return *name* if it is a legal file or folder name, else raise InvalidPathError."""
    if not isinstance(name, str) or not name or not name.strip():
        raise InvalidPathError(f"empty name: {name!r}")
    if name in (".", ".."):
        raise InvalidPathError(f"illegal name {name!r}: '.' and '..' are not allowed")
    if _ILLEGAL.search(name):  # one scan for every bad character (bulk ingests check millions)
        if "/" in name:
            raise InvalidPathError(f"illegal name {name!r}: contains '/'")
        raise InvalidPathError(f"illegal name {name!r}: contains a backslash or control character")
    # A UTF-8 character is at most 4 bytes: short names need no encoding to be measured.
    if len(name) > MAX_NAME // 4 and len(name.encode("utf-8")) > MAX_NAME:
        raise InvalidPathError(f"name too long ({len(name)} characters): {name[:40]!r}...")
    return name


def normalize_dir(path: str | None) -> str:
    """Normalise a folder path to ``/a/b`` form (root is ``/``), validating each segment.

    ``None``, ``""`` and ``"/"`` mean the root.  ``..`` anywhere is refused rather than
    resolved: a path that tries to climb is a mistake or an attack, never intent.
    """
    if path is None:
        return ROOT
    if not isinstance(path, str):
        raise InvalidPathError(f"a path must be a string, not {type(path).__name__}")
    return _normalize_dir(path)


@lru_cache(maxsize=65536)  # bulk ingests repeat a few thousand folders a million times
def _normalize_dir(path: str) -> str:
    parts = [p for p in path.split("/") if p != ""]
    for p in parts:
        check_name(p)
    return "/" + "/".join(parts)


def split_filepath(filepath: str) -> tuple[str, str]:
    """Split ``/a/b/c.jpg`` into (``/a/b``, ``c.jpg``), validating both parts."""
    if not isinstance(filepath, str) or not filepath.strip("/"):
        raise InvalidPathError(f"empty item path: {filepath!r}")
    if filepath.endswith("/"):
        raise InvalidPathError(f"item path ends with '/': {filepath!r}")
    d, n = posixpath.split("/" + filepath.lstrip("/"))
    return normalize_dir(d), check_name(n)


def join(dir_: str, name: str) -> str:
    """Join a normalised folder and a name into an item's filename."""
    return (dir_.rstrip("/") + "/" + name) if dir_ != ROOT else "/" + name


def ancestors(dir_: str) -> list[str]:
    """All folders from the first level down to *dir_* itself (root excluded)."""
    if dir_ == ROOT:
        return []
    parts = dir_.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def is_under(path: str, folder: str) -> bool:
    """True when *path* is *folder* or lies below it."""
    if folder == ROOT:
        return True
    return path == folder or path.startswith(folder + "/")


def rebase(path: str, old_root: str, new_root: str) -> str:
    """Move *path* from below *old_root* to below *new_root* (both normalised)."""
    if path == old_root:
        return new_root
    rest = path[len(old_root):] if old_root != ROOT else path
    return (new_root.rstrip("/") + rest) if new_root != ROOT else rest


def like_prefix(folder: str) -> str:
    """A LIKE pattern matching every path strictly below *folder* (escape char ``\\``)."""
    esc = folder.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return ("/" if folder == ROOT else esc + "/") + "%"
