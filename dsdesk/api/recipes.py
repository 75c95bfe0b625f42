"""Recipes (label sets): ``project.recipes``, ``dataset.recipes``, ``recipe.ontologies``.

Dataloop links a dataset to one recipe and a recipe to ontologies that hold the labels;
dsdesk keeps one ontology per recipe (it has the recipe's id), so ``recipe.ontologies.list()``
is one :class:`Ontology` whose label edits are the recipe's.  Labels are stored flat with
dotted tags (``animal.dog``); see :mod:`dsdesk.api.labels` for the tree view and colours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dsdesk.api.labels import (
    Label,
    as_label,
    build_tree,
    flatten,
    instance_map,
    label_color,
    to_hex,
)
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Label as LabelRow
from dsdesk.catalog.models import Recipe as RecipeRow
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.datasets import Dataset
    from dsdesk.api.projects import Project

__all__ = ["Recipe", "Recipes", "DatasetRecipes", "Ontology", "Ontologies", "create_recipe",
           "normalize_labels"]


def normalize_labels(labels) -> list[dict]:
    """Flat label rows for what ``recipes.create(labels=...)`` accepts: names, dicts with
    ``tag``/``label_name`` and ``color`` (hex or an RGB tuple), ``dd.Label`` objects with
    ``children``, or ``{tag: colour}``.  InvalidInputError names a bad label."""
    return flatten(labels)


def _insert_labels(session: Session, recipe_id: int, rows: list[dict], first_position: int) -> None:
    for pos, lab in enumerate(rows, start=first_position):
        session.add(LabelRow(recipe_id=recipe_id, tag=lab["tag"], color=lab["color"],
                             display_label=lab["display_label"], position=pos,
                             attributes=lab["attributes"] or None))
    session.flush()


def create_recipe(session: Session, project_id: int, name: str, labels=None, attributes=None) -> RecipeRow:
    """Insert a recipe with its labels (inside the caller's transaction)."""
    rows = normalize_labels(labels)  # checked before anything is written
    row = RecipeRow(project_id=project_id, name=name, attributes=list(attributes or []))
    session.add(row)
    session.flush()
    _insert_labels(session, row.id, rows, 0)
    return row


def _label_rows(session: Session, recipe_id: int) -> list[dict]:
    q = select(LabelRow).where(LabelRow.recipe_id == recipe_id).order_by(LabelRow.position, LabelRow.id)
    return [{"tag": r.tag, "color": r.color or label_color(r.tag), "display_label": r.display_label,
             "attributes": list(r.attributes or [])} for r in session.execute(q).scalars()]


def add_labels(session: Session, recipe_id: int, labels, upsert: bool = False) -> list[dict]:
    """Add labels (a tree) to a recipe; a tag it has already is kept as it is, unless
    *upsert*, which updates it.  Returns the rows written."""
    rows = normalize_labels(labels)
    have = {r.tag: r for r in session.execute(select(LabelRow).where(LabelRow.recipe_id == recipe_id)).scalars()}
    new = [r for r in rows if r["tag"] not in have]
    if upsert:
        for r in rows:
            if r["tag"] in have and not r.get("implied"):
                _set_label(have[r["tag"]], r)
    pos = max((r.position for r in have.values()), default=-1) + 1
    _insert_labels(session, recipe_id, new, pos)
    return rows if upsert else new


def _set_label(row: LabelRow, values: dict) -> None:
    row.color = values["color"]
    row.display_label = values["display_label"]
    row.attributes = values["attributes"] or None


def update_label(session: Session, recipe_id: int, label: Label, upsert: bool = False) -> None:
    """Change one label (by its dotted tag) and add its children; NotFoundError unless *upsert*."""
    row = session.execute(select(LabelRow).where(LabelRow.recipe_id == recipe_id,
                                                 LabelRow.tag == label.tag)).scalar()
    if row is None and not upsert:
        raise NotFoundError(f"label {label.tag!r} is not in the recipe (update_label(..., upsert=True) adds it)")
    add_labels(session, recipe_id, [label], upsert=True)


def delete_labels(session: Session, recipe_id: int, label_names) -> int:
    """Remove labels by dotted tag, with their children; returns how many rows went."""
    if isinstance(label_names, (str, Label)):
        label_names = [label_names]
    tags = [getattr(n, "tag", n) for n in label_names]
    for i, t in enumerate(tags):
        if not isinstance(t, str) or not t:
            raise InvalidInputError(f"label name {i} must be a non-empty string, not {t!r}")
    n = 0
    for t in tags:
        n += session.execute(delete(LabelRow).where(
            LabelRow.recipe_id == recipe_id,
            (LabelRow.tag == t) | LabelRow.tag.startswith(t + ".", autoescape=True))).rowcount
    return n


@dataclass
class Recipe:
    """A label set shared by datasets (Dataloop's recipe with its one ontology).

    ``labels`` is flat: one :class:`~dsdesk.api.labels.Label` per dotted tag, in order.
    """

    _cat: Catalog
    id: int
    name: str
    project_id: int
    labels: list[Label] = field(default_factory=list)
    attributes: list = field(default_factory=list)

    @classmethod
    def _load(cls, cat: Catalog, session: Session, recipe_id: int) -> Recipe:
        row = session.get(RecipeRow, recipe_id)
        if row is None:
            raise NotFoundError(f"recipe {recipe_id} not found")
        labels = [Label(tag=r["tag"], display_label=r["display_label"], color=r["color"],
                        attributes=r["attributes"]) for r in _label_rows(session, row.id)]
        return cls(cat, row.id, row.name, row.project_id, labels, list(row.attributes or []))

    @property
    def title(self) -> str:
        """The recipe's name (Dataloop calls it the title)."""
        return self.name

    @property
    def label_names(self) -> list[str]:
        """The labels' dotted tags, in order."""
        return [lab.tag for lab in self.labels]

    @property
    def label_colors(self) -> dict[str, str]:
        """``{dotted tag: '#rrggbb'}`` of every label (what overlays and legends paint with)."""
        return {lab.tag: lab.color for lab in self.labels}

    @property
    def ontology_ids(self) -> list[int]:
        """The recipe's one ontology (it shares the recipe's id)."""
        return [self.id]

    @property
    def ontologies(self) -> Ontologies:
        """``.list()`` / ``.get()`` the recipe's ontology."""
        return Ontologies(self)

    def _reload(self) -> Recipe:
        with self._cat.db.session() as s:
            fresh = Recipe._load(self._cat, s, self.id)
        self.labels, self.attributes, self.name = fresh.labels, fresh.attributes, fresh.name
        return self

    def add_labels(self, labels, upsert: bool = False) -> Recipe:
        """Add labels (names, dicts, ``dd.Label`` trees); existing tags are kept as they are."""
        with self._cat.db.session(write=True) as s:
            add_labels(s, self.id, labels, upsert=upsert)
        return self._reload()

    def delete_labels(self, label_names) -> Recipe:
        """Remove labels by dotted tag (their children go too)."""
        with self._cat.db.session(write=True) as s:
            delete_labels(s, self.id, label_names)
        return self._reload()

    def update(self) -> Recipe:
        """Re-read the recipe (its label edits are saved as they are made)."""
        return self._reload()

    def delete(self) -> bool:
        """Delete the recipe; refused while a live dataset uses it."""
        with self._cat.db.session(write=True) as s:
            used = s.execute(select(DatasetRow.name).where(DatasetRow.recipe_id == self.id,
                                                           DatasetRow.deleted_at.is_(None)).limit(1)).scalar()
            if used is not None:
                raise InvalidInputError(f"recipe '{self.name}' is used by dataset '{used}'; switch its recipe first")
            s.execute(delete(LabelRow).where(LabelRow.recipe_id == self.id))
            s.execute(update(DatasetRow).where(DatasetRow.recipe_id == self.id).values(recipe_id=None))
            s.execute(delete(RecipeRow).where(RecipeRow.id == self.id))
        return True

    def clone(self, shallow: bool = False, recipe_name: str | None = None) -> Recipe:
        """A new recipe of the project with this one's labels and attributes (dsdesk keeps
        one ontology per recipe, so *shallow* copies too)."""
        with self._cat.db.session(write=True) as s:
            labels = [{"tag": lab.tag, "color": lab.color, "display_label": lab.display_label,
                       "attributes": lab.attributes} for lab in self.labels]
            row = create_recipe(s, self.project_id, recipe_name or f"{self.name} clone", labels, self.attributes)
            return Recipe._load(self._cat, s, row.id)

    def print(self) -> None:
        """Print the recipe and its labels (as the SDK's ``recipe.print()``)."""
        print(f"Recipe {self.id} {self.name!r}: {', '.join(self.label_names) or 'no labels'}")

    def to_json(self) -> dict:
        """Dataloop-shaped JSON (labels flattened)."""
        return {"id": self.id, "title": self.name, "projectIds": [self.project_id],
                "ontologyIds": self.ontology_ids,
                "labels": [{"tag": lab.tag, "color": lab.color, "display_label": lab.display_label,
                            "attributes": list(lab.attributes)} for lab in self.labels],
                "attributes": self.attributes}

    def __repr__(self) -> str:
        return f"<Recipe {self.id} {self.name!r} {len(self.labels)} labels>"


class Ontology:
    """The labels of a recipe as Dataloop's ontology: ``labels`` (a tree), ``add_label(s)``,
    ``update_labels``, ``delete_labels``, ``instance_map``, ``labels_flat_dict``."""

    def __init__(self, recipe: Recipe):
        self._recipe = recipe
        self.id = recipe.id
        self._instance_map: dict[str, int] | None = None

    @property
    def recipe(self) -> Recipe:
        return self._recipe

    @property
    def labels(self) -> list[Label]:
        """Top-level labels, each with its ``children``."""
        return build_tree([{"tag": lab.tag, "color": lab.color, "display_label": lab.display_label,
                            "attributes": lab.attributes} for lab in self._recipe.labels])

    @property
    def labels_flat_dict(self) -> dict[str, Label]:
        """``{dotted tag: Label}`` of every label."""
        return {lab.tag: lab for lab in self._recipe.labels}

    @property
    def instance_map(self) -> dict[str, int]:
        """``{dotted tag: instance id}``: 1, 2, ... in sorted tag order unless set."""
        if self._instance_map is not None:
            return dict(self._instance_map)
        return instance_map(self._recipe.label_names)

    @instance_map.setter
    def instance_map(self, value: dict) -> None:
        if not isinstance(value, dict) or not all(isinstance(v, int) for v in value.values()):
            raise InvalidInputError("instance_map must be a dict {label: integer id}")
        self._instance_map = dict(value)

    def add_label(self, label_name=None, color=None, children=None, attributes=None, display_label=None,
                  label: Label | None = None, update_ontology: bool = True, icon_path=None) -> Label:
        """Add one label (with its *children*); returns it.  ``icon_path`` is accepted and ignored."""
        lab = label if label is not None else _label_from_args(label_name, color, children, attributes,
                                                               display_label)
        self._recipe.add_labels([lab])
        return lab

    def add_labels(self, label_list, update_ontology: bool = True) -> list[Label]:
        """Add labels (names, dicts, ``dd.Label`` objects); returns them as labels."""
        self._recipe.add_labels(label_list)
        return [as_label(x) for x in _as_list(label_list)]

    def update_labels(self, label_list, upsert: bool = False, update_ontology: bool = True) -> list[Label]:
        """Change existing labels (colour, display label, attributes; children added)."""
        labs = [as_label(x) for x in _as_list(label_list)]
        with self._recipe._cat.db.session(write=True) as s:
            for lab in labs:
                update_label(s, self.id, lab, upsert=upsert)
        self._recipe._reload()
        return labs

    def delete_labels(self, label_names) -> Ontology:
        """Remove labels by dotted tag."""
        self._recipe.delete_labels(label_names)
        return self

    def update(self, system_metadata: bool = False) -> Ontology:
        """Re-read (label edits are saved as they are made)."""
        self._recipe._reload()
        return self

    def print(self) -> None:
        """Print the ontology's labels with their colours."""
        for tag, lab in self.labels_flat_dict.items():
            print(f"{tag}  {lab.color}")

    def to_json(self) -> dict:
        """Dataloop's ontology JSON: ``roots`` (the label trees) and ``attributes``."""
        return {"id": self.id, "roots": [lab.to_root() for lab in self.labels],
                "attributes": list(self._recipe.attributes)}

    def __repr__(self) -> str:
        return f"<Ontology {self.id} of recipe {self._recipe.name!r}>"


class Ontologies:
    """A recipe's ontologies (always one)."""

    def __init__(self, recipe: Recipe):
        self._recipe = recipe

    def list(self) -> list[Ontology]:
        """The recipe's one ontology, in a list."""
        return [Ontology(self._recipe)]

    def get(self, ontology_id=None) -> Ontology:
        """The recipe's ontology (its id is the recipe's)."""
        if ontology_id is not None and str(ontology_id) != str(self._recipe.id):
            raise NotFoundError(f"ontology {ontology_id} is not in recipe '{self._recipe.name}'")
        return Ontology(self._recipe)


def _as_list(x) -> list:
    return [x] if isinstance(x, (str, dict, Label)) else list(x)


def _label_from_args(label_name, color, children, attributes, display_label) -> Label:
    if not isinstance(label_name, str) or not label_name.strip():
        raise InvalidInputError(f"a label needs a non-empty string name, not {label_name!r}")
    to_hex(color, f"the colour of label {label_name!r}")
    return Label(tag=label_name, color=color, children=children, attributes=attributes,
                 display_label=display_label)


class Recipes:
    """A project's recipes."""

    def __init__(self, catalog: Catalog, project: Project):
        self._cat, self._project = catalog, project

    def create(self, recipe_name: str = "default recipe", labels=None, attributes=None,
               ontology_ids=None) -> Recipe:
        """Create a recipe with *labels* (names, dicts with tag/color, ``dd.Label`` trees, or
        {tag: color}); *ontology_ids* copies the labels of those recipes' ontologies."""
        if not isinstance(recipe_name, str) or not recipe_name.strip():
            raise InvalidInputError(f"a recipe needs a non-empty name, not {recipe_name!r}")
        with self._cat.db.session(write=True) as s:
            labels = list(_as_list(labels)) if labels is not None else []
            for oid in ontology_ids or []:
                labels += [{"tag": r["tag"], "color": r["color"], "attributes": r["attributes"]}
                           for r in _label_rows(s, int(getattr(oid, "id", oid)))]
            row = create_recipe(s, self._project.id, recipe_name, labels, attributes)
            return Recipe._load(self._cat, s, row.id)

    def get(self, recipe_id: int | None = None, recipe_name: str | None = None) -> Recipe:
        """A recipe by id or name."""
        with self._cat.db.session() as s:
            if recipe_id is None:
                recipe_id = s.execute(select(RecipeRow.id).where(RecipeRow.project_id == self._project.id,
                                                                 RecipeRow.name == recipe_name)).scalar()
                if recipe_id is None:
                    raise NotFoundError(f"recipe {recipe_name!r} not found in project '{self._project.name}'")
            return Recipe._load(self._cat, s, int(recipe_id))

    def list(self) -> list[Recipe]:
        """All recipes of the project."""
        with self._cat.db.session() as s:
            ids = s.execute(select(RecipeRow.id).where(RecipeRow.project_id == self._project.id)
                            .order_by(RecipeRow.id)).scalars().all()
            return [Recipe._load(self._cat, s, i) for i in ids]


class DatasetRecipes:
    """``dataset.recipes``: the dataset's recipe (``list()`` has one), and new recipes for it."""

    def __init__(self, catalog: Catalog, dataset: Dataset):
        self._cat, self._ds = catalog, dataset

    def list(self) -> list[Recipe]:
        """The dataset's recipe in a list (empty when it has none)."""
        r = self._ds.recipe
        return [r] if r is not None else []

    def get(self, recipe_id: Any = None) -> Recipe:
        """A recipe by id (default: the dataset's)."""
        rid = self._ds.recipe_id if recipe_id is None else int(recipe_id)
        if rid is None:
            raise NotFoundError(f"dataset '{self._ds.name}' has no recipe")
        with self._cat.db.session() as s:
            return Recipe._load(self._cat, s, rid)

    def create(self, recipe_name: str | None = None, labels=None, attributes=None,
               ontology_ids=None) -> Recipe:
        """Create a recipe in the dataset's project (``switch_recipe`` makes it the dataset's)."""
        return self._ds.project.recipes.create(recipe_name or f"{self._ds.name} recipe", labels=labels,
                                               attributes=attributes, ontology_ids=ontology_ids)
