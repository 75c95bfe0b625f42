"""Small SQL constructs whose spelling differs between SQLite and PostgreSQL.

Each is an ordinary SQLAlchemy ``ColumnElement`` with one ``@compiles`` rule per dialect,
so a compiled query is dialect-free until it is executed.  Two design choices:

* JSON paths are rendered *literally* (``json_extract(item.meta_user, '$."split"')``), not
  as bound parameters, because an expression index is used only when the query's
  expression is textually the index's expression.  Paths are validated by
  :func:`check_path_segment` first (no quotes, backslashes, brackets, commas ...), so a
  path can never carry SQL.  Values are always bound parameters.
* Patterns (wildcards, substrings) are bound once in a dialect-neutral form and translated
  by a ``TypeDecorator`` at execution time, which keeps statement caching correct.
"""

from __future__ import annotations

import re

from sqlalchemy import Boolean, Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from dsdesk.errors import QueryError

_BAD_SEGMENT = re.compile(r"""[."'\\\[\]{},*?$%\x00-\x1f\x7f]""")


def check_path_segment(seg: str, field: str) -> str:
    """Return *seg* if it is a legal metadata key; raise QueryError naming *field* if not."""
    if not isinstance(seg, str) or not seg or len(seg) > 255 or _BAD_SEGMENT.search(seg) or seg != seg.strip():
        raise QueryError(
            f"bad field path {field!r}: metadata keys must be non-empty and may not contain "
            "quotes, backslashes, brackets, braces, commas, '$', '*', '?' or control characters")
    return seg


def _sqlite_path(path: tuple[str, ...]) -> str:
    return "'$" + "".join(f'."{p}"' for p in path) + "'"


def _pg_path(path: tuple[str, ...]) -> str:
    return "'{" + ",".join(f'"{p}"' for p in path) + "}'"


class JsonValue(ColumnElement):
    """The scalar at *path* inside JSON column *col*.

    ``mode``: ``raw`` (SQLite: the native value; PostgreSQL: its text), ``num`` (a number or
    NULL when the value is not a number, so PostgreSQL never casts text to a float) or
    ``sort`` (something both engines can ORDER BY).
    """

    inherit_cache = True
    _traverse_internals = [
        ("col", InternalTraversal.dp_clauseelement),
        ("path", InternalTraversal.dp_string_list),
        ("mode", InternalTraversal.dp_string),
    ]

    def __init__(self, col, path: tuple[str, ...], mode: str = "raw"):
        self.col = col
        self.path = tuple(path)
        self.mode = mode
        self.type = Float() if mode == "num" else String()


@compiles(JsonValue, "sqlite")
def _json_value_sqlite(el, compiler, **kw):
    return f"json_extract({compiler.process(el.col, **kw)}, {_sqlite_path(el.path)})"


@compiles(JsonValue)
def _json_value_pg(el, compiler, **kw):
    col = compiler.process(el.col, **kw)
    p = _pg_path(el.path)
    if el.mode == "num":
        return (f"CASE WHEN json_typeof(({col})::json #> {p}) = 'number' "
                f"THEN CAST(({col})::json #>> {p} AS DOUBLE PRECISION) END")
    if el.mode == "sort":
        return f"(({col})::jsonb #> {p})"
    return f"(({col})::json #>> {p})"


class JsonIsType(ColumnElement):
    """True (never NULL) when the value at *path* has JSON type *kind*.

    kind: ``string``, ``number``, ``true``, ``false``, ``null`` or ``present`` (any value,
    JSON null included, as Mongo's ``$exists``).

    ``sqlite_implied``: the caller compares the SQLite value with a string that only a JSON
    string can equal (json_extract gives numbers and booleans as numbers, and only arrays
    and objects as text starting with "[" or "{"), so on SQLite the type test reduces to
    "the value is there" on the indexed expression: no second JSON parse per row.
    """

    inherit_cache = True
    type = Boolean()
    # A predicate, not a boolean value: no "= 1" on SQLite, which would hide GLOB and
    # json_type terms from the query planner.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("col", InternalTraversal.dp_clauseelement),
        ("path", InternalTraversal.dp_string_list),
        ("kind", InternalTraversal.dp_string),
        ("sqlite_implied", InternalTraversal.dp_boolean),
    ]

    def __init__(self, col, path: tuple[str, ...], kind: str, sqlite_implied: bool = False):
        self.col = col
        self.path = tuple(path)
        self.kind = kind
        self.sqlite_implied = sqlite_implied


_SQLITE_TYPES = {"string": "('text')", "number": "('integer', 'real')", "true": "('true')",
                 "false": "('false')", "null": "('null')"}


@compiles(JsonIsType, "sqlite")
def _json_is_type_sqlite(el, compiler, **kw):
    if el.sqlite_implied:
        # Still false (not NULL) for a missing key, so NOT keeps Python's meaning.
        return f"(json_extract({compiler.process(el.col, **kw)}, {_sqlite_path(el.path)}) IS NOT NULL)"
    t = f"json_type({compiler.process(el.col, **kw)}, {_sqlite_path(el.path)})"
    if el.kind == "present":
        return f"({t} IS NOT NULL)"
    return f"(coalesce({t}, '') IN {_SQLITE_TYPES[el.kind]})"


@compiles(JsonIsType)
def _json_is_type_pg(el, compiler, **kw):
    col = compiler.process(el.col, **kw)
    v = f"(({col})::json #> {_pg_path(el.path)})"
    if el.kind == "present":
        return f"({v} IS NOT NULL)"
    if el.kind in ("true", "false"):
        return (f"(coalesce(json_typeof({v}), '') = 'boolean' AND "
                f"(({col})::json #>> {_pg_path(el.path)}) = '{el.kind}')")
    return f"(coalesce(json_typeof({v}), '') = '{el.kind}')"


class JsonHasScalar(ColumnElement):
    """True when JSON column *col* is, or contains at any depth, the scalar *value*
    (annotation ``attributes`` are a list of strings or an object of values)."""

    inherit_cache = True
    type = Boolean()
    # A predicate, not a boolean value: no "= 1" on SQLite, which would hide GLOB and
    # json_type terms from the query planner.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("col", InternalTraversal.dp_clauseelement),
        ("value", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, col, value):
        self.col = col
        self.value = value  # a bindparam of JsonScalarType


@compiles(JsonHasScalar, "sqlite")
def _json_has_scalar_sqlite(el, compiler, **kw):
    # json_tree walks arrays and objects; compare atom and JSON type so 1 != "1".
    col = compiler.process(el.col, **kw)
    v = compiler.process(el.value, **kw)
    return (f"EXISTS (SELECT 1 FROM json_tree({col}) AS jt WHERE jt.atom IS NOT NULL AND "
            f"json_quote(jt.atom) = json_quote(json_extract({v}, '$')) AND "
            f"(jt.type IN ('true', 'false')) = (json_type({v}) IN ('true', 'false')))")


@compiles(JsonHasScalar)
def _json_has_scalar_pg(el, compiler, **kw):
    col = compiler.process(el.col, **kw)
    v = compiler.process(el.value, **kw)
    return (f"coalesce(jsonb_path_exists(({col})::jsonb, '$.** ? (@ == $v)', "
            f"jsonb_build_object('v', CAST({v} AS jsonb))), false)")


class JsonScalarType(TypeDecorator):
    """A scalar bound as its JSON text (``"car"``, ``1``, ``true``)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        import json

        return json.dumps(value)


class GlobPatternType(TypeDecorator):
    """A ``*``/``?`` wildcard pattern, translated for the dialect when bound: SQLite GLOB
    (case-sensitive, like ``$eq``) or a LIKE pattern with ``\\`` as escape."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if dialect.name == "sqlite":
            return value.replace("[", "[[]")
        out = []
        for ch in value:
            if ch == "*":
                out.append("%")
            elif ch == "?":
                out.append("_")
            elif ch in "%_\\":
                out.append("\\" + ch)
            else:
                out.append(ch)
        return "".join(out)


class GlobMatch(ColumnElement):
    """``expr`` matches the wildcard pattern bound in *pattern* (a GlobPatternType param)."""

    inherit_cache = True
    type = Boolean()
    # A predicate, not a boolean value: no "= 1" on SQLite, which would hide GLOB and
    # json_type terms from the query planner.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("expr", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, expr, pattern):
        self.expr = expr
        self.pattern = pattern


@compiles(GlobMatch, "sqlite")
def _glob_sqlite(el, compiler, **kw):
    return f"({compiler.process(el.expr, **kw)} GLOB {compiler.process(el.pattern, **kw)})"


@compiles(GlobMatch)
def _glob_pg(el, compiler, **kw):
    return f"({compiler.process(el.expr, **kw)} LIKE {compiler.process(el.pattern, **kw)} ESCAPE '\\')"


def like_escape(s: str) -> str:
    """Escape LIKE's own wildcards in *s* (escape character ``\\``)."""
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class FtsNeedleType(TypeDecorator):
    """A substring to find in item names: an FTS5 phrase on SQLite, an ILIKE pattern on
    PostgreSQL (where the pg_trgm index serves it)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if dialect.name == "sqlite":
            return '"' + value.replace('"', '""') + '"'
        return "%" + like_escape(value) + "%"


class NameContains(ColumnElement):
    """Case-insensitive substring search on ``item.name`` through the trigram index.

    SQLite: ``item.id IN (SELECT rowid FROM item_name_fts WHERE item_name_fts MATCH ?)``
    (the FTS5 trigram table of migration 0002); PostgreSQL: ``item.name ILIKE ?``.
    Only for needles of 3+ characters: trigram indexes cannot answer shorter ones.
    """

    inherit_cache = True
    type = Boolean()
    # A predicate, not a boolean value: no "= 1" on SQLite, which would hide GLOB and
    # json_type terms from the query planner.
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("id_col", InternalTraversal.dp_clauseelement),
        ("name_col", InternalTraversal.dp_clauseelement),
        ("needle", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, id_col, name_col, needle):
        self.id_col = id_col
        self.name_col = name_col
        self.needle = needle


@compiles(NameContains, "sqlite")
def _name_contains_sqlite(el, compiler, **kw):
    return (f"({compiler.process(el.id_col, **kw)} IN (SELECT rowid FROM item_name_fts "
            f"WHERE item_name_fts MATCH {compiler.process(el.needle, **kw)}))")


@compiles(NameContains)
def _name_contains_pg(el, compiler, **kw):
    return f"({compiler.process(el.name_col, **kw)} ILIKE {compiler.process(el.needle, **kw)} ESCAPE '\\')"


class FolderRange(ColumnElement):
    """A byte-order range ``lo <= dir < hi`` that holds every folder at or below a prefix.

    Only a hint for SQLite's planner, which cannot turn ``dir = '/a' OR dir GLOB '/a/*'``
    into one index range; the exact test stays next to it.  SQLite compares text
    bytewise, so the range is exact there; PostgreSQL's collations need not be bytewise,
    so it renders as ``true`` and the exact test alone decides.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("col", InternalTraversal.dp_clauseelement),
        ("lo", InternalTraversal.dp_clauseelement),
        ("hi", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, col, lo, hi):
        self.col, self.lo, self.hi = col, lo, hi


@compiles(FolderRange, "sqlite")
def _folder_range_sqlite(el, compiler, **kw):
    c = compiler.process(el.col, **kw)
    return f"({c} >= {compiler.process(el.lo, **kw)} AND {c} < {compiler.process(el.hi, **kw)})"


@compiles(FolderRange)
def _folder_range_other(el, compiler, **kw):
    return "true"


class Nested(ColumnElement):
    """A boolean in parentheses of its own.

    SQLAlchemy flattens ``or_(or_(a, b), or_(c, d))`` into ``a OR b OR c OR d``, which SQLite
    parses into a left-deep tree: a few thousand terms pass its expression-depth limit of
    1,000 ("Expression tree is too large").  Wrapping each half of a wide AND/OR in
    :class:`Nested` keeps the tree balanced, so its depth grows with the logarithm.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [("inner", InternalTraversal.dp_clauseelement)]

    def __init__(self, inner):
        self.inner = inner


@compiles(Nested)
def _nested(el, compiler, **kw):
    return f"({compiler.process(el.inner, **kw)})"


class JsonListType(TypeDecorator):
    """A list of plain values bound as one JSON text parameter (see :class:`InJsonList`)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        import json

        return None if value is None else json.dumps(list(value))


class InJsonList(ColumnElement):
    """``expr IN (the values)`` with the values bound as ONE parameter.

    A long ``$in`` list would otherwise take one bind variable per value: SQLite refuses more
    than its variable limit (32,766 in the default build) and both engines plan thousands of
    literals slowly.  SQLite reads the list through ``json_each``, PostgreSQL through
    ``jsonb_array_elements_text`` cast to *sql_type*; both answer ``IN (subquery)`` from an
    index on *expr*.  Chosen over a temporary table because a query here is a statement,
    compiled once and run in sessions it does not own.
    """

    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True
    _traverse_internals = [
        ("expr", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
        ("sql_type", InternalTraversal.dp_string),
    ]

    def __init__(self, expr, values, sql_type: str = "TEXT"):
        self.expr = expr
        self.values = values  # a bindparam of JsonListType
        self.sql_type = sql_type


@compiles(InJsonList, "sqlite")
def _in_json_list_sqlite(el, compiler, **kw):
    return f"({compiler.process(el.expr, **kw)} IN (SELECT value FROM json_each({compiler.process(el.values, **kw)})))"


@compiles(InJsonList)
def _in_json_list_pg(el, compiler, **kw):
    v = compiler.process(el.values, **kw)
    # Qualified by an alias no table has: a bare "v" would be item.v (migration 0018) here.
    return (f"({compiler.process(el.expr, **kw)} IN (SELECT CAST(in_list.value AS {el.sql_type}) "
            f"FROM jsonb_array_elements_text(CAST({v} AS jsonb)) AS in_list(value)))")
