"""Which internal store a catalog uses: the folder beside it, or a bucket prefix.

A catalog records its store's *location* once, at creation (a plain dict, see
:func:`location_from`); every client that opens the catalog builds the same store from it
with :func:`open_store`.  Both stores have one interface (:class:`~dsdesk.storage.blobstore.
BlobStore`'s methods), the same sha256 layout and the same garbage-collection rules.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

from dsdesk.errors import InvalidInputError
from dsdesk.storage import credentials as creds
from dsdesk.storage.blobstore import BlobStore
from dsdesk.storage.bucket_store import BucketBlobStore
from dsdesk.storage.drivers.interface import DriverConfig, normalize_prefix

#: The clouds an internal store can live in.
CLOUD_KINDS = ("s3", "gcs", "azure")
_SCHEMES = {"gs": "gcs", "az": "azure", "abfs": "azure"}  # fsspec's URL schemes of the clouds
_FIELDS = ("kind", "bucket", "prefix", "endpoint_url", "region", "credentials_ref")


def location_from(spec: Any, **extra: Any) -> dict[str, Any]:
    """The location dict recorded in the catalog, from what a user gave: a dict with
    ``kind``, ``bucket``, optional ``prefix``, ``endpoint_url`` (``endpoint``), ``region`` and
    ``credentials`` (``credentials_ref``; a reference such as ``"env:NAME"``, never a secret),
    or a ``s3://bucket/prefix`` string with those as keyword arguments *extra*.

    InvalidInputError naming what is wrong (unknown kind, no bucket, a secret instead of a
    reference, an illegal prefix).
    """
    if isinstance(spec, str):
        parts = urlsplit(spec.strip())
        scheme = _SCHEMES.get(parts.scheme, parts.scheme)
        if scheme not in CLOUD_KINDS or not parts.netloc:
            raise InvalidInputError(f"an internal store is s3://BUCKET/PREFIX, gs://... or az://..., not {spec!r}")
        spec = {"kind": scheme, "bucket": parts.netloc, "prefix": parts.path}
    if not isinstance(spec, dict):
        raise InvalidInputError(f"an internal store is a dict or a s3://bucket/prefix string, not {type(spec).__name__}")
    d = {**spec, **{k: v for k, v in extra.items() if v is not None}}
    kind = _SCHEMES.get(str(d.get("kind") or ""), d.get("kind"))
    if kind not in CLOUD_KINDS:
        raise InvalidInputError(f"an internal store lives in {', '.join(CLOUD_KINDS)}, not {kind!r}")
    bucket = str(d.get("bucket") or "").strip().strip("/")
    if not bucket or "/" in bucket:
        raise InvalidInputError(f"an internal store needs a bucket name without '/', not {bucket!r}")
    unknown = set(d) - set(_FIELDS) - {"endpoint", "credentials"}
    if unknown:
        raise InvalidInputError(f"unknown internal store field(s): {', '.join(sorted(unknown))}")
    ref = d.get("credentials_ref", d.get("credentials"))
    return {"kind": kind, "bucket": bucket, "prefix": normalize_prefix(d.get("prefix")),
            "endpoint_url": d.get("endpoint_url") or d.get("endpoint") or None,
            "region": d.get("region") or None, "credentials_ref": creds.parse_ref(ref)}


def describe(location: dict[str, Any] | None, blob_root: str | os.PathLike | None = None) -> str:
    """How a store is named to a user (no secret: the credentials by their reference)."""
    if not location:
        return f"the folder {blob_root}" if blob_root is not None else "a folder beside the catalog"
    where = f"{location['kind']}://{location['bucket']}/{location.get('prefix') or ''}"
    if location.get("endpoint_url"):
        where += f" at {location['endpoint_url']}"
    return f"{where} ({creds.describe(location.get('credentials_ref'))})"


_OPEN: dict[str, BucketBlobStore] = {}
_LOCK = threading.Lock()


def open_store(location: dict[str, Any] | None, blob_root: str | os.PathLike):
    """The store of a catalog: a :class:`BlobStore` at *blob_root* when *location* is None,
    else the bucket store it names (cached per process: a cloud client is costly to build)."""
    if not location:
        return BlobStore(blob_root)
    key = repr(sorted(location.items()))
    with _LOCK:
        store = _OPEN.get(key)
    if store is None:
        from dsdesk.storage.drivers.factory import make_driver

        cfg = DriverConfig(kind=location["kind"], bucket=location["bucket"], prefix=location.get("prefix") or "",
                           endpoint_url=location.get("endpoint_url"), region=location.get("region"),
                           credentials_ref=location.get("credentials_ref"), name="internal store")
        store = BucketBlobStore(make_driver(cfg))
        with _LOCK:
            store = _OPEN.setdefault(key, store)
    return store


def forget_stores() -> None:
    """Drop the cached bucket stores (the next :func:`open_store` reads credentials afresh)."""
    with _LOCK:
        _OPEN.clear()
