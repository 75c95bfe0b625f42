"""``Filters``: build DQL the way Dataloop's SDK (``dtlpy.Filters``) does.

::

    f = dd.Filters()                                   # items, hidden=false AND type=file
    f.add(field="metadata.user.split", values="train")
    f.add(field="dir", values="/train/**")
    f.add(field="metadata.system.size", values=5_000_000, operator="lt")
    f.add_join(field="label", values=["car", "bus"])   # items with a car or bus annotation
    f.sort_by(field="name")
    f.prepare()                                        # the DQL dict, as the SDK writes it

A raw DQL dict is accepted everywhere a ``Filters`` is; ``Filters(custom_filter=...)``
wraps one.
"""

from __future__ import annotations

import copy
import json
import posixpath
from enum import Enum, StrEnum
from typing import Any

from dsdesk.errors import QueryError


class FiltersResource(StrEnum):
    ITEM = "items"
    ANNOTATION = "annotations"
    DATASET = "datasets"


class FiltersOperations(StrEnum):
    OR = "or"  # the SDK's own code passes these two as a method (FiltersMethod)
    AND = "and"
    EQUAL = "eq"
    NOT_EQUAL = "ne"
    GREATER_THAN = "gt"
    GREATER_THAN_OR_EQUAL = "gte"
    LESS_THAN = "lt"
    LESS_THAN_OR_EQUAL = "lte"
    IN = "in"
    NIN = "nin"
    EXISTS = "exists"
    MATCH = "match"  # refused by Filters.add (see _UNSUPPORTED_OPS)


class FiltersKnownFields(StrEnum):
    DIR = "dir"
    ANNOTATED = "annotated"
    FILENAME = "filename"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    LABEL = "label"
    NAME = "name"
    HIDDEN = "hidden"
    TYPE = "type"


class FiltersMethod(StrEnum):
    AND = "and"
    OR = "or"


class FiltersOrderByDirection(StrEnum):
    ASCENDING = "ascending"
    DESCENDING = "descending"


#: The SDK's default annotation types (every type but ``note``).
ANNOTATION_TYPES = ["box", "cube", "cube_3d", "class", "comparison", "ellipse", "point", "segment",
                    "polyline", "pose", "binary", "subtitle", "text_mark", "gis", "ref_semantic_3d",
                    "polyline_3d", "text", "ref_image"]
# Re-adding these replaces the default, as in the SDK (per resource).
_UNIQUE = {"items": ("type", "hidden"), "annotations": ("type",)}
# Operators of FiltersOperations that are not comparisons, or that dsdesk's DQL lacks.
_UNSUPPORTED_OPS = {
    "or": "'or' is a method: add(..., method=dd.FiltersMethod.OR)",
    "and": "'and' is a method: add(..., method=dd.FiltersMethod.AND)",
    "match": ("$match (an element of a list of objects) is not supported; "
              "filter on a dotted path with eq/in instead, e.g. field='metadata.user.key'"),
}
_OPS = {o.value for o in FiltersOperations} - set(_UNSUPPORTED_OPS)
_JOIN_ON = {"resource": "annotations", "local": "itemId", "forigen": "id"}


def _recursive(v: Any) -> Any:
    """The SDK's filename recursion: a folder-like value (no extension, no trailing ``*``)
    means everything below it."""
    if not isinstance(v, str) or v.endswith("*") or posixpath.splitext(v)[1].startswith("."):
        return v
    return v + "**" if v.endswith("/") else v + "/**"


def _value(v: Any) -> Any:
    return v.value if isinstance(v, Enum) else v


class Filters:
    """A DQL query under construction, shaped like ``dtlpy.Filters``."""

    def __init__(self, field: str | None = None, values: Any = None, operator: str | None = None,
                 method: str | None = None, custom_filter: dict | None = None,
                 resource: str = FiltersResource.ITEM, use_defaults: bool = True,
                 page_size: int | None = None):
        self._resource = _value(resource)
        if self._resource not in {r.value for r in FiltersResource}:
            raise QueryError(f"unknown resource {self._resource!r}")
        self.and_filter_list: list[dict] = []
        self.or_filter_list: list[dict] = []
        self.join: dict | None = None
        self.sort: dict[str, str] = {}
        self.page = 0
        self.page_size = min(page_size or 1000, 1000)
        self.recursive = True
        self.custom_filter = copy.deepcopy(custom_filter) if custom_filter is not None else None
        self.use_defaults = use_defaults
        if use_defaults:
            self._add_defaults()
        if field is not None:
            self.add(field=field, values=values, operator=operator, method=method)

    @property
    def resource(self) -> str:
        """``items``, ``annotations`` or ``datasets``."""
        return self._resource

    @resource.setter
    def resource(self, value) -> None:
        # As the SDK: a new resource starts over with its own defaults
        # (``f = dd.Filters(); f.resource = dd.FiltersResource.ANNOTATION; f.add(...)``).
        value = _value(value)
        if value not in {r.value for r in FiltersResource}:
            raise QueryError(f"unknown resource {value!r}")
        if value != self._resource:
            self._resource = value
            self.and_filter_list, self.or_filter_list, self.join = [], [], None
            if self.use_defaults:
                self._add_defaults()

    def _add_defaults(self) -> None:
        if self.resource == "items":
            self.add(field="hidden", values=False)
            self.add(field="type", values="file")
        elif self.resource == "annotations":
            self.add(field="type", values=list(ANNOTATION_TYPES), operator=FiltersOperations.IN)

    # ---- building ------------------------------------------------------------------------

    def add(self, field: str, values: Any, operator: str | None = None, method: str | None = None) -> None:
        """Add ``field <operator> values``; ``method='or'`` puts it in the ``$or`` list.

        A list of values without an operator means "one of".  On items, a ``filename``
        value with no extension and no trailing ``*`` gets ``/**`` appended (SDK recursion).
        """
        if not isinstance(field, str) or not field:
            raise QueryError(f"Filters.add: field must be a non-empty string, got {field!r}")
        op = _value(operator)
        if op is not None:
            op = str(op).lstrip("$")
            if op in _UNSUPPORTED_OPS:
                raise QueryError(f"Filters.add: operator {op!r}: {_UNSUPPORTED_OPS[op]}")
            if op not in _OPS:
                raise QueryError(f"Filters.add: unknown operator {operator!r}; expected one of {', '.join(sorted(_OPS))}")
        if isinstance(values, tuple):
            values = list(values)
        if self.resource == "items" and field == "filename" and self.recursive:
            values = [_recursive(v) for v in values] if isinstance(values, list) else _recursive(values)
        # As the SDK: no operator means the value as it is ({field: value}; a list there is
        # read as "one of"), an operator means {field: {"$op": value}}.
        cond = {field: values if op is None else {f"${op}": values}}
        m = _value(method) or "and"
        if field in _UNIQUE.get(self.resource, ()) and m == "and":
            self.and_filter_list = [c for c in self.and_filter_list if field not in c]
        if m == "or":
            self.or_filter_list.append(cond)
        elif m == "and":
            self.and_filter_list.append(cond)
        else:
            raise QueryError(f"Filters.add: method must be 'and' or 'or', got {method!r}")

    def add_join(self, field: str, values: Any, operator: str | None = None, method: str = "and") -> None:
        """Require at least one annotation with ``field <operator> values`` (items only)."""
        if self.resource != "items":
            raise QueryError("Filters.add_join: joins are only for items filters")
        inner = Filters(resource="annotations", use_defaults=False)
        inner.add(field=field, values=values, operator=operator, method=method)
        if self.join is None:
            self.join = {"on": dict(_JOIN_ON), "filter": {}}
        f = self.join["filter"]
        if inner.and_filter_list:
            f.setdefault("$and", []).extend(inner.and_filter_list)
        if inner.or_filter_list:
            f.setdefault("$or", []).extend(inner.or_filter_list)

    def pop(self, field: str) -> None:
        """Remove every condition on *field*."""
        self.and_filter_list = [c for c in self.and_filter_list if field not in c]
        self.or_filter_list = [c for c in self.or_filter_list if field not in c]

    def pop_join(self, field: str) -> None:
        """Remove every join condition on *field*."""
        if self.join:
            for k in ("$and", "$or"):
                if k in self.join["filter"]:
                    self.join["filter"][k] = [c for c in self.join["filter"][k] if field not in c]
                    if not self.join["filter"][k]:
                        del self.join["filter"][k]
            if not self.join["filter"]:
                self.join = None

    def has_field(self, field: str) -> bool:
        """True when a condition on *field* was added."""
        return any(field in c for c in self.and_filter_list + self.or_filter_list)

    def sort_by(self, field: str, value: str = FiltersOrderByDirection.ASCENDING) -> None:
        """Sort by *field* (keys apply in the order they were added)."""
        v = _value(value)
        if v not in ("ascending", "descending"):
            raise QueryError(f"sort_by: value must be 'ascending' or 'descending', got {value!r}")
        self.sort[field] = v

    def reset(self) -> None:
        """Back to the defaults."""
        self.__init__(resource=self.resource, use_defaults=self.use_defaults)

    # ---- output ------------------------------------------------------------------------

    def prepare(self, operation: str | None = None, update: dict | None = None,
                query_only: bool = False, system_update: dict | None = None,
                system_metadata: bool = False) -> dict:
        """The DQL dict, as ``dtlpy.Filters.prepare`` builds it."""
        if self.custom_filter is not None:
            cf = copy.deepcopy(self.custom_filter)
            out = cf if _is_full_query(cf) else {"filter": cf}
        else:
            flt: dict[str, Any] = {}
            if self.and_filter_list:
                flt["$and"] = copy.deepcopy(self.and_filter_list)
            if self.or_filter_list:
                flt["$or"] = copy.deepcopy(self.or_filter_list)
            out = {"filter": flt}
            if self.join is not None:
                out["join"] = copy.deepcopy(self.join)
        if self.sort and "sort" not in out:
            out["sort"] = dict(self.sort)
        if not query_only:
            out.setdefault("page", self.page)
            if self.page_size:  # 0: the SDK's "only count them"; the listing's own page size applies
                out.setdefault("pageSize", min(self.page_size, 1000))
        out.setdefault("resource", self.resource)
        if operation == "update":
            out["update"] = {"metadata": {"user": update or {}}}
            if system_metadata and system_update:
                out["update"]["metadata"]["system"] = system_update
                out["systemSpace"] = True
        elif operation == "delete":
            for k in ("sort", "page", "pageSize"):
                out.pop(k, None)
            out["delete"] = True
        return out

    def to_json(self) -> str:
        """The DQL as JSON text."""
        return json.dumps(self.prepare())

    def print(self, indent: int = 2) -> None:
        """Print the DQL, as the SDK's ``filters.print()``."""
        print(json.dumps(self.prepare(), indent=indent))

    # ---- saved filters: the SDK's names for a project's saved queries (project.queries) ----

    def save(self, project, filter_name: str) -> bool:
        """Save this query in *project* as *filter_name* (replacing one of that name)."""
        project.queries.save(filter_name, self, overwrite=True)
        return True

    @classmethod
    def load(cls, project, filter_name: str) -> Filters:
        """The query *project* saved as *filter_name* (NotFoundError if none)."""
        saved = project.queries.get(filter_name)
        if not isinstance(saved.filters, dict):
            raise QueryError(f"saved query {filter_name!r} is search-bar text, not DQL: "
                             f"use project.queries.get({filter_name!r}).filters")
        return cls(custom_filter=saved.filters, resource=saved.resource)

    @staticmethod
    def list(project) -> list[str]:  # noqa: A003 - the SDK's name
        """The names of *project*'s saved queries."""
        return [q.name for q in project.queries.list()]

    def __repr__(self) -> str:
        return f"Filters({self.prepare(query_only=True)!r})"


def _is_full_query(d: dict) -> bool:
    return any(k in d for k in ("filter", "join", "resource", "sort", "intersect", "except"))
