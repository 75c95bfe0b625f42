"""The storage kinds as data: what ``internal``, ``local``, ``s3``, ``gcs`` and ``azure`` are.

Everything that differs between kinds is read from this registry instead of comparing
kind strings: the driver factory (:func:`dsdesk.storage.drivers.make_driver`),
``project.drivers.create`` / ``.test`` (type names, required fields, accepted
credentials), the storage dialog's form, the CLI's ``--type`` choices, the icons, and
the rules of clone, merge and sync (is the storage external, can it be synced).

Adding a storage is a driver class in :mod:`dsdesk.storage.drivers` and one
:class:`StorageKind` in :data:`REGISTRY`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsdesk.errors import InvalidInputError
from dsdesk.storage.drivers import AzureDriver, BaseDriver, GCSDriver, InternalDriver, LocalDriver, S3Driver

#: Field types a form knows how to show: a line of text, a folder on this machine, an
#: http(s) URL, or a credentials reference (kind + value, see dsdesk.storage.credentials).
FIELD_TYPES = ("text", "folder", "url", "credentials")


@dataclass(frozen=True)
class FormField:
    """One input of a kind's "add a driver" form.

    *name* is the keyword of ``project.drivers.create`` it fills, so a filled form is the
    call's arguments as they are.
    """

    name: str
    label: str
    type: str = "text"
    required: bool = False
    help: str = ""
    placeholder: str = ""


@dataclass(frozen=True)
class StorageKind:
    """One kind of storage and everything the rest of dsdesk needs to know about it."""

    kind: str
    label: str
    driver: type[BaseDriver]
    icon: str
    fields: tuple[FormField, ...] = ()
    #: The credentials reference kinds a driver of this kind takes (dsdesk.storage.credentials);
    #: empty: it takes none (the app's store, a folder on this machine).
    credential_kinds: tuple[str, ...] = ()
    #: Other spellings accepted as ``driver_type`` (Dataloop's type names).
    aliases: tuple[str, ...] = ()
    #: The binaries live in the user's storage, not the app's own store: clones stay on
    #: the same driver, and objects are deleted there only when the driver allows it.
    external: bool = True
    #: Sync lists and reconciles it.
    syncable: bool = True
    #: Reached over the network (a thumbnail is worth caching on disk).
    remote: bool = True
    #: dsdesk may write generated files (thumbnails) under ``<prefix>/.dsdesk/`` in it.
    shares_generated: bool = True
    #: Made by ``project.drivers.create`` (the internal store is made with its project).
    user_created: bool = True

    def field(self, name: str) -> FormField | None:
        """The form field *name* of this kind, or None when the kind has none such."""
        return next((f for f in self.fields if f.name == name), None)


_PREFIX = FormField("path", "Prefix", help="a folder inside it: only what is under it is synced",
                    placeholder="optional, e.g. datasets/cats")
_CLOUD_CREDENTIALS = ("default", "env", "file", "keyring", "anonymous")


def _bucket(label: str, help: str) -> FormField:
    return FormField("bucket_name", label, required=True, help=help, placeholder="bucket or container name")


def _credentials(*kinds: str) -> FormField:
    return FormField("credentials", "Credentials", "credentials",
                     help="where the secrets are (never the secrets): " + ", ".join(kinds))


REGISTRY: dict[str, StorageKind] = {k.kind: k for k in (
    StorageKind("internal", "The app's own store", InternalDriver, "driver-internal", external=False,
                syncable=False, remote=False, shares_generated=False, user_created=False),
    StorageKind("local", "Local folder", LocalDriver, "driver-local",
                (FormField("bucket_name", "Folder", "folder", True, "a folder on this machine or a mounted share",
                           "/path/to/folder"), _PREFIX),
                aliases=("fs",), remote=False),
    StorageKind("s3", "Amazon S3 / S3-compatible", S3Driver, "driver-s3",
                (_bucket("Bucket", "the S3 bucket's name"), _PREFIX,
                 FormField("endpoint", "Endpoint", "url", help="an S3-compatible, emulator or private endpoint",
                           placeholder="https://s3.example.com (empty: AWS)"),
                 FormField("region", "Region", placeholder="us-east-1"),
                 _credentials("default", "env", "profile", "file", "keyring", "anonymous")),
                credential_kinds=("default", "env", "profile", "file", "keyring", "anonymous")),
    StorageKind("gcs", "Google Cloud Storage", GCSDriver, "driver-gcs",
                (_bucket("Bucket", "the GCS bucket's name"), _PREFIX, _credentials(*_CLOUD_CREDENTIALS)),
                credential_kinds=_CLOUD_CREDENTIALS),
    StorageKind("azure", "Azure Blob Storage", AzureDriver, "driver-azure",
                (_bucket("Container", "the blob container's name"), _PREFIX, _credentials(*_CLOUD_CREDENTIALS)),
                credential_kinds=_CLOUD_CREDENTIALS, aliases=("azureblob",)),
)}

#: Every kind, the internal store first.
KINDS = tuple(REGISTRY)
#: The kinds whose binaries live in the user's storage.
EXTERNAL_KINDS = frozenset(k.kind for k in REGISTRY.values() if k.external)
#: The icon of a driver whose kind this version does not know (a newer catalog's).
FALLBACK_ICON = "storage"


def storage_kind(kind: str) -> StorageKind:
    """The registry entry of *kind* (InvalidInputError naming the known kinds if none)."""
    entry = REGISTRY.get(kind)
    if entry is None:
        raise InvalidInputError(f"unknown driver type {kind!r}; expected one of {', '.join(KINDS)}")
    return entry


def resolve_type(driver_type: str) -> StorageKind:
    """The kind a user-given ``driver_type`` names (any case, Dataloop's aliases too) that
    ``project.drivers.create`` makes; InvalidInputError naming the accepted ones if none."""
    name = str(driver_type).strip().lower()
    for entry in REGISTRY.values():
        if entry.user_created and (name == entry.kind or name in entry.aliases):
            return entry
    raise InvalidInputError(f"unknown driver type {driver_type!r}; expected "
                            + ", ".join(k.kind for k in creatable_kinds()))


def creatable_kinds() -> list[StorageKind]:
    """The kinds a user can add a driver of, in the registry's order."""
    return [k for k in REGISTRY.values() if k.user_created]


def icon_name(kind: str) -> str:
    """The icon of drivers of *kind* (a generic storage icon for an unknown kind)."""
    entry = REGISTRY.get(kind)
    return entry.icon if entry is not None else FALLBACK_ICON


def is_external(kind: str) -> bool:
    """True when a driver of *kind* keeps its binaries in the user's storage."""
    return storage_kind(kind).external
