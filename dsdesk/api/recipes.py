"""Recipes (label sets): ``project.recipes.create/get/list`` and ``ds.recipe``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dsdesk.catalog.models import Label
from dsdesk.catalog.models import Recipe as RecipeRow
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.projects import Project

# A readable palette for labels created without a colour.
PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
           "#fabebe", "#008080", "#e6beff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075"]


def normalize_labels(labels) -> list[dict]:
    """Accept ``["car", ...]``, ``[{"tag": "car", "color": "#f00"}, ...]`` or ``{"car": "#f00"}``."""
    if labels is None:
        return []
    if isinstance(labels, dict):
        labels = [{"tag": k, "color": v} for k, v in labels.items()]
    out, seen = [], set()
    for i, lab in enumerate(labels):
        d = {"tag": lab} if isinstance(lab, str) else dict(lab)
        tag = d.get("tag") or d.get("label_name") or d.get("name")
        if not isinstance(tag, str) or not tag.strip():
            raise InvalidInputError(f"label {i} has no name: {lab!r}")
        if tag in seen:
            continue
        seen.add(tag)
        out.append({"tag": tag, "color": d.get("color") or PALETTE[len(out) % len(PALETTE)],
                    "display_label": d.get("display_label") or tag.rsplit(".", 1)[-1]})
    return out


def create_recipe(session: Session, project_id: int, name: str, labels=None, attributes=None) -> RecipeRow:
    """Insert a recipe with its labels (inside the caller's transaction)."""
    row = RecipeRow(project_id=project_id, name=name, attributes=list(attributes or []))
    session.add(row)
    session.flush()
    for pos, lab in enumerate(normalize_labels(labels)):
        session.add(Label(recipe_id=row.id, tag=lab["tag"], color=lab["color"],
                          display_label=lab["display_label"], position=pos))
    session.flush()
    return row


@dataclass
class Recipe:
    """A label set shared by datasets."""

    _cat: Catalog
    id: int
    name: str
    project_id: int
    labels: list[dict] = field(default_factory=list)
    attributes: list = field(default_factory=list)

    @classmethod
    def _load(cls, cat: Catalog, session: Session, recipe_id: int) -> Recipe:
        row = session.get(RecipeRow, recipe_id)
        if row is None:
            raise NotFoundError(f"recipe {recipe_id} not found")
        labels = session.execute(select(Label).where(Label.recipe_id == row.id).order_by(Label.position)).scalars()
        return cls(cat, row.id, row.name, row.project_id,
                   [{"tag": lab.tag, "color": lab.color, "display_label": lab.display_label} for lab in labels],
                   list(row.attributes or []))

    @property
    def label_names(self) -> list[str]:
        """The labels' dotted tags, in order."""
        return [lab["tag"] for lab in self.labels]

    def add_labels(self, labels) -> Recipe:
        """Add labels (existing tags are kept as they are)."""
        with self._cat.db.session(write=True) as s:
            have = set(s.execute(select(Label.tag).where(Label.recipe_id == self.id)).scalars())
            pos = len(have)
            for lab in normalize_labels(labels):
                if lab["tag"] not in have:
                    s.add(Label(recipe_id=self.id, tag=lab["tag"], color=lab["color"],
                                display_label=lab["display_label"], position=pos))
                    pos += 1
            s.flush()
            fresh = Recipe._load(self._cat, s, self.id)
        self.labels = fresh.labels
        return self

    def delete_labels(self, label_names: list[str]) -> Recipe:
        """Remove labels by tag."""
        with self._cat.db.session(write=True) as s:
            s.execute(delete(Label).where(Label.recipe_id == self.id, Label.tag.in_(list(label_names))))
            fresh = Recipe._load(self._cat, s, self.id)
        self.labels = fresh.labels
        return self

    def to_json(self) -> dict:
        """Dataloop-shaped JSON (labels flattened)."""
        return {"id": self.id, "title": self.name, "projectIds": [self.project_id],
                "labels": self.labels, "attributes": self.attributes}


class Recipes:
    """A project's recipes."""

    def __init__(self, catalog: Catalog, project: Project):
        self._cat, self._project = catalog, project

    def create(self, recipe_name: str, labels=None, attributes=None) -> Recipe:
        """Create a recipe with *labels* (names, dicts with tag/color, or {tag: color})."""
        with self._cat.db.session(write=True) as s:
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
