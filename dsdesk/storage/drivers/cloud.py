"""The cloud drivers: S3 (and S3-compatible endpoints), Google Cloud Storage and Azure Blob,
through fsspec (s3fs, gcsfs, adlfs) with short timeouts and few retries, so that a wrong
endpoint or a dead server surfaces as a :class:`~dsdesk.errors.StorageError` in seconds, never
a hang.  :func:`translate_error` turns every library error into a StorageError that names
the bucket and the key; secrets never appear in a message."""

from __future__ import annotations

import asyncio
import base64
import os
from abc import abstractmethod
from typing import Any

from dsdesk.errors import InvalidInputError, NotFoundError, StorageError
from dsdesk.storage import credentials as creds
from dsdesk.storage.drivers.interface import DEFAULT_PAGE, BaseDriver, DriverConfig, Entry, Page
from dsdesk.storage.drivers.keys import check_key, stored_object, to_utc

CONNECT_TIMEOUT = 5  # seconds; an unreachable endpoint fails fast
READ_TIMEOUT = 60
RETRIES = 2  # attempts per request (1 retry): transient blips pass, dead servers fail fast


def _sync(fs, coro):
    """Run *coro* on the filesystem's event loop from this (non-loop) thread."""
    from fsspec.asyn import sync

    return sync(fs.loop, lambda: coro)


class FsspecDriver(BaseDriver):
    """Common code of the cloud drivers: paths, reads, writes, error translation."""

    def __init__(self, config: DriverConfig):
        super().__init__(config)
        if not config.bucket or "/" in config.bucket.strip("/"):
            raise InvalidInputError(f"a {self.kind} driver needs a bucket name without '/', not {config.bucket!r}")
        self.bucket = config.bucket.strip("/")
        self.fs = self._make_fs(creds.resolve(self.kind, config.credentials_ref))

    @abstractmethod
    def _make_fs(self, kw: dict[str, Any]):
        """The fsspec filesystem for this cloud, from the resolved credential keywords *kw*."""

    def _full(self, key: str) -> str:
        return f"{self.bucket}/{check_key(key)}"

    def _translate(self, e: BaseException, what: str) -> StorageError:
        """A StorageError that says what went wrong in words a user can act on."""
        return translate_error(e, what, self)

    def read(self, key, start=None, end=None):
        try:
            return self.fs.cat_file(self._full(key), start=start, end=end)
        except Exception as e:  # noqa: BLE001 - translated below
            raise self._translate(e, f"read {key!r}") from e

    def open(self, key):
        try:
            return self.fs.open(self._full(key), "rb", block_size=4 << 20, cache_type="readahead")
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"open {key!r}") from e

    def info(self, key):
        try:
            self.fs.invalidate_cache()
            return self._entry(self.fs.info(self._full(key)))
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"stat {key!r}") from e

    def put_file(self, local_path, key=None):
        if key is None:
            raise InvalidInputError(f"writing to {self.label} needs an object key")
        if not os.path.isfile(local_path):
            raise NotFoundError(f"no such file: {local_path}")
        try:
            self.fs.put_file(os.fspath(local_path), self._full(key))
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"write {key!r}") from e
        return stored_object(self.info(key))

    def put_bytes(self, key, data):
        try:
            self.fs.pipe_file(self._full(key), data)
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, f"write {key!r}") from e
        return stored_object(self.info(key))

    def delete(self, key):
        try:
            self.fs.rm_file(self._full(key))
            self.fs.invalidate_cache()
            return True
        except FileNotFoundError:
            return False
        except Exception as e:  # noqa: BLE001
            err = self._translate(e, f"delete {key!r}")
            if isinstance(err, NotFoundError):
                return False
            raise err from e

    @abstractmethod
    def _entry(self, info: dict) -> Entry:
        """An Entry from one fsspec ``info`` dict of this cloud (its own change markers)."""

    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        """Pages in key order.  The cursor is the last key of the previous page, so a
        resumed listing asks the server to start there (S3 StartAfter, GCS startOffset)."""
        after = cursor or None
        while True:
            try:
                entries, more = _sync(self.fs, self._list_page(after, page_size))
            except StorageError:
                raise
            except Exception as e:  # noqa: BLE001
                raise self._translate(e, "list") from e
            entries = [e for e in entries if after is None or e.key > after]
            if entries:
                after = entries[-1].key
                yield Page(entries, after)
            if not more:
                return
            if not entries:
                # A server that ignores the start position would hand out the same page
                # forever; say so instead of spinning.
                raise StorageError(f"cannot list {self.label}: the listing did not advance past {after!r}")

    async def _list_page(self, after: str | None, n: int) -> tuple[list[Entry], bool]:
        """One page of at most *n* entries after *after*, and whether more follow (drivers
        that list through this class implement it; Azure overrides list_pages instead)."""
        raise StorageError(f"{self.kind} storage cannot be listed page by page")

    def close(self):
        pass


class S3Driver(FsspecDriver):
    """Amazon S3 and S3-compatible stores (``endpoint_url``; path-style addressing)."""

    kind = "s3"

    def _make_fs(self, kw):
        import s3fs

        c = self.config
        client_kwargs: dict[str, Any] = {}
        if c.endpoint_url:
            client_kwargs["endpoint_url"] = c.endpoint_url
        if c.region:
            client_kwargs["region_name"] = c.region
        path_style = c.options.get("path_style", bool(c.endpoint_url))
        config_kwargs = {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT,
                         "retries": {"max_attempts": RETRIES, "mode": "standard"}}
        if path_style:
            config_kwargs["s3"] = {"addressing_style": "path"}
        fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False,
                               client_kwargs=client_kwargs, config_kwargs=config_kwargs, **kw)
        fs.retries = RETRIES  # s3fs's own retry loop (5 by default, with backoff)
        return fs

    def _entry(self, info):
        key = info["name"].split("/", 1)[1]
        etag = (info.get("ETag") or info.get("etag") or "").strip('"') or None
        return Entry(key, int(info.get("size") or info.get("Size") or 0), etag,
                     to_utc(info.get("LastModified")), key.endswith("/") or info.get("type") == "directory", etag)

    async def _list_page(self, after, n):
        client = await self.fs.set_session()
        kw: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": n}
        if after:
            kw["StartAfter"] = after
        resp = await client.list_objects_v2(**kw)
        out = []
        for o in resp.get("Contents", []):
            key = o["Key"]
            if key == self.prefix:
                continue  # the prefix's own folder marker
            etag = (o.get("ETag") or "").strip('"') or None
            out.append(Entry(key, int(o.get("Size", 0)), etag, to_utc(o.get("LastModified")), key.endswith("/"), etag))
        return out, bool(resp.get("IsTruncated"))


class GCSDriver(FsspecDriver):
    """Google Cloud Storage (``endpoint_url`` for emulators and private endpoints)."""

    kind = "gcs"

    def _make_fs(self, kw):
        # gcsfs >= 2026.3 makes a gRPC layout call per bucket that hangs ~60 s against
        # anything but Google itself; the switch is read at import time.
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        import aiohttp
        import gcsfs

        cls = _quick_gcs_class(gcsfs)
        c = self.config
        extra: dict[str, Any] = {}
        if c.endpoint_url:
            extra["endpoint_url"] = c.endpoint_url
        project = c.options.get("project") or "dsdesk"
        return cls(project=project, skip_instance_cache=True,
                   requests_timeout=aiohttp.ClientTimeout(total=READ_TIMEOUT, connect=CONNECT_TIMEOUT),
                   **extra, **kw)

    def _entry(self, info):
        return self._from_object(info["name"].split("/", 1)[1], info)

    @staticmethod
    def _from_object(key: str, o: dict) -> Entry:
        md5 = o.get("md5Hash")
        etag = base64.b64decode(md5).hex() if md5 else (o.get("etag") or None)
        return Entry(key, int(o.get("size") or 0), etag, to_utc(o.get("updated")),
                     key.endswith("/") or o.get("type") == "directory", str(o.get("generation") or "") or None)

    async def _list_page(self, after, n):
        # One page per call: the driver keeps the position itself (startOffset = last key,
        # inclusive, filtered by list_pages) instead of a page token that dies with the process.
        params: dict[str, Any] = {"prefix": self.prefix, "maxResults": n}
        if after:
            # startOffset is inclusive: ask for one more, the first is the key we had.
            params.update(startOffset=after, maxResults=n + 1)
        page = await self.fs._call("GET", "b/{}/o", self.bucket, json_out=True, **params)
        out = []
        for o in page.get("items", []):
            key = o["name"]
            if key != self.prefix:
                out.append(self._from_object(key, o))
        return out, bool(page.get("nextPageToken"))


_QUICK_GCS = None


def _quick_gcs_class(gcsfs):
    """GCSFileSystem with one quick retry instead of six with up to 32 s back-off each."""
    global _QUICK_GCS
    if _QUICK_GCS is not None:
        return _QUICK_GCS
    import aiohttp
    from gcsfs.retry import HttpError

    raw = gcsfs.GCSFileSystem._request.__wrapped__

    class QuickGCSFileSystem(gcsfs.GCSFileSystem):
        async def _request(self, *args, **kwargs):
            for attempt in range(RETRIES):
                try:
                    return await raw(self, *args, **kwargs)
                except (TimeoutError, aiohttp.ClientError, HttpError) as e:
                    code = getattr(e, "code", None) or getattr(e, "status", None)
                    transient = code is None or code in (408, 429, 500, 502, 503, 504)
                    if attempt == RETRIES - 1 or not transient:
                        raise
                    await asyncio.sleep(0.2)

    _QUICK_GCS = QuickGCSFileSystem
    return _QUICK_GCS


class AzureDriver(FsspecDriver):
    """Azure Blob Storage; ``bucket`` is the container, ``endpoint_url`` the blob endpoint
    (``http://127.0.0.1:10000/devstoreaccount1`` for Azurite)."""

    kind = "azure"

    def _make_fs(self, kw):
        import adlfs
        from azure.storage.blob.aio import BlobServiceClient

        c = self.config
        conn = kw.get("connection_string")
        name = kw.get("account_name") or c.options.get("account_name")
        if conn and c.endpoint_url:
            # The driver's endpoint wins over the one inside the connection string, so one
            # secret serves a driver pointed at a different (e.g. private) endpoint.
            parts = [p for p in conn.split(";") if p and not p.startswith("BlobEndpoint=")]
            conn = ";".join(parts + [f"BlobEndpoint={c.endpoint_url}"]) + ";"
        if not conn and c.endpoint_url and name and kw.get("account_key"):
            proto = c.endpoint_url.split("://", 1)[0]
            conn = (f"DefaultEndpointsProtocol={proto};AccountName={name};"
                    f"AccountKey={kw['account_key']};BlobEndpoint={c.endpoint_url};")
        retry = {"retry_total": RETRIES - 1, "retry_connect": RETRIES - 1, "retry_read": RETRIES - 1,
                 "retry_status": RETRIES - 1, "initial_backoff": 0.2, "backoff_factor": 0.2,
                 "connection_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT}
        if conn:
            fs = adlfs.AzureBlobFileSystem(connection_string=conn, skip_instance_cache=True)
            client = BlobServiceClient.from_connection_string(conn, **retry)
        else:
            if not name and not c.endpoint_url:
                raise StorageError("an Azure driver needs an account: give endpoint_url or account_name "
                                   "in its credentials or options")
            url = (c.endpoint_url or f"https://{name}.blob.core.windows.net").rstrip("/")
            sas = kw.get("sas_token")
            cred = kw.get("account_key")
            if cred and name:
                cred = {"account_name": name, "account_key": cred}
            fs = adlfs.AzureBlobFileSystem(account_name=name or "anonymous", anon=cred is None and not sas,
                                           sas_token=sas, account_key=kw.get("account_key"),
                                           skip_instance_cache=True)
            if sas:
                url += ("" if sas.startswith("?") else "?") + sas
            client = BlobServiceClient(url, credential=cred, **retry)
        # adlfs builds its client with the SDK's default retry policy (back-off of 15 s and
        # more per attempt); every adlfs call goes through fs.service_client, so swap it.
        fs.service_client = client
        return fs

    def _entry(self, info):
        return self._from_props(info["name"].split("/", 1)[1], info)

    @staticmethod
    def _from_props(key: str, p) -> Entry:
        get = (lambda k: p.get(k)) if isinstance(p, dict) else (lambda k: getattr(p, k, None))
        cs = get("content_settings")
        md5 = (cs.get("content_md5") if isinstance(cs, dict) else getattr(cs, "content_md5", None)) if cs else None
        raw_etag = (get("etag") or "").strip('"') or None
        # Content-MD5 is what the service stores for single-shot uploads and keeps on copy:
        # it makes renames recognisable.  Block uploads have none; the ETag stands in.
        etag = bytes(md5).hex() if md5 else raw_etag
        return Entry(key, int(get("size") or 0), etag, to_utc(get("last_modified")), key.endswith("/"), raw_etag)

    # Azure has no "start after": the cursor is the last key, and a resumed listing pages
    # from the start of the prefix, skipping what it already has (its continuation marker
    # is only valid inside one listing).
    def list_pages(self, cursor=None, page_size=DEFAULT_PAGE):
        after = cursor or None
        cc = self.fs.service_client.get_container_client(self.bucket)

        async def first():
            pager = cc.list_blobs(name_starts_with=self.prefix or None, results_per_page=page_size,
                                  include=[]).by_page()
            return pager

        async def nxt(pager):
            try:
                page = await pager.__anext__()
            except StopAsyncIteration:
                return None
            out = []
            async for b in page:
                key = b.name
                if key != self.prefix and (after is None or key > after):
                    out.append(self._from_props(key, b))
            return out

        try:
            pager = _sync(self.fs, first())
            while True:
                entries = _sync(self.fs, nxt(pager))
                if entries is None:
                    return
                if entries:
                    after = entries[-1].key
                    yield Page(entries, after)
        except StorageError:
            raise
        except Exception as e:  # noqa: BLE001
            raise self._translate(e, "list") from e


def translate_error(e: BaseException, what: str, drv: BaseDriver) -> StorageError:
    """Map a library exception to StorageError / NotFoundError with an actionable message."""
    where = drv.label
    endpoint = drv.config.endpoint_url or "the default endpoint"
    name = type(e).__name__
    text = str(e)
    code = None
    status = None
    # botocore
    resp = getattr(e, "response", None)
    if isinstance(resp, dict):
        code = (resp.get("Error") or {}).get("Code")
        status = (resp.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    # gcsfs HttpError has .code, aiohttp errors .status, azure errors .status_code
    for attr in ("code", "status", "status_code"):
        v = getattr(e, attr, None)
        if status is None and isinstance(v, int):
            status = v
    # azure
    code = code or getattr(e, "error_code", None)
    lowered = (text + " " + name + " " + str(code)).lower()
    conn_words = ("could not connect", "connect call failed", "cannot connect", "connection refused",
                  "endpointconnectionerror", "connecttimeout", "serviceerror", "name or service not known",
                  "clientconnectorerror", "timeout", "servertimeout", "connection reset", "disconnected")
    if isinstance(e, FileNotFoundError) or status == 404 or code in ("NoSuchKey", "BlobNotFound", "404",
                                                                        "NoSuchBucket", "ContainerNotFound"):
        if code in ("NoSuchBucket", "ContainerNotFound") or "bucket" in lowered and "not" in lowered and "exist" in lowered \
                or "containernotfound" in lowered or "nosuchbucket" in lowered:
            return StorageError(f"cannot {what}: bucket/container '{drv.config.bucket}' does not exist at {endpoint}")
        if what == "list":
            return StorageError(f"cannot list {where}: bucket/container '{drv.config.bucket}' not found at {endpoint}")
        return NotFoundError(f"{what.split(' ', 1)[-1]} not found in {where}")
    if isinstance(e, PermissionError) or status in (401, 403) or code in (
            "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AuthenticationFailed",
            "AuthorizationFailure", "InvalidClientTokenId"):
        return StorageError(f"cannot {what} in {where}: access denied ({code or status or name}); check the "
                            f"driver's credentials ({creds.describe(drv.config.credentials_ref)})")
    if isinstance(e, (ConnectionError, TimeoutError, asyncio.TimeoutError)) or any(w in lowered for w in conn_words):
        return StorageError(f"cannot {what} in {where}: endpoint {endpoint} is unreachable ({name})")
    return StorageError(f"cannot {what} in {where}: {name}: {text[:300]}")
