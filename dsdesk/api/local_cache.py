"""The catalog's local cache of generated files (thumbnails, recent originals): where it is,
how big, clearing it, trimming it to a size, and moving it to a folder the user chose.

Everything in it can be made again from the originals, so clearing or trimming loses no
data; the next view of a folder remakes what it needs.  Run these off the GUI thread: a
large cache is a walk over many files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from dsdesk.errors import InvalidInputError


def cache_folder(cat) -> Path:
    """The folder the catalog's cache lives in now."""
    return Path(cat.db.cache_root)


def use_cache_dir(cat, folder: str | os.PathLike | None) -> Path:
    """Keep *cat*'s cache under *folder* (one sub-folder per catalog, so catalogs never share
    entries); None keeps the default (beside a SQLite catalog, in the data directory for a
    server).  Call it before the window or any worker starts: they read the location once.
    InvalidInputError when *folder* is a file or cannot be created."""
    if folder is None or not os.fspath(folder):
        return cache_folder(cat)
    root = Path(folder).expanduser()
    if root.exists() and not root.is_dir():
        raise InvalidInputError(f"the cache location {root} is a file, not a folder")
    tag = hashlib.sha1(cat.raw_url.encode()).hexdigest()[:12]
    target = root / f"catalog-{tag}"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InvalidInputError(f"cannot use {root} for the cache: {e.strerror or e}") from e
    cat.db.cache_root = target
    return target


def _files(root: Path) -> list[os.DirEntry]:
    out, stack = [], [root]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(Path(e.path))
                    elif e.is_file(follow_symlinks=False):
                        out.append(e)
        except FileNotFoundError:
            continue
    return out


def cache_usage(cat) -> int:
    """Bytes the catalog's cache takes on disk now."""
    return sum(e.stat(follow_symlinks=False).st_size for e in _files(cache_folder(cat)))


def clear_cache(cat) -> int:
    """Delete everything in the catalog's cache; returns the bytes freed."""
    root = cache_folder(cat)
    freed = cache_usage(cat)
    if root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    return freed


def trim_cache(cat, max_bytes: int) -> int:
    """Delete the least recently written files until the cache holds at most *max_bytes*;
    returns the bytes freed.  InvalidInputError for a negative size."""
    if max_bytes < 0:
        raise InvalidInputError(f"a cache size cannot be negative: {max_bytes}")
    entries = [(e.stat(follow_symlinks=False), e.path) for e in _files(cache_folder(cat))]
    total = sum(st.st_size for st, _ in entries)
    freed = 0
    for st, path in sorted(entries, key=lambda x: x[0].st_mtime):
        if total <= max_bytes:
            break
        try:
            os.unlink(path)
        except FileNotFoundError:
            continue
        total -= st.st_size
        freed += st.st_size
    return freed
