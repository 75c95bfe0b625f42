"""Parse DQL JSON, Dataloop's wire format, into the query AST.

Accepted (as the SDK's ``Filters.prepare()`` writes it)::

    {"resource": "items", "filter": {"$and": [...], "$or": [...]},
     "join": {"on": {"resource": "annotations", "local": "itemId", "forigen": "id"},
              "filter": {...}},
     "intersect": {"query": {...}}, "except": {"query": {...}},
     "sort": {"filename": "ascending"}, "page": 0, "pageSize": 100}

Sibling keys of a filter object are ANDed (Mongo style); ``{field: value}`` is ``$eq``
(a list value is ``$in``); ``{field: {"$op": value, ...}}`` ANDs its operators.
``intersect`` and ``except`` are computed on the same dataset, so they reduce to
``AND sub-filter`` / ``AND NOT sub-filter`` of the sub-query's item condition.
Keys the engine does not act on (``update``, ``delete``, ``systemSpace``, ``context``,
``select``, ``references``) are ignored here: the bulk-operation callers read them.
"""

from __future__ import annotations

import json
from typing import Any

from dsdesk.errors import QueryError
from dsdesk.query import ast

OPS = {"$eq": "eq", "$ne": "ne", "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte",
       "$in": "in", "$nin": "nin", "$exists": "exists", "$contains": "contains"}
_TOP_KEYS = {"resource", "filter", "join", "intersect", "except", "sort", "page", "pageSize",
             "update", "delete", "systemSpace", "context", "select", "references", "limit"}
MAX_PAGE_SIZE = 1000
_MAX_DEPTH = 64
MAX_TERMS = 10_000  # conditions in one $and / $or / $nor list


def parse(dql: dict | str) -> ast.Query:
    """Parse a DQL document (a dict, or its JSON text) into an :class:`ast.Query`."""
    if isinstance(dql, (str, bytes)):
        try:
            dql = json.loads(dql)
        except json.JSONDecodeError as e:
            raise QueryError(f"DQL is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if not isinstance(dql, dict):
        raise QueryError(f"DQL must be a JSON object, got {type(dql).__name__}")
    unknown = set(dql) - _TOP_KEYS
    if unknown:
        raise QueryError(f"unknown DQL key(s): {', '.join(sorted(unknown))}")
    resource = dql.get("resource", "items")
    if resource not in ("items", "annotations", "datasets"):
        raise QueryError(f"unknown DQL resource {resource!r}; expected items, annotations or datasets")
    flt = dql.get("filter")
    node = parse_filter({} if flt is None else flt)
    if "join" in dql and dql["join"] is not None:
        if resource != "items":
            raise QueryError("DQL 'join' is only supported on items (items joined with annotations)")
        node = ast.and_(node, _parse_join(dql["join"]))
    for key in ("intersect", "except"):
        if dql.get(key) is None:
            continue
        sub = dql[key]
        if not isinstance(sub, dict) or not isinstance(sub.get("query"), dict):
            raise QueryError(f"DQL '{key}' must be {{\"query\": {{...}}}}")
        subq = sub["query"]
        subq = {"resource": resource, **subq}
        if subq["resource"] != resource:
            raise QueryError(f"DQL '{key}' query must be on the same resource ({resource})")
        sub_node = parse(subq).filter
        node = ast.and_(node, sub_node if key == "intersect" else ast.not_(sub_node))
    sort = _parse_sort(dql.get("sort"))
    page = dql.get("page", 0)
    if page is None:
        page = 0
    if not isinstance(page, int) or isinstance(page, bool) or page < 0:
        raise QueryError(f"DQL 'page' must be an integer >= 0, got {page!r}")
    size = dql.get("pageSize")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_PAGE_SIZE):
        raise QueryError(f"DQL 'pageSize' must be an integer from 1 to {MAX_PAGE_SIZE}, got {size!r}")
    return ast.Query(resource=resource, filter=node, sort=sort, page=page, page_size=size)


def _parse_join(join: Any) -> ast.Node:
    if not isinstance(join, dict):
        raise QueryError("DQL 'join' must be an object with 'on' and 'filter'")
    on = join.get("on", {"resource": "annotations"})
    if not isinstance(on, dict) or on.get("resource", "annotations") != "annotations":
        raise QueryError(f"DQL 'join' supports only annotations, got {on!r}")
    local = on.get("local", "itemId")
    foreign = on.get("forigen", on.get("foreign", "id"))  # "forigen" (sic) is the wire spelling
    if local != "itemId" or foreign != "id":
        raise QueryError(f"DQL 'join' must link annotations.itemId to items.id, got {on!r}")
    jf = join.get("filter")
    return ast.HasAnnotation(parse_filter({} if jf is None else jf))


def _parse_sort(sort: Any) -> tuple[tuple[str, bool], ...]:
    if sort is None:
        return ()
    if isinstance(sort, list):  # [{"field": "name", "value": "ascending"}] or [["name", "asc"]]
        pairs = []
        for s in sort:
            if isinstance(s, dict) and "field" in s:
                pairs.append((s["field"], s.get("value", "ascending")))
            elif isinstance(s, (list, tuple)) and len(s) == 2:
                pairs.append(tuple(s))
            else:
                raise QueryError(f"bad DQL sort entry {s!r}")
    elif isinstance(sort, dict):
        pairs = list(sort.items())
    else:
        raise QueryError(f"DQL 'sort' must be an object like {{\"name\": \"ascending\"}}, got {sort!r}")
    out = []
    for field, direction in pairs:
        if not isinstance(field, str) or not field:
            raise QueryError(f"bad DQL sort field {field!r}")
        d = str(direction).lower() if not isinstance(direction, bool) else ""
        if d in ("ascending", "asc", "1"):
            out.append((field, True))
        elif d in ("descending", "desc", "-1"):
            out.append((field, False))
        else:
            raise QueryError(f"DQL sort direction for {field!r} must be 'ascending' or 'descending', got {direction!r}")
    return tuple(out)


def parse_filter(expr: Any, depth: int = 0) -> ast.Node:
    """Parse a DQL filter expression (the value of ``"filter"``) into an AST node."""
    if depth > _MAX_DEPTH:
        raise QueryError("DQL filter is nested too deeply")
    if not isinstance(expr, dict):
        raise QueryError(f"a DQL filter must be an object, got {expr!r}")
    parts: list[ast.Node] = []
    for key, val in expr.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(val, list):
                raise QueryError(f"DQL {key} expects a list of conditions, got {val!r}")
            if len(val) > MAX_TERMS:
                raise QueryError(f"DQL {key} has {len(val):,} conditions; the limit is {MAX_TERMS:,} "
                                 "(a list of values is one condition: {field: {\"$in\": [...]}})")
            children = [parse_filter(v, depth + 1) for v in val]
            if key == "$and":
                parts.append(ast.and_(*children))
            elif key == "$or":
                # An empty $or list (the SDK can emit one) constrains nothing.
                parts.append(ast.or_(*children) if children else ast.TRUE)
            else:
                parts.append(ast.not_(ast.or_(*children)))
        elif key == "$not":
            parts.append(ast.not_(parse_filter(val, depth + 1)))
        elif isinstance(key, str) and key.startswith("$"):
            raise QueryError(f"unknown DQL operator {key!r} at filter level")
        else:
            parts.append(_parse_field(key, val))
    return ast.and_(*parts)


def _parse_field(field: str, val: Any) -> ast.Node:
    if isinstance(val, dict):
        if not val:
            raise QueryError(f"empty condition for field {field!r}")
        conds = []
        for op, v in val.items():
            if op not in OPS:
                if isinstance(op, str) and op.startswith("$"):
                    raise QueryError(f"unknown DQL operator {op!r} on field {field!r}; "
                                     f"expected one of {', '.join(OPS)}")
                raise QueryError(f"field {field!r}: expected {{\"$op\": value}}, got key {op!r} "
                                 "(nested objects are not matched; use a dotted path)")
            conds.append(ast.Cond(field, OPS[op], _check_value(field, op, v)))
        return ast.and_(*conds)
    if isinstance(val, list):
        return ast.Cond(field, "in", _check_value(field, "$in", val))
    return ast.Cond(field, "eq", _check_value(field, "$eq", val))


def _check_value(field: str, op: str, v: Any) -> Any:
    """Shape checks that do not need the schema (types per field are checked when compiling)."""
    if op in ("$in", "$nin"):
        if not isinstance(v, list):
            raise QueryError(f"{op} on {field!r} expects a list, got {v!r}")
        for x in v:
            if isinstance(x, (dict, list)):
                raise QueryError(f"{op} on {field!r}: list items must be plain values, got {x!r}")
        return tuple(v)
    if op == "$exists":
        if not isinstance(v, bool):
            raise QueryError(f"$exists on {field!r} expects true or false, got {v!r}")
        return v
    if isinstance(v, (dict, list)):
        raise QueryError(f"{op} on {field!r} expects a plain value, got {v!r}")
    if isinstance(v, float) and v != v:
        raise QueryError(f"{op} on {field!r}: NaN is not a value")
    return v
