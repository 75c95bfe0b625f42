"""Ids as users pass them: integers, strings of digits (dtlpy's ids are strings), or entities."""

from __future__ import annotations

from dsdesk.errors import InvalidInputError, NotFoundError


def as_id(value, what: str) -> int:
    """*value* as an integer id: an int, a string of digits, or an entity with ``.id``.
    InvalidInputError naming *what* otherwise (a Dataloop id such as ``'5d0783852dbc'`` included)."""
    value = getattr(value, "id", value)
    if isinstance(value, bool):
        raise InvalidInputError(f"{value!r} is not {what} id")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{value!r} is not {what} id (dsdesk ids are whole numbers)") from None


def only_one(found: list, what: str, name, hint: str):
    """The single entity of *found* (a catalog-wide lookup by *name*): NotFoundError when
    none, InvalidInputError naming *hint* (the per-project call) when several projects have one."""
    if not found:
        raise NotFoundError(f"{what} {name!r} not found")
    if len(found) > 1:
        raise InvalidInputError(f"{len(found)} projects have a {what} named {name!r}: use {hint}")
    return found[0]
