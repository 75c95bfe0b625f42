"""Exceptions raised by dsdesk's public functions.

Every error a user can cause derives from :class:`DsdeskError`, so the CLI and the GUI
catch one type and show its message; the message always names the offending thing.
"""

from __future__ import annotations


class DsdeskError(Exception):
    """Base class of every error dsdesk raises on purpose."""


class NotFoundError(DsdeskError, LookupError):
    """A project, dataset, item, folder, driver, snapshot ... does not exist."""


class AlreadyExistsError(DsdeskError):
    """A name that must be unique is taken."""


class InvalidPathError(DsdeskError, ValueError):
    """An item or folder path is empty, escapes its dataset (``..``) or has illegal characters."""


class InvalidInputError(DsdeskError, ValueError):
    """An argument has the wrong type or value."""


class ReadOnlyError(DsdeskError):
    """A mutation was attempted on a read-only dataset or a snapshot."""


class ConflictError(DsdeskError):
    """Someone else changed the row since it was read (row_version mismatch)."""


class CatalogError(DsdeskError):
    """The catalog cannot be opened: missing, unreadable, or not a dsdesk catalog."""


class CatalogAuthError(CatalogError):
    """The catalog's server refused the password, or needs one and none was given."""


class SchemaTooNewError(CatalogError):
    """The catalog's schema was upgraded by a newer dsdesk: this one must not write to it."""


class StorageError(DsdeskError):
    """A storage driver failed: wrong credentials, missing bucket, unreachable endpoint."""


class QueryError(DsdeskError, ValueError):
    """A malformed DQL document or search-bar query."""


class JobCancelledError(DsdeskError):
    """A job noticed a cancellation request and stopped cleanly."""
