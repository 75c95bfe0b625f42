"""Reading binaries back, whichever storage holds them."""

from __future__ import annotations

from typing import BinaryIO

from dsdesk.catalog.models import Blob, Driver
from dsdesk.errors import NotFoundError
from dsdesk.storage.drivers import BaseDriver, open_driver


def driver_for_row(db, row: Driver) -> BaseDriver:
    """The storage driver for a ``driver`` catalog row (internal store, local folder or a cloud)."""
    return open_driver(db, row)


def open_blob(db, blob_id: int) -> BinaryIO:
    """A readable stream of the blob's bytes; NotFoundError when the blob row is gone."""
    with db.session() as s:
        blob = s.get(Blob, blob_id)
        if blob is None:
            raise NotFoundError(f"blob {blob_id} not found")
        drv = s.get(Driver, blob.driver_id)
        key = blob.storage_key
    return driver_for_row(db, drv).open(key)
