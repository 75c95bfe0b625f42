"""The default catalog and the module-level repositories (``dd.projects``, ``dd.datasets``,
``dd.items``, ``dd.drivers``, ``dd.recipes``, ``dd.annotations``), as Dataloop's ``dl.projects`` ... work on the logged-in session.

The default catalog is the last one :func:`dsdesk.open_catalog` opened, or the one given to
:func:`use_catalog`; when there is none yet, the first use opens the default catalog
(``$DSDESK_CATALOG`` or the user data dir).  A ported script replaces ``dl.login()`` by
``dd.open_catalog(...)`` and keeps the rest::

    dd.open_catalog("/data/catalog.sqlite")
    project = dd.projects.get(project_name="demo")
    item = dd.items.get(item_id=item_id)
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from sqlalchemy import select

from dsdesk.api.entities_print import EntityList
from dsdesk.api.ids import as_id, only_one
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.drivers import Driver
    from dsdesk.api.items import Item

_lock = threading.Lock()
_default: Catalog | None = None


def use_catalog(catalog: Catalog | None) -> Catalog | None:
    """Make *catalog* the one the module-level repositories use (None: forget it).  Returns it."""
    from dsdesk.api.catalog import Catalog

    global _default
    if catalog is not None and not isinstance(catalog, Catalog):
        raise InvalidInputError(f"use_catalog takes a catalog from dd.open_catalog(), not {type(catalog).__name__}")
    with _lock:
        _default = catalog
    return catalog


def forget(catalog: Catalog) -> None:
    """Stop using *catalog* as the default (it is being closed)."""
    global _default
    with _lock:
        if _default is catalog:
            _default = None


def default_catalog() -> Catalog:
    """The default catalog (opening the default location on first use)."""
    with _lock:
        cat = _default
    if cat is None:
        from dsdesk.api.catalog import Catalog

        cat = use_catalog(Catalog.open(None))
    return cat


def repository(name: str):
    """The default catalog's repository *name* (``projects``, ``datasets``, ``items``, ``drivers``,
    ``recipes``, ``annotations``)."""
    cat = default_catalog()
    if name == "items":
        return CatalogItems(cat)
    if name == "drivers":
        return CatalogDrivers(cat)
    if name == "recipes":
        return CatalogRecipes(cat)
    if name == "annotations":
        return CatalogAnnotations(cat)
    return getattr(cat, name)


class CatalogItems:
    """``dd.items``: items by id, whatever their dataset.  Listing and uploading need a
    dataset (``dataset.items``), as in the SDK."""

    def __init__(self, catalog: Catalog):
        self._cat = catalog

    def get(self, filepath: str | None = None, item_id=None, dataset_id=None) -> Item:
        """An item by id (any dataset), or by *filepath* in the dataset *dataset_id*."""
        from dsdesk.catalog.models import Item as ItemRow

        if item_id is None:
            if filepath is not None and dataset_id is not None:
                return self._cat.dataset_by_id(dataset_id).items.get(filepath=filepath)
            raise InvalidInputError("dd.items.get needs item_id (a path belongs to a dataset: "
                                    "dataset.items.get(filepath=...))")
        with self._cat.db.session() as s:
            ds = s.execute(select(ItemRow.dataset_id).where(ItemRow.id == as_id(item_id, "an item"))).scalar()
        if ds is None:
            raise NotFoundError(f"item {item_id!r} not found")
        return self._cat.dataset_by_id(ds).items.get(item_id=item_id)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        raise InvalidInputError(f"dd.items.{name} needs a dataset: use dataset.items.{name}(...) "
                                "(dataset = dd.datasets.get(dataset_id=...))")


class CatalogDrivers:
    """``dd.drivers``: drivers of every project, by id or name."""

    def __init__(self, catalog: Catalog):
        self._cat = catalog

    def list(self) -> EntityList:
        """Every project's drivers (internal stores included), by project and name."""
        from dsdesk.api.drivers import Driver
        from dsdesk.catalog.models import Driver as DriverRow

        with self._cat.db.session() as s:
            rows = s.execute(select(DriverRow).order_by(DriverRow.project_id, DriverRow.name)).scalars().all()
            return EntityList(Driver._from_row(self._cat, r) for r in rows)

    def get(self, driver_name: str | None = None, driver_id=None) -> Driver:
        """A driver by id, or by a name that only one project uses."""
        if driver_id is None and driver_name is None:
            raise InvalidInputError("give driver_name or driver_id")
        found = [d for d in self.list() if (driver_id is not None and str(d.id) == str(driver_id))
                 or (driver_id is None and d.name == driver_name)]
        return only_one(found, "driver", driver_name or driver_id, "project.drivers.get(driver_name=...) or driver_id")

    def create(self, *args, **kwargs):
        raise InvalidInputError("a driver belongs to a project: project.drivers.create(...)")


class CatalogRecipes:
    """``dd.recipes``: recipes by id, whatever their project (``project.recipes`` creates them)."""

    def __init__(self, catalog: Catalog):
        self._cat = catalog

    def get(self, recipe_id=None):
        """A recipe by id."""
        from dsdesk.api.recipes import Recipe

        if recipe_id is None:
            raise InvalidInputError("dd.recipes.get needs recipe_id (by name: project.recipes.get(recipe_name=...))")
        with self._cat.db.session() as s:
            return Recipe._load(self._cat, s, int(recipe_id))


class CatalogAnnotations:
    """``dd.annotations``: annotations by id, whatever their dataset (``item.annotations`` and
    ``dataset.annotations`` list, upload and delete them)."""

    def __init__(self, catalog: Catalog):
        self._cat = catalog

    def get(self, annotation_id=None):
        """An annotation by id."""
        from dsdesk.catalog.models import Annotation as AnnotationRow

        try:
            ann_id = int(annotation_id)
        except (TypeError, ValueError):
            raise InvalidInputError(f"{annotation_id!r} is not an annotation id") from None
        with self._cat.db.session() as s:
            ds = s.execute(select(AnnotationRow.dataset_id).where(AnnotationRow.id == ann_id)).scalar()
        if ds is None:
            raise NotFoundError(f"annotation {annotation_id!r} not found")
        return self._cat.dataset_by_id(ds).annotations.get(ann_id)
