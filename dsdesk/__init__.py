"""dsdesk: a desktop application for dataset curation.

The public Python API, shaped like Dataloop's SDK (``dtlpy``)::

    import dsdesk as dd
    cat = dd.open_catalog()
    project = cat.projects.create("demo")
"""

from dsdesk.errors import (  # noqa: F401
    AlreadyExistsError,
    CatalogError,
    ConflictError,
    DsdeskError,
    InvalidInputError,
    InvalidPathError,
    JobCancelledError,
    NotFoundError,
    QueryError,
    ReadOnlyError,
    StorageError,
)

__version__ = "0.1.0"


def open_catalog(path_or_url=None):
    """Open the catalog at *path_or_url* (default: ``$DSDESK_CATALOG`` or the user data dir)."""
    from dsdesk.api.catalog import Catalog

    return Catalog.open(path_or_url)


def __getattr__(name):
    # Lazy so that ``import dsdesk`` stays cheap for the CLI's start-up.
    if name in ("Filters", "FiltersOperations", "FiltersMethod", "FiltersResource", "FiltersOrderByDirection"):
        from dsdesk.query import filters

        return getattr(filters, name)
    raise AttributeError(name)
