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


def read_setting(db, key: str) -> dict[str, Any] | None:
    """The setting *key* of the catalog *db*, or None when it was never set."""
    with db.session() as s:
        return s.scalar(select(CatalogSetting.value).where(CatalogSetting.key == key))


def write_setting(session, key: str, value: dict[str, Any]) -> None:
    """Set *key* to *value* in the caller's transaction (insert or replace)."""
    row = session.get(CatalogSetting, key)
    if row is None:
        session.add(CatalogSetting(key=key, value=value))
    else:
        row.value = value
