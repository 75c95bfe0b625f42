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


#: Names exported lazily (``dd.Box``, ``dd.Filters`` ...) -> the module that defines them.
_LAZY = {
    **dict.fromkeys(("Filters", "FiltersOperations", "FiltersMethod", "FiltersResource",
                     "FiltersOrderByDirection", "FiltersKnownFields"), "dsdesk.query.filters"),
    **dict.fromkeys(("Box", "Point", "Polygon", "Polyline", "Segmentation", "Classification", "Ellipse",
                     "BaseAnnotationDefinition"), "dsdesk.api.shapes"),
    "Annotation": "dsdesk.api.annotation_entity",
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
    if module is None:
        raise AttributeError(name)
    import importlib

    module, _, path = module.partition(":")
    obj = importlib.import_module(module)
    for part in (path or name).split("."):
        obj = getattr(obj, part)
    return obj
