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

Thread-safety: a DatasetTable is an immutable snapshot except for its caches; build it in any
thread, then use it from one.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import aliased

from dsdesk.api.columns import Column, check_field, load_columns
from dsdesk.api.formatting import format_datetime, format_number, format_size
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.catalog.models import Recipe as RecipeRow
from dsdesk.catalog.models import SyncState
from dsdesk.errors import ConflictError, InvalidInputError, QueryError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

#: How many ids one ``$in`` condition may carry (the query engine's limit).
_IN_CHUNK = 10000


class DatasetRecord:
    """One dataset as the table sees it (a snapshot of its row and related names).

    The metadata arrive as JSON text and are decoded on first use: the first frame needs
    the few rows on screen, and decoding 5,000 documents up front would cost most of the
    page's time budget.
    """

    __slots__ = ("id", "name", "kind", "driver_name", "driver_kind", "recipe_name", "readonly",
                 "src_dataset_id", "src_name", "description", "item_count", "annotated_count",
                 "annotation_count", "folder_count", "bytes_total", "created_at", "updated_at",
                 "last_sync_at", "row_version", "_system", "_user")

    def __init__(self, id, name, kind, driver_name="", driver_kind="", recipe_name=None, readonly=False,  # noqa: A002
                 src_dataset_id=None, src_name=None, meta_system=None, meta_user=None, description="",
                 item_count=0, annotated_count=0, annotation_count=0, folder_count=0, bytes_total=0,
                 created_at=None, updated_at=None, last_sync_at=None, row_version=1):
        self.id, self.name, self.kind = id, name, kind
        self.driver_name, self.driver_kind, self.recipe_name = driver_name, driver_kind, recipe_name
        self.readonly, self.src_dataset_id, self.src_name = readonly, src_dataset_id, src_name
        self._system, self._user = meta_system, meta_user
        self.description = description
        self.item_count, self.annotated_count, self.annotation_count = item_count, annotated_count, annotation_count
        self.folder_count, self.bytes_total = folder_count, bytes_total
        self.created_at, self.updated_at, self.last_sync_at = created_at, updated_at, last_sync_at
        self.row_version = row_version

    @property
    def meta_user(self) -> dict:
        """The user area of the metadata (decoded on first use)."""
        v = self._user
        if not isinstance(v, dict):
            v = self._user = _decode(v)
        return v

    @property
    def meta_system(self) -> dict:
        """The system area of the metadata (decoded on first use)."""
        v = self._system
        if not isinstance(v, dict):
            v = self._system = _decode(v)
        return v

    def __repr__(self) -> str:
        return f"<DatasetRecord {self.id} {self.name!r}>"


def _decode(raw) -> dict:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (bytes, str)):
        try:
            v = json.loads(raw)
        except ValueError:
            return {}
    else:  # a driver that already decoded JSON (psycopg does for json columns)
        v = raw
    return v if isinstance(v, dict) else {}


def _records_select(project_id: int):
    src = aliased(DatasetRow)
    d = DatasetRow
    # JSON as text (CAST is portable): decoded lazily by DatasetRecord, see there.
    return (select(d.id, d.name, d.kind, DriverRow.name, DriverRow.kind, RecipeRow.name, d.readonly,
                   d.src_dataset_id, src.name, cast(d.meta_system, Text), cast(d.meta_user, Text),
                   d.description, d.item_count, d.annotated_count, d.annotation_count, d.folder_count,
                   d.bytes_total, d.created_at, d.updated_at, SyncState.last_sync_at, d.row_version)
            .outerjoin(DriverRow, DriverRow.id == d.driver_id)
            .outerjoin(RecipeRow, RecipeRow.id == d.recipe_id)
            .outerjoin(src, src.id == d.src_dataset_id)
            .outerjoin(SyncState, SyncState.dataset_id == d.id)
            .where(d.project_id == project_id, d.deleted_at.is_(None), d.kind != "snapshot")
            .order_by(d.name, d.id))


def load_records(session, project_id: int) -> list[DatasetRecord]:
    """Every live dataset of the project (snapshots excluded), by name (case-insensitive),
    in one query."""
    out = []
    for r in session.execute(_records_select(project_id)):
        (i, name, kind, drv, drv_kind, recipe, ro, src_id, src_name, ms, mu, desc, n_items, n_ann_items,
         n_ann, n_folders, size, created, updated, synced, rv) = r
        out.append(DatasetRecord(i, name, kind, drv or "", drv_kind or "", recipe, bool(ro), src_id, src_name,
                                 ms, mu, desc or "", n_items or 0, n_ann_items or 0, n_ann or 0,
                                 n_folders or 0, size or 0, created, updated, synced, rv))
    # Case-insensitive, as people read names (the database's order is binary: "Zebra" < "apple").
    out.sort(key=lambda r: (r.name.casefold(), r.id))
    # A merge has many sources, recorded in its system metadata: name them from the rows
    # already read rather than with a query per merge.
    names = {r.id: r.name for r in out}
    for r in out:
        if r.kind == "merge":
            ids = resolve_path(r.meta_system, ("merge", "dataset_ids")) or []
            if isinstance(ids, list) and ids:
                r.src_name = ", ".join(names.get(i, f"#{i}") for i in ids)
    return out


# ---- values ------------------------------------------------------------------------------

_MISSING = object()


def resolve_path(meta: Any, parts: Sequence[str]) -> Any:
    """The value at *parts* inside nested dicts, or None when any step is missing."""
    v = meta
    for p in parts:
        if not isinstance(v, dict):
            return None
        v = v.get(p, _MISSING)
        if v is _MISSING:
            return None
    return v


def _percent(r: DatasetRecord) -> float | None:
    # An empty dataset has no percentage: an empty cell, sorted last, not a misleading 0 %.
    return 100.0 * r.annotated_count / r.item_count if r.item_count else None


def _driver(r: DatasetRecord) -> str:
    if not r.driver_name:
        return r.driver_kind
    if r.driver_kind and r.driver_kind != r.driver_name:
        return f"{r.driver_name} ({r.driver_kind})"
    return r.driver_name


_STANDARD_GETTERS: dict[str, Callable[[DatasetRecord], Any]] = {
    "name": lambda r: r.name,
    "kind": lambda r: r.kind,
    "items": lambda r: r.item_count,
    "annotated": lambda r: r.annotated_count,
    "annotated_percent": _percent,
    "annotations": lambda r: r.annotation_count,
    "folders": lambda r: r.folder_count,
    "driver": _driver,
    "recipe": lambda r: r.recipe_name,
    "source": lambda r: r.src_name,
    "readonly": lambda r: r.readonly,
    "last_sync": lambda r: r.last_sync_at,
    "created": lambda r: r.created_at,
    "updated": lambda r: r.updated_at,
    "size": lambda r: r.bytes_total,
    "description": lambda r: r.description or None,
    "id": lambda r: r.id,
}


def _to_number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return None if isinstance(v, float) and math.isnan(v) else float(v)
    if isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            return None
        return None if math.isnan(f) else f
    return None


def _to_datetime(v: Any) -> dt.datetime | None:
    """A naive-UTC datetime from a datetime, an ISO string or epoch seconds."""
    if isinstance(v, dt.datetime):
        d = v
    elif isinstance(v, dt.date):
        d = dt.datetime(v.year, v.month, v.day)
    elif isinstance(v, str) and v.strip():
        try:
            d = dt.datetime.fromisoformat(v.strip())
        except ValueError:
            return None
    elif isinstance(v, (int, float)) and not isinstance(v, bool):
        try:
            d = dt.datetime.fromtimestamp(float(v), dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        return None
    if d.tzinfo is not None:
        d = d.astimezone(dt.UTC).replace(tzinfo=None)
    return d


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_number(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v)
    if isinstance(v, dict):
        import json

        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    return str(v)


class ColumnAccess:
    """How one column reads, displays and sorts its values (derived from a :class:`Column`)."""

    def __init__(self, col: Column):
        self.col = col
        self.name = col.name
        if col.custom:
            parts = (col.field or "").split(".")
            area, path = parts[0], tuple(parts[1:])
            if area == "system":
                self.raw = lambda r: resolve_path(r.meta_system, path)
            else:
                self.raw = lambda r: resolve_path(r.meta_user, path)
        else:
            self.raw = _STANDARD_GETTERS.get(col.name, lambda r: None)

        self.text = self._formatter()

    def _formatter(self) -> Callable[[Any], str]:
        """The display-text function of this column, chosen once: formatting runs for every
        cell of every visible column when the page is searched, so no per-cell dispatch."""
        t, name = self.col.value_type, self.name
        if not self.col.custom:
            if name == "size":
                return lambda v: "" if v is None else format_size(v)
            if name == "annotated_percent":
                return lambda v: "" if v is None else f"{v:.1f} %"
            if name == "readonly":
                return lambda v: "✓" if v else ""
            if t == "date":
                return format_datetime
            if t == "number":
                return lambda v: "" if v is None else f"{v:,}"
            return lambda v: "" if v is None else v if isinstance(v, str) else _text(v)
        if t == "number":
            def number(v: Any) -> str:
                if v is None:
                    return ""
                if isinstance(v, str):
                    return v
                return format_number(v)
            return number
        if t == "date":
            def date(v: Any) -> str:
                if v is None:
                    return ""
                d = _to_datetime(v)
                if d is None:
                    return _text(v)
                return format_datetime(d, isinstance(v, str) and len(v.strip()) <= 10)
            return date
        if t == "bool":
            return lambda v: "" if v is None else ("✓" if v else "✗") if isinstance(v, bool) else _text(v)
        return lambda v: "" if v is None else v if isinstance(v, str) else _text(v)

    def sort_key(self, v: Any) -> Any:
        """A key that orders present values (a float, a str or a datetime, never a tuple:
        20,000 tuples per sort wake the garbage collector); None means "missing"."""
        if v is None:
            return None
        t = self.col.value_type
        if t == "number":
            return _to_number(v)
        if t == "date":
            return _to_datetime(v)
        if t == "bool":
            return float(v) if isinstance(v, bool) else _to_number(v)
        if t == "list" and isinstance(v, (list, tuple)):
            return _text(v).casefold()
        # Text: numbers stay numbers (sorted before the words, see DatasetTable._sorted),
        # so a text column that holds numbers still sorts 2 before 10.
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        return _text(v).casefold()


# ---- the table ---------------------------------------------------------------------------


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


# ---- editing -----------------------------------------------------------------------------

_TRUE = {"true", "yes", "y", "1", "✓", "on"}
_FALSE = {"false", "no", "n", "0", "✗", "off"}


def edit_text(value: Any, value_type: str) -> str:
    """The text a cell editor starts from (what :func:`parse_cell_text` reads back)."""
    if value is None:
        return ""
    if value_type == "list" and isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if value_type == "bool" and isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value)
    return _text(value)


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
        if _to_datetime(t) is None:
            raise InvalidInputError(f"{t!r} is not a date; write it as 2025-03-01 or 2025-03-01T14:30")
        return t
    if value_type == "list":
        return [x.strip() for x in t.split(",") if x.strip()]
    return t


def set_user_field(catalog: Catalog, dataset_id: int, field: str, value: Any, row_version: int | None = None):
    """Set (or with None remove) one field of a dataset's user metadata, like
    ``ds.metadata["user"][...] = value; ds.update()``, and return the updated Dataset.

    With *row_version* (the version the caller displayed) a newer edit by someone else is
    refused with ConflictError instead of being overwritten.  Only ``user.*`` fields can be
    set; a path through a value that is not an object is refused (it would erase it).
    Read-only datasets raise ReadOnlyError.
    """
    path = check_field(field)
    parts = path.split(".")
    if parts[0] != "user":
        raise InvalidInputError(f"{path!r} is in the system area of the metadata, which is read-only")
    ds = catalog.dataset_by_id(dataset_id)
    if row_version is not None and ds.row_version != row_version:
        raise ConflictError(f"dataset '{ds.name}' was changed by someone else; refresh and try again")
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
