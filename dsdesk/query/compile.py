"""Compile the query AST (:mod:`dsdesk.query.ast`) to SQLAlchemy Core.

The output runs unchanged on SQLite and PostgreSQL: dialect differences live in the
constructs of :mod:`dsdesk.query.sqlexpr`; every value is a bound parameter.

Semantics (Mongo-like, as Dataloop's DQL):

* Every compiled condition is a boolean that is never SQL NULL, so ``NOT`` behaves as in
  Python: ``$ne`` and ``$nin`` also match rows whose field is missing or NULL.
* JSON comparisons are typed: a string value matches only JSON strings, a number only JSON
  numbers (``1`` never equals ``"1"``), ``true`` only ``true``; ``null`` matches a JSON null
  or a missing key.  Ordering operators accept strings, numbers and dates only.
* ``*`` (any characters, ``/`` included) and ``?`` (one character) in a string value of
  ``$eq`` / ``$ne`` / ``$in`` / ``$nin`` are wildcards, case-sensitive like ``$eq``.
  ``/a/**`` on ``dir`` or ``filename`` means "in /a or any folder below it".
* ``contains`` (the search bar's free text) is a case-insensitive substring match.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, bindparam, case, exists, false, literal, not_, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from dsdesk.catalog.models import Annotation, Blob, Dataset, Item, TaskStatus
from dsdesk.errors import QueryError
from dsdesk.query import ast
from dsdesk.query.sqlexpr import (
    FolderRange,
    FtsNeedleType,
    GlobMatch,
    GlobPatternType,
    InJsonList,
    JsonHasScalar,
    JsonIsType,
    JsonListType,
    JsonScalarType,
    JsonValue,
    NameContains,
    Nested,
    check_path_segment,
    like_escape,
)

ITEM = Item.__table__
BLOB = Blob.__table__
ANNOTATION = Annotation.__table__
DATASET = Dataset.__table__
TASK_STATUS = TaskStatus.__table__

#: Item fields that are columns: DQL name -> (column name, value type).
ITEM_COLUMNS = {
    "id": ("id", "int"),
    "datasetId": ("dataset_id", "int"),
    "name": ("name", "str"),
    "hidden": ("hidden", "bool"),
    "annotated": ("annotated", "bool"),
    "createdAt": ("created_at", "datetime"),
    "updatedAt": ("updated_at", "datetime"),
    "description": ("description", "str"),
    "blobId": ("blob_id", "int"),
    "parentItemId": ("parent_item_id", "int"),
    "masterItemId": ("master_item_id", "int"),
}
#: ``metadata.system`` keys that describe the binary and live on the blob row.
BLOB_COLUMNS = {"size": ("size", "int"), "mimetype": ("mimetype", "str"),
                "width": ("width", "int"), "height": ("height", "int"),
                "etag": ("etag", "str"), "contentHash": ("content_hash", "str")}
ANNOTATION_COLUMNS = {
    "id": ("id", "int"),
    "itemId": ("item_id", "int"),
    "datasetId": ("dataset_id", "int"),
    "type": ("type", "str"),
    "label": ("label", "str"),
    "creator": ("creator", "str"),
    "status": ("status", "str"),
    "objectId": ("object_id", "str"),
    "createdAt": ("created_at", "datetime"),
    "updatedAt": ("updated_at", "datetime"),
}
#: ``metadata.system`` keys of an annotation that are its columns.
ANNOTATION_SYSTEM_COLUMNS = {"metadata.system.status": "status", "metadata.system.objectId": "objectId"}
#: The item field of an item's task statuses (Dataloop's DQL name), read from task_status.
TASK_STATUS_FIELD = "metadata.system.annotationStatus"
DATASET_COLUMNS = {
    "id": ("id", "int"),
    "projectId": ("project_id", "int"),
    "driverId": ("driver_id", "int"),
    "recipeId": ("recipe_id", "int"),
    "name": ("name", "str"),
    "kind": ("kind", "str"),
    "readonly": ("readonly", "bool"),
    "description": ("description", "str"),
    "createdAt": ("created_at", "datetime"),
    "updatedAt": ("updated_at", "datetime"),
    "itemsCount": ("item_count", "int"),
    "annotatedCount": ("annotated_count", "int"),
    "annotationsCount": ("annotation_count", "int"),
    "foldersCount": ("folder_count", "int"),
    "bytesTotal": ("bytes_total", "int"),
    "srcDatasetId": ("src_dataset_id", "int"),
}
RESOURCES = ("items", "annotations", "datasets")


@dataclass
class Field:
    """A DQL field resolved against the schema."""

    kind: str  # col | json | const | filename | dir | attributes
    col: Any = None
    vtype: str = "str"
    nullable: bool = False
    path: tuple[str, ...] = ()
    const: Any = None
    blob: bool = False


def _json_path(name: str, parts: list[str]) -> tuple[str, ...]:
    if not parts:
        raise QueryError(f"bad field path {name!r}: a metadata field needs a key after the prefix")
    return tuple(check_path_segment(p, name) for p in parts)


class Compiler:
    """Compiles AST nodes for one resource against given tables (or their aliases)."""

    def __init__(self, resource: str = "items", *, item=ITEM, blob=BLOB, annotation=ANNOTATION,
                 dataset=DATASET, dataset_id: int | None = None, join_style: str = "in"):
        if resource not in RESOURCES:
            raise QueryError(f"unknown resource {resource!r}; expected one of {', '.join(RESOURCES)}")
        self.resource = resource
        self.item, self.blob, self.annotation, self.dataset = item, blob, annotation, dataset
        self.dataset_id = dataset_id
        # "in": item.id IN (matching annotations' item ids) - best for counts, sets and rare
        # labels; "exists": a correlated EXISTS per item - best for the first page of an
        # ordered listing when many items match (the scan stops after a page).
        self.join_style = join_style
        self.needs_blob = False  # set when a filter or sort reads a blob column

    # ---- fields ---------------------------------------------------------------------------

    def field(self, name: str) -> Field:
        """Resolve a dotted DQL field name; QueryError for unknown fields."""
        if not isinstance(name, str) or not name:
            raise QueryError(f"bad field name {name!r}")
        parts = name.split(".")
        if self.resource == "items":
            t = self.item
            if name in ITEM_COLUMNS:
                c, vt = ITEM_COLUMNS[name]
                return Field("col", t.c[c], vt, t.c[c].nullable)
            if name == "dir":
                return Field("dir", t.c.dir)
            if name == "filename":
                return Field("filename")
            if name == "type":
                return Field("const", const="file")  # the catalog's items are always files
            if name == TASK_STATUS_FIELD:
                return Field("task_status")
            if parts[0] == "metadata" and len(parts) >= 2:
                if parts[1] == "system":
                    if len(parts) == 3 and parts[2] in BLOB_COLUMNS:
                        c, vt = BLOB_COLUMNS[parts[2]]
                        return Field("col", self.blob.c[c], vt, self.blob.c[c].nullable, blob=True)
                    return Field("json", t.c.meta_system, path=_json_path(name, parts[2:]))
                if parts[1] == "user":
                    return Field("json", t.c.meta_user, path=_json_path(name, parts[2:]))
        elif self.resource == "annotations":
            t = self.annotation
            if name in ANNOTATION_COLUMNS or name in ANNOTATION_SYSTEM_COLUMNS:
                c, vt = ANNOTATION_COLUMNS[ANNOTATION_SYSTEM_COLUMNS.get(name, name)]
                return Field("col", t.c[c], vt, t.c[c].nullable)
            if name == "attributes":
                return Field("attributes", t.c.attributes)
            if parts[0] == "attributes":
                return Field("json", t.c.attributes, path=_json_path(name, parts[1:]))
            if parts[0] == "metadata":
                return Field("json", t.c.meta, path=_json_path(name, parts[1:]))
        else:
            t = self.dataset
            if name in DATASET_COLUMNS:
                c, vt = DATASET_COLUMNS[name]
                return Field("col", t.c[c], vt, t.c[c].nullable)
            if parts[0] == "metadata" and len(parts) >= 2 and parts[1] in ("system", "user"):
                col = t.c.meta_system if parts[1] == "system" else t.c.meta_user
                return Field("json", col, path=_json_path(name, parts[2:]))
        raise QueryError(f"unknown field {name!r} for resource {self.resource!r}")

    def sort_exprs(self, name: str) -> list[ColumnElement]:
        """The SQL expressions to ORDER BY for DQL sort field *name*."""
        f = self.field(name)
        if f.blob:
            self.needs_blob = True
        if f.kind == "col":
            return [f.col]
        if f.kind == "dir":
            return [f.col]
        if f.kind == "filename":
            # The folder tree's order (dir, name): what the grid shows and what the unique
            # index (dataset_id, dir, name) serves.
            return [self.item.c.dir, self.item.c.name]
        if f.kind == "json":
            return [JsonValue(f.col, f.path, "sort")]
        if f.kind == "const":
            return []
        raise QueryError(f"cannot sort by {name!r}")

    # ---- nodes ----------------------------------------------------------------------------

    def compile(self, node: ast.Node) -> ColumnElement:
        """A never-NULL SQL boolean for *node*."""
        if isinstance(node, ast.Const):
            return true() if node.value else false()
        if isinstance(node, ast.And):
            return _balanced(and_, [self.compile(c) for c in node.children])
        if isinstance(node, ast.Or):
            return _balanced(or_, [self.compile(c) for c in node.children])
        if isinstance(node, ast.Not):
            return not_(self.compile(node.child))
        if isinstance(node, ast.HasAnnotation):
            return self._has_annotation(node)
        if isinstance(node, ast.Cond):
            return self._cond(node)
        if isinstance(node, ast.InFolder):
            return self._in_folder(node)
        raise QueryError(f"unsupported query node {type(node).__name__}")

    def _in_folder(self, node: ast.InFolder) -> ColumnElement:
        if self.resource != "items":
            raise QueryError("a folder scope is only allowed in an items query")
        path = node.path
        if not isinstance(path, str) or not path.startswith("/") or (path != "/" and path.endswith("/")):
            raise QueryError(f"a folder scope needs a normalised folder path such as /a/b, not {path!r}")
        d = self.item.c.dir
        if not node.recursive:
            return d == path
        if path == "/":
            return true()
        # As dir:/a/** but with the name escaped: LIKE with the name's own % and _ escaped,
        # inside the byte range that serves SQLite's index (and makes its ASCII-case-blind
        # LIKE exact there; PostgreSQL's LIKE is case-sensitive).
        return and_(FolderRange(d, bindparam(None, path, type_=String()), bindparam(None, path + "0", type_=String())),
                    or_(d == path, d.like(like_escape(path) + "/%", escape="\\")))

    def _has_annotation(self, node: ast.HasAnnotation) -> ColumnElement:
        if self.resource != "items":
            raise QueryError("a join on annotations is only allowed in an items query")
        a = self.annotation.alias()
        sub = Compiler("annotations", annotation=a)
        cond = sub.compile(node.filter)
        if self.join_style == "exists":
            return exists(select(literal(1)).select_from(a).where(a.c.item_id == self.item.c.id, cond))
        q = select(a.c.item_id).where(cond)
        if self.dataset_id is not None:
            # The (dataset_id, label) index makes label joins a range scan.
            q = q.where(a.c.dataset_id == self.dataset_id)
        return self.item.c.id.in_(q)

    def _cond(self, c: ast.Cond) -> ColumnElement:
        if c.op not in ast.OPERATORS:
            raise QueryError(f"unknown operator {c.op!r} on field {c.field!r}")
        f = self.field(c.field)
        if f.blob:
            self.needs_blob = True
        if f.kind == "task_status":
            return self._task_status(c)
        op, v = c.op, c.value
        if op == "exists":
            if not isinstance(v, bool):
                raise QueryError(f"$exists on {c.field!r} expects true or false, got {v!r}")
            e = self._exists(f)
            return e if v else not_(e)
        if op == "ne":
            return not_(self._cond(ast.Cond(c.field, "eq", v)))
        if op == "nin":
            return not_(self._cond(ast.Cond(c.field, "in", v)))
        if op == "in":
            if not isinstance(v, (list, tuple)):
                raise QueryError(f"$in on {c.field!r} expects a list, got {v!r}")
            if len(v) > MAX_IN_VALUES:
                raise QueryError(f"$in on {c.field!r} has {len(v):,} values; the limit is {MAX_IN_VALUES:,}")
            return self._in(c.field, f, list(v))
        if op == "contains":
            return self._contains(c.field, f, v)
        if isinstance(v, (list, tuple, dict)):
            raise QueryError(f"${op} on {c.field!r} expects a single value, got {v!r}")
        if f.kind == "const":
            return true() if _py_match(f.const, op, v) else false()
        if f.kind == "json":
            return self._json(c.field, f, op, v)
        if f.kind == "attributes":
            if op != "eq":
                raise QueryError(f"${op} is not supported on 'attributes'; use attributes.<key>")
            if v is None:
                return or_(f.col.is_(None), JsonIsType(f.col, (), "null"))
            _scalar(c.field, v)
            return JsonHasScalar(f.col, bindparam(None, v, type_=JsonScalarType()))
        if f.kind in ("dir", "filename"):
            return self._path(c.field, f, op, v)
        return self._column(c.field, f.col, f.vtype, f.nullable, op, v)

    def _task_status(self, c: ast.Cond) -> ColumnElement:
        """``metadata.system.annotationStatus``: the item's status in any task, read from the
        task_status table (what ``item.update_status`` writes and clone/merge copy)."""
        op, v = c.op, c.value
        ts = TASK_STATUS.alias()
        if op == "exists":
            if not isinstance(v, bool):
                raise QueryError(f"$exists on {c.field!r} expects true or false, got {v!r}")
            cond, positive = true(), v
        elif op in ("eq", "ne"):
            if not isinstance(v, str):
                raise QueryError(f"{c.field!r} expects a status string such as 'completed', got {v!r}")
            cond = GlobMatch(ts.c.status, bindparam(None, v, type_=GlobPatternType())) if _is_wild(v) else (
                ts.c.status == v)
            positive = op == "eq"
        elif op in ("in", "nin"):
            if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
                raise QueryError(f"${op} on {c.field!r} expects a list of status strings, got {v!r}")
            cond, positive = ts.c.status.in_(list(v)), op == "in"
        else:
            raise QueryError(f"${op} is not supported on {c.field!r} (use $eq, $ne, $in, $nin or $exists)")
        has = exists(select(literal(1)).select_from(ts).where(ts.c.item_id == self.item.c.id, cond))
        return has if positive else not_(has)

    def _exists(self, f: Field) -> ColumnElement:
        if f.kind == "json":
            return JsonIsType(f.col, f.path, "present")
        if f.kind == "attributes" or (f.kind == "col" and f.nullable):
            return f.col.is_not(None)
        return true()

    def _in(self, name: str, f: Field, values: list) -> ColumnElement:
        if not values:
            return false()
        if f.kind == "json" and all(isinstance(x, str) and _plain_text(x) and not _is_wild(x) for x in values):
            # One IN over the indexed expression instead of an OR of equalities.
            return and_(_in_list(JsonValue(f.col, f.path), list(values), "TEXT"),
                        JsonIsType(f.col, f.path, "string", True))
        if f.kind == "col" and all(isinstance(x, (str, int, float)) and not isinstance(x, bool)
                                   and not _is_wild(x) for x in values):
            coerced = [_coerce(name, f.vtype, x) for x in values]
            sql_type = "TEXT" if f.vtype == "str" else (
                "DOUBLE PRECISION" if any(isinstance(x, float) for x in coerced) else "BIGINT")
            e = _in_list(f.col, coerced, sql_type if f.vtype in ("str", "int") else None)
            return and_(f.col.is_not(None), e) if f.nullable else e
        if len(values) > MAX_OR_VALUES:
            raise QueryError(f"$in on {name!r} with patterns or mixed values has {len(values):,} values; "
                             f"the limit is {MAX_OR_VALUES:,}")
        return _balanced(or_, [self._cond(ast.Cond(name, "eq", x)) for x in values])

    def _contains(self, name: str, f: Field, v: Any) -> ColumnElement:
        if not isinstance(v, str) or not v:
            raise QueryError(f"a text search on {name!r} expects a non-empty string, got {v!r}")
        if f.kind == "col" and f.vtype == "str":
            if self.resource == "items" and name == "name" and len(v) >= 3:
                return NameContains(self.item.c.id, self.item.c.name,
                                    bindparam(None, v, type_=FtsNeedleType()))
            e = f.col.ilike("%" + like_escape(v) + "%", escape="\\")
            return and_(f.col.is_not(None), e) if f.nullable else e
        if f.kind in ("dir", "filename"):
            expr = self.item.c.dir if f.kind == "dir" else self.filename_expr()
            return expr.ilike("%" + like_escape(v) + "%", escape="\\")
        if f.kind == "json":
            return and_(JsonIsType(f.col, f.path, "string"),
                        JsonValue(f.col, f.path).ilike("%" + like_escape(v) + "%", escape="\\"))
        if f.kind == "const":
            return true() if v.lower() in str(f.const).lower() else false()
        raise QueryError(f"text search is not supported on {name!r}")

    def filename_expr(self) -> ColumnElement:
        """``dir + '/' + name`` (``'/' + name`` in the root), as SQL."""
        d, n = self.item.c.dir, self.item.c.name
        return case((d == literal("/"), literal("/") + n), else_=d + literal("/") + n)

    def _path(self, name: str, f: Field, op: str, v: Any) -> ColumnElement:
        if v is None:
            return false() if op == "eq" else _order_type_error(name, v, op)
        if not isinstance(v, str):
            raise QueryError(f"{name!r} expects a path string, got {v!r}")
        d = self.item.c.dir
        if op == "eq":
            if v.endswith("/**") and not _is_wild(v[:-3]):
                prefix = v[:-3].rstrip("/")
                if not prefix:
                    return true()  # everything below the root
                # "/a" and everything below it lie in ["/a", "/a0") ("0" follows "/").
                return and_(FolderRange(d, bindparam(None, prefix, type_=String()),
                                        bindparam(None, prefix + "0", type_=String())),
                            or_(d == prefix, GlobMatch(d, bindparam(None, prefix + "/*", type_=GlobPatternType()))))
            if f.kind == "dir":
                v2 = v.rstrip("/") or "/"
                if _is_wild(v2):
                    return GlobMatch(d, bindparam(None, v2, type_=GlobPatternType()))
                return d == v2
            if _is_wild(v):
                return GlobMatch(self.filename_expr(), bindparam(None, v, type_=GlobPatternType()))
            path = v if v.startswith("/") else "/" + v
            head, _, tail = path.rpartition("/")
            if not tail:
                return false()
            return and_(d == (head or "/"), self.item.c.name == tail)
        expr = d if f.kind == "dir" else self.filename_expr()
        return _ordered(expr, op, v)

    def _json(self, name: str, f: Field, op: str, v: Any) -> ColumnElement:
        col, path = f.col, f.path
        if op == "eq":
            if v is None:
                return or_(not_(JsonIsType(col, path, "present")), JsonIsType(col, path, "null"))
            if isinstance(v, bool):
                return JsonIsType(col, path, "true" if v else "false")
            # The comparison comes before the type test: SQLite evaluates AND left to right,
            # so a full scan parses the JSON twice only for the rows that compare equal.
            if isinstance(v, (int, float)):
                return and_(JsonValue(col, path, "num") == float(v), JsonIsType(col, path, "number"))
            if isinstance(v, str):
                if _is_wild(v):
                    return and_(GlobMatch(JsonValue(col, path), bindparam(None, v, type_=GlobPatternType())),
                                JsonIsType(col, path, "string"))
                return and_(JsonValue(col, path) == v, JsonIsType(col, path, "string", _plain_text(v)))
            raise QueryError(f"{name!r}: cannot compare with {v!r}")
        if isinstance(v, bool) or v is None:
            return _order_type_error(name, v, op)
        if isinstance(v, (int, float)):
            return and_(_ordered(JsonValue(col, path, "num"), op, float(v)), JsonIsType(col, path, "number"))
        if isinstance(v, str):
            return and_(_ordered(JsonValue(col, path), op, v), JsonIsType(col, path, "string"))
        raise QueryError(f"{name!r}: cannot compare with {v!r}")

    def _column(self, name, col, vtype, nullable, op, v) -> ColumnElement:
        if v is None:
            if op != "eq":
                return _order_type_error(name, v, op)
            return col.is_(None) if nullable else false()
        if op == "eq" and vtype == "str" and isinstance(v, str) and _is_wild(v):
            e = GlobMatch(col, bindparam(None, v, type_=GlobPatternType()))
        else:
            if op != "eq" and vtype == "bool":
                raise QueryError(f"${op} is not supported on boolean field {name!r}")
            cv = _coerce(name, vtype, v)
            e = (col == cv) if op == "eq" else _ordered(col, op, cv)
        return and_(col.is_not(None), e) if nullable else e


def _order_type_error(name, v, op):
    raise QueryError(f"${op} on {name!r} needs a string, number or date, got {v!r}")


def _ordered(expr, op: str, v) -> ColumnElement:
    return {"gt": expr > v, "gte": expr >= v, "lt": expr < v, "lte": expr <= v, "eq": expr == v}[op]


def _plain_text(v: str) -> bool:
    """True when only a JSON string's SQLite value can equal *v* (see JsonIsType)."""
    return not v.startswith(("[", "{"))


def _is_wild(v: Any) -> bool:
    return isinstance(v, str) and ("*" in v or "?" in v)


def _scalar(name: str, v: Any) -> None:
    if not isinstance(v, (str, int, float, bool)):
        raise QueryError(f"{name!r} expects a string, number or boolean, got {v!r}")


def parse_datetime(name: str, v: Any) -> dt.datetime:
    """An ISO-8601 string (``Z`` or an offset allowed) or a datetime, as naive UTC."""
    if isinstance(v, dt.datetime):
        d = v
    elif isinstance(v, str):
        try:
            d = dt.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            raise QueryError(f"{name!r} expects an ISO-8601 date such as 2024-05-01T12:00:00Z, got {v!r}") from None
    else:
        raise QueryError(f"{name!r} expects an ISO-8601 date string, got {v!r}")
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d


# A longer $in list of plain values is bound as one JSON parameter (InJsonList) rather than
# one variable per value; the cap keeps a query's text and its parameter bounded.
LONG_IN = 500
MAX_IN_VALUES = 1_000_000
# $in values that need a condition each (patterns, JSON numbers) become an OR of them.
MAX_OR_VALUES = 10_000
# Terms per parenthesised group of a wide AND/OR (see sqlexpr.Nested).
_GROUP = 32


def _balanced(op, terms: list[ColumnElement]) -> ColumnElement:
    """``op(*terms)`` (and_ or or_) as a tree of depth log(len(terms)), not a chain."""
    if len(terms) <= _GROUP:
        return op(*terms)
    size = -(-len(terms) // _GROUP)
    return op(*[Nested(_balanced(op, terms[i:i + size])) for i in range(0, len(terms), size)])


def _in_list(expr, values: list, sql_type: str | None) -> ColumnElement:
    """``expr IN values``: bound values when few, one JSON parameter when many."""
    if len(values) <= LONG_IN or sql_type is None:
        if len(values) > MAX_OR_VALUES:
            raise QueryError(f"an $in list of {len(values):,} values of this type is over the limit "
                             f"of {MAX_OR_VALUES:,}")
        return expr.in_(values)
    return InJsonList(expr, bindparam(None, values, type_=JsonListType()), sql_type)


def _coerce(name: str, vtype: str, v: Any):
    """Check and convert a value for a column of type *vtype* (QueryError when it cannot)."""
    if vtype == "str":
        if isinstance(v, str):
            return v
    elif vtype == "int":
        if isinstance(v, bool):
            pass
        elif isinstance(v, int):
            return v
        elif isinstance(v, float):
            return v
        elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
            return int(v)  # the API shows ids as strings
    elif vtype == "bool":
        if isinstance(v, bool):
            return v
    elif vtype == "datetime":
        return parse_datetime(name, v)
    kinds = {"str": "a string", "int": "a number", "bool": "true or false"}
    raise QueryError(f"{name!r} expects {kinds.get(vtype, vtype)}, got {v!r}")


def _py_match(actual: Any, op: str, v: Any) -> bool:
    """Evaluate a condition on a value known in Python (the constant ``type`` field)."""
    if op == "eq":
        if _is_wild(v):
            return fnmatch.fnmatchcase(str(actual), v.replace("[", "[[]"))
        return actual == v
    if not isinstance(v, type(actual)):
        return False
    return _ordered_py(actual, op, v)


def _ordered_py(a, op, b) -> bool:
    return {"gt": a > b, "gte": a >= b, "lt": a < b, "lte": a <= b}[op]
