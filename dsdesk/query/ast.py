"""The one AST every query syntax parses to.

DQL JSON (:mod:`dsdesk.query.dql`), the search bar (:mod:`dsdesk.query.searchbar`) and the
:class:`~dsdesk.query.filters.Filters` helper all build these nodes; :mod:`dsdesk.query.compile`
turns them into SQLAlchemy Core, and tests evaluate them in plain Python.  Nodes are frozen
dataclasses so a parsed query can be cached, compared and hashed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Comparison operators of a :class:`Cond` (DQL's ``$eq`` ... without the dollar), plus
#: ``contains``: the search bar's case-insensitive substring search on a name.
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists", "contains")


class Node:
    """Base class of boolean expression nodes."""


@dataclass(frozen=True)
class Cond(Node):
    """``field <op> value``.  *field* is a dotted DQL path (``metadata.user.split``)."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    child: Node


@dataclass(frozen=True)
class Const(Node):
    """A condition known in advance (``type = 'file'`` on an item is always true)."""

    value: bool


@dataclass(frozen=True)
class HasAnnotation(Node):
    """The item has at least one annotation matching *filter* (DQL ``join``)."""

    filter: Node


@dataclass(frozen=True)
class InFolder(Node):
    """The item lies in the folder *path* (``/`` or ``/a/b``), or at any depth below it
    when *recursive*.

    The path is taken literally: ``*``, ``?``, quotes and spaces in a folder name are
    characters, never wildcards or syntax (unlike ``dir:`` in a search string, where a
    folder has to be quoted and escaped).  Build it with :func:`folder_scope`.
    """

    path: str
    recursive: bool = False


@dataclass(frozen=True)
class Query:
    """A whole query: the resource, its filter, the sort keys and the page."""

    resource: str = "items"
    filter: Node = field(default_factory=lambda: Const(True))
    sort: tuple[tuple[str, bool], ...] = ()  # (field, ascending)
    page: int = 0
    page_size: int | None = None


TRUE = Const(True)
FALSE = Const(False)


def and_(*nodes: Node) -> Node:
    """AND of *nodes*, flattening nested ANDs and dropping constant TRUEs."""
    out: list[Node] = []
    for n in nodes:
        if isinstance(n, And):
            out.extend(n.children)
        elif isinstance(n, Const) and n.value:
            continue
        else:
            out.append(n)
    if any(isinstance(n, Const) and not n.value for n in out):
        return FALSE
    if not out:
        return TRUE
    return out[0] if len(out) == 1 else And(tuple(out))


def or_(*nodes: Node) -> Node:
    """OR of *nodes*, flattening nested ORs and dropping constant FALSEs."""
    out: list[Node] = []
    for n in nodes:
        if isinstance(n, Or):
            out.extend(n.children)
        elif isinstance(n, Const) and not n.value:
            continue
        else:
            out.append(n)
    if any(isinstance(n, Const) and n.value for n in out):
        return TRUE
    if not out:
        return FALSE
    return out[0] if len(out) == 1 else Or(tuple(out))


def not_(node: Node) -> Node:
    """Negation, folding constants and double negations."""
    if isinstance(node, Const):
        return Const(not node.value)
    if isinstance(node, Not):
        return node.child
    return Not(node)


def folder_scope(path: str | None, recursive: bool = False) -> Node:
    """The node that limits a query to the folder *path* (already normalised, ``/a/b``).

    ``None`` (no folder) and the root with *recursive* scope nothing: TRUE.
    """
    if path is None or (path == "/" and recursive):
        return TRUE
    return InFolder(path, bool(recursive))


def mentions(node: Node, field_name: str) -> bool:
    """True when *node* has a condition on *field_name* outside annotation joins."""
    if isinstance(node, Cond):
        return node.field == field_name
    if isinstance(node, (And, Or)):
        return any(mentions(c, field_name) for c in node.children)
    if isinstance(node, Not):
        return mentions(node.child, field_name)
    return False
