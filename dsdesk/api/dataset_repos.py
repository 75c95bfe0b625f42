"""The dataset repositories: ``project.datasets`` (create, get, list, delete, trash,
restore, purge, merge) and ``catalog.datasets`` (across projects)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from dsdesk.api.datasets import Dataset
from dsdesk.api.entities_print import EntityList
from dsdesk.api.ids import as_id, only_one
from dsdesk.api.projects import _check_name
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.catalog.models import utcnow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.projects import Project




class Datasets:
    """A project's datasets."""

    def __init__(self, catalog: Catalog, project: Project):
        self._cat, self._project = catalog, project

    def __getattr__(self, name: str):
        # Only for names that do not exist: the SDK's that dsdesk lacks say what to do instead.
        if name.startswith("_"):
            raise AttributeError(name)
        from dsdesk.api.unsupported import entity_name

        raise entity_name("Datasets", name)

    def create(self, dataset_name: str, labels=None, attributes=None, driver=None, driver_id=None,
               recipe_id: int | None = None, description: str = "", metadata: dict | None = None,
               ontology_ids=None, checkout: bool = False, expiration_options=None, index_driver=None) -> Dataset:
        """Create a master dataset on the internal store (default) or on *driver*.

        A recipe is created from *labels* unless *recipe_id* names an existing one.  The SDK's
        *checkout* and *index_driver* are accepted and not used; *ontology_ids* and
        *expiration_options* are refused with what to do instead.
        """
        if ontology_ids:
            raise InvalidInputError("ontology_ids: create the recipe with project.recipes.create(ontology_ids=...) "
                                    "and pass its recipe_id")
        if expiration_options is not None:
            raise InvalidInputError("expiration_options: items never expire in dsdesk; delete them with "
                                    "dataset.items.delete(filters=...)")
        from dsdesk.api.recipes import create_recipe

        name = _check_name(dataset_name, "dataset")
        with self._cat.db.session(write=True) as s:
            if self._name_taken(s, name):
                raise AlreadyExistsError(f"a dataset named '{name}' already exists in project '{self._project.name}'")
            drv = self._resolve_driver(s, driver, driver_id)
            if recipe_id is None:
                recipe_id = create_recipe(s, self._project.id, f"{name} recipe", labels, attributes).id
            user = copy.deepcopy((metadata or {}).get("user", {}))
            row = DatasetRow(project_id=self._project.id, name=name, kind="master", driver_id=drv,
                             recipe_id=recipe_id, meta_system={}, meta_user=user, description=description)
            s.add(row)
            try:
                s.flush()
            except IntegrityError as e:
                raise AlreadyExistsError(f"a dataset named '{name}' already exists in project '{self._project.name}'") from e
            return Dataset._from_row(self._cat, row)

    def _name_taken(self, s, name: str) -> bool:
        return s.execute(select(DatasetRow.id).where(
            DatasetRow.project_id == self._project.id, DatasetRow.name == name,
            DatasetRow.deleted_at.is_(None), DatasetRow.kind != "snapshot")).first() is not None

    def _resolve_driver(self, s, driver, driver_id) -> int:
        if driver is None and driver_id is None:
            return self._project.internal_driver_id(s)
        if driver_id is None:
            driver_id = getattr(driver, "id", None)
            if driver_id is None:  # a driver name, as Dataloop accepts
                driver_id = s.execute(select(DriverRow.id).where(DriverRow.project_id == self._project.id,
                                                                 DriverRow.name == str(driver))).scalar()
        row = s.get(DriverRow, int(driver_id)) if driver_id is not None else None
        if row is None or row.project_id != self._project.id:
            raise NotFoundError(f"driver {driver!r} not found in project '{self._project.name}'")
        return row.id

    def get(self, dataset_name: str | None = None, dataset_id: int | None = None, checkout: bool = False,
            fetch=None) -> Dataset:
        """A live dataset by name or id (the SDK's *checkout* / *fetch* are accepted and not used)."""
        with self._cat.db.session() as s:
            if dataset_id is not None:
                row = s.get(DatasetRow, as_id(dataset_id, "a dataset"))
                if row is not None and row.project_id != self._project.id:
                    row = None
            elif dataset_name is not None:
                row = s.execute(select(DatasetRow).where(
                    DatasetRow.project_id == self._project.id, DatasetRow.name == dataset_name,
                    DatasetRow.deleted_at.is_(None), DatasetRow.kind != "snapshot")).scalar()
            else:
                raise InvalidInputError("give dataset_name or dataset_id")
            if row is None or row.deleted_at is not None:
                raise NotFoundError(f"dataset {dataset_name or dataset_id!r} not found in project '{self._project.name}'")
            return Dataset._from_row(self._cat, row)

    def list(self, name: str | None = None, filters=None) -> EntityList:
        """Live datasets of the project (snapshots excluded), by name (a list with ``print()``).

        *filters*: a datasets query (``dd.Filters(resource="datasets")``, a DQL dict or a
        search string such as ``"kind:clone items>1000"``), in its sort order.
        """
        if filters is not None:
            from dsdesk.query import datasets_select

            stmt = datasets_select(self._project.id, filters)
            if name is not None:
                stmt = stmt.where(DatasetRow.name == name)
            with self._cat.db.session() as s:
                rows = s.execute(select(DatasetRow).from_statement(stmt)).scalars()
                return EntityList(Dataset._from_row(self._cat, r) for r in rows)
        with self._cat.db.session() as s:
            q = select(DatasetRow).where(DatasetRow.project_id == self._project.id, DatasetRow.deleted_at.is_(None),
                                         DatasetRow.kind != "snapshot").order_by(DatasetRow.name)
            if name is not None:
                q = q.where(DatasetRow.name == name)
            return EntityList(Dataset._from_row(self._cat, r) for r in s.execute(q).scalars())

    def delete(self, dataset_name: str | None = None, dataset_id: int | None = None,
               sure: bool | None = None, really: bool | None = None) -> bool:
        """Move a dataset to the trash: instant, restorable until purged.

        The SDK's ``sure=True, really=True`` are accepted; passing either as False refuses,
        as the SDK does (a trashed dataset is restorable, so dsdesk does not require them).
        """
        _check_sure(sure, really)
        ds = self.get(dataset_name, dataset_id)
        with self._cat.db.session(write=True) as s:
            s.execute(update(DatasetRow).where(DatasetRow.id == ds.id).values(deleted_at=utcnow()))
        return True

    def trash(self) -> list[Dataset]:
        """Datasets in the trash, newest first."""
        with self._cat.db.session() as s:
            q = (select(DatasetRow).where(DatasetRow.project_id == self._project.id, DatasetRow.deleted_at.is_not(None))
                 .order_by(DatasetRow.deleted_at.desc()))
            return [Dataset._from_row(self._cat, r) for r in s.execute(q).scalars()]

    def restore(self, dataset_id: int) -> Dataset:
        """Bring a trashed dataset back; refuses when its name was taken meanwhile."""
        with self._cat.db.session(write=True) as s:
            row = s.get(DatasetRow, int(dataset_id))
            if row is None or row.deleted_at is None or row.project_id != self._project.id:
                raise NotFoundError(f"dataset {dataset_id} is not in the trash")
            if self._name_taken(s, row.name):
                raise AlreadyExistsError(f"cannot restore '{row.name}': a live dataset has that name now")
            row.deleted_at = None
            s.flush()
            return Dataset._from_row(self._cat, row)

    def purge(self, dataset_id: int | None = None, on_event=None) -> int:
        """Remove trashed datasets for good (one, or all of the project's), as a job.

        Returns the number of datasets purged.  Binaries no longer referenced are removed
        from the internal store.
        """
        from dsdesk.api import jobs

        with self._cat.db.session() as s:
            q = select(DatasetRow.id).where(DatasetRow.project_id == self._project.id, DatasetRow.deleted_at.is_not(None))
            if dataset_id is not None:
                q = q.where(DatasetRow.id == int(dataset_id))
            ids = list(s.execute(q).scalars())
        if dataset_id is not None and not ids:
            raise NotFoundError(f"dataset {dataset_id} is not in the trash")
        return self._cat.run(jobs.purge(ids), on_event=on_event)

    def merge(self, merge_name: str, dataset_ids: list[int], with_items_annotations: bool = True,
              with_metadata: bool = False, with_task_annotations_status: bool = False, on_event=None) -> Dataset:
        """Merge datasets into a new dataset of kind ``merge`` in this project; returns it, with
        the :class:`~dsdesk.versioning.MergeResult` (renames, metadata conflicts) as ``report``."""
        return _merge(self._cat, merge_name, dataset_ids, self._project.id, with_items_annotations,
                      with_metadata, with_task_annotations_status, on_event)


def _check_sure(sure, really) -> None:
    if sure is False or really is False:
        raise InvalidInputError("deleting a dataset needs sure=True and really=True")


class CatalogDatasets:
    """Dataset operations that span projects (``cat.datasets``, ``dd.datasets``)."""

    def __init__(self, catalog: Catalog):
        self._cat = catalog

    def get(self, dataset_id: int | None = None, dataset_name: str | None = None) -> Dataset:
        """Any live dataset by id, or by a name only one project uses."""
        if dataset_id is not None:
            return self._cat.dataset_by_id(dataset_id)
        if dataset_name is None:
            raise InvalidInputError("give dataset_id or dataset_name")
        return only_one(self.list(name=dataset_name), "dataset", dataset_name,
                        "project.datasets.get(dataset_name=...) or dataset_id")

    def list(self, name: str | None = None) -> EntityList:
        """Every live dataset of every project (or those named *name*)."""
        with self._cat.db.session() as s:
            q = (select(DatasetRow).where(DatasetRow.deleted_at.is_(None), DatasetRow.kind != "snapshot")
                 .order_by(DatasetRow.project_id, DatasetRow.name))
            if name is not None:
                q = q.where(DatasetRow.name == name)
            return EntityList(Dataset._from_row(self._cat, r) for r in s.execute(q).scalars())

    def merge(self, merge_name: str, dataset_ids: list[int], project_ids: list[int] | None = None,
              with_items_annotations: bool = True, with_metadata: bool = False,
              with_task_annotations_status: bool = False, on_event=None) -> Dataset:
        """Merge datasets of any projects; the result goes to ``project_ids[0]`` (default: the
        first dataset's project)."""
        pid = int(getattr(project_ids[0], "id", project_ids[0])) if project_ids else None
        return _merge(self._cat, merge_name, dataset_ids, pid, with_items_annotations, with_metadata,
                      with_task_annotations_status, on_event)



def _merge(cat, merge_name, dataset_ids, project_id, with_items_annotations, with_metadata,
           with_task_annotations_status, on_event) -> Dataset:
    from dsdesk.api import jobs

    res = cat.run(jobs.merge(merge_name, dataset_ids, project_id=project_id,
                             with_items_annotations=with_items_annotations, with_metadata=with_metadata,
                             with_task_annotations_status=with_task_annotations_status), on_event=on_event)
    out = cat.dataset_by_id(res.dataset_id)
    out.report = res
    return out
