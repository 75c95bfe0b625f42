"""The annotation overlays' read model (Qt-free): what the grid and the viewer draw over an
image, the label legend of a dataset, and the grid query of "items labelled X".

* :func:`fetch_overlays` reads the annotations of a page of items in ONE query (annotation
  joined to its item's blob for the image size and to the dataset's recipe label for the
  colour) and gives each item an :class:`ItemOverlay` whose shapes are in fractions of the
  image (0..1), so a thumbnail of any size scales them by its own width and height.  An
  item whose blob has no recorded size (a synced one before its thumbnail was made) gets
  ``sized=False`` and only its class tags.
* :func:`shapes_of` turns annotation coordinates (Dataloop JSON) into the same shapes in
  any unit: the viewer keeps image pixels.
* :func:`label_counts` is the legend: per label, its colour and how many annotations and
  items carry it, recipe labels first (with zero counts), then labels the recipe lacks.
* :func:`label_search` is the search-bar text of "items with an annotation labelled X",
  the grid's own query encoding (``label:"X"``), so the user sees and can edit the filter.

Meant for worker threads: every function opens its own short read session.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, distinct, func, select

from dsdesk.api.labels import label_color
from dsdesk.catalog.models import Annotation as AnnotationRow
from dsdesk.catalog.models import Blob as BlobRow
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Item as ItemRow
from dsdesk.catalog.models import Label as LabelRow
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

__all__ = ["ItemOverlay", "LabelCount", "OverlayShape", "fetch_overlays", "label_counts", "label_search",
           "shapes_of"]

#: Annotation types drawn as a closed ring of points.
POLYGON_TYPES = frozenset({"polygon", "segment"})
#: Annotation types the overlays know how to draw; others (cube, pose, text...) are left out.
DRAWN_TYPES = frozenset({"box", "point", "polygon", "segment", "polyline", "ellipse", "class"})

Point = tuple[float, float]


class OverlayShape(NamedTuple):
    """One drawable annotation (a named tuple: a page holds thousands, made in a loop).

    *kind*: ``box`` (``rings[0]`` is the two corners), ``ellipse`` (the two corners of
    its bounding box), ``polygon`` (closed rings), ``polyline`` (open rings), ``point``
    (``rings[0]`` is one point) or ``class`` (no rings: a tag).
    """

    annotation_id: int
    kind: str
    label: str | None
    color: str
    rings: tuple[tuple[Point, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class ItemOverlay:
    """The shapes of one item, in fractions of its image's width and height."""

    item_id: int
    sized: bool
    shapes: tuple[OverlayShape, ...] = ()


@dataclass(frozen=True, slots=True)
class LabelCount:
    """One row of the legend: a label, its colour, its annotation and item counts, and
    whether the dataset's recipe has it (an annotation may carry a label it lacks)."""

    label: str
    color: str
    annotations: int
    items: int
    in_recipe: bool


def _xy(p: Any, sx: float, sy: float) -> Point:
    return float(p["x"]) * sx, float(p["y"]) * sy


def shapes_of(annotation_id: int, kind: str, label: str | None, coordinates: Any, color: str | None = None,
              sx: float = 1.0, sy: float = 1.0) -> OverlayShape | None:
    """The :class:`OverlayShape` of one annotation, its coordinates multiplied by *sx*, *sy*
    (1: image pixels; ``1/width``: fractions).  None for a type the overlays do not draw
    or coordinates that do not fit the type (a malformed shape is skipped, never fatal)."""
    color = color or label_color(label)
    c = coordinates
    try:
        if kind == "class":
            return OverlayShape(annotation_id, "class", label, color)
        if kind == "box" and isinstance(c, list) and len(c) >= 2:
            return OverlayShape(annotation_id, "box", label, color, ((_xy(c[0], sx, sy), _xy(c[1], sx, sy)),))
        if kind == "point" and isinstance(c, dict):
            return OverlayShape(annotation_id, "point", label, color, ((_xy(c, sx, sy),),))
        if kind in POLYGON_TYPES or kind == "polyline":
            rings = tuple(tuple(_xy(p, sx, sy) for p in ring) for ring in (c or []) if isinstance(ring, list))
            rings = tuple(r for r in rings if len(r) >= 2)
            if rings:
                return OverlayShape(annotation_id, "polyline" if kind == "polyline" else "polygon", label, color, rings)
            return None
        if kind == "ellipse" and isinstance(c, dict) and "center" in c:
            cx, cy = float(c["center"]["x"]), float(c["center"]["y"])
            rx, ry = float(c.get("rx", 5)), float(c.get("ry", 5))
            corners = (((cx - rx) * sx, (cy - ry) * sy), ((cx + rx) * sx, (cy + ry) * sy))
            return OverlayShape(annotation_id, "ellipse", label, color, (corners,))
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _decode_coordinates(values: list) -> list:
    """The JSON coordinates of a page of rows, decoded (SQLite hands over text, PostgreSQL
    decoded values).  One ``json.loads`` of the whole page: a call per row costs twice the
    decoding itself.  A value that is not JSON becomes None (its shape is skipped)."""
    texts = [v for v in values if isinstance(v, str)]
    if not texts:
        return values
    try:
        it = iter(json.loads("[" + ",".join(texts) + "]"))
        return [next(it) if isinstance(v, str) else v for v in values]
    except ValueError:
        out = []
        for v in values:
            try:
                out.append(json.loads(v) if isinstance(v, str) else v)
            except ValueError:
                out.append(None)
        return out


def _overlay_query():
    a, i, b, d, lab = (AnnotationRow.__table__, ItemRow.__table__, BlobRow.__table__, DatasetRow.__table__,
                       LabelRow.__table__)
    return (select(a.c.item_id, a.c.id, a.c.type, a.c.label, a.c.coordinates, b.c.width, b.c.height, lab.c.color)
            .select_from(a.join(i, i.c.id == a.c.item_id).join(b, b.c.id == i.c.blob_id)
                         .join(d, d.c.id == a.c.dataset_id)
                         .outerjoin(lab, and_(lab.c.recipe_id == d.c.recipe_id, lab.c.tag == a.c.label)))
            .where(a.c.item_id.in_(bindparam("ids", expanding=True)), a.c.type.in_(sorted(DRAWN_TYPES)))
            .order_by(a.c.item_id, a.c.id))


#: Built once: the grid reads page after page, and building the statement costs about
#: as much as running it.
_OVERLAY_QUERY = _overlay_query()


def fetch_overlays(cat: Catalog, item_ids: Iterable[int]) -> dict[int, ItemOverlay]:
    """The overlays of *item_ids*, by id, read in one query (every id asked for gets an
    entry, an empty one when it has no annotations or is gone)."""
    ids = [int(i) for i in item_ids]
    if not ids:
        return {}
    with cat.db.session() as s:
        # The DB-API cursor's plain tuples, the JSON decoded here: SQLAlchemy's Row objects
        # and result processors cost four times the query itself on a page of boxes.
        rows = s.execute(_OVERLAY_QUERY, {"ids": ids}).cursor.fetchall()
    decoded = _decode_coordinates([r[4] for r in rows])
    shapes: dict[int, list[OverlayShape]] = {}
    sized: dict[int, bool] = {}
    for (item_id, ann_id, kind, label, _raw, width, height, color), coords in zip(rows, decoded, strict=True):
        ok = bool(width and height)
        sized[item_id] = ok
        if not ok and kind != "class":
            continue  # no image size to scale by: only the tags can be drawn
        sx, sy = (1.0 / width, 1.0 / height) if ok else (1.0, 1.0)
        if kind == "box" and type(coords) is list and len(coords) >= 2:
            # The common case inline (most annotations are boxes).
            a0, a1 = coords[0], coords[1]
            try:
                shape = OverlayShape(ann_id, "box", label, color or label_color(label),
                                     (((a0["x"] * sx, a0["y"] * sy), (a1["x"] * sx, a1["y"] * sy)),))
            except (KeyError, TypeError):
                continue
        else:
            shape = shapes_of(ann_id, kind, label, coords, color, sx, sy)
        if shape is not None:
            shapes.setdefault(item_id, []).append(shape)
    return {iid: ItemOverlay(iid, sized.get(iid, True), tuple(shapes.get(iid, ()))) for iid in ids}


def label_counts(cat: Catalog, dataset_id: int) -> list[LabelCount]:
    """The legend of *dataset_id*: every recipe label in recipe order (with zero counts when
    unused), then the labels annotations carry that the recipe lacks, by name.

    NotFoundError when the dataset is gone.
    """
    a, lab = AnnotationRow.__table__, LabelRow.__table__
    with cat.db.session() as s:
        ds = s.get(DatasetRow, int(dataset_id))
        if ds is None or ds.deleted_at is not None:
            raise NotFoundError(f"dataset {dataset_id} not found")
        recipe = []
        if ds.recipe_id is not None:
            recipe = s.execute(select(lab.c.tag, lab.c.color).where(lab.c.recipe_id == ds.recipe_id)
                               .order_by(lab.c.position, lab.c.id)).all()
        counts = {label: (n, items) for label, n, items in s.execute(
            select(a.c.label, func.count(), func.count(distinct(a.c.item_id)))
            .where(a.c.dataset_id == ds.id, a.c.label.is_not(None)).group_by(a.c.label)).all()}
    out = [LabelCount(tag, color or label_color(tag), *counts.pop(tag, (0, 0)), True) for tag, color in recipe]
    out += [LabelCount(tag, label_color(tag), n, items, False) for tag, (n, items) in sorted(counts.items())]
    return out


def label_search(label: str) -> str:
    """The search-bar text of the items having an annotation labelled *label*
    (``label:"vehicle.car"``; quotes and backslashes in the label are escaped)."""
    if not isinstance(label, str) or not label:
        raise InvalidInputError(f"a label to filter by must be a non-empty string, not {label!r}")
    return 'label:"' + label.replace("\\", "\\\\").replace('"', '\\"') + '"'
