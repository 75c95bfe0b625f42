"""Jumping to the n-th item of the grid order (``items.list(page_offset=...)``).

Keyset pages are as cheap at the end as at the start, but reaching page 9,000 by keyset
means 9,000 statements (1.5-2.9 s at 1M items).  One ``OFFSET`` is one statement; when the
query is the plain listing (every visible item) it is also read from the unique
``(dataset_id, dir, name)`` index alone, with no table row, if the hidden items are left
out of the count by other means: the partial index ``ix_item_hidden`` holds just them, so
the walk counts all items and moves on by the number of hidden ones before the position
(a fixed point reached in one or two rounds, hidden items being few).  36 ms at 90 % of a
million items instead of 118 ms for an OFFSET that reads every row's ``hidden``.

A listing sorted by one DQL field (``sort: {"metadata.user.score": "ascending"}``) has no
such index trick: its OFFSET walks the sort index (65 ms at 90 % of a million items).
:func:`sorted_ids` remembers where the pages it read begin and end (*marks*: offset ->
the row's ``(sort value, id)``) per catalog, dataset and query, labelled with the
catalog's change sequence (``max(change_log.seq)``: every committed transaction that writes
items adds a row, :mod:`dsdesk.catalog.changes`).  While the sequence is unchanged a page at
or after a mark seeks to the mark's key in the sort index and walks only from there; any
commit that wrote items (here or in another process) makes the marks unusable.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import Text, cast, literal, or_, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from dsdesk.query import ast

PAST_END = "past-end"  # the offset is beyond the last matching item

_ROUNDS = 64  # each round adds the hidden items it found; more rounds than this is a bug


def _plain(q: ast.Query) -> bool:
    from dsdesk.query import _parse_cached

    return not q.sort and q.filter in (_parse_cached(None, "items").filter, ast.Cond("hidden", "eq", False))


def keyset_at(session: Session, dataset_id: int, filters: Any, offset: int):
    """The ``(dir, name, id)`` keyset position after which the page starting at matching
    item *offset* (0-based, grid order) begins: None for offset 0, :data:`PAST_END` when
    fewer items match."""
    from dsdesk.query import _from, _where, to_query
    from dsdesk.query.compile import ITEM, Compiler

    if offset <= 0:
        return None
    q = to_query(filters)
    if _plain(q):
        return _plain_keyset_at(session, dataset_id, offset)
    comp = Compiler("items", dataset_id=dataset_id)
    row = session.execute(select(ITEM.c.dir, ITEM.c.name, ITEM.c.id).select_from(_from(comp))
                          .where(_where(dataset_id, q, comp)).order_by(ITEM.c.dir, ITEM.c.name, ITEM.c.id)
                          .limit(1).offset(offset - 1)).first()
    return PAST_END if row is None else tuple(row)


def _plain_keyset_at(session: Session, dataset_id: int, offset: int):
    hidden_term = "hidden = 1" if session.get_bind().dialect.name == "sqlite" else "hidden"
    walk = text("SELECT dir, name, id FROM item WHERE dataset_id = :d ORDER BY dir, name LIMIT 1 OFFSET :o")
    hidden_upto = text(f"SELECT count(*) FROM item WHERE dataset_id = :d AND {hidden_term} "
                       "AND (dir, name, id) <= (:dir, :name, :id)")
    skipped = 0
    for _ in range(_ROUNDS):
        row = session.execute(walk, {"d": dataset_id, "o": offset - 1 + skipped}).first()
        if row is None:
            return PAST_END
        hidden = session.execute(hidden_upto, {"d": dataset_id, "dir": row.dir, "name": row.name,
                                               "id": row.id}).scalar_one()
        if hidden == skipped:
            # offset visible items lie at or before this row, and every one after it is
            # past them: the next page starts right after it (hidden or not).
            return tuple(row)
        skipped = hidden
    raise RuntimeError("page offset did not settle")  # hidden counts only grow, bounded by the dataset


_MARKS_PER_QUERY = 64  # the marks one query keeps (the latest pages read)
_QUERIES = 256  # the queries whose marks are kept, least recently used dropped


class _Marks:
    """The process's page marks: ``{(catalog, dataset, query): (sequence, {offset: key})}``."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple, tuple[Any, dict[int, tuple]]] = OrderedDict()

    def nearest(self, key: tuple, version, offset: int) -> tuple[int, tuple] | None:
        """The mark at or before *offset* closest to it, if *key*'s marks are of *version*."""
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] != version:
                return None
            self.entries.move_to_end(key)
            before = [o for o in entry[1] if o <= offset]
            if not before:
                return None
            at = max(before)
            return at, entry[1][at]

    def add(self, key: tuple, version, marks: dict[int, tuple]) -> None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] != version:
                entry = self.entries[key] = (version, {})
            entry[1].update(marks)
            while len(entry[1]) > _MARKS_PER_QUERY:
                del entry[1][next(iter(entry[1]))]  # the oldest
            self.entries.move_to_end(key)
            while len(self.entries) > _QUERIES:
                self.entries.popitem(last=False)


_marks = _Marks()


def _change_sequence(session: Session):
    """The catalog's latest change sequence as this session's snapshot sees it, or
    :data:`PAST_END` when it has no change log (an old catalog opened read-only)."""
    if session.get_bind().dialect.name == "sqlite":
        present = session.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'change_log'"))
        found = present.first() is not None
    else:
        found = session.execute(text("SELECT to_regclass('change_log')")).scalar() is not None
    return session.execute(text("SELECT max(seq) FROM change_log")).scalar() if found else PAST_END


def sorted_ids(session: Session, dataset_id: int, filters: Any, offset: int, limit: int) -> list[int]:
    """The ids of the items from *offset* (0-based) of the listing *filters* sorts, at most
    *limit* of them: the same as ``items_select(...)`` with that OFFSET and LIMIT.

    A listing sorted by one field seeks from the nearest page mark (module docstring) in a
    read session; anything else (several sort keys, a write session) is one OFFSET.
    """
    from dsdesk.query import _from, _where, items_select, to_query
    from dsdesk.query.compile import ITEM, Compiler

    q = to_query(filters)
    bind = session.get_bind()
    exprs: list = []
    if len(q.sort) == 1 and bind.get_execution_options().get("sqlite_begin") != "IMMEDIATE":
        comp = Compiler("items", dataset_id=dataset_id)
        where = _where(dataset_id, q, comp)
        exprs = comp.sort_exprs(q.sort[0][0])
    if len(exprs) != 1:
        stmt = items_select(dataset_id, filters).with_only_columns(ITEM.c.id).offset(offset).limit(limit)
        return list(session.execute(stmt).scalars())
    version = _change_sequence(session)
    expr, asc = exprs[0], q.sort[0][1]
    base = select(expr, ITEM.c.id).select_from(_from(comp)).where(where)
    # As items_select orders it: NULLs first ascending, last descending; the id breaks ties
    # in the key's direction.
    order = (expr.asc().nulls_first(), ITEM.c.id.asc()) if asc else (expr.desc().nulls_last(), ITEM.c.id.desc())
    compiled = base.compile(bind)
    key = (str(bind.url), dataset_id, str(compiled), repr(sorted(compiled.params.items())), asc)
    mark = None if version == PAST_END else _marks.nearest(key, version, offset)
    stmt = base
    skip = offset
    if mark is not None:
        at, (value, item_id) = mark
        # Rows at or after the mark's key in the listing's order, written so that the first
        # term is a range on the sort index (SQLite does not seek on a row-value compare
        # of an index expression: that walked the whole dataset).  A mark's value is never
        # NULL; descending, the NULLs that follow the last value are not in the range, so a
        # short answer is read again with the plain OFFSET.
        if bind.dialect.name == "postgresql":
            # the sort value is jsonb there: the mark's value goes back as jsonb, compared
            # as the ORDER BY compares
            value = cast(literal(json.dumps(value), Text()), JSONB)
        if asc:
            stmt = base.where(expr >= value, or_(expr > value, ITEM.c.id >= item_id))
        else:
            stmt = base.where(expr <= value, or_(expr < value, ITEM.c.id <= item_id))
        skip = offset - at
    rows = session.execute(stmt.order_by(*order).offset(skip).limit(limit)).all()
    if mark is not None and not asc and len(rows) < limit:
        rows = session.execute(base.order_by(*order).offset(offset).limit(limit)).all()
    if rows and version != PAST_END:
        found = {offset: tuple(rows[0]), offset + len(rows) - 1: tuple(rows[-1])}
        _marks.add(key, version, {o: k for o, k in found.items() if k[0] is not None})
    return [r[1] for r in rows]
