"""The upload of annotations, for one item or for many: check everything, then one write.

``item.annotations.upload(x)`` and ``dataset.annotations.upload(x)`` both call
:func:`upload`.  *x* may be an ``AnnotationCollection`` (the builder), a list of them, a
list of annotations (Dataloop JSON dicts, ``Annotation`` objects such as another item's
``annotations.list()``, shapes), one of those alone, ``{"annotations": [...]}`` or a path
to a JSON file holding that.  Every annotation is read and checked before anything is
written; the first bad one is named by its index in the call (counting across the
collections of a list).  Then one transaction writes them all through
:func:`dsdesk.catalog.annotation_writes.insert_annotations`.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dsdesk.api.annotation_collection import AnnotationCollection, WrittenAnnotations
from dsdesk.api.annotation_entity import Annotation
from dsdesk.api.annotation_rows import Row, box_row, to_row
from dsdesk.api.shapes import BaseAnnotationDefinition, Box
from dsdesk.catalog.annotation_writes import ITEM_ID, insert_annotations
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Label as LabelRow
from dsdesk.errors import InvalidInputError, ReadOnlyError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog

__all__ = ["upload", "recipe_tags"]


def _entries(annotations: Any) -> Iterable[tuple[Any, int | None]]:
    """``(annotation, item id or None)`` for everything an upload may be given."""
    if isinstance(annotations, (str, os.PathLike)):
        annotations = AnnotationCollection.from_json(annotations)
    if isinstance(annotations, AnnotationCollection):
        item_id = getattr(annotations.item, "id", None)
        for a in annotations.annotations:
            yield a, item_id if item_id is not None else getattr(a, "item_id", None)
        return
    if isinstance(annotations, dict):
        if "annotations" in annotations and "type" not in annotations:
            item_id = annotations.get("_id", annotations.get("itemId"))
            for a in annotations["annotations"]:
                yield a, item_id
            return
        annotations = [annotations]
    elif isinstance(annotations, (BaseAnnotationDefinition, Annotation)):
        annotations = [annotations]
    elif not isinstance(annotations, Iterable):
        raise InvalidInputError("annotations must be a list of annotations (dicts, dd.Annotation objects or "
                                f"shapes), an AnnotationCollection or a JSON file, not {type(annotations).__name__}")
    for a in annotations:
        if isinstance(a, AnnotationCollection):
            coll_item = getattr(a.item, "id", None)
            for ann in a.annotations:
                yield ann, coll_item
        else:
            yield a, None


def _rows(annotations: Any, item_id: int | None) -> tuple[list[Row], dict[int, int]]:
    """Checked rows and ``{item id: index of its first annotation}``.

    With *item_id* (an item's own upload) every annotation goes to that item, whatever
    item it came from; otherwise each names its item (``itemId``, or its collection's).
    """
    if item_id is None and isinstance(annotations, list) and all(
            type(c) is AnnotationCollection and c.item is not None for c in annotations):
        return _builder_rows(annotations)
    rows: list[Row] = []
    first: dict[int, int] = {}
    for i, (a, entry_item) in enumerate(_entries(annotations)):
        # An Annotation (the builder's) reads itself: the common case, called directly.
        row = a._as_row(i) if type(a) is Annotation else to_row(a, i)
        target = item_id if item_id is not None else (row[ITEM_ID] if row[ITEM_ID] is not None else entry_item)
        if target is None:
            raise InvalidInputError(f"annotation {i}: which item is it for? give 'itemId', or upload through "
                                    "item.annotations.upload or an item's builder()")
        if type(target) is not int:
            target = int(target)
        row[ITEM_ID] = target
        if target not in first:
            first[target] = i
        rows.append(row)
    return rows, first


def _builder_rows(collections: list[AnnotationCollection]) -> tuple[list[Row], dict[int, int]]:
    """:func:`_rows` for the bulk case, a list of item builders: the same rows, read in
    one loop (the generic path's per-annotation calls were a third of a bulk upload)."""
    rows: list[Row] = []
    append = rows.append
    first: dict[int, int] = {}
    i = 0
    for coll in collections:
        coll_item = coll.item.id
        for a in coll.annotations:
            if type(a) is Annotation:
                d, meta = a._definition, a.metadata
                if type(d) is Box and not meta["system"] and not meta["user"] and len(meta) == 2:
                    row = box_row(d, i, a.object_id, None, a.creator, a.status)
                    row[ITEM_ID] = a.item_id  # as Annotation._as_row does
                else:
                    row = a._as_row(i)
            else:
                row = to_row(a, i)
            target = row[ITEM_ID]
            if target is None:
                target = coll_item
            elif type(target) is not int:
                target = int(target)
            row[ITEM_ID] = target
            if target not in first:
                first[target] = i
            append(row)
            i += 1
    return rows, first


def recipe_tags(session, dataset_id: int) -> frozenset[str] | None:
    """The dotted tags of the dataset's recipe (None when it has no recipe)."""
    recipe_id = session.execute(select(DatasetRow.recipe_id).where(DatasetRow.id == dataset_id)).scalar()
    if recipe_id is None:
        return None
    return frozenset(session.execute(select(LabelRow.tag).where(LabelRow.recipe_id == recipe_id)).scalars())


def upload(cat: Catalog, dataset_id: int, annotations: Any, item_id: int | None = None) -> WrittenAnnotations:
    """Check and write *annotations* into dataset *dataset_id* (to item *item_id* if given) in
    one transaction; returns the written annotations.

    Raises InvalidInputError naming the first bad annotation, ReadOnlyError for a read-only
    dataset or a snapshot; in either case nothing is written.  An annotation whose label is
    not in the recipe is written and flagged (``label_not_in_recipe``).
    """
    with _no_cyclic_gc():
        return _upload(cat, dataset_id, annotations, item_id)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Hold Python's cyclic garbage collector while an upload builds its rows.

    A bulk upload makes millions of small objects that hold no cycles; each batch of them
    would start a collection that walks every object alive (the caller's builders too),
    which doubled the time of reading a million boxes.  Reference counting still frees
    everything; the collector's state is restored afterwards.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _upload(cat: Catalog, dataset_id: int, annotations: Any, item_id: int | None) -> WrittenAnnotations:
    rows, first = _rows(annotations, item_id)
    with cat.db.session(write=True) as s:
        try:
            writable_dataset(s, dataset_id, "annotate items in")
        except ReadOnlyError as e:
            span = "annotation 0" if len(rows) == 1 else f"annotations 0-{len(rows) - 1}"
            raise ReadOnlyError(f"{span}: {e}; nothing was written") from None
        tags = recipe_tags(s, dataset_id)
        written = insert_annotations(s, dataset_id, rows, list(first), first.__getitem__)
    return WrittenAnnotations(rows, written.ids, dataset_id, written.at, cat, tags)
