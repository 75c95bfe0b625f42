"""Saving metadata someone else changed since it was read: the merge-or-conflict step of
``Item.update`` and ``Dataset.update``, the error a conflict raises, and the name a save is
recorded under.

Where the base comes from: each entity keeps a deep copy of the document it was read as
(``Item._loaded``, ``Dataset._base``; a few small dicts, copied once per read).  A base
table (the document of every saved version) would also let a client that kept only a
``row_version`` merge, but it writes a copy of the metadata with every save and grows
without bound, for what an entity in memory already has.  The writer of the current
version comes from :mod:`dsdesk.catalog.edit_authors`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from dsdesk.api.formatting import format_datetime
from dsdesk.api.metadata_merge import MergeResult, merge3, resolve
from dsdesk.errors import ConflictError, InvalidInputError

ENV_USER = "DSDESK_USER"


def writer_name() -> str:
    """The name this client's saves are recorded under: ``$DSDESK_USER``, else the login name."""
    name = os.environ.get(ENV_USER, "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a container without a passwd entry)
        return "unknown"


@dataclass(frozen=True)
class Theirs:
    """The row as the catalog holds it now: its version, when and by whom it was written
    (*user_name* None: by another operation, such as a move or a bulk edit), and its
    document."""

    row_version: int
    updated_at: dt.datetime | None
    user_name: str | None
    document: dict


class MetadataConflictError(ConflictError):
    """A save found keys both sides changed to different values; nothing was written.

    ``conflicts`` lists them (:class:`dsdesk.api.metadata_merge.Conflict`: path, base, mine,
    theirs, and who wrote theirs and when); ``theirs`` is the row now.  Decide with
    ``entity.resolve_conflicts(error, choices)`` (``"mine"``, ``"theirs"`` or one choice per
    path) and save again: the next save merges against ``theirs``, so a change made in the
    meantime is merged or reported again, never overwritten.
    """

    def __init__(self, what: str, kind: str, object_id: int, base: dict, mine: dict, result: MergeResult,
                 theirs: Theirs):
        self.what, self.kind, self.object_id = what, kind, object_id
        self.base, self.mine, self.theirs, self._result = base, mine, theirs, result
        self.conflicts = [replace(c, theirs_by=theirs.user_name, theirs_at=theirs.updated_at) for c in result.conflicts]
        keys = [c.key for c in self.conflicts]
        shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
        who = theirs.user_name or "another operation"
        when = f" at {format_datetime(theirs.updated_at)}" if theirs.updated_at else ""
        super().__init__(f"{what} was changed by someone else ({who}{when}) and {len(keys)} "
                         f"key{'s were' if len(keys) > 1 else ' was'} changed on both sides: {shown}; "
                         f"choose yours or theirs for each and save again")

    def __reduce__(self):  # the arguments, not the message, rebuild it (across processes)
        return (self.__class__, (self.what, self.kind, self.object_id, self.base, self.mine, self._result,
                                 self.theirs))

    @property
    def merged(self) -> dict:
        """The merged document, each conflicting path still holding theirs."""
        return self._result.merged

    def resolve(self, choices: str | Mapping) -> dict:
        """The document to save: the merge with *choices* applied (see
        :func:`dsdesk.api.metadata_merge.resolve`)."""
        return resolve(self._result, choices)


def merge_for_save(what: str, kind: str, object_id: int, base: dict, mine: dict, theirs: Theirs) -> dict:
    """The document to write when the row changed since *base* was read: *mine* and
    *theirs* merged; MetadataConflictError when a key was changed both ways."""
    result = merge3(base, mine, theirs.document)
    if result.conflicts:
        raise MetadataConflictError(what, kind, object_id, base, mine, result, theirs)
    return result.merged


def check_error_for(error: Any, kind: str, object_id: int, what: str) -> None:
    """Refuse to resolve *what* with a conflict that was raised for another object."""
    if not isinstance(error, MetadataConflictError):
        raise InvalidInputError(f"resolve_conflicts takes the MetadataConflictError a save raised, not "
                                f"{type(error).__name__}")
    if (error.kind, error.object_id) != (kind, object_id):
        raise InvalidInputError(f"this conflict is about {error.what}, not {what}")
