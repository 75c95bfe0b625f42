"""Opening drivers: by kind through :data:`dsdesk.storage.kinds.REGISTRY` (:func:`make_driver`),
and for a catalog's ``driver`` row, cached per process (:func:`open_driver`)."""

from __future__ import annotations

import os
import threading
from typing import Any

from dsdesk.errors import InvalidInputError
from dsdesk.storage.drivers.interface import BaseDriver, DriverConfig
from dsdesk.storage.drivers.local import InternalDriver


def make_driver(config: DriverConfig, *, blob_root: str | os.PathLike | None = None,
                internal_store=None) -> BaseDriver:
    """Open the driver described by *config* (``internal`` needs the catalog's
    *internal_store*, or its *blob_root* for the folder store); the class is the kind's in
    :data:`dsdesk.storage.kinds.REGISTRY`."""
    # Imported here: the registry names this module's classes.
    from dsdesk.storage.kinds import storage_kind

    cls = storage_kind(config.kind).driver
    if cls is InternalDriver:
        if blob_root is None and internal_store is None:
            raise InvalidInputError("the internal driver needs the catalog's blob_root")
        return InternalDriver(config, blob_root, store=internal_store)
    return cls(config)


def internal_store_of(db: Any):
    """The internal store of the catalog *db* (duck-typed): the bucket its creation recorded
    (``internal_store_config``) or the folder at its ``blob_root``."""
    from dsdesk.storage.internal_store import open_store

    return open_store(getattr(db, "internal_store_config", None), db.blob_root)


def config_from_row(row: Any) -> DriverConfig:
    """A DriverConfig from a ``driver`` catalog row (duck-typed: storage does not import the catalog)."""
    return DriverConfig(kind=row.kind, bucket=row.bucket or "", prefix=row.prefix or "",
                        endpoint_url=row.endpoint_url, region=row.region,
                        credentials_ref=dict(row.credentials_ref) if row.credentials_ref else None,
                        options=dict(row.options or {}), allow_external_delete=bool(row.allow_external_delete),
                        write_generated=bool(row.write_generated), name=row.name or "")


_OPEN: dict[tuple, BaseDriver] = {}
_OPEN_LOCK = threading.Lock()


def open_driver(db: Any, row: Any) -> BaseDriver:
    """The driver for a ``driver`` catalog row of the catalog *db*.

    Drivers are cached per process (a cloud client costs tens of milliseconds to build and
    holds a connection pool); a changed row (new bucket, endpoint, credentials reference)
    gets a new instance.  :func:`forget_drivers` drops the cache (e.g. after a secret changed).
    """
    cfg = config_from_row(row)
    key = (str(getattr(db, "url", "")), row.id, repr(cfg))
    with _OPEN_LOCK:
        drv = _OPEN.get(key)
    if drv is None:
        store = internal_store_of(db) if cfg.kind == "internal" and hasattr(db, "blob_root") else None
        drv = make_driver(cfg, blob_root=getattr(db, "blob_root", None), internal_store=store)
        with _OPEN_LOCK:
            drv = _OPEN.setdefault(key, drv)
    return drv


def forget_drivers() -> None:
    """Drop every cached driver so the next :func:`open_driver` reads credentials afresh."""
    with _OPEN_LOCK:
        _OPEN.clear()
