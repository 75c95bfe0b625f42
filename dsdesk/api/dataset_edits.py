"""Editing a custom column's cell of the datasets table: the text an editor starts from
(:func:`edit_text`), what the user typed as a typed value (:func:`parse_cell_text`), and the
write of one ``user.*`` metadata field with a row-version check (:func:`set_user_field`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from dsdesk.api.columns import check_field
from dsdesk.api.dataset_values import to_datetime, value_text
from dsdesk.errors import ConflictError, InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog


_TRUE = {"true", "yes", "y", "1", "✓", "on"}
_FALSE = {"false", "no", "n", "0", "✗", "off"}


def edit_text(value: Any, value_type: str) -> str:
    """The text a cell editor starts from (what :func:`parse_cell_text` reads back)."""
    if value is None:
        return ""
    if value_type == "list" and isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value)
    if value_type == "bool" and isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)
    return value_text(value)


def parse_cell_text(text: str, value_type: str) -> Any:
    """A value typed in a cell, converted by the column's type; None (an empty text)
    removes the field.  InvalidInputError names what was expected."""
    t = (text or "").strip()
    if not t:
        return None
    if value_type == "number":
        try:
            return int(t)
        except ValueError:
            pass
        try:
            f = float(t.replace(",", ""))
        except ValueError:
            raise InvalidInputError(f"{t!r} is not a number") from None
        if math.isnan(f) or math.isinf(f):
            raise InvalidInputError(f"{t!r} is not a finite number")
        return f
    if value_type == "bool":
        low = t.casefold()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise InvalidInputError(f"{t!r} is not yes or no")
    if value_type == "date":
        if to_datetime(t) is None:
            raise InvalidInputError(f"{t!r} is not a date; write it as 2025-03-01 or 2025-03-01T14:30")
        return t
    if value_type == "list":
        return [x.strip() for x in t.split(",") if x.strip()]
    return t


def set_user_field(catalog: Catalog, dataset_id: int, field: str, value: Any, row_version: int | None = None,
                   base_user: dict | None = None):
    """Set (or with None remove) one field of a dataset's user metadata, like
    ``ds.metadata["user"][...] = value; ds.update()``, and return the updated Dataset.

    With *row_version* (the version the caller displayed) a newer edit by someone else is
    never overwritten: with *base_user* (the user metadata the caller displayed at that
    version) the edit merges with theirs (``Dataset.update``'s three-way merge; the same
    field changed by both raises MetadataConflictError), without it ConflictError.  Only
    ``user.*`` fields can be set; a path through a value that is not an object is refused
    (it would erase it).  Read-only datasets raise ReadOnlyError.
    """
    path = check_field(field)
    parts = path.split(".")
    if parts[0] != "user":
        raise InvalidInputError(f"{path!r} is in the system area of the metadata, which is read-only")
    ds = catalog.dataset_by_id(dataset_id)
    if row_version is not None and ds.row_version != row_version:
        if base_user is None:
            raise ConflictError(f"dataset '{ds.name}' was changed by someone else; refresh and try again")
        ds.based_on(row_version, base_user)  # the edit below is then merged against what was shown
    d = ds.metadata["user"]
    for i, p in enumerate(parts[1:-1], start=1):
        nxt = d.get(p)
        if nxt is None:
            if value is None:
                return ds  # removing something that is not there
            nxt = d[p] = {}
        elif not isinstance(nxt, dict):
            raise InvalidInputError(f"user.{'.'.join(parts[1:i + 1])} holds a value, not an object: "
                                    f"setting {path} would erase it")
        d = nxt
    if value is None:
        if parts[-1] not in d:
            return ds
        del d[parts[-1]]
    else:
        d[parts[-1]] = value
    return ds.update()
