"""A plain-Python evaluator of the query AST, the oracle the SQL engine is tested against.

Written from the semantics documented in ``dsdesk/query/compile.py``, independently of
its code: items are dicts (see ``conftest.add_items``) and the answer is a set of names.
"""

from __future__ import annotations

import datetime as dt
import re

from dsdesk.query import ast

_MISSING = object()
_BLOB = {"size", "mimetype", "width", "height"}


def _wild(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def _filename(it) -> str:
    return "/" + it["name"] if it["dir"] == "/" else it["dir"] + "/" + it["name"]


def _lookup(tree, path):
    cur = tree
    for p in path:
        if not isinstance(cur, dict) or p not in cur:
            return _MISSING
        cur = cur[p]
    return cur


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _same_kind(a, b):
    if isinstance(b, bool):
        return isinstance(a, bool)
    if _is_num(b):
        return _is_num(a)
    if isinstance(b, str):
        return isinstance(a, str)
    if isinstance(b, dt.datetime):
        return isinstance(a, dt.datetime)
    return False


def _to_dt(v):
    if isinstance(v, str):
        d = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return d.astimezone(dt.UTC).replace(tzinfo=None) if d.tzinfo else d
    return v


def item_value(it: dict, field: str):
    """(value or _MISSING) of *field* on item dict *it*."""
    if field == "filename":
        return _filename(it)
    if field == "type":
        return "file"
    if field == "createdAt":
        return it["created"]
    if field in ("dir", "name", "hidden", "annotated", "description", "id"):
        return it.get(field)
    parts = field.split(".")
    if parts[:2] == ["metadata", "system"] and len(parts) == 3 and parts[2] in _BLOB:
        return it.get(parts[2])
    if parts[:2] == ["metadata", "system"]:
        return _lookup(it.get("system", {}), parts[2:])
    if parts[:2] == ["metadata", "user"]:
        return _lookup(it.get("user", {}), parts[2:])
    raise KeyError(field)


def ann_value(a: dict, field: str):
    if field == "attributes":
        return a.get("attributes")
    parts = field.split(".")
    if parts[0] == "attributes":
        return _lookup(a.get("attributes") or {}, parts[1:])
    if parts[0] == "metadata":
        return _lookup(a.get("meta", {}), parts[1:])
    return a.get(field)


def _scalars(v):
    if isinstance(v, dict):
        for x in v.values():
            yield from _scalars(x)
    elif isinstance(v, list):
        for x in v:
            yield from _scalars(x)
    elif v is not None:
        yield v


def _eq(actual, v, field, is_json):
    if field in ("dir", "filename") and isinstance(v, str):
        if v.endswith("/**") and "*" not in v[:-3] and "?" not in v[:-3]:
            prefix = v[:-3].rstrip("/")
            return not prefix or it_dir_under(actual, prefix, field)
        if field == "dir":
            v = v.rstrip("/") or "/"
    if field == "attributes":
        if v is None:
            return actual is None
        return any(s == v and isinstance(s, bool) == isinstance(v, bool) and isinstance(s, str) == isinstance(v, str)
                   for s in _scalars(actual))
    if v is None:
        return actual is _MISSING or actual is None
    if actual is _MISSING or actual is None:
        return False
    if not _same_kind(actual, v):
        return False
    if isinstance(v, str) and ("*" in v or "?" in v):
        return _wild(v).fullmatch(actual) is not None
    return actual == v


def it_dir_under(actual, prefix, field):
    # actual is the dir (field dir) or the filename; both: "in prefix or below"
    if field == "filename":
        return actual.startswith(prefix + "/")
    return actual == prefix or actual.startswith(prefix + "/")


def _cmp(actual, op, v):
    if actual is _MISSING or actual is None or not _same_kind(actual, v):
        return False
    return {"gt": actual > v, "gte": actual >= v, "lt": actual < v, "lte": actual <= v}[op]


def cond(actual, c: ast.Cond, is_json: bool) -> bool:
    op, v = c.op, c.value
    if c.field == "createdAt" and op not in ("exists",):
        v = tuple(_to_dt(x) for x in v) if isinstance(v, tuple) else _to_dt(v)
    if op == "eq":
        return _eq(actual, v, c.field, is_json)
    if op == "ne":
        return not _eq(actual, v, c.field, is_json)
    if op == "in":
        return any(_eq(actual, x, c.field, is_json) for x in v)
    if op == "nin":
        return not any(_eq(actual, x, c.field, is_json) for x in v)
    if op == "exists":
        present = actual is not _MISSING and (is_json or actual is not None)
        return present == v
    if op == "contains":
        return isinstance(actual, str) and v.lower() in actual.lower()
    return _cmp(actual, op, v)


def ev_item(node: ast.Node, it: dict) -> bool:
    if isinstance(node, ast.Const):
        return node.value
    if isinstance(node, ast.And):
        return all(ev_item(c, it) for c in node.children)
    if isinstance(node, ast.Or):
        return any(ev_item(c, it) for c in node.children)
    if isinstance(node, ast.Not):
        return not ev_item(node.child, it)
    if isinstance(node, ast.HasAnnotation):
        return any(ev_ann(node.filter, a) for a in it.get("annotations", []))
    if isinstance(node, ast.InFolder):
        if node.recursive and node.path == "/":
            return True
        return it["dir"] == node.path or (node.recursive and it["dir"].startswith(node.path + "/"))
    if isinstance(node, ast.Cond):
        is_json = node.field.startswith("metadata.") and node.field.split(".")[-1] not in _BLOB
        return cond(item_value(it, node.field), node, is_json)
    raise TypeError(node)


def ev_ann(node: ast.Node, a: dict) -> bool:
    if isinstance(node, ast.Const):
        return node.value
    if isinstance(node, ast.And):
        return all(ev_ann(c, a) for c in node.children)
    if isinstance(node, ast.Or):
        return any(ev_ann(c, a) for c in node.children)
    if isinstance(node, ast.Not):
        return not ev_ann(node.child, a)
    if isinstance(node, ast.Cond):
        is_json = node.field.startswith(("metadata.", "attributes."))
        return cond(ann_value(a, node.field), node, is_json)
    raise TypeError(node)


def normalize(items: list[dict]) -> list[dict]:
    """Fill in the defaults ``conftest.add_items`` stores for missing keys."""
    out = []
    for i, it in enumerate(items):
        it = dict(it)
        it.setdefault("hidden", False)
        it.setdefault("annotated", bool(it.get("annotations")))
        it.setdefault("created", dt.datetime(2024, 1, 1) + dt.timedelta(days=i))
        it.setdefault("size", 0)
        it.setdefault("description", None)
        out.append(it)
    return out


def evaluate(query: ast.Query, items: list[dict]) -> set[str]:
    """Names of the items matching *query*."""
    return {it["name"] for it in normalize(items) if ev_item(query.filter, it)}
