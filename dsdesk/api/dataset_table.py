"""The datasets table's data, Qt-free: rows, typed values, display text, sort and search.

:meth:`DatasetTable.load` reads every live dataset of a project with its driver, recipe,
source dataset and last sync in **one** query (plus one for the columns), using the counts
cached on the dataset row: opening the page never scans items, whatever their number.

Values are typed by the column's type (``number`` values are numbers, ``date`` values are
datetimes, ``list`` values are lists); a custom column whose field path does not exist in a
dataset's metadata gives ``None``, which displays as an empty cell and sorts last in both
directions.

Search (:meth:`DatasetTable.search`) takes what the user typed in the search box:

* plain words (``vision "night shots"``): a dataset matches when every word appears,
  case-insensitively, in the text of one of the visible columns (standard or custom);
* the search-bar query syntax of :mod:`dsdesk.query.searchbar` on dataset fields
  (``owner:vision-team items>1000``, ``-kind:clone``, ``(a or b)``), compiled by
  :func:`dsdesk.query.datasets_select`; a key may also be a custom column's name (``f1>0.5``
  reads that column's field) and free words inside a query still search the visible columns.

Its parts: the rows (:mod:`dsdesk.api.dataset_records`), a column's values, text and sort key
(:mod:`dsdesk.api.dataset_values`) and cell edits (:mod:`dsdesk.api.dataset_edits`).

Thread-safety: a DatasetTable is an immutable snapshot except for its caches; build it in any
thread, then use it from one.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dsdesk.api.columns import Column, load_columns
from dsdesk.api.dataset_records import DatasetRecord, load_records
from dsdesk.api.dataset_values import ColumnAccess
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.errors import QueryError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

#: How many ids one ``$in`` condition may carry (the query engine's limit).
_IN_CHUNK = 10000


@dataclass
class SearchResult:
    """What a search matched: row indices in table order (None: no filter) and, when the
    query syntax was malformed, the parser's message (the words were then searched as text)."""

    rows: list[int] | None
    error: str | None = None
    used_query: bool = False


@dataclass
class DatasetTable:
    """A snapshot of a project's datasets table: columns in layout order and one record per
    dataset (by name).  Values and texts are computed on demand and cached per column."""

    project_id: int
    columns: list[Column]
    records: list[DatasetRecord]
    catalog: Catalog | None = None
    _access: dict[str, ColumnAccess] = field(default_factory=dict, repr=False)
    _values: dict[str, list] = field(default_factory=dict, repr=False)
    _texts: dict[str, list] = field(default_factory=dict, repr=False)
    _folded: dict[str, list] = field(default_factory=dict, repr=False)
    _joined: dict[tuple, list] = field(default_factory=dict, repr=False)
    _orders: dict[tuple, list] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, catalog: Catalog, project_id: int) -> DatasetTable:
        """Read the columns and every live dataset of *project_id* (two queries, no item scan)."""
        with catalog.db.session() as s:
            cols = load_columns(s, project_id)
            recs = load_records(s, project_id)
        return cls(project_id, cols, recs, catalog)

    def __post_init__(self):
        self._access = {c.name: ColumnAccess(c) for c in self.columns}
        self._row_of = {r.id: i for i, r in enumerate(self.records)}

    # ---- shape ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    @property
    def visible_columns(self) -> list[Column]:
        """The visible columns in layout order."""
        return [c for c in self.columns if c.visible]

    def column(self, name: str) -> Column:
        """A column by name (KeyError when unknown)."""
        return self._access[name].col

    def row_of(self, dataset_id: int) -> int | None:
        """The row index of a dataset, or None when it is not in the table."""
        return self._row_of.get(dataset_id)

    @property
    def ids(self) -> list[int]:
        """Dataset ids in table order (by name)."""
        return [r.id for r in self.records]

    # ---- values --------------------------------------------------------------------------
    def value(self, row: int, name: str) -> Any:
        """The raw value of a cell (None when missing)."""
        return self._access[name].raw(self.records[row])

    def text(self, row: int, name: str) -> str:
        """The display text of a cell ("" when missing)."""
        texts = self._texts.get(name)
        if texts is not None:
            return texts[row]
        acc = self._access[name]
        return acc.text(acc.raw(self.records[row]))

    def values(self, name: str) -> list:
        """Every row's raw value of a column (cached)."""
        vals = self._values.get(name)
        if vals is None:
            raw = self._access[name].raw
            vals = self._values[name] = [raw(r) for r in self.records]
        return vals

    def texts(self, name: str) -> list[str]:
        """Every row's display text of a column (cached)."""
        texts = self._texts.get(name)
        if texts is None:
            fmt = self._access[name].text
            texts = self._texts[name] = [fmt(v) for v in self.values(name)]
        return texts

    def _folded_texts(self, name: str) -> list[str]:
        f = self._folded.get(name)
        if f is None:
            f = self._folded[name] = [t.casefold() for t in self.texts(name)]
        return f

    def replace_user_metadata(self, row: int, user: dict, row_version: int) -> None:
        """Put an edited dataset's user metadata into the snapshot and drop what was
        computed from the old values (the page shows the edit without a reload)."""
        rec = self.records[row]
        rec._user, rec.row_version = user, row_version
        for c in self.columns:
            if c.custom:
                self._values.pop(c.name, None)
                self._texts.pop(c.name, None)
                self._folded.pop(c.name, None)
                for k in [k for k in self._orders if k[0] == c.name]:
                    del self._orders[k]
        self._joined.clear()

    def warm_up_steps(self, columns: Sequence[str] | None = None):
        """A generator that computes, one column per step, what sorting and searching the
        visible columns need (values, texts, the per-row search text).  The page runs it
        in idle moments after the first frame, so the first search is as quick as the next."""
        names = columns if columns is not None else [c.name for c in self.visible_columns]
        for n in names:
            self.texts(n)
            yield n
        self._row_texts(names)
        yield None

    # ---- sort ----------------------------------------------------------------------------
    def order(self, name: str, ascending: bool = True, rows: Iterable[int] | None = None) -> list[int]:
        """Row indices sorted by column *name*: typed (numbers as numbers, dates as dates),
        missing values last in both directions, ties in name order.  With *rows*, only
        those rows (a search result), in the same order.  Each order is computed once per
        snapshot, so re-sorting and searching a sorted table cost a filter, not a sort."""
        key = (name, bool(ascending))
        full = self._orders.get(key)
        if full is None:
            full = self._orders[key] = self._sorted(name, bool(ascending))
        if rows is None:
            return list(full)
        want = set(rows)
        return [i for i in full if i in want]

    def _sorted(self, name: str, ascending: bool) -> list[int]:
        keyf = self._access[name].sort_key
        keys = [keyf(v) for v in self.values(name)]
        missing = [i for i, k in enumerate(keys) if k is None]
        # Numbers and words apart (a text column may hold both): numbers first when
        # ascending, last when descending.  reverse=True keeps equal keys in their
        # original (name) order, unlike reversing a list.
        nums = [i for i, k in enumerate(keys) if isinstance(k, float)]
        rest = [i for i, k in enumerate(keys) if k is not None and not isinstance(k, float)]
        desc = not ascending
        nums.sort(key=keys.__getitem__, reverse=desc)
        try:
            rest.sort(key=keys.__getitem__, reverse=desc)
        except TypeError:
            # Values of mixed kinds (a date and a word): compare as text.
            rest.sort(key=lambda i: str(keys[i]), reverse=desc)
        return (rest + nums if desc else nums + rest) + missing

    # ---- search --------------------------------------------------------------------------
    def _row_texts(self, names: Sequence[str]) -> list[str]:
        """Per row, the folded texts of *names* joined by a separator no term contains, so
        a word is looked for once per row, not once per cell (cached per column set)."""
        key = tuple(names)
        joined = self._joined.get(key)
        if joined is None:
            cols = [self.texts(n) for n in names]
            joined = ["\x1f".join(t).casefold() for t in zip(*cols, strict=True)] if cols else [""] * len(self.records)
            self._joined[key] = joined
        return joined

    def match_text(self, term: str, columns: Sequence[str] | None = None) -> list[int]:
        """Rows where *term* appears (case-insensitively) in the text of one of *columns*
        (default: the visible ones)."""
        term = term.casefold().replace("\x1f", "")
        names = columns if columns is not None else [c.name for c in self.visible_columns]
        return [i for i, t in enumerate(self._row_texts(names)) if term in t]

    def search(self, text: str, columns: Sequence[str] | None = None) -> SearchResult:
        """The rows matching what the user typed (see the module docstring)."""
        text = (text or "").strip()
        if not text:
            return SearchResult(None)
        from dsdesk.query import searchbar

        try:
            toks = searchbar.tokenize(text)
        except QueryError as e:
            return SearchResult(self._words(text.replace('"', " ").split(), columns), _first_line(e))
        kinds = {t.kind for t in toks} - {"END"}
        if kinds <= {"TEXT", "AND"}:
            return SearchResult(self._words([t.value for t in toks if t.kind == "TEXT"], columns))
        try:
            rows = self._query(text, columns)
        except QueryError as e:
            words = [t.value for t in toks if t.kind == "TEXT"] or text.split()
            return SearchResult(self._words(words, columns), _first_line(e))
        return SearchResult(rows, None, True)

    def _words(self, words: Iterable[str], columns) -> list[int]:
        rows: set[int] | None = None
        for w in words:
            if not w:
                continue
            hit = set(self.match_text(w, columns))
            rows = hit if rows is None else rows & hit
        if rows is None:
            return list(range(len(self.records)))
        return sorted(rows)

    def _query(self, text: str, columns) -> list[int]:
        from dsdesk.query import ast, datasets_select, searchbar
        from dsdesk.query.compile import DATASET

        if self.catalog is None:
            raise QueryError("the query syntax needs a table loaded from a catalog")
        node = searchbar.parse(text, resource="datasets")
        node = self._rewrite(node, columns)
        stmt = datasets_select(self.project_id, ast.Query(resource="datasets", filter=node))
        stmt = stmt.with_only_columns(DATASET.c.id)
        with self.catalog.db.session() as s:
            hits = set(s.execute(stmt).scalars())
        return [i for i, r in enumerate(self.records) if r.id in hits]

    def _ids_cond(self, rows: Iterable[int]):
        from dsdesk.query import ast

        ids = sorted(self.records[i].id for i in rows)
        if not ids:
            return ast.FALSE
        chunks = [ast.Cond("id", "in", tuple(ids[k:k + _IN_CHUNK])) for k in range(0, len(ids), _IN_CHUNK)]
        return ast.or_(*chunks)

    def _rewrite(self, node, columns):
        """Map the search-bar AST onto this table: free words search the visible columns'
        text, custom column names read their field, and standard columns that are not
        dataset fields (storage, recipe, source ...) are matched on their text here."""
        from dsdesk.query import ast

        if isinstance(node, ast.And):
            return ast.and_(*[self._rewrite(c, columns) for c in node.children])
        if isinstance(node, ast.Or):
            return ast.or_(*[self._rewrite(c, columns) for c in node.children])
        if isinstance(node, ast.Not):
            return ast.not_(self._rewrite(node.child, columns))
        if not isinstance(node, ast.Cond):
            return node
        if node.op == "contains" and node.field == "name":
            return self._ids_cond(self.match_text(str(node.value), columns))
        prefix = "metadata.user."
        if node.field.startswith(prefix):
            key = node.field[len(prefix):]
            if key.startswith(("user.", "system.")):
                # A field path as the column settings write it (user.stats.f1); the search
                # bar's datasets keys take it as a user key named "user".
                return ast.Cond("metadata." + key, node.op, node.value)
            col = self._column_for_key(key)
            if col is not None and col.custom:
                return ast.Cond("metadata." + col.field, node.op, node.value)
            if col is not None and col.name in _STANDARD_FIELDS:
                return ast.Cond(_STANDARD_FIELDS[col.name], node.op, node.value)
            if col is not None and col.name in _TEXT_ONLY and node.op in ("eq", "in", "exists"):
                return self._ids_cond(self._match_standard(col.name, node))
        return node

    def _column_for_key(self, key: str) -> Column | None:
        k = key.casefold()
        for c in self.columns:
            if c.name.casefold() == k:
                return c
        for c in self.columns:
            if c.label.casefold().replace(" ", "") == k:
                return c
        return None

    def _match_standard(self, name: str, node) -> list[int]:
        texts = self._folded_texts(name)
        if node.op == "exists":
            return [i for i, t in enumerate(texts) if bool(t) == bool(node.value)]
        values = node.value if node.op == "in" else (node.value,)
        pats = [str(v).casefold() for v in values]
        return [i for i, t in enumerate(texts) if any(fnmatch.fnmatchcase(t, p) for p in pats)]

    # ---- completion ----------------------------------------------------------------------
    def field_suggestions(self) -> list[str]:
        """``user.*`` paths present in the loaded datasets, sorted."""
        return _paths_of(r.meta_user for r in self.records)


# Standard columns whose values are dataset fields the query engine knows.
_STANDARD_FIELDS = {"size": "bytesTotal", "folders": "foldersCount", "annotations": "annotationsCount",
                    "items": "itemsCount", "annotated": "annotatedCount"}
# Standard columns shown from joined names: matched on their text, with wildcards.
_TEXT_ONLY = {"driver", "recipe", "source"}


def _first_line(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _paths_of(metas: Iterable[dict], prefix: str = "user", limit: int = 5000) -> list[str]:
    paths: set[str] = set()

    def walk(d: dict, base: str, depth: int) -> None:
        for k, v in d.items():
            if not isinstance(k, str) or len(paths) >= limit:
                continue
            p = f"{base}.{k}"
            paths.add(p)
            if isinstance(v, dict) and depth < 8:
                walk(v, p, depth + 1)

    for m in metas:
        if isinstance(m, dict):
            walk(m, prefix, 0)
    return sorted(paths)


def metadata_fields(catalog: Catalog, project_id: int) -> list[str]:
    """The ``user.*`` metadata paths that exist in a project's live datasets (one query)."""
    with catalog.db.session() as s:
        metas = s.execute(select(DatasetRow.meta_user).where(
            DatasetRow.project_id == project_id, DatasetRow.deleted_at.is_(None),
            DatasetRow.kind != "snapshot")).scalars().all()
    return _paths_of(metas)
