"""How the datasets table reads, displays and sorts a column's values (:class:`ColumnAccess`):
standard columns from the record's fields, custom ones from a metadata path, typed by the
column's type (numbers as numbers, dates as naive-UTC datetimes, missing values as None)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import Any

from dsdesk.api.columns import Column
from dsdesk.api.dataset_records import DatasetRecord, resolve_path
from dsdesk.api.formatting import format_datetime, format_number, format_size


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


def to_number(v: Any) -> float | None:
    """A float from a number, a bool or a numeric string; None for anything else (and NaN)."""
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


def to_datetime(v: Any) -> dt.datetime | None:
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


def value_text(v: Any) -> str:
    """The plain text of a metadata value: lists joined with commas, objects as JSON."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return format_number(v)
    if isinstance(v, (list, tuple)):
        return ", ".join(value_text(x) for x in v)
    if isinstance(v, dict):
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
            return lambda v: "" if v is None else v if isinstance(v, str) else value_text(v)
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
                d = to_datetime(v)
                if d is None:
                    return value_text(v)
                return format_datetime(d, isinstance(v, str) and len(v.strip()) <= 10)
            return date
        if t == "bool":
            return lambda v: "" if v is None else ("✓" if v else "✗") if isinstance(v, bool) else value_text(v)
        return lambda v: "" if v is None else v if isinstance(v, str) else value_text(v)

    def sort_key(self, v: Any) -> Any:
        """A key that orders present values (a float, a str or a datetime, never a tuple:
        20,000 tuples per sort wake the garbage collector); None means "missing"."""
        if v is None:
            return None
        t = self.col.value_type
        if t == "number":
            return to_number(v)
        if t == "date":
            return to_datetime(v)
        if t == "bool":
            return float(v) if isinstance(v, bool) else to_number(v)
        if t == "list" and isinstance(v, (list, tuple)):
            return value_text(v).casefold()
        # Text: numbers stay numbers (sorted before the words, see DatasetTable._sorted),
        # so a text column that holds numbers still sorts 2 before 10.
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        return value_text(v).casefold()
