"""Choosing a catalog's internal store at creation: the folder beside the catalog (the
default) or a bucket prefix every client of a team catalog reaches.

``dd.open_catalog(url, internal_store={"kind": "s3", "bucket": "team", "prefix": "dsdesk",
"endpoint": "https://...", "credentials": "env:TEAM_S3"})`` (or ``"s3://team/dsdesk"`` with
``dsdesk catalog create --internal-store``) checks the bucket first, with the credentials
the reference names, then records the location in the catalog; every client that opens the
catalog later uses that store, through its own credentials found under the same reference.
The catalog never holds a secret.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from dsdesk.catalog import catalog_settings
from dsdesk.catalog.models import Blob, Driver
from dsdesk.errors import CatalogError
from dsdesk.storage import internal_store as stores


def location(spec: Any, **extra: Any) -> dict[str, Any]:
    """The location dict of *spec* and keyword arguments *extra* (``endpoint``,
    ``credentials``, ``region``), validated but not checked against the bucket."""
    return stores.location_from(spec, **extra)


def checked_location(spec: Any, *, must_be_empty: bool = False, **extra: Any) -> dict[str, Any]:
    """The location of *spec* (see :func:`dsdesk.storage.internal_store.location_from`) once
    the store proved usable: its prefix listed, a test object written and deleted.

    InvalidInputError for a malformed spec; StorageError naming the problem (missing
    bucket, refused or missing credentials, unreachable endpoint); with *must_be_empty* (a
    new catalog), CatalogError when the prefix already holds binaries: another catalog's
    store, whose blobs this catalog's garbage collection would take for orphans.  Nothing
    is written to any catalog, and a failed listing writes nothing to the bucket either.
    """
    loc = stores.location_from(spec, **extra)
    store = stores.open_store(loc, ".")
    store.check()
    if must_be_empty and next(store.iter_blobs(float("inf")), None) is not None:
        raise CatalogError(f"{stores.describe(loc)} already holds binaries (another catalog's internal store?): "
                           "give a new catalog a prefix of its own")
    return loc


def is_new_catalog(url) -> bool:
    """True when opening *url* creates a catalog: no SQLite file (or an empty one), or an
    empty server database."""
    from dsdesk.api import catalog_locations
    from dsdesk.catalog.engine import resolve_url

    url = resolve_url(url)
    if catalog_locations.is_server(url):
        return catalog_locations.check_connection(url).catalog == "empty database"
    from pathlib import Path

    from sqlalchemy.engine import make_url

    path = Path(make_url(url).database or "")
    return not path.is_file() or path.stat().st_size == 0


def record(db, location: dict[str, Any]) -> None:
    """Record *location* as the internal store of the catalog *db* (opened for writing).

    The store is chosen once: the same location again is a no-op; another one, or a bucket
    for a catalog whose folder store already holds binaries, is a CatalogError (the
    binaries would be split between two stores).
    """
    current = db.internal_store_config
    if current == location:
        return
    if current is not None:
        raise CatalogError(f"this catalog's internal store is {stores.describe(current)}; it is chosen when "
                           "the catalog is created and cannot be changed")
    with db.session(write=True) as s:
        n = s.scalar(select(func.count()).select_from(Blob).join(Driver, Driver.id == Blob.driver_id)
                     .where(Driver.kind == "internal"))
        if n:
            raise CatalogError(f"this catalog already keeps {n:,} internal binaries in "
                               f"{stores.describe(None, db.blob_root)}; a bucket store is chosen when the "
                               "catalog is created")
        catalog_settings.write_setting(s, catalog_settings.INTERNAL_STORE, location)
    db.internal_store_config = location


def describe_location(location: dict[str, Any] | None) -> str:
    """A location dict as a user reads it (no secret)."""
    return stores.describe(location)


def describe(cat) -> str:
    """Where the internal binaries of the catalog *cat* live, for a user (no secret)."""
    return stores.describe(cat.db.internal_store_config, cat.db.blob_root)
