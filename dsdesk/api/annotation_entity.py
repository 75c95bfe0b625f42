"""``Annotation``: one annotation as Dataloop's SDK has it.

An annotation wraps its shape (``annotation_definition``: a ``dd.Box``, ``dd.Polygon`` ...)
and adds what the catalog knows: ``id``, ``item_id``, ``dataset_id``, ``object_id``,
``parent_id``, ``status``, ``creator``, timestamps and ``metadata`` (``system`` / ``user``).
``label``, ``attributes``, ``coordinates`` and the geometry (``left``, ``top``, ``x`` ...)
read and write the shape, so ``annotation.label = "car"; annotation.update()`` and
``annotation.top = 150`` work as with the SDK.  A type without a shape class here (cube,
pose, text ...) keeps its raw ``coordinates``.

``to_json()`` gives Dataloop's annotation JSON and :meth:`Annotation.from_json` reads it
back; ``label_not_in_recipe`` is True when the label is not one of the dataset's recipe
(kept, never dropped; the JSON shows it as ``metadata.system.labelNotInRecipe``).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import TYPE_CHECKING, Any

from dsdesk.api.annotation_rows import COMPUTED_SYSTEM_KEYS, Row, box_row, from_definition, row_values, to_row
from dsdesk.api.shapes import BaseAnnotationDefinition, Box, definition_from_json
from dsdesk.catalog.annotation_writes import ITEM_ID
from dsdesk.errors import InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.catalog.models import Annotation as AnnotationRow

__all__ = ["Annotation"]

_UNSET = object()


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat(timespec="milliseconds") + "Z" if t else None


def _parse_time(v: Any) -> dt.datetime | None:
    if isinstance(v, dt.datetime) or v is None:
        return v
    try:
        return dt.datetime.fromisoformat(str(v).replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


class Annotation:
    """One annotation of an item (see the module docstring)."""

    def __init__(self, annotation_definition: BaseAnnotationDefinition | None = None, *, id: int | None = None,
                 item_id: int | None = None, dataset_id: int | None = None, type: str | None = None,
                 label: str | None = None, coordinates: Any = None, attributes: Any = None,
                 metadata: dict | None = None, object_id: str | None = None, status: str | None = None,
                 creator: str | None = None, src_annotation_id: int | None = None,
                 created_at: dt.datetime | None = None, updated_at: dt.datetime | None = None,
                 label_not_in_recipe: bool = False, catalog: Catalog | None = None, item=None):
        self.id = id
        self.item_id = item_id if item_id is not None else getattr(item, "id", None)
        self.dataset_id = dataset_id if dataset_id is not None else getattr(item, "dataset_id", None)
        self._definition = annotation_definition
        self._raw = {"type": type, "label": label, "coordinates": coordinates, "attributes": attributes}
        meta = metadata if metadata is not None else {}
        user = meta.get("user")
        self.metadata: dict = {"system": dict(meta.get("system") or {}),
                               "user": dict(user) if isinstance(user, dict) else ({} if user is None else user),
                               **{k: v for k, v in meta.items() if k not in ("system", "user")}}
        self.object_id = object_id
        self.status = status
        self.creator = creator
        self.src_annotation_id = src_annotation_id
        self.created_at, self.updated_at = created_at, updated_at
        self.label_not_in_recipe = label_not_in_recipe
        self._cat = catalog if catalog is not None else getattr(item, "_cat", None)
        self._item = item

    # ---- the shape ------------------------------------------------------------------------
    @property
    def annotation_definition(self) -> BaseAnnotationDefinition | None:
        """The shape (``dd.Box`` ...), or None for a type without a shape class here."""
        if self._definition is None and self._raw["type"] is not None:
            try:
                self._definition = definition_from_json(self._raw)
            except (InvalidInputError, TypeError, ValueError, AttributeError, IndexError):
                self._definition = None  # malformed stored coordinates: kept raw
        return self._definition

    @annotation_definition.setter
    def annotation_definition(self, d: BaseAnnotationDefinition) -> None:
        self._definition = d

    # A stored annotation answers from its stored JSON until its geometry is touched (the
    # shape is built then), so what was uploaded reads back exactly as it was.
    def _get(self, name: str):
        d = self._definition
        return getattr(d, name) if d is not None else self._raw[name]

    def _set(self, name: str, value) -> None:
        if self._definition is not None:
            setattr(self._definition, name, value)
        self._raw[name] = value

    @property
    def type(self) -> str | None:
        """Dataloop's annotation type: ``box``, ``point``, ``segment``, ``polyline``, ``binary``, ``class`` ..."""
        d = self._definition
        return d.type if d is not None else self._raw["type"]

    label = property(lambda self: self._get("label"), lambda self, v: self._set("label", v),
                     doc="The label (a dotted tag of the recipe, such as ``vehicle.car``).")

    @property
    def attributes(self):
        """The annotation's attributes: ``{key: value}`` (Dataloop's attributes 2.0), or the
        list an older upload gave.  An annotation without any has an empty dict to fill
        (``annotation.attributes.update({...}); annotation.update()``)."""
        value = self._get("attributes")
        if value is None:
            value = {}
            self._set("attributes", value)
        return value

    @attributes.setter
    def attributes(self, value) -> None:
        self._set("attributes", value)

    @property
    def description(self) -> str | None:
        """The annotation's free-text description."""
        d = self._definition
        return d.description if d is not None and d.description else self.metadata.get("description")

    @description.setter
    def description(self, text: str | None) -> None:
        if self._definition is not None:
            self._definition.description = text
        self.metadata["description"] = text

    @property
    def coordinates(self) -> Any:
        """The coordinates in Dataloop's annotation JSON."""
        d = self._definition
        return d.to_coordinates() if d is not None else copy.deepcopy(self._raw["coordinates"])

    @coordinates.setter
    def coordinates(self, value: Any) -> None:
        label, attributes = self.label, self.attributes
        self._raw.update(type=self.type, coordinates=value, label=label, attributes=attributes)
        self._definition = None

    def __getattr__(self, name: str):
        # The geometry (left, top, right, bottom, x, y, geo, rx, angle ...) is the shape's.
        if name.startswith("_"):
            raise AttributeError(name)
        d = self.annotation_definition
        if d is not None and hasattr(d, name):
            return getattr(d, name)
        raise AttributeError(f"{type(self).__name__} of type {self.type!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        if name in ("left", "top", "right", "bottom", "x", "y", "geo", "rx", "ry", "angle"):
            d = self.annotation_definition
            if d is None or not hasattr(type(d), name) and name not in vars(d):
                raise AttributeError(f"a {self.type} annotation has no {name}")
            setattr(d, name, value)
            return
        object.__setattr__(self, name, value)

    # ---- catalog facts --------------------------------------------------------------------
    @property
    def parent_id(self):
        """The parent annotation's id (``metadata.system.parentId``), or None."""
        return self.metadata["system"].get("parentId")

    @parent_id.setter
    def parent_id(self, value) -> None:
        if value is None:
            self.metadata["system"].pop("parentId", None)
        else:
            self.metadata["system"]["parentId"] = value

    @property
    def item(self):
        """The annotated item."""
        if self._item is None:
            if self._cat is None or self.item_id is None:
                raise InvalidInputError("this annotation is not in a catalog yet (upload it to an item first)")
            self._item = self._cat.dataset_by_id(self.dataset_id).items.get(item_id=self.item_id)
        return self._item

    @property
    def dataset(self):
        """The annotated item's dataset."""
        return self.item.dataset

    # ---- saving ---------------------------------------------------------------------------
    def update(self, system_metadata: bool = False) -> Annotation:
        """Save the changed label, geometry, attributes, metadata or status; returns the saved
        annotation (this one, refreshed)."""
        saved = self._item_repo().update(self)
        self.__dict__.update({k: v for k, v in saved.__dict__.items() if k not in ("_cat", "_item")})
        return self

    def delete(self) -> bool:
        """Delete this annotation from its item."""
        return self._item_repo().delete(annotation_id=self.id) == 1

    def upload(self) -> Annotation:
        """Upload this (new) annotation to its item; returns the stored annotation."""
        return self.item.annotations.upload([self])[0]

    def _item_repo(self):
        if self.id is None:
            raise InvalidInputError("this annotation was never uploaded (item.annotations.upload([...]) first)")
        return self.item.annotations

    # ---- JSON -----------------------------------------------------------------------------
    def to_json(self) -> dict:
        """Dataloop's annotation JSON."""
        meta = copy.deepcopy(self.metadata)
        meta["system"]["objectId"] = self.object_id
        meta["system"]["status"] = self.status
        if self.label_not_in_recipe:
            meta["system"]["labelNotInRecipe"] = True
        attrs = self.attributes
        out = {"id": self.id, "itemId": self.item_id, "datasetId": self.dataset_id, "type": self.type,
               "label": self.label, "coordinates": self.coordinates,
               "attributes": copy.deepcopy(attrs) if attrs not in (None, {}) else [],
               "metadata": meta, "creator": self.creator,
               "createdAt": _iso(self.created_at), "updatedAt": _iso(self.updated_at)}
        if self.description:
            out["description"] = self.description
        if self.src_annotation_id is not None:
            out["srcAnnotation"] = self.src_annotation_id
        return out

    @classmethod
    def from_json(cls, _json: dict, item=None, catalog: Catalog | None = None, is_video=None, fps=None,
                  item_metadata=None, client_api=None) -> Annotation:
        """An annotation from Dataloop's annotation JSON (what :meth:`to_json` gives)."""
        if not isinstance(_json, dict):
            raise InvalidInputError(f"Annotation.from_json needs a dict, not {type(_json).__name__}")
        meta = copy.deepcopy(_json.get("metadata") or {})
        system = meta.get("system") or {}
        status = system.get("status", _json.get("status"))
        object_id = system.get("objectId", _json.get("objectId", _json.get("object_id")))
        meta["system"] = {k: v for k, v in system.items() if k not in COMPUTED_SYSTEM_KEYS}
        if _json.get("description"):
            meta["description"] = _json["description"]
        ann = cls(None, id=_json.get("id"), item_id=_json.get("itemId", getattr(item, "id", None)),
                  dataset_id=_json.get("datasetId", getattr(item, "dataset_id", None)), type=_json.get("type"),
                  label=_json.get("label"), coordinates=copy.deepcopy(_json.get("coordinates")),
                  attributes=copy.deepcopy(_json.get("attributes")), metadata=meta,
                  object_id=None if object_id is None else str(object_id), status=status,
                  creator=_json.get("creator"), src_annotation_id=_json.get("srcAnnotation"),
                  created_at=_parse_time(_json.get("createdAt")), updated_at=_parse_time(_json.get("updatedAt")),
                  label_not_in_recipe=bool(system.get("labelNotInRecipe")), catalog=catalog, item=item)
        return ann

    @classmethod
    def new(cls, item=None, annotation_definition: BaseAnnotationDefinition | None = None, object_id=None,
            metadata: dict | None = None, parent_id=None, automated: bool | None = None, **_video) -> Annotation:
        """A new (not yet uploaded) annotation of *item* with the shape *annotation_definition*."""
        ann = cls(annotation_definition, item=item, metadata=metadata,
                  object_id=None if object_id is None else str(object_id))
        if parent_id is not None:
            ann.metadata["system"]["parentId"] = getattr(parent_id, "id", parent_id)
        if automated is not None:
            ann.metadata["system"]["automated"] = bool(automated)
        return ann

    # ---- rows -----------------------------------------------------------------------------
    def _as_row(self, index: int) -> Row:
        """A checked row for uploading this annotation (annotation *index* of the call)."""
        d = self._definition
        meta = self.metadata
        if type(d) is Box and not meta["system"] and not meta["user"] and len(meta) == 2:
            row = box_row(d, index, self.object_id, None, self.creator, self.status)  # the bulk case
            row[ITEM_ID] = self.item_id
            return row
        if d is not None:
            plain = not meta["system"] and not meta["user"] and len(meta) == 2
            row = from_definition(d, index, object_id=self.object_id, metadata=None if plain else meta,
                                  creator=self.creator, status=self.status)
            if self.item_id is not None:
                row[ITEM_ID] = self.item_id
            return row
        else:
            row = to_row({"type": self._raw["type"], "label": self._raw["label"],
                          "coordinates": self._raw["coordinates"], "attributes": self._raw["attributes"],
                          "metadata": meta, "objectId": self.object_id, "status": self.status,
                          "creator": self.creator}, index)
        row[ITEM_ID] = self.item_id
        return row

    @classmethod
    def _from_row(cls, r: AnnotationRow, catalog: Catalog | None = None, in_recipe=None) -> Annotation:
        meta = copy.deepcopy(r.meta or {})
        meta.setdefault("system", {})
        meta.setdefault("user", {})
        return cls(None, id=r.id, item_id=r.item_id, dataset_id=r.dataset_id, type=r.type, label=r.label,
                   coordinates=copy.deepcopy(r.coordinates), attributes=copy.deepcopy(r.attributes),
                   metadata=meta, object_id=r.object_id, status=r.status, creator=r.creator,
                   src_annotation_id=r.src_annotation_id, created_at=r.created_at, updated_at=r.updated_at,
                   label_not_in_recipe=in_recipe is not None and r.label is not None and r.label not in in_recipe,
                   catalog=catalog)

    @classmethod
    def _from_written(cls, row: Row, ann_id: int, dataset_id: int, at, catalog, in_recipe=None) -> Annotation:
        """The annotation just written from *row* (no read back)."""
        v = row_values(row)
        return cls(None, id=ann_id, item_id=row[ITEM_ID], dataset_id=dataset_id, type=v["type"], label=v["label"],
                   coordinates=v["coordinates"], attributes=v["attributes"], metadata=v["meta"],
                   object_id=v["object_id"], status=v["status"], creator=v["creator"], created_at=at, updated_at=at,
                   label_not_in_recipe=in_recipe is not None and v["label"] is not None and v["label"] not in in_recipe,
                   catalog=catalog)

    def print(self) -> None:
        """Print a one-line summary (as the SDK's ``annotation.print()``)."""
        print(f"Annotation {self.id}: {self.type} {self.label!r} on item {self.item_id}"
              f"{' (label not in the recipe)' if self.label_not_in_recipe else ''}")

    def __eq__(self, other) -> bool:
        if not isinstance(other, Annotation):
            return NotImplemented
        if self.id is not None or other.id is not None:
            return self.id == other.id
        return self is other

    def __hash__(self) -> int:
        return hash(self.id) if self.id is not None else id(self)

    def __repr__(self) -> str:
        return f"<Annotation {self.id} {self.type} {self.label!r} item={self.item_id}>"
