"""Dataloop's enums and module-level constants, with the SDK's names and values.

``dd.ViewAnnotationOptions.JSON``, ``dd.VIEW_ANNOTATION_OPTIONS_JSON``, ``dd.ExportType.ZIP``,
``dd.ExternalStorage.S3``, ``dd.ItemStatus.COMPLETED``, ``dd.LOGGING_LEVEL_DEBUG``,
``dd.FILTERS_METHOD_OR`` ... are what a ported script spells; each member's value is the
string the SDK sends (``"img_mask"``, ``"discard"``, ``"azureblob"``), so a value read from a
Dataloop export or a stored query compares equal.  ``dd.verbose.logging_level = ...`` sets
the level of dsdesk's loggers, as the SDK's ``dl.verbose`` does for its own.

The filter enums live with ``Filters`` (:mod:`dsdesk.query.filters`) and the annotation
enums with the shapes (:mod:`dsdesk.api.annotation_types`); their ``FILTERS_*`` /
``ANNOTATION_*`` spellings are here.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from types import SimpleNamespace

from dsdesk.api.annotation_types import AnnotationStatus, AnnotationType
from dsdesk.errors import AlreadyExistsError, DsdeskError, InvalidInputError, NotFoundError, ReadOnlyError
from dsdesk.query.filters import (
    FiltersKnownFields,
    FiltersMethod,
    FiltersOperations,
    FiltersOrderByDirection,
    FiltersResource,
)


class ViewAnnotationOptions(StrEnum):
    """What ``dataset.download(annotation_options=...)`` writes beside the binaries."""

    JSON = "json"
    MASK = "mask"
    INSTANCE = "instance"
    ANNOTATION_ON_IMAGE = "img_mask"
    VTT = "vtt"
    OBJECT_ID = "object_id"


class ExportType(StrEnum):
    JSON = "json"
    ZIP = "zip"


class ExportVersion(StrEnum):
    V1 = "V1"
    V2 = "V2"


class ExternalStorage(StrEnum):
    """Driver types, as ``project.drivers.create(driver_type=...)`` takes them."""

    S3 = "s3"
    GCS = "gcs"
    AZUREBLOB = "azureblob"
    AZURE_DATALAKE_GEN2 = "azureDatalakeGen2"
    MIN_IO = "s3"  # an S3 API: pass its endpoint
    POWERSCALE_S3 = "powerscaleS3"


class ItemStatus(StrEnum):
    """Task statuses of ``item.update_status(...)``."""

    COMPLETED = "completed"
    APPROVED = "approved"
    DISCARDED = "discard"


class LoggingLevel(StrEnum):
    DEBUG = "debug"
    WARNING = "warning"
    CRITICAL = "critical"
    INFO = "info"
    ERROR = "error"


class Verbose:
    """``dd.verbose``: ``logging_level`` sets the level of the ``dsdesk`` loggers."""

    @property
    def logging_level(self) -> str:
        """The ``dsdesk`` logger's level, as a :class:`LoggingLevel` value."""
        return logging.getLevelName(logging.getLogger("dsdesk").getEffectiveLevel()).lower()

    @logging_level.setter
    def logging_level(self, level) -> None:
        name = str(getattr(level, "value", level)).upper()
        if name not in {lv.name for lv in LoggingLevel}:
            raise InvalidInputError(f"unknown logging level {level!r}; expected one of "
                                    + ", ".join(lv.value for lv in LoggingLevel))
        logging.getLogger("dsdesk").setLevel(name)


verbose = Verbose()

#: ``dd.exceptions.NotFound`` ...: the SDK's exception names for dsdesk's errors, so
#: ``except dl.exceptions.NotFound:`` keeps working.
exceptions = SimpleNamespace(PlatformException=DsdeskError, NotFound=NotFoundError, BadRequest=InvalidInputError,
                             Conflict=AlreadyExistsError, Forbidden=ReadOnlyError, InternalServerError=DsdeskError)


def token_expired() -> bool:
    """Always False: a catalog has no session token (``if dl.token_expired(): dl.login()``
    then skips the login)."""
    return False


def _spell(prefix: str, enum) -> dict:
    return {f"{prefix}_{m.name}": m for m in enum}


#: Module-level spellings (``dd.VIEW_ANNOTATION_OPTIONS_JSON`` ...), as the SDK's package has.
CONSTANTS = {
    **_spell("VIEW_ANNOTATION_OPTIONS", ViewAnnotationOptions),
    **_spell("EXPORT_VERSION", ExportVersion),
    **_spell("LOGGING_LEVEL", LoggingLevel),
    **_spell("ITEM_STATUS", ItemStatus),
    **_spell("ANNOTATION_STATUS", AnnotationStatus),
    **_spell("ANNOTATION_TYPE", AnnotationType),
    **_spell("FILTERS_KNOWN_FIELDS", FiltersKnownFields),
    **_spell("FILTERS_RESOURCE", FiltersResource),
    **_spell("FILTERS_OPERATIONS", FiltersOperations),
    **_spell("FILTERS_METHOD", FiltersMethod),
    **_spell("FILTERS_ORDERBY_DIRECTION", FiltersOrderByDirection),
}
globals().update(CONSTANTS)

#: Every name ``dd.<name>`` finds here.
NAMES = frozenset(CONSTANTS) | {"ViewAnnotationOptions", "ExportType", "ExportVersion", "ExternalStorage",
                                "ItemStatus", "LoggingLevel", "verbose", "exceptions", "token_expired"}
