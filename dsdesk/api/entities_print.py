"""``.print()`` and ``.to_df()`` on entities and on lists of them, as the SDK has them.

``dataset.print()``, ``project.datasets.list().print()`` and ``pages.items.print()`` print a
table of the entities' JSON fields (nested values such as ``metadata`` left out unless asked
for by *columns*); ``to_df()`` returns the same rows as a pandas DataFrame (pandas is
optional: without it a clear :class:`~dsdesk.api.optional.MissingDependencyError`).
"""

from __future__ import annotations

from typing import Any

from dsdesk.api.optional import optional_module


def _rows(entities, columns: list[str] | None) -> tuple[list[str], list[dict[str, Any]]]:
    rows = [e.to_json() for e in entities]
    if columns is None:
        columns = []
        for r in rows:
            columns.extend(k for k, v in r.items() if not isinstance(v, (dict, list)) and k not in columns)
    return list(columns), [{c: r.get(c) for c in columns} for r in rows]


def format_table(entities, columns: list[str] | None = None) -> str:
    """The entities as a plain-text table, one row each, columns aligned."""
    cols, rows = _rows(entities, columns)
    cells = [[("" if r[c] is None else str(r[c])) for c in cols] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def to_df(entities, columns: list[str] | None = None):
    """The entities as a pandas DataFrame (one row each)."""
    pandas = optional_module("pandas", "to_df()")
    cols, rows = _rows(entities, columns)
    return pandas.DataFrame(rows, columns=cols)


class EntityList(list):
    """A list of entities with the SDK's ``print()`` and ``to_df()``."""

    def print(self, columns: list[str] | None = None) -> None:
        """Print the entities as a table."""
        print(format_table(self, columns))

    def to_df(self, columns: list[str] | None = None):
        """The entities as a pandas DataFrame."""
        return to_df(self, columns)


class PrintableEntity:
    """Mixin for entities that have ``to_json()``: ``print()`` and ``to_df()`` as in the SDK,
    and a clear NotSupportedError for the SDK's attributes dsdesk lacks (see
    :mod:`dsdesk.api.unsupported`)."""

    def __getattr__(self, name: str):
        # Only called for attributes that do not exist.
        if name.startswith("_"):
            raise AttributeError(name)
        from dsdesk.api.unsupported import entity_name

        raise entity_name(type(self).__name__, name)

    def print(self, columns: list[str] | None = None) -> None:
        """Print this entity as a one-row table."""
        print(format_table([self], columns))

    def to_df(self, columns: list[str] | None = None):
        """This entity as a one-row pandas DataFrame."""
        return to_df([self], columns)
