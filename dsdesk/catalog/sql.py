"""Small portable SQL helpers shared by the set-based operations (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, table: Table, index_elements: Sequence[str]):
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` for the session's dialect."""
    name = session.get_bind().dialect.name
    mod = postgresql if name == "postgresql" else sqlite
    return mod.insert(table).on_conflict_do_nothing(index_elements=list(index_elements))


def chunked(iterable: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of at most *size* elements from *iterable*, lazily."""
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def lookup_ids(session: Session, id_col, key_col, keys: Sequence[Any], *where, size: int = 5000) -> dict:
    """``{key: id}`` for the rows whose *key_col* is in *keys* (queried in chunks)."""
    out: dict = {}
    for part in chunked(keys, size):
        q = select(key_col, id_col).where(key_col.in_(part), *where)
        out.update(tuple(r) for r in session.execute(q))
    return out
