"""Expression indexes on metadata fields, created when a field is first filtered on.

A filter on ``metadata.user.split`` reads a JSON path of every item in the dataset; with
an index on ``(dataset_id, <the path's expression>, id, hidden, <its JSON type>)`` it is one
index range, for equality and for ranges alike, read from the index alone, and a sort on
the field (``ORDER BY <expression>, id``) walks the index in order: a sorted page at 90 %
of a million items skips 900,000 index entries instead of sorting the table (layout 3;
layout 2 had ``hidden`` before ``id`` and sorted every row).  A conjunction over two fields
(``split:val score>0.5``) also gets a *pair* index ``(dataset_id, a, b, hidden, types)``:
with one index per field the planner ranges over one and reads a table row per match for
the other, slower than no index at all (1.1 s for a full scan at 1M; 2.7 s with the two
single indexes; 20 ms from the pair).  No ANALYZE is run: a sampled one misjudges how many rows
``dataset_id = ?`` selects (few datasets, many items) and misleads the planner, and a
full one costs seconds per million items.  dsdesk cannot
know in advance which of the user's keys matter, so the first query that filters on a
key asks for its index; the index is built on its own connection in a background thread
(the asking query is never held up, and a read session never turns into a writer), and
the ``metadata_key`` row of (dataset, scope ``item``, path) gets ``indexed = true``.
The same call is what a new custom column uses (:func:`ensure_index`).

The index expression is exactly what :mod:`dsdesk.query.sqlexpr` renders for the path,
so the query planner matches it: SQLite ``json_extract(meta_user, '$."split"')``;
PostgreSQL the ``#>>`` text and the numeric CASE form (built CONCURRENTLY, so writers
are not blocked).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from dsdesk.catalog.models import Dataset, MetadataKey
from dsdesk.errors import QueryError
from dsdesk.query import ast
from dsdesk.query.compile import BLOB_COLUMNS, TASK_STATUS_FIELD
from dsdesk.query.sqlexpr import _pg_path, _sqlite_path, check_path_segment

log = logging.getLogger(__name__)

#: Each index costs every insert and update of an item; stop creating them beyond this.
MAX_AUTO_INDEXES = 24
#: Below this many items a scan is already fast: no index is worth its write cost (nor a
#: background writer competing with the user's jobs).
AUTO_INDEX_MIN_ITEMS = 20_000

_LAYOUT = 3  # part of the index name: a new column layout gets new indexes (and drops the old)
_lock = threading.Lock()
_done: set[tuple[str, str]] = set()  # (engine url, index name) known to exist
_running: dict[tuple[str, str], threading.Thread] = {}


def indexable_fields(node: ast.Node) -> list[str]:
    """The item metadata fields (JSON paths) *node* filters on, outside annotation joins."""
    out: list[str] = []

    def walk(n):
        if isinstance(n, ast.Cond):
            parts = n.field.split(".")
            if (len(parts) >= 3 and parts[0] == "metadata" and parts[1] in ("user", "system")
                    and not (parts[1] == "system" and len(parts) == 3 and parts[2] in BLOB_COLUMNS)
                    and n.op != "contains" and n.field not in out
                    and n.field != TASK_STATUS_FIELD):  # read from task_status, not the JSON
                out.append(n.field)
        elif isinstance(n, (ast.And, ast.Or)):
            for c in n.children:
                walk(c)
        elif isinstance(n, ast.Not):
            walk(n.child)

    walk(node)
    return out


def _split(field: str) -> tuple[str, tuple[str, ...]]:
    parts = field.split(".")
    if len(parts) < 3 or parts[0] != "metadata" or parts[1] not in ("user", "system"):
        raise QueryError(f"only item metadata fields (metadata.user.* / metadata.system.*) are indexed, not {field!r}")
    return ("meta_user" if parts[1] == "user" else "meta_system"), tuple(check_path_segment(p, field) for p in parts[2:])


def index_name(field: str, layout: int = _LAYOUT) -> str:
    """The index's name for *field*: stable, short, and free of the path's characters."""
    return "ix_item_meta_" + hashlib.sha1(f"{layout}:{field}".encode()).hexdigest()[:16]


def pair_index_name(first: str, second: str) -> str:
    """The name of the pair index over *first* then *second* (see the module docstring)."""
    return "ix_item_meta_p" + hashlib.sha1(f"{_LAYOUT}:{first}\0{second}".encode()).hexdigest()[:15]


def _sqlite_terms(field: str) -> tuple[str, str]:
    col, path = _split(field)
    sp = _sqlite_path(path)
    return f"json_extract({col}, {sp})", f"json_type({col}, {sp})"


def _pg_terms(field: str) -> tuple[str, str]:
    """(the text expression, the numeric expression) that sqlexpr renders for *field*."""
    col, path = _split(field)
    p = _pg_path(path)
    return (f"(({col})::json #>> {p})",
            f"(CASE WHEN json_typeof(({col})::json #> {p}) = 'number' THEN CAST(({col})::json #>> {p} "
            "AS DOUBLE PRECISION) END)")


def index_ddl(dialect: str, field: str) -> list[str]:
    """The CREATE INDEX statements for *field* on *dialect* (paths validated, so literal)."""
    name = index_name(field)
    if dialect == "sqlite":
        # id right after the value: ORDER BY value, id is the index's order.  hidden and
        # json_type() ride along so the usual filter (hidden = false, the value, its JSON
        # type) is answered from the index alone, without a table row.
        value, vtype = _sqlite_terms(field)
        return [f"CREATE INDEX IF NOT EXISTS {name} ON item (dataset_id, {value}, id, hidden, {vtype})"]
    text_expr, num_expr = _pg_terms(field)
    return [
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON item (dataset_id, {text_expr}, id)",
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name}_n ON item (dataset_id, {num_expr}, id)",
    ]


def pair_index_ddl(dialect: str, first: str, second: str, second_numeric: bool) -> list[str]:
    """The CREATE INDEX statement of the pair index: *first* compared for equality, then
    *second* (a range when *second_numeric*), both read from the index."""
    name = pair_index_name(first, second)
    if dialect == "sqlite":
        (v1, t1), (v2, t2) = _sqlite_terms(first), _sqlite_terms(second)
        return [f"CREATE INDEX IF NOT EXISTS {name} ON item (dataset_id, {v1}, {v2}, hidden, {t1}, {t2})"]
    # The JSON type tests ride along as the last key columns: sqlexpr renders them beside
    # each comparison, and answered from the index they need no table row's JSON parsed
    # (a json column is text: each test parses the document; 308 -> ms at 1M, see below).
    text1, _ = _pg_terms(first)
    text2, num2 = _pg_terms(second)
    return [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON item "
            f"(dataset_id, {text1}, {num2 if second_numeric else text2}, {_pg_type_term(first)}, "
            f"{_pg_type_term(second)})"]


def _pg_type_term(field: str) -> str:
    """The JSON type test's operand that sqlexpr renders for *field* (``JsonIsType``)."""
    col, path = _split(field)
    return f"coalesce(json_typeof((({col})::json #> {_pg_path(path)})), '')"


_EQ_OPS, _RANGE_OPS = {"eq", "in"}, {"gt", "gte", "lt", "lte"}


def index_pair(node: ast.Node) -> tuple[str, str, bool] | None:
    """(first, second, second is numeric) for a conjunction that compares one metadata field
    for equality and another (a range, or a second equality): the pair index it wants.
    None when *node* is not such an AND."""
    if not isinstance(node, ast.And):
        return None
    eq: list[str] = []
    ranged: list[str] = []
    fields = set(indexable_fields(node))
    for c in node.children:
        if isinstance(c, ast.Cond) and c.field in fields:
            if c.op in _EQ_OPS and c.field not in eq:
                eq.append(c.field)
            elif c.op in _RANGE_OPS and c.field not in ranged:
                ranged.append(c.field)
    if not eq:
        return None
    second = next((f for f in ranged if f != eq[0]), None)
    if second is not None:
        return eq[0], second, True
    return (eq[0], eq[1], False) if len(eq) > 1 else None


def _existing(con, dialect: str) -> set[str]:
    if dialect == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix\\_item\\_meta\\_%' ESCAPE '\\'"
    else:
        q = "SELECT indexname FROM pg_indexes WHERE tablename = 'item' AND indexname LIKE 'ix\\_item\\_meta\\_%'"
    return {r[0] for r in con.execute(text(q))}


def _record(engine: Engine, dataset_id: int | None, field: str, value_type: str) -> None:
    if dataset_id is None:
        return
    t = MetadataKey.__table__
    with engine.begin() as con:
        hit = con.execute(select(t.c.id).where(t.c.dataset_id == dataset_id, t.c.scope == "item",
                                               t.c.path == field)).first()
        if hit:
            con.execute(update(t).where(t.c.id == hit[0]).values(indexed=True))
        else:
            con.execute(t.insert().values(dataset_id=dataset_id, scope="item", path=field,
                                          value_type=value_type, indexed=True))


def ensure_index(engine: Engine, field: str, dataset_id: int | None = None, value_type: str = "text") -> bool:
    """Create the expression index for item metadata *field* now (idempotent).

    Returns True when the index exists afterwards.  Records ``metadata_key.indexed`` for
    *dataset_id*.  Refuses (False) once :data:`MAX_AUTO_INDEXES` metadata indexes exist.
    The field's index of the previous layout, if any, is dropped.
    """
    old = index_name(field, _LAYOUT - 1)
    ok = _ensure(engine, index_name(field), index_ddl(engine.dialect.name, field), drop=(old, old + "_n"))
    if ok:
        _record(engine, dataset_id, field, value_type)
    return ok


def ensure_pair_index(engine: Engine, first: str, second: str, second_numeric: bool) -> bool:
    """Create the pair index over *first* and *second* now (idempotent; see the module
    docstring); False when refused or it failed."""
    name = pair_index_name(first, second)
    if engine.dialect.name == "postgresql" and (str(engine.url), name) not in _done:
        _drop_untyped_pair(engine, name)
    return _ensure(engine, name, pair_index_ddl(engine.dialect.name, first, second, second_numeric))


def _drop_untyped_pair(engine: Engine, name: str) -> None:
    """PostgreSQL: drop a pair index made before it carried the JSON type tests (it still
    answers, but parses each matching row's document), so it is made again with them."""
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
            ddl = con.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = :n"), {"n": name}).scalar()
            if ddl is not None and "json_typeof" not in ddl:
                con.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    except SQLAlchemyError as e:
        log.warning("could not replace the index %s: %s", name, e)


def _ensure(engine: Engine, name: str, statements: list[str], drop: tuple[str, ...] = ()) -> bool:
    key = (str(engine.url), name)
    if key in _done:
        return True
    dialect = engine.dialect.name
    try:
        if dialect == "sqlite":
            with engine.connect() as con:
                have = _existing(con, dialect)
            stale = [d for d in drop if d in have]
            if name not in have or stale:
                if name not in have and len(have) - len(stale) >= MAX_AUTO_INDEXES:
                    return False
                # The CREATE is the transaction's first statement: it takes the write lock
                # (waiting out the busy timeout) instead of upgrading a read snapshot,
                # which SQLite refuses at once with "database is locked".
                with engine.begin() as con:
                    for stmt in statements:
                        # Driver SQL, not text(): a key like "cam-:id" would read as a bind parameter.
                        con.exec_driver_sql(stmt)
                    for d in stale:
                        con.exec_driver_sql(f"DROP INDEX IF EXISTS {d}")
        else:
            # CONCURRENTLY cannot run inside a transaction block.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as con:
                have = _existing(con, dialect)
                if name not in have and len({h for h in have if not h.endswith("_n")}) >= MAX_AUTO_INDEXES:
                    return False
                for stmt in statements:
                    con.exec_driver_sql(stmt)
                for d in drop:
                    if d in have:
                        con.exec_driver_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {d}")
                con.execute(text("ANALYZE item"))  # statistics for the new expression
    except SQLAlchemyError as e:
        log.warning("could not create the index %s: %s", name, e)
        return False
    _done.add(key)
    return True


def _value_type(node: ast.Node, field: str) -> str:
    if isinstance(node, ast.Cond) and node.field == field:
        v = node.value[0] if isinstance(node.value, tuple) and node.value else node.value
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        return "text"
    for c in getattr(node, "children", ()) or ([node.child] if isinstance(node, ast.Not) else []):
        t = _value_type(c, field)
        if t != "text":
            return t
    return "text"


def request_indexes(engine: Engine, dataset_id: int, node: ast.Node, wait: bool = False) -> list[str]:
    """Ask for the indexes of the metadata fields *node* filters on; built in the background
    (or now, with *wait*).  Returns the fields asked for."""
    fields = [f for f in indexable_fields(node) if (str(engine.url), index_name(f)) not in _done]
    jobs = [(index_name(f), ensure_index, (engine, f, dataset_id, _value_type(node, f))) for f in fields]
    pair = index_pair(node)
    if pair is not None and (str(engine.url), pair_index_name(pair[0], pair[1])) not in _done:
        # First: until it exists, the single indexes can make this query slower than a scan.
        jobs.insert(0, (pair_index_name(pair[0], pair[1]), ensure_pair_index, (engine, *pair)))
    threads = []
    for name, fn, args in jobs:
        key = (str(engine.url), name)
        with _lock:
            th = _running.get(key)
            if th is None or not th.is_alive():
                th = threading.Thread(target=_build, args=(fn, args, key), name=f"dsdesk-index-{name}", daemon=True)
                _running[key] = th
                th.start()
        threads.append(th)
    if wait:
        for th in threads:
            th.join()
    return fields


_build_lock = threading.Lock()  # one index build at a time: they would only contend


def _build(fn, args: tuple, key) -> None:
    try:
        with _build_lock:
            fn(*args)
    finally:
        with _lock:
            _running.pop(key, None)


def note_query(session: Any, dataset_id: int, node: ast.Node) -> None:
    """Called by the listing helpers after a query ran: request indexes for its metadata
    fields.  Never raises: an index is an optimisation."""
    try:
        if not indexable_fields(node):
            return
        size = session.execute(select(Dataset.item_count).where(Dataset.id == dataset_id)).scalar()
        if (size or 0) < AUTO_INDEX_MIN_ITEMS:
            return
        request_indexes(session.get_bind(), dataset_id, node)
    except Exception as e:  # noqa: BLE001 - a failed optimisation must not fail the listing
        log.warning("index request failed: %s", e)
