"""Who saved an object's metadata last (the ``edit_author`` table, see
:class:`dsdesk.catalog.models.EditAuthor`): written with every metadata save of the API,
read when a save conflicts, to show who wrote "theirs"."""

from __future__ import annotations

import datetime as dt
import functools

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from dsdesk.catalog.models import EditAuthor
from dsdesk.errors import InvalidInputError

KINDS = ("item", "dataset")


def record(session: Session, kind: str, object_id: int, row_version: int, updated_at: dt.datetime,
           user_name: str) -> None:
    """Note that *user_name* wrote version *row_version* of object *object_id* (of *kind*)
    at *updated_at*, in the session's transaction (the same one as the save): one
    ``INSERT ... ON CONFLICT DO UPDATE``."""
    if kind not in KINDS:
        raise InvalidInputError(f"edit authors are kept for {', '.join(KINDS)}, not {kind!r}")
    session.execute(_upsert(session.get_bind().dialect.name), {
        "kind": kind, "object_id": object_id, "row_version": row_version, "updated_at": updated_at,
        "user_name": user_name})


@functools.cache
def _upsert(dialect: str):
    # One statement object per dialect, values as parameters: compiled once, then cached
    # (a statement built with the values inside compiles again on every save).
    mod = postgresql if dialect == "postgresql" else sqlite
    stmt = mod.insert(EditAuthor.__table__)
    return stmt.on_conflict_do_update(index_elements=["kind", "object_id"], set_={
        c: stmt.excluded[c] for c in ("row_version", "updated_at", "user_name")})


def author_of(session: Session, kind: str, object_id: int, row_version: int, updated_at: dt.datetime | None) -> str | None:
    """Who wrote version *row_version* of the object, or None when another operation (a
    move, a bulk edit, a sync) wrote it after the last API save."""
    row = session.execute(select(EditAuthor.user_name, EditAuthor.row_version, EditAuthor.updated_at)
                          .where(EditAuthor.kind == kind, EditAuthor.object_id == object_id)).first()
    if row is None or row.row_version != row_version or (updated_at is not None and row.updated_at != updated_at):
        return None
    return row.user_name
