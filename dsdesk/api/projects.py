"""Projects: ``cat.projects.create/get/list/delete`` and the Project entity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from dsdesk.api.entities_print import EntityList, PrintableEntity
from dsdesk.api.ids import as_id
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.catalog.models import Project as ProjectRow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog


def _check_name(name, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"a {what} name must be a non-empty string, not {name!r}")
    if len(name) > 255 or any(ord(c) < 32 for c in name):
        raise InvalidInputError(f"illegal {what} name {name[:40]!r}: too long or has control characters")
    return name.strip()


class Projects:
    """The catalog's projects."""

    def __init__(self, catalog: Catalog):
        self._cat = catalog

    def create(self, project_name: str, description: str = "", checkout: bool = False) -> Project:
        """Create a project with its internal storage driver.  The name must be unused."""
        name = _check_name(project_name, "project")
        with self._cat.db.session(write=True) as s:
            if s.execute(select(ProjectRow.id).where(ProjectRow.name == name)).first():
                raise AlreadyExistsError(f"a project named '{name}' already exists")
            row = ProjectRow(name=name, description=description)
            s.add(row)
            try:
                s.flush()
            except IntegrityError as e:
                raise AlreadyExistsError(f"a project named '{name}' already exists") from e
            s.add(DriverRow(project_id=row.id, name="internal", kind="internal"))
            return Project(self._cat, row.id, row.name, row.description)

    def get(self, project_name: str | None = None, project_id: int | None = None, checkout: bool = False,
            fetch=None, log_error: bool = True) -> Project:
        """A project by name or id; NotFoundError when there is none."""
        with self._cat.db.session() as s:
            if project_id is not None:
                row = s.get(ProjectRow, as_id(project_id, "a project"))
            elif project_name is not None:
                row = s.execute(select(ProjectRow).where(ProjectRow.name == project_name)).scalar()
            else:
                raise InvalidInputError("give project_name or project_id")
            if row is None:
                raise NotFoundError(f"project {project_name or project_id!r} not found")
            return Project(self._cat, row.id, row.name, row.description)

    def list(self) -> EntityList:
        """All projects, by name (a list with ``print()``)."""
        with self._cat.db.session() as s:
            rows = s.execute(select(ProjectRow).order_by(ProjectRow.name)).scalars().all()
            return EntityList(Project(self._cat, r.id, r.name, r.description) for r in rows)

    def delete(self, project_name: str | None = None, project_id: int | None = None) -> bool:
        """Delete a project and everything in it (datasets, items, drivers, recipes).

        Binaries in the internal store are left for ``cat.gc()``; external objects are never touched.
        """
        p = self.get(project_name, project_id)
        with self._cat.db.session(write=True) as s:
            # Datasets reference drivers without cascade: drop datasets first, then the project.
            s.execute(delete(DatasetRow).where(DatasetRow.project_id == p.id))
            s.execute(delete(ProjectRow).where(ProjectRow.id == p.id))
        return True


@dataclass
class Project(PrintableEntity):
    """A project: datasets, drivers, recipes, saved queries and the datasets table's columns."""

    _cat: Catalog
    id: int
    name: str
    description: str = ""

    @property
    def datasets(self):
        """This project's datasets repository."""
        from dsdesk.api.dataset_repos import Datasets

        return Datasets(self._cat, self)

    @property
    def drivers(self):
        """This project's storage drivers (``create``, ``list``, ``get``, ``delete``)."""
        from dsdesk.api.drivers import Drivers

        return Drivers(self._cat, self)

    @property
    def recipes(self):
        """This project's recipes repository."""
        from dsdesk.api.recipes import Recipes

        return Recipes(self._cat, self)

    @property
    def columns(self):
        """This project's datasets-table columns (standard and custom, with their layout)."""
        from dsdesk.api.columns import Columns

        return Columns(self._cat, self)

    @property
    def queries(self):
        """This project's saved queries (``save``, ``get``, ``list``, ``delete``)."""
        from dsdesk.api.queries import SavedQueries

        return SavedQueries(self._cat, self)

    def internal_driver_id(self, session=None) -> int:
        """The id of the project's internal-store driver (created with the project).

        Pass the caller's *session* when inside a write transaction (a second writer
        would wait for the first).
        """
        if session is None:
            with self._cat.db.session(write=True) as s:
                return self.internal_driver_id(s)
        d = session.execute(select(DriverRow.id).where(DriverRow.project_id == self.id, DriverRow.kind == "internal")
                            .order_by(DriverRow.id)).scalar()
        if d is None:
            row = DriverRow(project_id=self.id, name="internal", kind="internal")
            session.add(row)
            session.flush()
            d = row.id
        return d

    def delete(self, sure: bool = False, really: bool = False) -> bool:
        """Delete the project and everything in it, for good: as in the SDK, only with
        ``sure=True, really=True``."""
        if not (sure and really):
            raise InvalidInputError("deleting a project (for good, with its datasets) needs sure=True and really=True")
        return self._cat.projects.delete(project_id=self.id)

    def to_json(self) -> dict:
        """Dataloop-shaped JSON."""
        return {"id": self.id, "name": self.name, "description": self.description}

    def __repr__(self) -> str:
        return f"<Project {self.id} {self.name!r}>"
