"""dsdesk: a desktop application for dataset curation.

The public Python API, shaped like Dataloop's SDK (``dtlpy``)::

    import dsdesk as dd
    cat = dd.open_catalog()
    project = cat.projects.create("demo")
"""

from dsdesk.errors import (  # noqa: F401
    AlreadyExistsError,
    CatalogAuthError,
    CatalogError,
    ConflictError,
    DsdeskError,
    InvalidInputError,
    InvalidPathError,
    JobCancelledError,
    NotFoundError,
    QueryError,
    ReadOnlyError,
    SchemaTooNewError,
    StorageError,
)

__version__ = "0.1.0"


def open_catalog(path_or_url=None, *, read_only: bool = False, internal_store=None):
    """Open the catalog at *path_or_url* (default: ``$DSDESK_CATALOG`` or the user data dir).

    *read_only* refuses every write (the only way to read a catalog a newer dsdesk upgraded);
    *internal_store* puts a new catalog's internal binaries in a bucket, e.g.
    ``{"kind": "s3", "bucket": "team", "prefix": "dsdesk/", "credentials": "env:AWS_TEAM"}``
    (see :mod:`dsdesk.api.internal_store`).
    """
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.defaults import use_catalog

    # The module-level repositories (dd.projects ...) work on the catalog opened last.
    return use_catalog(Catalog.open(path_or_url, read_only=read_only, internal_store=internal_store))


def use_catalog(catalog):
    """Make *catalog* the one ``dd.projects``, ``dd.datasets``, ``dd.items`` ... use."""
    from dsdesk.api.defaults import use_catalog

    return use_catalog(catalog)


#: ``dd.projects`` ... : the default catalog's repositories (see dsdesk.api.defaults).
_REPOSITORIES = ("projects", "datasets", "items", "drivers", "recipes", "annotations")


#: Names exported lazily (``dd.Box``, ``dd.Filters`` ...) -> the module that defines them.
_LAZY = {
    **dict.fromkeys(("Filters", "FiltersOperations", "FiltersMethod", "FiltersResource",
                     "FiltersOrderByDirection", "FiltersKnownFields"), "dsdesk.query.filters"),
    **dict.fromkeys(("Box", "Point", "Polygon", "Polyline", "Segmentation", "Classification", "Ellipse",
                     "BaseAnnotationDefinition"), "dsdesk.api.shapes"),
    "Annotation": "dsdesk.api.annotation_entity",
    # Concurrent edits: the conflict a save raises and a resolution's own value.
    "MetadataConflictError": "dsdesk.api.conflicts",
    "MergeValue": "dsdesk.api.metadata_merge:Value",
    # The entity classes (isinstance checks, type hints, dd.Item.from_json).
    "Item": "dsdesk.api.items",
    "Dataset": "dsdesk.api.datasets",
    "Project": "dsdesk.api.projects",
    "Driver": "dsdesk.api.drivers",
    "Recipe": "dsdesk.api.recipes",
    "PagedItems": "dsdesk.api.pages",
    "UrlLink": "dsdesk.api.upload_sources",
    "AnnotationCollection": "dsdesk.api.annotation_collection",
    "Label": "dsdesk.api.labels",
    **dict.fromkeys(("AnnotationType", "AnnotationStatus"), "dsdesk.api.annotation_types"),
    # The SDK's module-level spellings of enum members.
    "FILTERS_ORDERBY_DIRECTION_ASCENDING": "dsdesk.query.filters:FiltersOrderByDirection.ASCENDING",
    "FILTERS_ORDERBY_DIRECTION_DESCENDING": "dsdesk.query.filters:FiltersOrderByDirection.DESCENDING",
}


def __getattr__(name):
    # Lazy so that ``import dsdesk`` stays cheap for the CLI's start-up.
    module = _LAZY.get(name)
    if module is None and name in _REPOSITORIES:
        from dsdesk.api.defaults import repository

        return repository(name)
    if module is None and not name.startswith("_"):
        # Dataloop's enums and constants (dd.ViewAnnotationOptions, dd.LOGGING_LEVEL_DEBUG ...).
        from dsdesk.api import constants

        if name in constants.NAMES:
            return getattr(constants, name)
        from dsdesk.api.unsupported import module_name

        error = module_name(name)
        if error is not None:
            raise error
    if module is None:
        raise AttributeError(name)
    import importlib

    module, _, path = module.partition(":")
    obj = importlib.import_module(module)
    for part in (path or name).split("."):
        obj = getattr(obj, part)
    return obj
