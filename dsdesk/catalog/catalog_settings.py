"""Reading and writing the catalog-wide settings (the ``catalog_setting`` table, JSON by key).

They hold what every client of one catalog must agree on; today the internal store's
location (:data:`INTERNAL_STORE`), written once when the catalog is created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dsdesk.catalog.models import CatalogSetting

#: Where the catalog's internal binaries live: absent for the folder beside the catalog,
#: else ``{"kind": "s3"|"gcs"|"azure", "bucket", "prefix", "endpoint_url", "region",
#: "credentials_ref"}`` (a reference, never a secret).
INTERNAL_STORE = "internal_store"

#: Set when the internal store is also another catalog's (``dsdesk catalog copy`` of a
#: catalog whose store is a bucket, or a folder both name): ``{"catalogs": [url, ...]}``,
#: urls without passwords.  Garbage collection then deletes no binary from the store: what
#: one catalog no longer names, the other may.
SHARED_STORE = "shared_internal_store"


def read_setting(db, key: str) -> dict[str, Any] | None:
    """The setting *key* of the catalog *db*, or None when it was never set."""
    with db.session() as s:
        return setting_in(s, key)


def setting_in(session, key: str) -> dict[str, Any] | None:
    """The setting *key* as the caller's transaction sees it, or None."""
    return session.scalar(select(CatalogSetting.value).where(CatalogSetting.key == key))


def write_setting(session, key: str, value: dict[str, Any]) -> None:
    """Set *key* to *value* in the caller's transaction (insert or replace)."""
    row = session.get(CatalogSetting, key)
    if row is None:
        session.add(CatalogSetting(key=key, value=value))
    else:
        row.value = value
