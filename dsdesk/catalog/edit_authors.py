"""Who saved an object's metadata last (the ``edit_author`` table, see
:class:`dsdesk.catalog.models.EditAuthor`): written with every metadata save of the API,
read when a save conflicts, to show who wrote "theirs"."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dsdesk.catalog.models import EditAuthor
from dsdesk.errors import InvalidInputError

KINDS = ("item", "dataset")


def record(session: Session, kind: str, object_id: int, row_version: int, updated_at: dt.datetime,
           user_name: str) -> None:
    """Note that *user_name* wrote version *row_version* of object *object_id* (of *kind*)
    at *updated_at*, in the session's transaction (the same one as the save)."""
    if kind not in KINDS:
        raise InvalidInputError(f"edit authors are kept for {', '.join(KINDS)}, not {kind!r}")
    # Delete then insert: portable (SQLite and PostgreSQL) and the row is the caller's to
    # write, under the object's own row lock or SQLite's write lock.
    session.execute(delete(EditAuthor).where(EditAuthor.kind == kind, EditAuthor.object_id == object_id))
    session.add(EditAuthor(kind=kind, object_id=object_id, row_version=row_version, updated_at=updated_at,
                           user_name=user_name))
    session.flush()


def author_of(session: Session, kind: str, object_id: int, row_version: int, updated_at: dt.datetime | None) -> str | None:
    """Who wrote version *row_version* of the object, or None when another operation (a
    move, a bulk edit, a sync) wrote it after the last API save."""
    row = session.execute(select(EditAuthor.user_name, EditAuthor.row_version, EditAuthor.updated_at)
                          .where(EditAuthor.kind == kind, EditAuthor.object_id == object_id)).first()
    if row is None or row.row_version != row_version or (updated_at is not None and row.updated_at != updated_at):
        return None
    return row.user_name
