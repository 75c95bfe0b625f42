"""Storage drivers of a project: ``project.drivers.create/list/get/delete`` and ``driver.test()``.

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

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from dsdesk.storage import credentials as creds
from dsdesk.storage.drivers import forget_drivers, normalize_prefix, open_driver

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.projects import Project

# Dataloop's type names map onto ours.
_TYPES = {"s3": "s3", "gcs": "gcs", "azure": "azure", "azureblob": "azure", "local": "local",
          "fs": "local", "internal": "internal"}


@dataclass
class Driver:
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
               options: dict[str, Any] | None = None, test: bool = False) -> Driver:
        """Register a driver.  *driver_type*: ``s3`` | ``gcs`` | ``azure`` | ``local``;
        *bucket_name* is the bucket, container, or (local) folder; *path* the prefix inside it;
        *endpoint* an S3-compatible / emulator / private endpoint (``http(s)://host:port``).
        With *test* the bucket is listed before the driver is saved."""
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise InvalidInputError(f"a driver name must be a non-empty string, not {name!r}")
        kind = _TYPES.get(str(driver_type).lower())
        if kind is None or kind == "internal":
            raise InvalidInputError(f"unknown driver type {driver_type!r}; expected s3, gcs, azure or local")
        if not isinstance(bucket_name, str) or not bucket_name.strip():
            raise InvalidInputError(f"a {kind} driver needs bucket_name (the bucket, container or folder)")
        if endpoint is not None and not (isinstance(endpoint, str) and endpoint.startswith(("http://", "https://"))):
            raise InvalidInputError(f"endpoint must look like http(s)://host:port, not {endpoint!r}")
        ref = None if kind == "local" else creds.parse_ref(credentials)
        prefix = normalize_prefix(path).rstrip("/")
        opts = dict(options or {})
        for k in opts:
            if k.lower() in creds._SECRET_FIELDS:
                raise InvalidInputError(f"option {k!r} looks like a secret; pass credentials as a reference")
        row = DriverRow(project_id=self._project.id, name=name.strip(), kind=kind, bucket=bucket_name.strip(),
                        prefix=prefix, endpoint_url=endpoint.rstrip("/") if endpoint else None, region=region,
                        credentials_ref=ref, options=opts or None, allow_external_delete=bool(allow_external_delete),
                        write_generated=bool(write_generated))
        if test:
            open_driver(self._cat.db, row).test()
        with self._cat.db.session() as s:
            if s.execute(select(DriverRow.id).where(DriverRow.project_id == self._project.id,
                                                    DriverRow.name == row.name)).first():
                raise AlreadyExistsError(f"a driver named '{row.name}' already exists in project '{self._project.name}'")
            s.add(row)
            try:
                s.flush()
            except IntegrityError as e:
                raise AlreadyExistsError(f"a driver named '{row.name}' already exists") from e
            return Driver._from_row(self._cat, row)

    def list(self) -> list[Driver]:
        """The project's drivers (the internal store's included), by name."""
        with self._cat.db.session() as s:
            rows = s.execute(select(DriverRow).where(DriverRow.project_id == self._project.id)
                             .order_by(DriverRow.name)).scalars().all()
            return [Driver._from_row(self._cat, r) for r in rows]

    def get(self, driver_name: str | None = None, driver_id: int | None = None) -> Driver:
        """A driver by name or id; NotFoundError when the project has none such."""
        with self._cat.db.session() as s:
            if driver_id is not None:
                row = s.get(DriverRow, int(driver_id))
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
        if d.type == "internal":
            raise InvalidInputError("the project's internal store driver cannot be deleted")
        with self._cat.db.session() as s:
            used = s.execute(select(DatasetRow.name).where(DatasetRow.driver_id == d.id).limit(3)).scalars().all()
            if used:
                raise InvalidInputError(f"driver '{d.name}' is used by dataset(s) {', '.join(map(repr, used))}; "
                                        "delete or purge them first")
            s.delete(s.get(DriverRow, d.id))
        forget_drivers()
        return True
