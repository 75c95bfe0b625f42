"""Storage drivers: one interface over the internal store, a local folder, S3, GCS and Azure Blob.

A driver addresses objects by *key*: the object's key in its bucket, prefix included
(``datasets/cats/001.jpg`` for a driver with path ``datasets``), which is what
``blob.storage_key`` keeps; keys ending in ``/`` are folder markers.  For the internal
store the key is the sha256 of the bytes.  Listing is streamed
page by page with a resumable cursor, in the byte order of the keys, so a sync holds
one page in memory and can continue where a killed run stopped.

Cloud drivers go through fsspec (s3fs, gcsfs, adlfs) with short timeouts and few retries:
a wrong endpoint or a dead server must surface as a :class:`~dsdesk.errors.StorageError`
in seconds, never a hang.  Every library error is translated into a StorageError that
names the bucket and the key; secrets never appear in a message.

This package knows nothing about the catalog: callers pass a :class:`DriverConfig`.  Its
modules: :mod:`.interface` (the base class and its data), :mod:`.keys` (the key, time and
write-result helpers the drivers share), :mod:`.local` (internal store, local
folder), :mod:`.cloud` (S3, GCS, Azure) and :mod:`.factory` (opening a driver by kind or for a
catalog row).  Import from the package: its names are the storage layer's public ones.
"""

from dsdesk.storage.drivers.cloud import AzureDriver, FsspecDriver, GCSDriver, S3Driver, translate_error
from dsdesk.storage.drivers.factory import config_from_row, forget_drivers, make_driver, open_driver
from dsdesk.storage.drivers.interface import (
    DEFAULT_PAGE,
    GENERATED_PREFIX,
    BaseDriver,
    DriverConfig,
    Entry,
    Page,
    normalize_prefix,
)
from dsdesk.storage.drivers.local import InternalDriver, LocalDriver

__all__ = [
    "DEFAULT_PAGE", "GENERATED_PREFIX",
    "AzureDriver", "BaseDriver", "DriverConfig", "Entry", "FsspecDriver", "GCSDriver", "InternalDriver",
    "LocalDriver", "Page", "S3Driver",
    "config_from_row", "forget_drivers", "make_driver", "normalize_prefix", "open_driver", "translate_error",
]
