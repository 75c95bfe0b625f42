"""The recipe editor's read model and its save (Qt-free): a dataset's labels as flat rows,
and a set of label edits applied to its recipe in one transaction.

The editor works on a copy of the labels and hands back the whole edited list;
:func:`plan_label_edits` turns the two lists into additions, colour changes and deletions
(a rename is the old tag deleted and the new one added, children included), and
:func:`save_label_edits` applies them in one transaction through the recipe functions of
:mod:`dsdesk.api.recipes` (``add_labels``, ``update_label``; deletions by exact tag).  Annotations keep
their label text: an annotation whose label left the recipe is shown as not in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete

from dsdesk.api import recipes
from dsdesk.api.labels import Label, label_color, to_hex
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.models import Label as LabelTable
from dsdesk.errors import InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

__all__ = ["LabelEdits", "LabelEntry", "RecipeLabels", "plan_label_edits", "read_recipe_labels", "save_label_edits"]


@dataclass(frozen=True)
class LabelEntry:
    """One label as the editor shows it: its dotted tag and ``#rrggbb`` colour."""

    tag: str
    color: str


@dataclass(frozen=True)
class RecipeLabels:
    """What the recipe editor opens with: the dataset, its recipe and its labels in order;
    *readonly_reason* says why edits are refused (None: they are allowed)."""

    dataset_id: int
    dataset_name: str
    recipe_name: str | None
    labels: tuple[LabelEntry, ...]
    readonly_reason: str | None = None


@dataclass
class LabelEdits:
    """Edits to a recipe's labels: tags to add (with colours), tags whose colour changes,
    tags to delete (each exactly: a child is listed when it goes too)."""

    added: list[LabelEntry] = field(default_factory=list)
    recoloured: list[LabelEntry] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.recoloured or self.deleted)


def read_recipe_labels(cat: Catalog, dataset_id: int) -> RecipeLabels:
    """The labels of *dataset_id*'s recipe (NotFoundError when the dataset is gone)."""
    with cat.db.session() as s:
        row = live_dataset(s, dataset_id)
        name, readonly, kind, recipe_id = row.name, bool(row.readonly), row.kind, row.recipe_id
        recipe = recipes.Recipe._load(cat, s, recipe_id) if recipe_id is not None else None
    reason = None
    if readonly or kind == "snapshot":
        reason = f"dataset '{name}' is read-only: its labels cannot be edited here"
    labels = tuple(LabelEntry(lab.tag, lab.color or label_color(lab.tag)) for lab in (recipe.labels if recipe else []))
    return RecipeLabels(dataset_id, name, recipe.name if recipe else None, labels, reason)


def _check(rows: list[LabelEntry]) -> list[LabelEntry]:
    """Normalised rows; InvalidInputError names the first bad one."""
    out, seen = [], set()
    for i, r in enumerate(rows):
        tag = r.tag.strip() if isinstance(r.tag, str) else r.tag
        if not isinstance(tag, str) or not tag or any(not part.strip() for part in tag.split(".")):
            raise InvalidInputError(f"label {i}: {r.tag!r} is not a label name (dotted names need a name "
                                    "on each side of every dot)")
        if tag in seen:
            raise InvalidInputError(f"label {i}: {tag!r} is given twice")
        seen.add(tag)
        out.append(LabelEntry(tag, to_hex(r.color, f"the colour of label {tag!r}")))
    return out


def plan_label_edits(before: list[LabelEntry] | tuple[LabelEntry, ...], after: list[LabelEntry]) -> LabelEdits:
    """The edits that turn the label list *before* into *after* (checked: a bad name or a
    tag given twice raises InvalidInputError)."""
    after = _check(list(after))
    old = {r.tag: r.color for r in before}
    new = {r.tag: r.color for r in after}
    edits = LabelEdits()
    edits.added = [r for r in after if r.tag not in old]
    edits.recoloured = [r for r in after if r.tag in old and old[r.tag] != r.color]
    # Every tag that goes is listed: the editor deletes a label's children with it, and a
    # child kept under a deleted parent (by a script) stays.
    edits.deleted = sorted(t for t in old if t not in new)
    return edits


def save_label_edits(cat: Catalog, dataset_id: int, edits: LabelEdits) -> RecipeLabels:
    """Apply *edits* to the recipe of *dataset_id* in one transaction; returns the labels
    as they are now.  ReadOnlyError for a read-only dataset; InvalidInputError when it has
    no recipe."""
    with cat.db.session(write=True) as s:
        ds = writable_dataset(s, dataset_id, "edit the labels of")
        if ds.recipe_id is None:
            raise InvalidInputError(f"dataset '{ds.name}' has no recipe to edit")
        if edits.deleted:
            # Exactly these tags (recipes.delete_labels would sweep a tag's children too).
            s.execute(delete(LabelTable).where(LabelTable.recipe_id == ds.recipe_id, LabelTable.tag.in_(edits.deleted)))
        current = {lab.tag: lab for lab in recipes.Recipe._load(cat, s, ds.recipe_id).labels}
        for r in edits.recoloured:
            was = current.get(r.tag)
            recipes.update_label(s, ds.recipe_id, Label(tag=r.tag, color=r.color,
                                                        display_label=was.display_label if was else None,
                                                        attributes=was.attributes if was else None), upsert=True)
        if edits.added:
            recipes.add_labels(s, ds.recipe_id, [{"tag": r.tag, "color": r.color} for r in edits.added])
    return read_recipe_labels(cat, dataset_id)
