"""Queries of the API: a folder view's filter, and saved queries.

:func:`scoped_filter` is the one way a folder view (the grid, ``dsdesk ls``) and its search
text become a query.  Saved queries: ``project.queries.save(name, filters)`` / ``.get`` /
``.list`` / ``.delete``.  A saved query keeps what the user gave: a DQL document (from a
``dd.Filters`` or a dict) or a search-bar string.  ``SavedQuery.filters`` hands it back in a
form every listing and bulk operation accepts
(``ds.items.list(filters=project.queries.get("train").filters)``).
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from dsdesk.catalog.models import SavedQuery as SavedQueryRow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.projects import Project

_TEXT_KEY = "searchbar"  # how a search-bar string is kept in the dql JSON column


def folder_path(path: str | None) -> str:
    """*path* as the catalog writes folders (``/a/b``; ``None`` and ``""`` are the root).

    Raises InvalidPathError for ``..``, empty or illegal segments.
    """
    from dsdesk.catalog import paths

    return paths.normalize_dir(path)


def scoped_filter(folder: str | None, search_text: str = "", recursive: bool = True):
    """The items query of a folder view: the items of *folder* (and of every folder below
    it with *recursive*) that match the search-bar text *search_text*.

    *folder* ``None`` searches the whole dataset.  The folder is a query node, never search
    text, so a folder name with spaces, quotes or ``*`` means itself.  Hidden items stay
    out unless the search mentions ``hidden``, as for any search string.  Returns a
    :class:`dsdesk.query.ast.Query` that every ``filters=`` argument accepts; raises
    QueryError (with the position in *search_text*) when the text does not parse, and
    InvalidPathError for an illegal folder.
    """
    from dsdesk.query import ast, to_query

    if not isinstance(search_text, str):
        raise InvalidInputError(f"search_text must be a string, not {type(search_text).__name__}")
    scope = ast.folder_scope(None if folder is None else folder_path(folder), recursive)
    q = to_query(search_text if search_text.strip() else None)
    return ast.Query(resource=q.resource, filter=ast.and_(q.filter, scope))


def _normalise(filters: Any) -> tuple[str, dict]:
    """(resource, stored JSON) for *filters*, validated by parsing it (QueryError if bad)."""
    from dsdesk.query import dql, searchbar
    from dsdesk.query.filters import Filters

    if isinstance(filters, Filters):
        d = filters.prepare(query_only=True)
        return dql.parse(d).resource, d
    if isinstance(filters, dict):
        d = copy.deepcopy(filters)
        d.pop("page", None)
        d.pop("pageSize", None)
        return dql.parse(d).resource, d
    if isinstance(filters, str):
        if filters.strip().startswith("{"):
            q = dql.parse(filters)
            import json

            return q.resource, json.loads(filters)
        searchbar.parse(filters)
        return "items", {_TEXT_KEY: filters}
    raise InvalidInputError(f"a saved query needs a Filters, a DQL dict or a search string, "
                            f"not {type(filters).__name__}")


@dataclass
class SavedQuery:
    """A named query of a project."""

    id: int
    project_id: int
    name: str
    resource: str
    dql: dict | None  # the DQL document, or None for a search-bar query
    text: str | None  # the search-bar string, or None for a DQL query
    created_at: dt.datetime | None

    @property
    def filters(self) -> dict | str:
        """The query as any API call's ``filters=`` accepts it."""
        return copy.deepcopy(self.dql) if self.dql is not None else self.text

    def to_json(self) -> dict:
        """JSON for the CLI and the GUI."""
        return {"id": self.id, "name": self.name, "resource": self.resource,
                "dql": self.dql, "query": self.text,
                "createdAt": self.created_at.isoformat() if self.created_at else None}

    @classmethod
    def _from_row(cls, r: SavedQueryRow) -> SavedQuery:
        stored = r.dql or {}
        if set(stored) == {_TEXT_KEY}:
            return cls(r.id, r.project_id, r.name, r.resource, None, stored[_TEXT_KEY], r.created_at)
        return cls(r.id, r.project_id, r.name, r.resource, copy.deepcopy(stored), None, r.created_at)


class SavedQueries:
    """A project's saved queries."""

    def __init__(self, catalog: Catalog, project: Project):
        self._cat, self._project = catalog, project

    def save(self, name: str, filters: Any, overwrite: bool = False) -> SavedQuery:
        """Save *filters* (a ``dd.Filters``, DQL dict/JSON or search string) as *name*.

        An existing name raises AlreadyExistsError unless *overwrite*.  Paging keys are not
        kept: a saved query is a selection, not a page.
        """
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise InvalidInputError(f"a saved query name must be a non-empty string of at most 255 characters, not {name!r}")
        name = name.strip()
        resource, stored = _normalise(filters)
        with self._cat.db.session() as s:
            row = s.execute(select(SavedQueryRow).where(SavedQueryRow.project_id == self._project.id,
                                                        SavedQueryRow.name == name)).scalar_one_or_none()
            if row is not None and not overwrite:
                raise AlreadyExistsError(f"project '{self._project.name}' already has a saved query named {name!r}")
            if row is None:
                row = SavedQueryRow(project_id=self._project.id, name=name, resource=resource, dql=stored)
                s.add(row)
            else:
                row.resource, row.dql = resource, stored
            s.flush()
            s.refresh(row)
            return SavedQuery._from_row(row)

    def get(self, name: str) -> SavedQuery:
        """The saved query *name* (NotFoundError if there is none)."""
        with self._cat.db.session() as s:
            row = s.execute(select(SavedQueryRow).where(SavedQueryRow.project_id == self._project.id,
                                                        SavedQueryRow.name == name)).scalar_one_or_none()
            if row is None:
                raise NotFoundError(f"no saved query named {name!r} in project '{self._project.name}'")
            return SavedQuery._from_row(row)

    def list(self) -> list[SavedQuery]:
        """Every saved query of the project, by name."""
        with self._cat.db.session() as s:
            rows = s.execute(select(SavedQueryRow).where(SavedQueryRow.project_id == self._project.id)
                             .order_by(SavedQueryRow.name)).scalars().all()
            return [SavedQuery._from_row(r) for r in rows]

    def delete(self, name: str) -> bool:
        """Delete the saved query *name*; NotFoundError if there is none."""
        with self._cat.db.session() as s:
            n = s.execute(delete(SavedQueryRow).where(SavedQueryRow.project_id == self._project.id,
                                                      SavedQueryRow.name == name)).rowcount
        if not n:
            raise NotFoundError(f"no saved query named {name!r} in project '{self._project.name}'")
        return True
