"""Storage drivers of a project: ``project.drivers.create/test/list/get/delete`` and
``driver.test()``; the storage kinds a form offers (:func:`storage_kinds`).

``project.drivers.test(...)`` takes exactly the arguments of ``project.drivers.create(...)``
and checks the driver that call would save, saving nothing: what a form tests is what it saves.

Dataloop's shape (``dtlpy.repositories.drivers``): a driver maps a bucket (and a path
inside it) to the project; datasets are created on it and synced from it.  dsdesk keeps
no secrets: ``credentials`` is a *reference* (``"env:NAME"``, ``"file:/path/key.json"``,
``"profile:NAME"``, ``"keyring:SERVICE/USER"``, ``"anonymous"`` or the same as a dict, see
:mod:`dsdesk.storage.credentials`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dsdesk.api.entities_print import EntityList, PrintableEntity
from dsdesk.api.ids import as_id
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from dsdesk.storage import credentials as creds
from dsdesk.storage import kinds
from dsdesk.storage.credentials import CREDENTIAL_KINDS, CredentialKind
from dsdesk.storage.drivers import config_from_row, forget_drivers, make_driver, normalize_prefix, open_driver
from dsdesk.storage.drivers.factory import internal_store_of
from dsdesk.storage.kinds import FormField, StorageKind

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.projects import Project

__all__ = ["Driver", "Drivers", "storage_kinds", "storage_kind", "credential_kinds", "kind_icon",
           "credentials_reference", "describe_credentials", "FormField", "StorageKind", "CredentialKind"]


def storage_kinds(creatable: bool = True) -> list[StorageKind]:
    """The storage kinds (:data:`dsdesk.storage.kinds.REGISTRY`): those a user can add a
    driver of, or with *creatable* False every kind, the internal store's included.  Each
    says its label, icon, form fields and the credentials kinds it takes."""
    return kinds.creatable_kinds() if creatable else list(kinds.REGISTRY.values())


def storage_kind(kind: str) -> StorageKind:
    """The storage kind *kind* (InvalidInputError naming the known kinds if none)."""
    return kinds.storage_kind(kind)


def credential_kinds(kind: str) -> list[CredentialKind]:
    """The credentials reference kinds a driver of storage *kind* takes, in form order."""
    return [CREDENTIAL_KINDS[c] for c in kinds.storage_kind(kind).credential_kinds]


def kind_icon(kind: str) -> str:
    """The icon name of drivers of *kind* (a generic storage icon for an unknown kind)."""
    return kinds.icon_name(kind)


def credentials_reference(kind: str, value: str = "") -> str:
    """The ``credentials`` argument of ``project.drivers.create`` for a credentials *kind*
    and its *value* (``env`` + ``AWS_KEYS`` -> ``"env:AWS_KEYS"``)."""
    return creds.short_ref(kind, value)


def describe_credentials(ref: dict[str, Any] | None) -> str:
    """Where a credentials reference points, in words that are safe to show and log."""
    return creds.describe(ref)


def _check_endpoint(endpoint: str | None) -> str | None:
    """The endpoint URL without a trailing slash; InvalidInputError unless it is a bare
    ``http(s)://host[:port][/path]``.  User info (``http://KEY:SECRET@host``) is refused: the
    URL is stored in the catalog in the clear, where a secret must never land."""
    if endpoint is None:
        return None
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise InvalidInputError(f"endpoint must look like http(s)://host:port, not {endpoint!r}")
    try:
        u = urlsplit(endpoint)
        u.port  # noqa: B018 - parses the port; a bad one raises ValueError
    except ValueError as e:
        raise InvalidInputError(f"endpoint {endpoint!r} is not a valid URL: {e}") from None
    if u.username is not None or u.password is not None:
        raise InvalidInputError(
            "endpoint URLs must not carry credentials (user:secret@host): the URL is stored in the "
            "catalog in the clear; pass the key through credentials= as a reference "
            "(env:NAME, keyring:NAME, file:PATH or profile:NAME)")
    if not u.hostname:
        raise InvalidInputError(f"endpoint {endpoint!r} has no host")
    if u.query or u.fragment:
        raise InvalidInputError(f"endpoint {endpoint!r} must not have a query or fragment")
    return endpoint.rstrip("/")


def _integration_reference(integration_id) -> Any:
    """The credentials reference a dtlpy ``integration_id`` stands for (InvalidInputError if it
    is not one, e.g. a Dataloop integration's id)."""
    ref = getattr(integration_id, "id", integration_id)
    try:
        creds.parse_ref(ref)
    except InvalidInputError as e:
        raise InvalidInputError(f"integration_id {ref!r} is not a credentials reference: dsdesk keeps no secrets, "
                                "so pass where they are (env:NAME, profile:NAME, keyring:SERVICE/USER, file:PATH "
                                f"or anonymous) ({e})") from None
    return ref


@dataclass
class Driver(PrintableEntity):
    """A storage driver (secrets excluded: ``credentials`` is the reference only)."""

    _cat: Catalog
    id: int
    project_id: int
    name: str
    type: str
    bucket_name: str
    path: str
    endpoint: str | None
    region: str | None
    credentials: dict[str, Any] | None
    allow_external_delete: bool
    write_generated: bool
    created_at: dt.datetime | None

    @classmethod
    def _from_row(cls, cat: Catalog, r: DriverRow) -> Driver:
        return cls(cat, r.id, r.project_id, r.name, r.kind, r.bucket, r.prefix, r.endpoint_url, r.region,
                   dict(r.credentials_ref) if r.credentials_ref else None, bool(r.allow_external_delete),
                   bool(r.write_generated), r.created_at)

    def _row(self, s) -> DriverRow:
        row = s.get(DriverRow, self.id)
        if row is None:
            raise NotFoundError(f"driver '{self.name}' no longer exists")
        return row

    def storage(self):
        """The open storage driver (:class:`dsdesk.storage.drivers.BaseDriver`) behind this entry."""
        with self._cat.db.session() as s:
            return open_driver(self._cat.db, self._row(s))

    def test(self, write: bool = False) -> dict[str, Any]:
        """Check that the bucket can be listed and read (and, with *write*, written under
        ``.dsdesk/``).  Returns what was checked; raises StorageError naming what failed."""
        return self.storage().test(write=write)

    def put_file(self, local_path, key: str):
        """Write a local file as object *key* (prefix included) — what uploads call."""
        return self.storage().put_file(local_path, key)

    def to_json(self) -> dict[str, Any]:
        """Dataloop-shaped JSON (the credentials reference names where secrets are, nothing more)."""
        return {"id": self.id, "name": self.name, "type": self.type, "bucketName": self.bucket_name,
                "path": self.path, "endpoint": self.endpoint, "region": self.region,
                "credentials": creds.describe(self.credentials), "allowExternalDelete": self.allow_external_delete,
                "writeGenerated": self.write_generated, "projectId": self.project_id,
                "createdAt": self.created_at.isoformat() if self.created_at else None}

    def __repr__(self) -> str:
        return f"<Driver {self.id} {self.name!r} {self.type}://{self.bucket_name}/{self.path}>"


class Drivers:
    """A project's storage drivers."""

    def __init__(self, catalog: Catalog, project: Project):
        self._cat = catalog
        self._project = project

    def create(self, name: str, driver_type: str = "s3", bucket_name: str = "", path: str = "",
               endpoint: str | None = None, region: str | None = None, credentials: Any = None,
               allow_external_delete: bool = False, write_generated: bool = False,
               options: dict[str, Any] | None = None, test: bool = False, *, integration_id=None,
               integration_type=None, project_id=None, storage_class: str | None = None) -> Driver:
        """Register a driver.  *driver_type*: ``s3`` | ``gcs`` | ``azure`` | ``local``
        (:func:`storage_kinds`, or ``dd.ExternalStorage``); *bucket_name* is the bucket,
        container, or (local) folder; *path* the prefix inside it; *endpoint* an S3-compatible /
        emulator / private endpoint (``http(s)://host:port``).  With *test* the bucket is
        listed before the driver is saved, as :meth:`test` does.

        The SDK's keywords: *integration_id* is taken as the credentials reference when
        *credentials* is not given (dsdesk keeps no secrets, so an "integration" is where they
        are: ``env:NAME``, ``profile:NAME``, ``keyring:SERVICE/USER``, ``file:PATH``,
        ``anonymous``); *integration_type* and *storage_class* are accepted and not used (the
        reference says the kind; reading needs no storage class); *project_id* must be this
        project's.
        """
        if project_id is not None and str(getattr(project_id, "id", project_id)) != str(self._project.id):
            raise InvalidInputError(f"project_id {project_id!r} is not project '{self._project.name}': "
                                    "use that project's drivers")
        if credentials is None and integration_id is not None:
            credentials = _integration_reference(integration_id)
        row = self._row(name, driver_type, bucket_name, path, endpoint, region, credentials,
                        allow_external_delete, write_generated, options)
        if test:
            self._test_row(row)
        with self._cat.db.session() as s:
            self._check_name_free(s, row.name)
            s.add(row)
            try:
                s.flush()
            except IntegrityError as e:
                raise AlreadyExistsError(f"a driver named '{row.name}' already exists") from e
            return Driver._from_row(self._cat, row)

    def test(self, name: str, driver_type: str = "s3", bucket_name: str = "", path: str = "",
             endpoint: str | None = None, region: str | None = None, credentials: Any = None,
             allow_external_delete: bool = False, write_generated: bool = False,
             options: dict[str, Any] | None = None, write: bool = False) -> dict[str, Any]:
        """Check the driver :meth:`create` would save for the same arguments, saving nothing.

        The arguments are checked as :meth:`create` checks them (the name free in the
        project included), then the driver they describe lists (and reads one object of)
        its storage; with *write* it also writes and deletes a test file under ``.dsdesk/``.
        Returns what was checked; raises InvalidInputError / AlreadyExistsError for what
        :meth:`create` would refuse and StorageError naming what failed in the storage.
        """
        row = self._row(name, driver_type, bucket_name, path, endpoint, region, credentials,
                        allow_external_delete, write_generated, options)
        with self._cat.db.session() as s:
            self._check_name_free(s, row.name)
        return self._test_row(row, write)

    def _row(self, name, driver_type, bucket_name, path, endpoint, region, credentials,
             allow_external_delete, write_generated, options) -> DriverRow:
        """The unsaved catalog row for :meth:`create`'s arguments (InvalidInputError if bad)."""
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise InvalidInputError(f"a driver name must be a non-empty string, not {name!r}")
        kind = kinds.resolve_type(driver_type)
        if not isinstance(bucket_name, str) or not bucket_name.strip():
            raise InvalidInputError(f"a {kind.kind} driver needs bucket_name (the bucket, container or folder)")
        endpoint = _check_endpoint(endpoint)
        ref = None
        if kind.credential_kinds:
            ref = creds.parse_ref(credentials)
            if ref["kind"] not in kind.credential_kinds:
                raise InvalidInputError(f"a {kind.kind} driver does not take {ref['kind']!r} credentials; "
                                        f"expected one of {', '.join(kind.credential_kinds)}")
        prefix = normalize_prefix(path).rstrip("/")
        opts = dict(options or {})
        for k in opts:
            if k.lower() in creds._SECRET_FIELDS:
                raise InvalidInputError(f"option {k!r} looks like a secret; pass credentials as a reference")
        return DriverRow(project_id=self._project.id, name=name.strip(), kind=kind.kind, bucket=bucket_name.strip(),
                         prefix=prefix, endpoint_url=endpoint, region=region,
                         credentials_ref=ref, options=opts or None, allow_external_delete=bool(allow_external_delete),
                         write_generated=bool(write_generated))

    def _check_name_free(self, s, name: str) -> None:
        if s.execute(select(DriverRow.id).where(DriverRow.project_id == self._project.id,
                                                DriverRow.name == name)).first():
            raise AlreadyExistsError(f"a driver named '{name}' already exists in project '{self._project.name}'")

    def _test_row(self, row: DriverRow, write: bool = False) -> dict[str, Any]:
        # A driver of its own, never the per-process cache's: the row is not saved.
        cfg = config_from_row(row)
        store = internal_store_of(self._cat.db) if cfg.kind == "internal" else None
        drv = make_driver(cfg, blob_root=self._cat.db.blob_root, internal_store=store)
        try:
            return drv.test(write=write)
        finally:
            drv.close()

    def list(self) -> EntityList:
        """The project's drivers (the internal store's included), by name (a list with ``print()``)."""
        with self._cat.db.session() as s:
            rows = s.execute(select(DriverRow).where(DriverRow.project_id == self._project.id)
                             .order_by(DriverRow.name)).scalars().all()
            return EntityList(Driver._from_row(self._cat, r) for r in rows)

    def get(self, driver_name: str | None = None, driver_id: int | None = None) -> Driver:
        """A driver by name or id; NotFoundError when the project has none such."""
        with self._cat.db.session() as s:
            if driver_id is not None:
                row = s.get(DriverRow, as_id(driver_id, "a driver"))
                if row is not None and row.project_id != self._project.id:
                    row = None
            elif driver_name is not None:
                row = s.execute(select(DriverRow).where(DriverRow.project_id == self._project.id,
                                                        DriverRow.name == driver_name)).scalar()
            else:
                raise InvalidInputError("give driver_name or driver_id")
            if row is None:
                raise NotFoundError(f"driver {driver_name or driver_id!r} not found in project '{self._project.name}'")
            return Driver._from_row(self._cat, row)

    def delete(self, driver_name: str | None = None, driver_id: int | None = None) -> bool:
        """Remove a driver from the catalog (never touches the bucket).  Refused while any
        dataset (trashed ones and snapshots included) still uses it."""
        d = self.get(driver_name, driver_id)
        entry = kinds.REGISTRY.get(d.type)
        if entry is not None and not entry.user_created:
            raise InvalidInputError("the project's internal store driver cannot be deleted")
        with self._cat.db.session() as s:
            used = s.execute(select(DatasetRow.name).where(DatasetRow.driver_id == d.id).limit(3)).scalars().all()
            if used:
                raise InvalidInputError(f"driver '{d.name}' is used by dataset(s) {', '.join(map(repr, used))}; "
                                        "delete or purge them first")
            s.delete(s.get(DriverRow, d.id))
        forget_drivers()
        return True
