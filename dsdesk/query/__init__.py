"""The query engine: DQL JSON and the search bar -> one AST -> SQLAlchemy Core.

Entry points every listing and bulk operation uses (``filters`` is ``None``, a DQL dict,
DQL JSON text, a :class:`~dsdesk.query.filters.Filters`, a search-bar string or a parsed
:class:`~dsdesk.query.ast.Query`):

* :func:`item_ids_select` - ``SELECT item.id FROM item WHERE dataset_id = :id AND <filter>``,
  to embed in ``INSERT ... SELECT`` / ``UPDATE ... WHERE id IN (...)``.
* :func:`items_select` - item rows in the query's sort order (tie-break on ``item.id``).
* :func:`page_items` - keyset pages in the grid order (dir, name, id).
* :func:`count_items`, :func:`datasets_select`, :func:`annotations_select`.
* :func:`bulk_update_user_metadata` - one set-based UPDATE of the user area.

``None`` means Dataloop's default items query (``hidden = false AND type = 'file'``), and so
does a search-bar string that does not mention ``hidden``; a raw DQL dict is taken as is.
Malformed input raises :class:`dsdesk.errors.QueryError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal, select, tuple_
from sqlalchemy.orm import Session

from dsdesk.errors import QueryError
from dsdesk.query import ast
from dsdesk.query.compile import ANNOTATION, BLOB, DATASET, ITEM, Compiler

__all__ = ["to_query", "item_ids_select", "items_select", "page_items", "count_items",
           "datasets_select", "annotations_select", "ItemPage", "item_condition",
           "bulk_update_user_metadata"]


def to_query(filters: Any, resource: str = "items") -> ast.Query:
    """Normalise any accepted form of *filters* into an :class:`ast.Query`."""
    from dsdesk.query import dql
    from dsdesk.query.filters import Filters

    if filters is None or isinstance(filters, str):
        q = _parse_cached(filters, resource)
    elif isinstance(filters, ast.Query):
        q = filters
    elif isinstance(filters, Filters):
        q = dql.parse(filters.prepare())
    elif isinstance(filters, dict):
        q = dql.parse({"resource": resource, **filters})
    else:
        raise QueryError(f"filters must be a Filters, a DQL dict, a query string or None, "
                         f"not {type(filters).__name__}")
    if q.resource == "annotations" and resource == "items":
        # An annotations query where items are asked for (dd.Filters(resource=ANNOTATION)
        # given to items.list): the items that have a matching annotation.
        default = _parse_cached(None, "items").filter
        q = ast.Query(resource="items", filter=ast.and_(default, ast.HasAnnotation(q.filter)),
                      page=q.page, page_size=q.page_size)
    if q.resource != resource:
        raise QueryError(f"expected a query on {resource}, got one on {q.resource}")
    return q


@lru_cache(maxsize=256)
def _parse_cached(filters: str | None, resource: str) -> ast.Query:
    # Text and "no filter" are hashable and the AST is immutable: the grid asks for the
    # same query page after page, so parse it once.
    from dsdesk.query import dql
    from dsdesk.query.filters import Filters

    if filters is None:
        return dql.parse(Filters(resource=resource).prepare())
    s = filters.strip()
    if s.startswith("{"):
        return dql.parse(s)
    from dsdesk.query import searchbar

    node = searchbar.parse(s, resource=resource)
    if resource == "items" and not ast.mentions(node, "hidden"):
        node = ast.and_(ast.Cond("hidden", "eq", False), node)
    return ast.Query(resource=resource, filter=node)


def _where(dataset_id: int, q: ast.Query, comp: Compiler):
    for field, _asc in q.sort:
        comp.field(field)  # an unknown sort field is an error even where the order is unused
    return and_(ITEM.c.dataset_id == dataset_id, comp.compile(q.filter))


def _from(comp: Compiler):
    return ITEM.join(BLOB, BLOB.c.id == ITEM.c.blob_id) if comp.needs_blob else ITEM


def item_condition(dataset_id: int, filters: Any):
    """``(where_clause, needs_blob_join)`` for *filters* on dataset *dataset_id*."""
    q = to_query(filters)
    comp = Compiler("items", dataset_id=dataset_id)
    return _where(dataset_id, q, comp), comp.needs_blob


def item_ids_select(dataset_id: int, filters: Any = None) -> Select:
    """``SELECT item.id FROM item WHERE item.dataset_id = :id AND <filter>``.

    The DQL sort and page are ignored: this is the set of matching items, meant to be
    embedded in set-based statements (``INSERT ... SELECT``, ``UPDATE ... WHERE id IN``).
    """
    q = to_query(filters)
    comp = Compiler("items", dataset_id=dataset_id)
    where = _where(dataset_id, q, comp)
    return select(ITEM.c.id).select_from(_from(comp)).where(where)


def _order(comp: Compiler, q: ast.Query, default: list) -> list:
    order = []
    for field, asc in q.sort:
        for e in comp.sort_exprs(field):
            # SQLite and PostgreSQL disagree on where NULLs sort; say it explicitly.
            order.append(e.asc().nulls_first() if asc else e.desc().nulls_last())
    return order or default


def _tie_break(id_col, q: ast.Query):
    # The id runs the same way as the last sort key, so an index on (dataset_id, key) -
    # whose entries end with the row id - is read backwards for a descending sort
    # instead of being re-sorted.
    return id_col.desc() if q.sort and not q.sort[-1][1] else id_col.asc()


def items_select(dataset_id: int, filters: Any = None, *, paged: bool = False) -> Select:
    """Item rows (the ``item`` table's columns) matching *filters*, in the DQL sort order.

    Without a sort the order is the grid's (dir, name, id); ``item.id`` always breaks ties
    (in the direction of the last sort key) so pages are stable.  With ``paged=True`` the DQL ``page``/``pageSize`` become
    OFFSET/LIMIT (Dataloop compatibility; the grid uses :func:`page_items`).
    """
    q = to_query(filters)
    comp = Compiler("items", dataset_id=dataset_id)
    where = _where(dataset_id, q, comp)
    order = _order(comp, q, [ITEM.c.dir, ITEM.c.name])
    stmt = select(ITEM).select_from(_from(comp)).where(where).order_by(*order, _tie_break(ITEM.c.id, q))
    if paged:
        size = q.page_size or 1000
        stmt = stmt.limit(size).offset(q.page * size)
    return stmt


@dataclass
class ItemPage:
    """One keyset page: the item rows and the cursor to pass as ``after`` for the next."""

    rows: list
    after: tuple | None  # (dir, name, id) of the last row, None when this was the last page

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


def page_items(session: Session, dataset_id: int, filters: Any = None, page_size: int = 100,
               after: tuple | int | None = None, columns: tuple[str, ...] | None = None) -> ItemPage:
    """A page of item rows in the grid order (dir, name, id), by keyset, never OFFSET.

    *after* is the previous page's ``ItemPage.after`` (a ``(dir, name, id)`` tuple) or an
    item id; None starts at the top.  Cost is independent of how deep the page is.
    *columns* limits the row to those ``item`` columns (``id``, ``dir`` and ``name`` always
    come too): a grid that holds ids skips decoding two JSON columns per row.
    """
    if not isinstance(page_size, int) or page_size < 1:
        raise QueryError(f"page_size must be a positive integer, got {page_size!r}")
    q = to_query(filters)
    if after is not None:
        if isinstance(after, int) and not isinstance(after, bool):
            row = session.execute(select(ITEM.c.dir, ITEM.c.name, ITEM.c.id).where(ITEM.c.id == after)).first()
            if row is None:
                raise QueryError(f"page_items: no item with id {after}")
            after = tuple(row)
        if not (isinstance(after, (tuple, list)) and len(after) == 3):
            raise QueryError(f"page_items: after must be (dir, name, id) or an item id, got {after!r}")
    cols = tuple(dict.fromkeys(("id", "dir", "name", *columns))) if columns is not None else None
    style = _join_style(session, dataset_id, q.filter)
    try:
        hash(q)
    except TypeError:  # an AST built by hand with a list inside: build without the cache
        stmt = _page_statement.__wrapped__(dataset_id, q, page_size, cols, after is not None, style)
    else:
        stmt = _page_statement(dataset_id, q, page_size, cols, after is not None, style)
    params = {} if after is None else {"after_dir": after[0], "after_name": after[1], "after_id": after[2]}
    rows = session.execute(stmt, params).all()
    _note(session, dataset_id, q)
    more = len(rows) > page_size
    rows = rows[:page_size]
    last = rows[-1] if rows and more else None
    return ItemPage(rows, (last.dir, last.name, last.id) if last is not None else None)


_COMMON = 2000  # annotations matching a join beyond which a page scan beats building the set


def _join_nodes(node: ast.Node):
    if isinstance(node, ast.HasAnnotation):
        yield node
    elif isinstance(node, (ast.And, ast.Or)):
        for c in node.children:
            yield from _join_nodes(c)
    elif isinstance(node, ast.Not):
        yield from _join_nodes(node.child)


def _join_style(session: Session, dataset_id: int, node: ast.Node) -> str:
    """``exists`` when every annotation join of *node* matches many annotations, else ``in``.

    A first page of "label:car" in grid order stops after a page of items when each item
    is probed (EXISTS); for a rare label, collecting the few matches first (IN) is what
    is fast.  One bounded index range count per join decides (about a millisecond).
    """
    joins = list(_join_nodes(node))
    if not joins:
        return "in"
    for j in joins:
        a = ANNOTATION.alias()
        cond = Compiler("annotations", annotation=a).compile(j.filter)
        probe = select(literal(1)).select_from(a).where(a.c.dataset_id == dataset_id, cond).limit(_COMMON).subquery()
        if session.execute(select(func.count()).select_from(probe)).scalar_one() < _COMMON:
            return "in"
    return "exists"


@lru_cache(maxsize=128)
def _page_statement(dataset_id: int, q: ast.Query, page_size: int, cols: tuple[str, ...] | None,
                    keyset: bool, join_style: str = "in") -> Select:
    # Built once per query and page size, the cursor bound at execution: the grid asks
    # for page after page of one query, and building the statement costs more than
    # running it.
    comp = Compiler("items", dataset_id=dataset_id, join_style=join_style)
    where = _where(dataset_id, q, comp)
    if keyset:
        where = and_(where, tuple_(ITEM.c.dir, ITEM.c.name, ITEM.c.id)
                     > tuple_(bindparam("after_dir"), bindparam("after_name"), bindparam("after_id")))
    if cols is None:
        selected = list(ITEM.c)
    else:
        try:
            selected = [ITEM.c[c] for c in cols]
        except KeyError as e:
            raise QueryError(f"page_items: no item column {e.args[0]!r}") from None
    return (select(*selected).select_from(_from(comp)).where(where)
            .order_by(ITEM.c.dir, ITEM.c.name, ITEM.c.id).limit(page_size + 1))


def count_items(session: Session, dataset_id: int, filters: Any = None) -> int:
    """How many items of dataset *dataset_id* match *filters*."""
    q = to_query(filters)
    comp = Compiler("items", dataset_id=dataset_id)
    where = _where(dataset_id, q, comp)
    n = session.execute(select(func.count()).select_from(_from(comp)).where(where)).scalar_one()
    _note(session, dataset_id, q)
    return n


def _note(session: Session, dataset_id: int, q: ast.Query) -> None:
    # A metadata field filtered on once will likely be filtered on again: ask for its
    # expression index (built in the background, see dsdesk.query.indexes).
    from dsdesk.query.indexes import note_query

    note_query(session, dataset_id, q.filter)


def annotations_select(dataset_id: int, filters: Any = None) -> Select:
    """Annotation rows of dataset *dataset_id* matching an annotations query."""
    q = to_query(filters, "annotations")
    comp = Compiler("annotations")
    where = and_(ANNOTATION.c.dataset_id == dataset_id, comp.compile(q.filter))
    order = _order(comp, q, [ANNOTATION.c.item_id])
    return select(ANNOTATION).where(where).order_by(*order, _tie_break(ANNOTATION.c.id, q))


def datasets_select(project_id: int, filters: Any = None) -> Select:
    """Dataset rows of project *project_id* matching a datasets query (fields ``name``,
    ``kind``, ``readonly``, ``createdAt``, ``itemsCount``, ``metadata.user.*`` ...).

    Trashed datasets and snapshots' hidden datasets are never listed.  Default order: name.
    """
    q = to_query(filters, "datasets")
    comp = Compiler("datasets")
    where = and_(DATASET.c.project_id == project_id, DATASET.c.deleted_at.is_(None),
                 DATASET.c.kind != "snapshot", comp.compile(q.filter))
    order = _order(comp, q, [DATASET.c.name])
    return select(DATASET).where(where).order_by(*order, _tie_break(DATASET.c.id, q))


def bulk_update_user_metadata(session: Session, dataset_id: int, filters: Any, update_values: dict) -> int:
    """Set user-metadata keys on every matching item in one UPDATE (see :mod:`dsdesk.query.bulk`)."""
    from dsdesk.query.bulk import bulk_update_user_metadata as _impl

    return _impl(session, dataset_id, filters, update_values)
