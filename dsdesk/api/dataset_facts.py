"""The dataset properties dialog's read model and its one save (Qt-free).

:func:`read_dataset_facts` reads what the dialog shows about one dataset (its project,
storage, recipe and source beside the dataset itself); :func:`save_dataset_properties`
saves an edited description and user metadata through ``Dataset.update()``, so the
read-only guard and the row-version check apply as for any API caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.datasets import Dataset


@dataclass
class DatasetFacts:
    """What the properties dialog shows about one dataset: the dataset and, as text, its
    project, its storage (``name (kind)``), its recipe (``name: labels``) and the dataset
    it was cloned or merged from (None for a master)."""

    dataset: Dataset
    project: str
    driver: str
    recipe: str
    source: str | None


def read_dataset_facts(cat: Catalog, dataset_id: int) -> DatasetFacts:
    """The facts of dataset *dataset_id* (NotFoundError when it is gone)."""
    ds = cat.dataset_by_id(dataset_id)
    with cat.db.session() as s:
        drv = s.get(DriverRow, ds.driver_id)
        driver = f"{drv.name} ({drv.kind})" if drv else "?"
    recipe = ds.recipe
    src = None
    if ds.src_dataset_id:
        try:
            src = cat.dataset_by_id(ds.src_dataset_id).name
        except NotFoundError:  # the source was deleted: say so
            src = f"dataset {ds.src_dataset_id} (deleted)"
    return DatasetFacts(ds, ds.project.name, driver,
                        f"{recipe.name}: {', '.join(recipe.label_names)}" if recipe else "(none)", src)


def save_dataset_properties(ds: Dataset, description: str, user_metadata: dict) -> Dataset:
    """Save *description* and *user_metadata* (the ``user`` area of the metadata) on *ds*.

    Raises InvalidInputError when *user_metadata* is not a dict (nothing is written),
    ReadOnlyError for a read-only dataset, ConflictError when someone else changed the
    dataset since *ds* was read.
    """
    if not isinstance(user_metadata, dict):
        raise InvalidInputError(f"the user metadata of dataset '{ds.name}' must be an object of keys and values, "
                                f"not {type(user_metadata).__name__}")
    ds.metadata["user"] = user_metadata
    ds.description = description
    return ds.update()
