"""Annotations repositories: ``item.annotations`` and ``dataset.annotations``, as in dtlpy.

* ``item.annotations``: ``builder()``, ``upload(...)``, ``list(filters=)`` (an
  ``AnnotationCollection``), ``get(id)``, ``update(annotation or dict)``,
  ``delete(annotation=..., annotation_id=..., filters=...)``, ``update_status(...)``.
* ``dataset.annotations``: ``upload(...)`` over many items in one transaction,
  ``list(filters=, page_offset=, page_size=)`` (``PagedAnnotations``), ``get(id)``,
  ``update(...)``, ``delete(filters=...)``.

Filters are annotations queries: ``dd.Filters(resource=dd.FiltersResource.ANNOTATION)``, a
DQL dict or a search-bar string (fields ``label``, ``type``, ``creator``, ``status``,
``objectId``, ``metadata.*``, ``attributes.*`` ...).  Every write checks its input first and
writes nothing when one annotation is bad (see :mod:`dsdesk.api.annotation_upload`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, distinct, select, update

from dsdesk.api.annotation_collection import AnnotationCollection, WrittenAnnotations
from dsdesk.api.annotation_entity import Annotation
from dsdesk.api.annotation_pages import PagedAnnotations, select_annotations
from dsdesk.api.annotation_rows import row_values, to_row
from dsdesk.api.annotation_upload import recipe_tags, upload
from dsdesk.catalog import stats
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.idset import id_set
from dsdesk.catalog.models import Annotation as AnnotationRow
from dsdesk.catalog.models import utcnow
from dsdesk.errors import InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.datasets import Dataset
    from dsdesk.api.items import Item

__all__ = ["Annotation", "AnnotationCollection", "ItemAnnotations", "DatasetAnnotations", "PagedAnnotations"]

#: Dataloop's annotation statuses (``annotation.status``); clearing sets None.
ANNOTATION_STATUSES = ("issue", "approved", "review", "clear")


def _ids(annotation=None, annotation_id=None) -> list[int]:
    ids = annotation_id if annotation_id is not None else annotation
    if ids is None:
        raise InvalidInputError("give annotation, annotation_id, filters or annotation='all'")
    items = ids if isinstance(ids, (list, tuple, set, AnnotationCollection)) else [ids]
    out = []
    for x in items:
        x = getattr(x, "id", x)
        try:
            out.append(int(x))
        except (TypeError, ValueError):
            raise InvalidInputError(f"{x!r} is not an annotation id") from None
    return out


class _Repository(ABC):
    """What item and dataset annotations share: reads, updates and deletes by id or filter."""

    _cat: Catalog
    _dataset_id: int
    _item_id: int | None = None

    @abstractmethod
    def _where_text(self) -> str:
        """Where the repository looks, for messages (``"on item /a.jpg"``)."""

    def get(self, annotation_id) -> Annotation:
        """One annotation by id (NotFoundError when it is not here)."""
        with self._cat.db.session() as s:
            try:
                r = s.get(AnnotationRow, int(annotation_id))
            except (TypeError, ValueError):
                raise InvalidInputError(f"{annotation_id!r} is not an annotation id") from None
            if r is None or r.dataset_id != self._dataset_id or (self._item_id is not None and r.item_id != self._item_id):
                raise NotFoundError(f"annotation {annotation_id} not found {self._where_text()}")
            return Annotation._from_row(r, self._cat, recipe_tags(s, self._dataset_id))

    def update(self, annotations, system_metadata: bool = False):
        """Save changed annotations (an Annotation, its JSON dict, or a list of them): label,
        geometry, attributes, metadata, object id, status.  Returns the saved annotation
        (a list for a list).  All are checked first; nothing is saved if one is bad."""
        many = isinstance(annotations, (list, tuple, AnnotationCollection))
        given = list(annotations) if many else [annotations]
        plan = []
        for i, a in enumerate(given):
            ann_id = a.get("id") if isinstance(a, dict) else getattr(a, "id", None)
            if ann_id is None:
                raise InvalidInputError(f"annotation {i}: an annotation to update needs its id")
            row = to_row(a, i)
            plan.append((i, int(ann_id), row))
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self._dataset_id, "change annotations in")
            for i, ann_id, row in plan:
                q = update(AnnotationRow).where(AnnotationRow.id == ann_id,
                                                AnnotationRow.dataset_id == self._dataset_id)
                if self._item_id is not None:
                    q = q.where(AnnotationRow.item_id == self._item_id)
                v = row_values(row)
                n = s.execute(q.values(type=v["type"], label=v["label"], coordinates=v["coordinates"],
                                       attributes=v["attributes"] or None, meta=v["meta"], object_id=v["object_id"],
                                       status=v["status"], updated_at=utcnow())
                              .execution_options(synchronize_session=False)).rowcount
                if n == 0:
                    raise NotFoundError(f"annotation {i}: annotation {ann_id} not found {self._where_text()}; "
                                        "nothing was saved")
            tags = recipe_tags(s, self._dataset_id)
            rows = {r.id: r for r in s.execute(select(AnnotationRow).where(
                AnnotationRow.id.in_([p[1] for p in plan]))).scalars()}
            out = [Annotation._from_row(rows[p[1]], self._cat, tags) for p in plan]
        return out if many else out[0]

    def delete(self, annotation=None, annotation_id=None, filters=None) -> int:
        """Delete annotations: one (an Annotation or an id), a list, every one matching
        *filters*, or all of them (``annotation="all"``).  Returns how many went."""
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self._dataset_id, "delete annotations in")
            t = AnnotationRow.__table__
            if filters is not None or annotation == "all":
                sel = select_annotations(self._dataset_id, filters, self._item_id).with_only_columns(t.c.id)
                sel = sel.order_by(None)
                targets = list(s.execute(sel).scalars())
            else:
                targets = _ids(annotation, annotation_id)
            if not targets:
                return 0
            with id_set(s, targets) as ids:
                scope = [t.c.id.in_(ids), t.c.dataset_id == self._dataset_id]
                if self._item_id is not None:
                    scope.append(t.c.item_id == self._item_id)
                items = list(s.execute(select(distinct(t.c.item_id)).where(*scope)).scalars())
                n = s.execute(delete(AnnotationRow).where(*scope).execution_options(synchronize_session=False)).rowcount
            if n == 0 and filters is None and annotation != "all":
                raise NotFoundError(f"annotation {annotation_id or annotation} not found {self._where_text()}")
            stats.refresh_annotated(s, items)
            stats.refresh(s, self._dataset_id)
        return n

    def update_status(self, annotation=None, annotation_id=None, status: str = "issue") -> Annotation:
        """Set an annotation's review status (``issue``, ``approved``, ``review``; ``clear``
        removes it)."""
        if status not in ANNOTATION_STATUSES:
            raise InvalidInputError(f"status must be one of {', '.join(ANNOTATION_STATUSES)}, not {status!r}")
        (ann_id,) = _ids(annotation, annotation_id)
        ann = self.get(ann_id)
        ann.status = None if status == "clear" else status
        return self.update(ann)


class ItemAnnotations(_Repository):
    """The annotations of one item (``item.annotations``)."""

    def __init__(self, catalog: Catalog, item: Item):
        self._cat, self._item = catalog, item
        self._dataset_id, self._item_id = item.dataset_id, item.id

    def _where_text(self) -> str:
        return f"on item {self._item.filename}"

    def builder(self) -> AnnotationCollection:
        """An empty collection for this item: ``add(annotation_definition=dd.Box(...))`` then
        ``item.annotations.upload(builder)``."""
        return AnnotationCollection(item=self._item)

    def upload(self, annotations, merge: bool = False) -> WrittenAnnotations:
        """Add annotations to this item in one transaction: a builder, a list of dicts /
        Annotations / shapes (another item's ``annotations.list()`` too), one of those, or a
        JSON file.  All are checked before any is written.  Returns them, with their ids."""
        out = upload(self._cat, self._dataset_id, annotations, item_id=self._item_id)
        self._item.annotated = self._item.annotated or len(out) > 0
        return out

    def list(self, filters=None, page_offset: int | None = None, page_size: int | None = None) -> AnnotationCollection:
        """The item's annotations (matching *filters*, an annotations query) in the order they
        were made, as an ``AnnotationCollection``."""
        stmt = select_annotations(self._dataset_id, filters, self._item_id).order_by(None).order_by(AnnotationRow.id)
        if page_size is not None:
            stmt = stmt.limit(page_size).offset((page_offset or 0) * page_size)
        with self._cat.db.session() as s:
            rows = s.execute(select(AnnotationRow).from_statement(stmt)).scalars().all()
            tags = recipe_tags(s, self._dataset_id)
            anns = [Annotation._from_row(r, self._cat, tags) for r in rows]
        for a in anns:
            a._item = self._item
        return AnnotationCollection(self._item, anns)

    def __iter__(self):
        return iter(self.list())


class DatasetAnnotations(_Repository):
    """The annotations of a dataset (``dataset.annotations``)."""

    def __init__(self, catalog: Catalog, dataset: Dataset):
        self._cat, self._ds = catalog, dataset
        self._dataset_id = dataset.id

    def _where_text(self) -> str:
        return f"in dataset '{self._ds.name}'"

    def upload(self, annotations: Any) -> WrittenAnnotations:
        """Add annotations to many items of this dataset in one transaction (the bulk path):
        a list of builders (``item.annotations.builder()``), of annotation dicts with their
        ``itemId``, or of Annotations.  All are checked first; an annotation for an item of
        another dataset is refused by its index.  Returns them, with their ids."""
        return upload(self._cat, self._dataset_id, annotations)

    def list(self, filters=None, page_offset: int | None = None, page_size: int | None = None) -> PagedAnnotations:
        """Pages of the dataset's annotations matching *filters* (Dataloop's PagedEntities)."""
        with self._cat.db.session() as s:
            live_dataset(s, self._dataset_id)
        return PagedAnnotations(self._cat, self._dataset_id, filters, page_size, page_offset)
