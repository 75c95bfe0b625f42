"""Three-way merge of metadata documents (pure functions: no catalog, no Qt).

Two clients read the same item (or dataset) and both save.  The second save finds the row
changed since it was read, and merges three documents: the *base* (what it read), *mine*
(what it wants to save) and *theirs* (what is in the catalog now).  A document is a dict
such as ``{"user": {...}, "description": "...", "filename": "/a.jpg"}``:

* a key changed by one side only takes that side's value (an added or removed key is a
  change too);
* a key changed by both sides to the same value takes it;
* a key changed by both sides to different values is a :class:`Conflict`, unless both
  values are dicts: then they merge key by key (nested dicts merge per key path);
* lists and scalars are values: a list changed by both sides differently is one conflict.

Values compare as JSON does, types included: ``1``, ``1.0`` and ``True`` are three different
values (the metadata editor shows and keeps the type).  :func:`merge3` returns the merged
document with each conflicting path provisionally holding *theirs*, and the conflicts;
:func:`resolve` applies the caller's choice per path (``"mine"``, ``"theirs"`` or
:class:`Value`) to it.  :data:`ABSENT` stands for a key that is not there (removed, or
never set), so "removed" and "set to null" stay different.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dsdesk.errors import InvalidInputError

MINE = "mine"
THEIRS = "theirs"


class _Absent:
    """The type of :data:`ABSENT` (one instance)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False

    def __deepcopy__(self, memo) -> _Absent:  # stays the one instance through deep copies
        return self

    def __reduce__(self):  # and through pickling (an error crossing a process boundary)
        return (_Absent, ())


ABSENT = _Absent()
"""A key that is not in the document: removed by one side, or never there."""


@dataclass(frozen=True)
class Value:
    """A resolution that is neither side's value: the user's own (``Value(ABSENT)`` removes
    the key)."""

    value: Any


@dataclass(frozen=True)
class Conflict:
    """One key path both sides changed to different values.

    *path* is the tuple of keys from the document's top (``("user", "review", "state")``);
    *base*, *mine* and *theirs* are the values there (:data:`ABSENT` when the key is not
    there).  The save path fills *theirs_by* / *theirs_at*: who wrote the row's current
    version and when.
    """

    path: tuple[str, ...]
    base: Any
    mine: Any
    theirs: Any
    theirs_by: str | None = None
    theirs_at: dt.datetime | None = None

    @property
    def key(self) -> str:
        """The path as one dotted string (``user.review.state``), as the UI shows it."""
        return ".".join(self.path)


@dataclass
class MergeResult:
    """What :func:`merge3` produced: *merged* (each conflicting path holding *theirs* until
    resolved) and the *conflicts* in document order."""

    merged: dict
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when nothing conflicts: *merged* can be saved as it is."""
        return not self.conflicts


def same(a: Any, b: Any) -> bool:
    """JSON equality with types: dicts by keys and values, lists item by item; ``1``,
    ``1.0`` and ``True`` differ; :data:`ABSENT` equals only itself."""
    if a is ABSENT or b is ABSENT:
        return a is b
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return (isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b, strict=True)))
    return type(a) is type(b) and a == b


def merge3(base: Mapping, mine: Mapping, theirs: Mapping) -> MergeResult:
    """Merge *mine* and *theirs*, two edits of *base* (three dicts, none changed).

    Returns the merged document (a new dict) and the conflicts; see the module docstring
    for the rules.  InvalidInputError when a document is not a dict.
    """
    for name, doc in (("base", base), ("mine", mine), ("theirs", theirs)):
        if not isinstance(doc, Mapping):
            raise InvalidInputError(f"a metadata document to merge ({name}) must be a dict, not {type(doc).__name__}")
    conflicts: list[Conflict] = []
    merged = _merge_dict(base, mine, theirs, (), conflicts)
    return MergeResult(merged, conflicts)


def _merge_dict(base: Mapping, mine: Mapping, theirs: Mapping, path: tuple[str, ...],
                conflicts: list[Conflict]) -> dict:
    out: dict = {}
    # Mine's order first (what the user arranged), then keys only theirs or the base have.
    keys = list(mine) + [k for k in theirs if k not in mine] + [k for k in base if k not in mine and k not in theirs]
    for k in keys:
        v = _merge_value(base.get(k, ABSENT), mine.get(k, ABSENT), theirs.get(k, ABSENT), (*path, str(k)), conflicts)
        if v is not ABSENT:
            out[k] = v
    return out


def _merge_value(b: Any, m: Any, t: Any, path: tuple[str, ...], conflicts: list[Conflict]) -> Any:
    if same(m, t):
        return copy.deepcopy(m)
    if same(m, b):
        return copy.deepcopy(t)
    if same(t, b):
        return copy.deepcopy(m)
    if isinstance(m, dict) and isinstance(t, dict):
        # Both changed a dict (or both made one where there was none): key by key.
        return _merge_dict(b if isinstance(b, dict) else {}, m, t, path, conflicts)
    conflicts.append(Conflict(path, copy.deepcopy(b), copy.deepcopy(m), copy.deepcopy(t)))
    return copy.deepcopy(t)


def resolve(result: MergeResult, choices: str | Mapping) -> dict:
    """The merged document of *result* with every conflict decided by *choices*.

    *choices* is ``"mine"`` (keep all mine), ``"theirs"`` (take all theirs), or a mapping
    from a conflict's path (its tuple or its dotted ``key``) to ``"mine"``, ``"theirs"`` or
    a :class:`Value`.  InvalidInputError, naming the paths, when a conflict has no choice,
    a choice names no conflict, or a choice is something else.
    """
    doc = copy.deepcopy(result.merged)
    if isinstance(choices, str):
        if choices not in (MINE, THEIRS):
            raise InvalidInputError(f"resolve conflicts with 'mine', 'theirs' or a choice per path, not {choices!r}")
        choices = {c.path: choices for c in result.conflicts}
    if not isinstance(choices, Mapping):
        raise InvalidInputError(f"conflict choices must be 'mine', 'theirs' or a dict per path, not "
                                f"{type(choices).__name__}")
    by_path = {c.path: c for c in result.conflicts}
    by_key = {c.key: c for c in result.conflicts}
    chosen: dict[tuple[str, ...], Any] = {}
    for where, choice in choices.items():
        c = by_path.get(where) if isinstance(where, tuple) else by_key.get(where)
        if c is None:
            raise InvalidInputError(f"{where!r} is not one of the conflicting paths "
                                    f"({', '.join(by_key) or 'there are none'})")
        if isinstance(choice, str) and choice == MINE:
            chosen[c.path] = c.mine
        elif isinstance(choice, str) and choice == THEIRS:
            chosen[c.path] = c.theirs
        elif isinstance(choice, Value):
            chosen[c.path] = choice.value
        else:
            raise InvalidInputError(f"the choice for {c.key} must be 'mine', 'theirs' or Value(...), not {choice!r}")
    missing = [c.key for c in result.conflicts if c.path not in chosen]
    if missing:
        raise InvalidInputError(f"no choice for the conflicting path{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(missing)}")
    for p, v in chosen.items():
        set_path(doc, p, copy.deepcopy(v))
    return doc


def set_path(doc: dict, path: tuple[str, ...], value: Any) -> None:
    """Set *path* in *doc* to *value* in place, making dicts on the way (:data:`ABSENT`
    removes the key; a parent that is not a dict is replaced by one, since a conflict's
    path always ran through dicts on both sides)."""
    d = doc
    for k in path[:-1]:
        nxt = d.get(k)
        if not isinstance(nxt, dict):
            if value is ABSENT:
                return
            nxt = d[k] = {}
        d = nxt
    if value is ABSENT:
        d.pop(path[-1], None)
    else:
        d[path[-1]] = value


def value_text(v: Any, limit: int = 80) -> str:
    """A short text of a conflict's value for people: ``(not set)`` for :data:`ABSENT`,
    JSON otherwise (``null``, ``"text"``, ``[1, 2]``), cut at *limit* characters."""
    if v is ABSENT:
        return "(not set)"
    text = json.dumps(v, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit - 1] + "…"
