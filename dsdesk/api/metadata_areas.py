"""The two areas of an entity's ``metadata`` that dsdesk stores - ``system`` (dsdesk's) and
``user`` (yours) - and the refusal of anything beside them.

Dataloop stores any top-level key; dsdesk keeps the two areas only, so a key beside them
(``item.metadata['origin'] = ...``) would be dropped on save.  It is refused instead, with
nothing written, naming where to put it.
"""

from __future__ import annotations

from dsdesk.errors import InvalidInputError

#: The areas of an entity's ``metadata`` that are stored; anything else would be lost.
METADATA_AREAS = ("system", "user")


def check_metadata_areas(metadata, what: str) -> None:
    """Refuse (InvalidInputError) metadata keys outside ``system`` and ``user``, which dsdesk
    does not store: saving would drop them silently."""
    if not isinstance(metadata, dict):
        raise InvalidInputError(f"the metadata of {what} must be a dict, not {type(metadata).__name__}")
    extra = sorted(str(k) for k in metadata if k not in METADATA_AREAS)
    if extra:
        keys = ", ".join(f"metadata[{k!r}]" for k in extra)
        raise InvalidInputError(f"{keys} of {what} would not be stored: dsdesk keeps metadata['user'] (yours) and "
                                f"metadata['system']; move it to metadata['user'][{extra[0]!r}]")


def user_area(item_metadata) -> dict:
    """The user metadata an upload's *item_metadata* gives: its ``user`` area in Dataloop's
    shape (``{"user": {...}}``), or a plain dict as the user area itself."""
    meta = item_metadata or {}
    if not isinstance(meta, dict):
        raise InvalidInputError(f"item_metadata must be a dict, not {type(meta).__name__}")
    if "user" in meta or "system" in meta:
        # Dataloop's shape: a key beside the two areas would be lost - refused.
        check_metadata_areas(meta, "the uploaded items")
        return meta.get("user") or {}
    return meta
