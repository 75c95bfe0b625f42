"""The upload of annotations, for one item or for many: checked, and written in one transaction.

``item.annotations.upload(x)`` and ``dataset.annotations.upload(x)`` both call
:func:`upload`.  *x* may be an ``AnnotationCollection`` (the builder), a list of them, a
list of annotations (Dataloop JSON dicts, ``Annotation`` objects such as another item's
``annotations.list()``, shapes), one of those alone, ``{"annotations": [...]}`` or a path
to a JSON file holding that.  The first bad annotation is named by its index in the
call (counting across the collections of a list).  One transaction writes them all through
:class:`dsdesk.catalog.annotation_writes.AnnotationWrite`: the items are checked and the
ids allocated first, then chunks of rows are read (checked) and written in turn; a bad
annotation found late rolls the transaction back, so nothing of the call is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dsdesk.api.annotation_collection import AnnotationCollection, WrittenAnnotations
from dsdesk.api.annotation_entity import Annotation
from dsdesk.api.annotation_rows import Row, box_row, to_row
from dsdesk.api.shapes import BaseAnnotationDefinition, Box
from dsdesk.catalog.annotation_writes import CHUNK, ID, ITEM_ID, AnnotationWrite
from dsdesk.catalog.gcpause import no_cyclic_gc
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


def _own_item(a: Any, index: int) -> int | None:
    """The item an annotation names itself (``itemId`` of a dict, an Annotation's item)."""
    if isinstance(a, dict):
        v = a.get("itemId", a.get("item_id"))
    elif isinstance(a, Annotation):
        v = a.item_id
    else:
        return None
    if v is None or type(v) is int:
        return v
    try:
        return int(v)
    except (TypeError, ValueError):
        raise InvalidInputError(f"annotation {index}: itemId {v!r} is not an item id") from None


def _flatten(annotations: Any, item_id: int | None) -> tuple[list, list[int]]:
    """The annotations of an upload in order, and the item each one goes to.

    With *item_id* (an item's own upload) every annotation goes to that item, whatever
    item it came from; otherwise each names its item (``itemId``, an Annotation's item, or
    its collection's item).
    """
    if item_id is None and isinstance(annotations, list) and all(
            type(c) is AnnotationCollection and c.item is not None for c in annotations):
        # The bulk case, a list of item builders: one loop, no per-annotation generator.
        anns: list = []
        targets: list[int] = []
        for coll in annotations:
            own = coll.item.id
            for a in coll.annotations:
                t = a.item_id if type(a) is Annotation else _own_item(a, len(anns))
                anns.append(a)
                targets.append(own if t is None else t)
        return anns, targets
    anns, targets = [], []
    for i, (a, entry_item) in enumerate(_entries(annotations)):
        t = item_id if item_id is not None else _own_item(a, i)
        if t is None:
            t = entry_item
        if t is None:
            raise InvalidInputError(f"annotation {i}: which item is it for? give 'itemId', or upload through "
                                    "item.annotations.upload or an item's builder()")
        anns.append(a)
        targets.append(int(t))
    return anns, targets


def _read(a: Any, index: int) -> Row:
    """The checked row of one annotation (annotation *index* of the call)."""
    if type(a) is Annotation:
        d, meta = a._definition, a.metadata
        if type(d) is Box and not meta["system"] and not meta["user"] and len(meta) == 2:
            return box_row(d, index, a.object_id, None, a.creator, a.status)  # the bulk case, directly
        return a._as_row(index)
    return to_row(a, index)


def recipe_tags(session, dataset_id: int) -> frozenset[str]:
    """The dotted tags of the dataset's recipe (empty when it has none), in one query."""
    return frozenset(session.execute(select(LabelRow.tag).join(DatasetRow, DatasetRow.recipe_id == LabelRow.recipe_id)
                                     .where(DatasetRow.id == dataset_id)).scalars())


def upload(cat: Catalog, dataset_id: int, annotations: Any, item_id: int | None = None, *,
           consume: bool = False) -> WrittenAnnotations | list[int]:
    """Check and write *annotations* into dataset *dataset_id* (to item *item_id* if given) in
    one transaction; returns the written annotations.

    Raises InvalidInputError naming the first bad annotation, ReadOnlyError for a read-only
    dataset or a snapshot; in either case nothing is written.  An annotation whose label is
    not in the recipe is written and flagged (``label_not_in_recipe``).

    With *consume* (an importer's million annotations, a list the caller gives up) the list
    is emptied, each annotation is let go once read and the rows are not kept: the new ids
    come back instead of the annotations, and the peak memory is one copy of the input, not
    the input plus every row.
    """
    with no_cyclic_gc():
        return _upload(cat, dataset_id, annotations, item_id, consume)


def _upload(cat: Catalog, dataset_id: int, annotations: Any, item_id: int | None,
            consume: bool = False) -> WrittenAnnotations | list[int]:
    anns, targets = _flatten(annotations, item_id)
    if consume:
        if not isinstance(annotations, list):
            raise InvalidInputError("upload(consume=True) takes a list of annotations")
        annotations.clear()  # anns now holds the only references
    n = len(anns)
    # {item: index of its first annotation}: built backwards, so the last value a key gets
    # is the first index of its item.
    first = dict(zip(reversed(targets), range(n - 1, -1, -1), strict=True))
    # Rows go in by item (a stable sort keeps each item's own order) and take their ids in
    # that order: the table and its item index then grow at their ends.  In the caller's
    # order, items listed by path land at random places of the item index (2.5x slower).
    order = range(n) if targets == sorted(targets) else sorted(range(n), key=targets.__getitem__)
    rows: list | None = None if consume else [None] * n
    ids: list = [0] * n
    with cat.db.session(write=True) as s:
        try:
            writable_dataset(s, dataset_id, "annotate items in")
        except ReadOnlyError as e:
            span = "annotation 0" if n == 1 else f"annotations 0-{n - 1}"
            raise ReadOnlyError(f"{span}: {e}; nothing was written") from None
        tags = recipe_tags(s, dataset_id)
        write = AnnotationWrite(s, dataset_id, list(first), first.__getitem__, n)
        new_ids = write.ids

        def chunks() -> Iterator[list[tuple]]:
            for start in range(0, n, CHUNK):
                part = []
                for j in range(start, min(n, start + CHUNK)):
                    i = order[j]
                    row = _read(anns[i], i)
                    row[ID] = ids[i] = new_ids[j]
                    row[ITEM_ID] = targets[i]
                    if rows is None:
                        anns[i] = None  # read: let it go
                    else:
                        rows[i] = row
                    part.append(row)
                yield part

        write.insert(chunks())
        write.finish()
    if rows is None:
        return ids
    return WrittenAnnotations(rows, ids, dataset_id, write.now, cat, tags)
