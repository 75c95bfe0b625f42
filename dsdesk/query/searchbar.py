"""The search bar's short syntax, parsed to the same AST as DQL.

::

    split:train score>0.5 label:car dir:/train/** -label:person "free text in name"
    (label:car or label:bus) and not hidden:true
    size>=1000000 mimetype:image/* created>2024-01-01 has:score split:train,val

* ``key:value`` is equality (``*``/``?`` wildcards allowed), ``key!=value``, ``key>value``,
  ``key>=value``, ``key<value``, ``key<=value`` (also ``key:>value``).  ``key:a,b`` is "one
  of".  Quote values with spaces: ``name:"my file.jpg"``.
* Words next to each other are ANDed; ``and``, ``or``, ``not`` (any case), ``-`` before a
  term and parentheses work as expected; ``or`` binds looser than ``and``.
* A word or quoted string without a key searches item names (case-insensitive substring).
* Keys: item fields (``dir filename name type hidden annotated created updated description
  id``), binary facts (``size mimetype width height``), annotation fields (``label``,
  ``attribute``, ``annotation.<field>``: "has an annotation with ..."), full paths
  (``metadata.user.x``, ``metadata.system.x``, ``user.x``, ``system.x``), ``has:<key>``
  (the field exists) and ``is:annotated`` / ``is:hidden``; any other key is a user
  metadata field (``split`` is ``metadata.user.split``).

Errors are :class:`~dsdesk.errors.QueryError` whose message and ``position`` attribute
give the offending character's 0-based position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dsdesk.errors import QueryError
from dsdesk.query import ast

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_OPS = ("!=", ">=", "<=", ":", "=", ">", "<")
_OP_NAMES = {"=": "eq", "!=": "ne", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_NUM = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_SPECIAL = set('()"')

_ITEM_FIELDS = {
    "dir": "dir", "folder": "dir", "filename": "filename", "path": "filename", "name": "name",
    "type": "type", "hidden": "hidden", "annotated": "annotated", "id": "id",
    "created": "createdAt", "createdat": "createdAt", "updated": "updatedAt", "updatedat": "updatedAt",
    "description": "description",
    "size": "metadata.system.size", "mimetype": "metadata.system.mimetype",
    "width": "metadata.system.width", "height": "metadata.system.height",
    "status": "metadata.system.annotationStatus",  # the item's task status (completed, approved ...)
}
_ANNOTATION_KEYS = {"label": "label", "attribute": "attributes", "attributes": "attributes"}
_STRING_FIELDS = {"dir", "filename", "name", "type", "description", "metadata.system.mimetype",
                  "label", "kind", "creator", "status", "objectId", "metadata.system.annotationStatus"}
_DATASET_FIELDS = {"name": "name", "kind": "kind", "readonly": "readonly", "id": "id",
                   "created": "createdAt", "createdat": "createdAt", "updated": "updatedAt",
                   "items": "itemsCount", "itemscount": "itemsCount", "description": "description",
                   "annotated": "annotatedCount", "annotations": "annotationsCount"}
_ANN_FIELDS = {"label": "label", "type": "type", "creator": "creator", "status": "status", "id": "id",
               "item": "itemId", "itemid": "itemId", "attribute": "attributes", "attributes": "attributes",
               "created": "createdAt", "createdat": "createdAt", "objectid": "objectId"}


def _error(msg: str, pos: int, text: str) -> QueryError:
    caret = " " * pos + "^"
    e = QueryError(f"{msg} at position {pos}\n  {text}\n  {caret}")
    e.position = pos
    return e


@dataclass
class Tok:
    kind: str  # LP RP AND OR NOT TERM TEXT END
    pos: int
    key: str | None = None
    op: str | None = None
    value: Any = None
    quoted: bool = False


def _read_quoted(s: str, i: int) -> tuple[str, int]:
    """Read a "..." string starting at s[i] == '"'; backslash escapes the next character."""
    start = i
    i += 1
    out = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise _error("unterminated quoted string", start, s)


def _read_bare(s: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(s) and not s[j].isspace() and s[j] not in '")':
        j += 1
    return s[i:j], j


def tokenize(s: str) -> list[Tok]:
    """Split a search-bar string into tokens (QueryError on a stray character)."""
    toks: list[Tok] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
            continue
        if c == "(":
            toks.append(Tok("LP", i))
            i += 1
            continue
        if c == ")":
            toks.append(Tok("RP", i))
            i += 1
            continue
        if c == "-" and i + 1 < n and not s[i + 1].isspace() and s[i + 1] not in ")" and not _NUM.match(s, i):
            toks.append(Tok("NOT", i))
            i += 1
            continue
        if c == '"':
            text, j = _read_quoted(s, i)
            toks.append(Tok("TEXT", i, value=text, quoted=True))
            i = j
            continue
        m = _KEY.match(s, i)
        if m:
            j = m.end()
            op = next((o for o in _OPS if s.startswith(o, j)), None)
            if op is not None:
                key = m.group(0)
                vpos = j + len(op)
                if op == ":":  # key:>5, key:!=x
                    op2 = next((o for o in ("!=", ">=", "<=", ">", "<", "=") if s.startswith(o, vpos)), None)
                    if op2:
                        op, vpos = op2, vpos + len(op2)
                if vpos >= n or s[vpos].isspace() or s[vpos] == ")":
                    raise _error(f"missing value after '{key}{op}'", vpos, s)
                if s[vpos] == '"':
                    val, j2 = _read_quoted(s, vpos)
                    quoted = True
                else:
                    val, j2 = _read_bare(s, vpos)
                    quoted = False
                toks.append(Tok("TERM", i, key=key, op=op, value=val, quoted=quoted))
                i = j2
                continue
        word, j = _read_bare(s, i)
        if not word:
            raise _error(f"unexpected character {c!r}", i, s)
        low = word.lower()
        if low in ("and", "&&"):
            toks.append(Tok("AND", i))
        elif low in ("or", "||"):
            toks.append(Tok("OR", i))
        elif low == "not":
            toks.append(Tok("NOT", i))
        else:
            if any(ch in word for ch in "<>=!") and not _NUM.fullmatch(word):
                raise _error(f"bad term {word!r}: a key must start with a letter and "
                             "contain letters, digits, '_', '.', or '-'", i, s)
            toks.append(Tok("TEXT", i, value=word))
        i = j
    toks.append(Tok("END", n))
    return toks


class _Parser:
    def __init__(self, text: str, resource: str):
        self.text = text
        self.resource = resource
        self.toks = tokenize(text)
        self.i = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self) -> ast.Node:
        if self.peek().kind == "END":
            return ast.TRUE
        node = self.or_expr()
        t = self.peek()
        if t.kind == "RP":
            raise _error("unbalanced ')': no '(' to close", t.pos, self.text)
        if t.kind != "END":
            raise _error("unexpected token", t.pos, self.text)
        return node

    def or_expr(self) -> ast.Node:
        parts = [self.and_expr()]
        while self.peek().kind == "OR":
            self.take()
            parts.append(self.and_expr())
        return ast.or_(*parts)

    def and_expr(self) -> ast.Node:
        parts = [self.unary()]
        while True:
            t = self.peek()
            if t.kind == "AND":
                self.take()
                parts.append(self.unary())
            elif t.kind in ("NOT", "LP", "TERM", "TEXT"):
                parts.append(self.unary())
            else:
                return ast.and_(*parts)

    def unary(self) -> ast.Node:
        t = self.take()
        if t.kind == "NOT":
            return ast.not_(self.unary())
        if t.kind == "LP":
            if self.peek().kind == "RP":
                raise _error("empty parentheses", self.peek().pos, self.text)
            node = self.or_expr()
            close = self.peek()
            if close.kind != "RP":
                raise _error("unbalanced '(': missing ')'", t.pos, self.text)
            self.take()
            return node
        if t.kind == "TERM":
            return self.term(t)
        if t.kind == "TEXT":
            return ast.Cond("name", "contains", t.value)
        if t.kind == "END":
            raise _error("the query ends where a term was expected", t.pos, self.text)
        if t.kind == "RP":
            raise _error("unbalanced ')': no '(' to close", t.pos, self.text)
        raise _error(f"'{self.text[t.pos:].split()[0]}' needs a term on both sides", t.pos, self.text)

    # ---- terms -------------------------------------------------------------------------

    def term(self, t: Tok) -> ast.Node:
        key, low = t.key, t.key.lower()
        op = "eq" if t.op == ":" else _OP_NAMES[t.op]
        if low == "has":
            field, wrap = self.field_for(t.value, t)
            return wrap(ast.Cond(field, "exists", True))
        if low == "is" and self.resource == "items":
            v = t.value.lower()
            if v in ("annotated", "hidden"):
                return ast.Cond(v, "eq", True)
            raise _error(f"unknown is:{t.value}; expected is:annotated or is:hidden", t.pos, self.text)
        field, wrap = self.field_for(key, t)
        raw = t.value
        if not t.quoted and op in ("eq", "ne") and "," in raw:
            vals = tuple(self.convert(field, v, t) for v in raw.split(",") if v != "")
            return wrap(ast.Cond(field, "in" if op == "eq" else "nin", vals))
        value = self.convert(field, raw, t) if not t.quoted else raw
        if op == "ne":
            # "has no car annotation" rather than "has an annotation that is not a car".
            return ast.not_(wrap(ast.Cond(field, "eq", value)))
        return wrap(ast.Cond(field, op, value))

    def field_for(self, key: str, t: Tok):
        low = key.lower()
        ident = lambda n: n  # noqa: E731
        if self.resource == "items":
            if low in _ITEM_FIELDS:
                return _ITEM_FIELDS[low], ident
            if low in _ANNOTATION_KEYS:
                return _ANNOTATION_KEYS[low], ast.HasAnnotation
            for prefix in ("annotation.", "ann."):
                if low.startswith(prefix):
                    sub = key[len(prefix):]
                    return _ANN_FIELDS.get(sub.lower(), sub), ast.HasAnnotation
            if low.startswith("metadata."):
                return key, ident
            if low.startswith(("user.", "system.")):
                return "metadata." + key, ident
            return "metadata.user." + key, ident
        if self.resource == "datasets":
            if low in _DATASET_FIELDS:
                return _DATASET_FIELDS[low], ident
            if low.startswith("metadata."):
                return key, ident
            if low.startswith(("user.", "system.")):
                return "metadata." + key, ident
            return "metadata.user." + key, ident
        if low in _ANN_FIELDS:
            return _ANN_FIELDS[low], ident
        if low.startswith(("metadata.", "attributes.")):
            return key, ident
        return "metadata." + key, ident

    def convert(self, field: str, raw: str, t: Tok) -> Any:
        """A bare value's type: strings for text fields; else bool/null/number when it looks so."""
        if field in _STRING_FIELDS or field.endswith(("createdAt", "updatedAt")):
            return raw
        low = raw.lower()
        if low in ("true", "yes"):
            return True
        if low in ("false", "no"):
            return False
        if low == "null":
            return None
        if _NUM.fullmatch(raw):
            return float(raw) if any(ch in raw for ch in ".eE") else int(raw)
        return raw


def parse(text: str, resource: str = "items") -> ast.Node:
    """Parse a search-bar string into an AST filter node (empty text matches everything)."""
    if not isinstance(text, str):
        raise QueryError(f"a search must be a string, got {type(text).__name__}")
    if len(text) > 10000:
        raise QueryError("a search is limited to 10000 characters")
    return _Parser(text, resource).parse()
