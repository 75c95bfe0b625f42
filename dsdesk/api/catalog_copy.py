"""``dsdesk catalog copy SRC DST``: a whole catalog from SQLite to PostgreSQL or back.

See :mod:`dsdesk.transfer.catalog_copy` for what is copied and how it stays safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dsdesk.transfer.catalog_copy import CopyReport

__all__ = ["CopyReport", "copy_catalog"]


def copy_catalog(src: Any, dst: Any, on_progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy the catalog *src* into the new, empty catalog *dst*; each is a file path, a
    database URL or an open :class:`~dsdesk.api.catalog.Catalog`.  *dst* is created (and
    migrated) if it does not exist.  ``on_progress(table, rows)`` follows the copy."""
    from dsdesk.catalog.engine import open_database
    from dsdesk.transfer import catalog_copy

    opened = []

    def db(x):
        if hasattr(x, "db"):
            return x.db
        d = open_database(x)
        opened.append(d)
        return d

    try:
        return catalog_copy.copy_catalog(db(src), db(dst), on_progress)
    finally:
        for d in opened:
            d.close()
