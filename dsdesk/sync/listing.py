"""Listing: the driver's pages, and each listed key mapped to the row the sync stages.

A key maps to a folder and a name (:func:`map_key`) or to the reason it cannot be an
item; every folder of a key, ancestors included, becomes a folder row of its own, so the
later phases are plain SQL.  The mapping is done here once per key, on the listing
thread; :mod:`dsdesk.sync.staging` writes the rows.
"""

from __future__ import annotations

import mimetypes
import queue
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

from dsdesk.catalog import paths
from dsdesk.errors import InvalidPathError
from dsdesk.storage.drivers import GENERATED_PREFIX

# One staged row, as a tuple in this column order (the staging table's columns).
COLS = ("dataset_id", "storage_key", "run_id", "size", "etag", "last_modified", "is_dir", "dir", "name",
        "error", "mimetype")
ERROR = COLS.index("error")  # the field that tells a refused key from one to sync

_DIR_MEMO_LIMIT = 200_000
_ILLEGAL_CHARS = re.compile(r"[\x00-\x1f\x7f\\/]")


def map_key(rel: str) -> tuple[str | None, str | None, str | None]:
    """(dir, name, error) for a key relative to the driver's prefix.

    A key whose segments are not legal item names (``..``, ``.``, backslash, control
    characters, empty segments such as ``a//b``) is refused with a reason instead of
    being "fixed": a mapped path must never let an item escape its folder, and two keys
    must never land on one path.
    """
    is_dir = rel.endswith("/")
    parts = (rel[:-1] if is_dir else rel).split("/")
    try:
        for p in parts:
            if p == "":
                raise InvalidPathError(f"empty path segment in {rel!r}")
            paths.check_name(p)
    except InvalidPathError as e:
        return None, None, str(e)
    if is_dir:
        return "/" + "/".join(parts), None, None
    return ("/" + "/".join(parts[:-1])) if len(parts) > 1 else "/", parts[-1], None


def guess_mimetype(name: str) -> str:
    """The file's type from its extension (``application/octet-stream`` when unknown)."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


def pages(driver, cursor, page_size: int) -> Iterator:
    """The driver's pages from *cursor* on, fetched one ahead on a thread so the network
    and the catalog writes overlap (a listing is a chain of requests; the inserts fit in
    between).

    Not for a local folder: its walk is CPU-bound Python; measured, a second thread only
    adds GIL hand-offs."""
    if driver.kind == "local":
        yield from driver.list_pages(cursor, page_size)
        return
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    done = object()

    def produce():
        try:
            for page in driver.list_pages(cursor, page_size):
                while not stop.is_set():
                    try:
                        q.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            q.put(e)

    t = threading.Thread(target=produce, name="sync-list", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


class PageMapper:
    """Turns the entries of one listed page into staging rows (:data:`COLS`) for one run.

    Remembers the folders already seen, so a folder is validated and its ancestors staged
    once per run, not once per file (bounded by ``_DIR_MEMO_LIMIT``: past it the memo
    starts over and the staging insert ignores the repeats).  *to_db* converts a listed
    ``last_modified`` to what the staging write expects.
    """

    def __init__(self, dataset_id: int, run_id: str, prefix: str, to_db: Callable[[Any], Any]):
        self.dataset_id, self.run_id, self.prefix, self.to_db = dataset_id, run_id, prefix, to_db
        self.generated = prefix + GENERATED_PREFIX
        self._dirs: dict[str, str | None] = {}  # "a/b/" -> error (None when legal)
        self._mimes: dict[str, str] = {}

    def _mimetype(self, name: str) -> str:
        ext = name[name.rfind("."):].lower() if "." in name else ""
        m = self._mimes.get(ext)
        if m is None:
            m = self._mimes[ext] = guess_mimetype(name)
        return m

    def _folder(self, rel_dir: str) -> tuple[bool, str | None]:
        """(first time seen, error) for a folder part ``a/b/`` of a key."""
        if rel_dir in self._dirs:
            return False, self._dirs[rel_dir]
        if len(self._dirs) > _DIR_MEMO_LIMIT:
            self._dirs.clear()
        _, _, err = map_key(rel_dir) if rel_dir else (None, None, None)
        self._dirs[rel_dir] = err
        return True, err

    def listed(self, entries) -> int:
        """How many of *entries* count as listed (everything but the generated files)."""
        gen = self.generated
        return sum(1 for e in entries if not e.key.startswith(gen))

    def rows(self, entries) -> list[tuple]:
        """The staging rows of *entries*: files, folder markers, the folders of both, and
        refused keys with their reason.  Generated files and keys outside the prefix are
        left out."""
        # Locals: this loop runs once per listed key.
        dataset_id, run_id, prefix, to_db, gen = self.dataset_id, self.run_id, self.prefix, self.to_db, self.generated
        plen = len(prefix)
        folder, mimetype = self._folder, self._mimetype
        rows: list[tuple] = []
        add = rows.append
        for e in entries:
            key = e.key
            if key.startswith(gen) or not key.startswith(prefix) or key == prefix:
                continue
            rel = key[plen:]
            cut = rel.rfind("/", 0, len(rel) - 1) + 1  # the folder part, "" at the top
            rel_dir, last = rel[:cut], rel[cut:]
            first, err = folder(rel_dir)
            if first and err is None and rel_dir:
                # Every folder of every key, ancestors included, is staged as a folder row
                # (keyed like the marker it would have) so the apply step makes them in SQL.
                parts = rel_dir[:-1].split("/")
                for i in range(1, len(parts) + 1):
                    sub = "/".join(parts[:i]) + "/"
                    if i == len(parts) or folder(sub)[0]:
                        add((dataset_id, prefix + sub, run_id, 0, None, None, True, "/" + sub[:-1], None, None, None))
            if err is None:
                if e.is_dir:
                    err = map_key(last)[2]
                elif not (last.isascii() and len(last) <= paths.MAX_NAME and last not in (".", "..")
                          and last.strip() and not _ILLEGAL_CHARS.search(last)):
                    # The common case passes the line above; the rest gets the full check
                    # and its message.
                    try:
                        paths.check_name(last)
                    except InvalidPathError as ex:
                        err = str(ex)
            elif e.is_dir or last:
                err = f"{err} (in {rel!r})"
            lm = to_db(e.last_modified) if e.last_modified is not None else None
            if err:
                add((dataset_id, key, run_id, e.size, e.etag, lm, e.is_dir, None, None, err, None))
            elif e.is_dir:
                add((dataset_id, key, run_id, 0, None, lm, True, "/" + rel[:-1], None, None, None))
            else:
                add((dataset_id, key, run_id, e.size, e.etag, lm, False, "/" + rel_dir[:-1] if rel_dir else "/",
                     last, None, mimetype(last)))
        return rows
