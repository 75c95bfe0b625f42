"""The columns of a project's datasets table: standard columns and custom metadata columns.

Columns are data (calibre's custom columns, Dataloop's "Dataset columns" settings): each has
a unique internal **name** (the key the layout is saved by), a **label** (the header text),
for custom columns a **field** (a metadata path such as ``user.owner`` or
``user.stats.f1``), a **value type** that decides sorting and display, and the settings
**link**, **resizable** and **sortable**.  Visibility, order (``position``) and width are
the layout, saved per project in the catalog table ``column_def`` by column key, so the
table looks the same tomorrow and on a teammate's machine.

Standard columns are not stored until their layout is first saved; until then they take
their defaults from :data:`STANDARD_COLUMNS`.  ``project.columns`` is the repository::

    project.columns.add("owner", "Owner", "user.owner")
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    project.columns.update("owner", link=True)
    project.columns.save_layout([{"name": "name", "width": 240}, "owner", "items"])
    project.columns.restore_default()

Qt-free.  Errors: :class:`~dsdesk.errors.InvalidInputError` for a bad name, label, field
path or type; :class:`~dsdesk.errors.AlreadyExistsError` for a duplicate name;
:class:`~dsdesk.errors.NotFoundError` for an unknown column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from dsdesk.catalog.models import Column as ColumnRow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError, QueryError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.projects import Project

#: The value types a column can have; they decide sorting, alignment and editing.
VALUE_TYPES = ("text", "number", "bool", "date", "list")

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_MAX_NAME = 64
_MAX_LABEL = 255
_MAX_FIELD = 1024


@dataclass(frozen=True)
class StandardColumn:
    """The definition of a standard column: what the datasets table can always show."""

    name: str
    label: str
    value_type: str
    visible: bool  # in the default layout
    width: int | None = None  # default width in pixels (None: the view decides)
    sortable: bool = True
    resizable: bool = True
    description: str = ""


#: Standard columns in their default order.  The first visible ones form the default layout.
STANDARD_COLUMNS: tuple[StandardColumn, ...] = (
    StandardColumn("name", "Name", "text", True, 220, description="the dataset's name"),
    StandardColumn("kind", "Kind", "text", True, 70, description="master, clone or merge"),
    StandardColumn("items", "Items", "number", True, 80, description="number of items"),
    StandardColumn("annotated", "Annotated", "number", True, 90, description="items with annotations"),
    StandardColumn("annotated_percent", "Annotated %", "number", True, 95,
                   description="annotated items as a percentage of all items"),
    StandardColumn("annotations", "Annotations", "number", False, 95, description="number of annotations"),
    StandardColumn("folders", "Folders", "number", False, 70, description="number of folders"),
    StandardColumn("driver", "Storage", "text", True, 130, description="the storage driver and its kind"),
    StandardColumn("recipe", "Recipe", "text", True, 140, description="the dataset's recipe"),
    StandardColumn("readonly", "Read-only", "bool", True, 75, description="mutations are refused"),
    StandardColumn("source", "Source dataset", "text", False, 140,
                   description="where a clone or merge came from"),
    StandardColumn("last_sync", "Last sync", "date", True, 135, description="when storage was last synced"),
    StandardColumn("created", "Created", "date", False, 135),
    StandardColumn("updated", "Updated", "date", True, 135),
    StandardColumn("size", "Size", "number", True, 85, description="total size of the binaries"),
    StandardColumn("description", "Description", "text", False, 200),
    StandardColumn("id", "ID", "number", False, 60),
)
STANDARD_BY_NAME: dict[str, StandardColumn] = {c.name: c for c in STANDARD_COLUMNS}


@dataclass(frozen=True)
class Column:
    """One column of the datasets table as the user configured it (an immutable value).

    ``name`` is the internal, unique key; ``field`` is ``None`` for standard columns and a
    metadata path (``user.owner``) for custom ones; ``position`` orders the columns
    (lowest first); ``width`` is None until the user resized the column.
    """

    name: str
    label: str
    field: str | None = None
    value_type: str = "text"
    custom: bool = False
    link: bool = False
    resizable: bool = True
    sortable: bool = True
    visible: bool = True
    position: int = 0
    width: int | None = None

    def to_json(self) -> dict:
        """A plain dict (Dataloop's column settings plus the layout)."""
        return asdict(self)

    def with_(self, **changes) -> Column:
        """A copy with *changes* applied (dataclasses.replace)."""
        return replace(self, **changes)


def _standard_default(sc: StandardColumn, position: int) -> Column:
    return Column(sc.name, sc.label, None, sc.value_type, False, False, sc.resizable, sc.sortable,
                  sc.visible, position, sc.width)


def default_columns() -> list[Column]:
    """The standard columns in the default layout (no custom columns)."""
    return [_standard_default(sc, i) for i, sc in enumerate(STANDARD_COLUMNS)]


# ---- validation --------------------------------------------------------------------------


def check_name(name: Any) -> str:
    """A custom column's name, stripped; InvalidInputError when empty or malformed."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("a column needs a name (the internal key, e.g. 'owner')")
    name = name.strip()
    if len(name) > _MAX_NAME or not _NAME.match(name):
        raise InvalidInputError(
            f"illegal column name {name[:40]!r}: use letters, digits, '_' or '-', starting with a "
            f"letter or '_', at most {_MAX_NAME} characters")
    return name


def check_label(label: Any, name: str) -> str:
    """A column label, stripped; an empty label falls back to *name*."""
    if label is None:
        return name
    if not isinstance(label, str):
        raise InvalidInputError(f"the label of column '{name}' must be text, not {type(label).__name__}")
    label = label.strip()
    if len(label) > _MAX_LABEL or any(ord(c) < 32 for c in label):
        raise InvalidInputError(f"illegal label for column '{name}': too long or has control characters")
    return label or name


def check_field(field: Any, name: str = "") -> str:
    """Normalise a metadata field path: ``user.a.b`` or ``system.a``; ``metadata.user.a`` and
    ``metadata.system.a`` are accepted and shortened.  InvalidInputError for anything else.

    Each key must also be a legal query key, so the same column can be searched with the
    query syntax (``owner:vision-team``).
    """
    from dsdesk.query.sqlexpr import check_path_segment

    what = f" of column '{name}'" if name else ""
    if not isinstance(field, str) or not field.strip():
        raise InvalidInputError(f"the field{what} is empty; give a metadata path such as 'user.owner'")
    f = field.strip()
    if len(f) > _MAX_FIELD:
        raise InvalidInputError(f"the field{what} is longer than {_MAX_FIELD} characters")
    parts = f.split(".")
    if parts[0] == "metadata":
        parts = parts[1:]
    if not parts or parts[0] not in ("user", "system"):
        raise InvalidInputError(
            f"bad field path {field!r}{what}: it must start with 'user.' (the dataset's own "
            f"metadata, e.g. 'user.owner') or 'system.'")
    if len(parts) < 2:
        raise InvalidInputError(f"bad field path {field!r}{what}: a key must follow '{parts[0]}.'")
    try:
        for p in parts[1:]:
            check_path_segment(p, f)
    except QueryError as e:
        raise InvalidInputError(f"bad field path {field!r}{what}: keys must be non-empty and may not "
                                "contain quotes, backslashes, brackets, braces, commas, '$', '*', '?' "
                                "or spaces at their ends") from e
    return ".".join(parts)


def check_value_type(value_type: Any, name: str = "") -> str:
    """One of :data:`VALUE_TYPES`."""
    if value_type not in VALUE_TYPES:
        what = f" of column '{name}'" if name else ""
        raise InvalidInputError(f"unknown type {value_type!r}{what}; expected one of {', '.join(VALUE_TYPES)}")
    return value_type


def _check_width(width: Any, name: str) -> int | None:
    if width is None:
        return None
    if isinstance(width, bool) or not isinstance(width, int) or not 0 < width <= 10000:
        raise InvalidInputError(f"the width of column '{name}' must be a number of pixels, not {width!r}")
    return width


def normalize(col: Column) -> Column:
    """Validate one column and return it cleaned up (stripped name, label and field).

    Standard columns keep their definition's name, field, type and link setting; only
    the label, the settings resizable/sortable and the layout are the user's.
    """
    if not col.custom:
        sc = STANDARD_BY_NAME.get(col.name)
        if sc is None:
            raise InvalidInputError(f"'{col.name}' is not a standard column; custom columns need custom=True")
        return col.with_(label=check_label(col.label, col.name), field=None, value_type=sc.value_type,
                         link=False, width=_check_width(col.width, col.name))
    name = check_name(col.name)
    return col.with_(name=name, label=check_label(col.label, name), field=check_field(col.field, name),
                     value_type=check_value_type(col.value_type, name), link=bool(col.link),
                     resizable=bool(col.resizable), sortable=bool(col.sortable), visible=bool(col.visible),
                     width=_check_width(col.width, name))


def validate_columns(columns: Iterable[Column]) -> list[Column]:
    """Validate a whole set of columns (what the settings dialog applies).

    Returns the normalised columns with positions renumbered in list order.  Raises
    InvalidInputError (empty or malformed name, bad field path, unknown type, a standard
    column missing or no column visible) or AlreadyExistsError (two columns share a name,
    or a custom column takes a standard column's name).
    """
    out: list[Column] = []
    seen: set[str] = set()
    standard = {k.casefold() for k in STANDARD_BY_NAME}
    for col in columns:
        c = normalize(col)
        key = c.name.casefold()
        if c.custom and key in standard:
            raise AlreadyExistsError(f"'{c.name}' is the name of a standard column; choose another name")
        if key in seen:
            raise AlreadyExistsError(f"a column named '{c.name}' already exists; column names must be unique")
        seen.add(key)
        out.append(c.with_(position=len(out)))
    missing = [n for n in STANDARD_BY_NAME if n.casefold() not in seen]
    if missing:
        raise InvalidInputError(f"standard columns cannot be removed (hide them instead): {', '.join(missing)}")
    if not any(c.visible for c in out):
        raise InvalidInputError("at least one column must stay visible")
    return out


# ---- the repository ----------------------------------------------------------------------


def _row_to_column(r: ColumnRow) -> Column:
    return Column(r.key, r.label, r.field, r.value_type, bool(r.custom), bool(r.link), bool(r.resizable),
                  bool(r.sortable), bool(r.visible), r.position, r.width)


def load_columns(session, project_id: int) -> list[Column]:
    """Every column of a project in layout order: stored rows merged with standard defaults.

    Standard columns that were never stored take their default place; a standard column
    added in a later dsdesk version (not yet stored) appears after the stored ones, hidden
    unless the default layout shows it.
    """
    rows = session.execute(select(ColumnRow).where(ColumnRow.project_id == project_id)).scalars().all()
    stored = {r.key: _row_to_column(r) for r in rows}
    # Forget stored rows whose standard column no longer exists (a removed column).
    cols = [c for c in stored.values() if c.custom or c.name in STANDARD_BY_NAME]
    if not any(not c.custom for c in cols):
        # Nothing of the layout stored yet: standard defaults first, customs after.
        base = default_columns()
        customs = sorted((c for c in cols if c.custom), key=lambda c: (c.position, c.name))
        return [c.with_(position=i) for i, c in enumerate(base + customs)]
    cols.sort(key=lambda c: (c.position, c.name))
    for sc in STANDARD_COLUMNS:
        if sc.name not in stored:
            cols.append(_standard_default(sc, len(cols)))
    return [c.with_(position=i) for i, c in enumerate(cols)]


def _layout_entry(entry: Any) -> tuple[str, dict]:
    if isinstance(entry, str):
        return entry, {"visible": True}
    if isinstance(entry, Column):
        return entry.name, {"visible": entry.visible, "width": entry.width}
    if isinstance(entry, Mapping):
        if "name" not in entry:
            raise InvalidInputError(f"a layout entry needs a 'name': {dict(entry)!r}")
        extra = {k: entry[k] for k in ("visible", "width") if k in entry}
        unknown = set(entry) - {"name", "visible", "width"}
        if unknown:
            raise InvalidInputError(f"unknown layout keys {sorted(unknown)} for column '{entry['name']}'")
        extra.setdefault("visible", True)
        return str(entry["name"]), extra
    raise InvalidInputError(f"a layout entry is a column name, a dict or a Column, not {entry!r}")


class Columns:
    """The datasets-table columns of one project (``project.columns``).

    Every method runs in one short transaction of its own; thread-safe like the rest of
    the API.
    """

    def __init__(self, catalog: Catalog, project: Project):
        self._cat, self._project = catalog, project

    # ---- reading ------------------------------------------------------------------------
    def list(self) -> list[Column]:
        """Every column (standard and custom, visible or not) in layout order."""
        with self._cat.db.session() as s:
            return load_columns(s, self._project.id)

    def visible(self) -> list[Column]:
        """The visible columns in layout order."""
        return [c for c in self.list() if c.visible]

    def get(self, name: str) -> Column:
        """One column by name; NotFoundError when there is none."""
        for c in self.list():
            if c.name == name:
                return c
        raise NotFoundError(f"no column named '{name}' in project '{self._project.name}'")

    # ---- custom columns -----------------------------------------------------------------
    def add(self, name: str, label: str | None = None, field: str | None = None, link: bool = False,
            resizable: bool = True, sortable: bool = True, value_type: str = "text",
            visible: bool = True, width: int | None = None) -> Column:
        """Add a custom column showing metadata *field* (``user.owner``), last in the layout.

        Raises InvalidInputError (bad name, field or type) or AlreadyExistsError (the name is
        taken by a standard or custom column).
        """
        cols = self.list()
        new = Column(name, label if label is not None else name, field, value_type, True, link, resizable,
                     sortable, visible, len(cols), width)
        normalize(new)  # name errors first, before the duplicate check
        applied = self.apply(cols + [new])
        return next(c for c in applied if c.name == new.name.strip())

    def update(self, name: str, **changes) -> Column:
        """Change settings of a column: ``label``, ``field``, ``link``, ``resizable``,
        ``sortable``, ``value_type``, ``visible``, ``width``, or ``new_name`` to rename a
        custom column.  Standard columns accept only label, resizable, sortable, visible
        and width.
        """
        allowed = {"label", "field", "link", "resizable", "sortable", "value_type", "visible", "width",
                   "new_name"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInputError(f"unknown column settings {sorted(unknown)}; allowed: {', '.join(sorted(allowed))}")
        cols = self.list()
        idx = next((i for i, c in enumerate(cols) if c.name == name), None)
        if idx is None:
            raise NotFoundError(f"no column named '{name}' in project '{self._project.name}'")
        col = cols[idx]
        if not col.custom:
            fixed = {"field", "link", "value_type", "new_name"} & set(changes)
            if fixed:
                raise InvalidInputError(f"'{name}' is a standard column: {', '.join(sorted(fixed))} cannot change")
        if "new_name" in changes:
            changes["name"] = changes.pop("new_name")
        cols[idx] = col.with_(**changes)
        applied = self.apply(cols)
        return applied[idx]

    def remove(self, name: str) -> bool:
        """Remove a custom column.  Standard columns cannot be removed: hide them."""
        cols = self.list()
        col = next((c for c in cols if c.name == name), None)
        if col is None:
            raise NotFoundError(f"no column named '{name}' in project '{self._project.name}'")
        if not col.custom:
            raise InvalidInputError(f"'{name}' is a standard column; it cannot be removed, only hidden")
        self.apply([c for c in cols if c.name != name])
        return True

    # ---- the layout ---------------------------------------------------------------------
    def apply(self, columns: Iterable[Column]) -> list[Column]:
        """Replace the whole column set and layout at once (the settings dialog's OK).

        The list order is the layout order.  Validated first (see :func:`validate_columns`);
        written in one transaction, so a refused set changes nothing.
        """
        cols = validate_columns(columns)
        with self._cat.db.session() as s:
            s.execute(delete(ColumnRow).where(ColumnRow.project_id == self._project.id))
            s.flush()
            s.add_all([ColumnRow(project_id=self._project.id, key=c.name, label=c.label, field=c.field,
                                 value_type=c.value_type, custom=c.custom, link=c.link, resizable=c.resizable,
                                 sortable=c.sortable, visible=c.visible, position=c.position, width=c.width)
                       for c in cols])
        return cols

    def save_layout(self, layout: Iterable[Any]) -> list[Column]:
        """Save which columns show, in which order and how wide.

        *layout* lists columns in display order; each entry is a column name (shown), a dict
        ``{"name", "visible", "width"}`` or a :class:`Column`.  Columns not listed keep their
        settings and become hidden, after the listed ones.  Unknown names raise NotFoundError.
        """
        cols = {c.name: c for c in self.list()}
        ordered: list[Column] = []
        seen: set[str] = set()
        for entry in layout:
            name, extra = _layout_entry(entry)
            if name not in cols:
                raise NotFoundError(f"no column named '{name}' in project '{self._project.name}'")
            if name in seen:
                raise InvalidInputError(f"column '{name}' appears twice in the layout")
            seen.add(name)
            ordered.append(cols[name].with_(**extra))
        ordered += [c.with_(visible=False) for n, c in cols.items() if n not in seen]
        return self.apply(ordered)

    def restore_default(self) -> list[Column]:
        """The default layout: standard columns in their default order, visibility and
        width; custom columns after them, as they were (visible or not), at default width."""
        customs = [c.with_(width=None) for c in self.list() if c.custom]
        return self.apply(default_columns() + customs)

    def field_suggestions(self) -> list[str]:
        """Metadata paths that exist in this project's datasets (``user.owner``,
        ``user.stats.f1`` ...), for completing a custom column's field."""
        from dsdesk.api.dataset_table import metadata_fields

        return metadata_fields(self._cat, self._project.id)

    def __iter__(self):
        return iter(self.list())

    def __repr__(self) -> str:
        return f"<Columns of project {self._project.name!r}>"
