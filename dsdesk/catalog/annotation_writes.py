"""The one write path of new annotations: many rows, over many items, in set-based statements.

``item.annotations.upload`` and ``dataset.annotations.upload`` both end here, inside the
caller's transaction (one per call), so an upload either writes every annotation it was
given or none.  :func:`insert_annotations`:

1. checks that every target item is an item of the dataset (one indexed count over the
   distinct item ids, bound as one parameter: :func:`id_list`; only when it fails are
   the offenders looked up, to name the first);
2. allocates the annotations' ids up front (:func:`dsdesk.catalog.sql.allocate_ids`);
3. writes the rows through :func:`dsdesk.catalog.sql.insert_rows` (the driver's
   executemany of the rows, JSON already text);
4. sets the items' ``annotated`` flag and bumps the dataset's cached counts by what
   changed (no recount of a million-item dataset).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, String, bindparam, column, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from dsdesk.catalog.engine import bulk_cache
from dsdesk.catalog.models import Dataset, Item, utcnow
from dsdesk.catalog.sql import allocate_ids, insert_rows
from dsdesk.errors import InvalidInputError

COLS = ("id", "item_id", "dataset_id", "type", "label", "coordinates", "attributes", "meta", "object_id",
        "status", "creator", "created_at", "updated_at")
#: A row is a list of the values of :data:`COLS` in that order, JSON columns as text: the
#: upload reads each annotation into one, this module fills in the id, the dataset and the
#: timestamps, and the rows go to the driver's executemany (as tuples).  These name its
#: positions.
(ID, ITEM_ID, DATASET_ID, TYPE, LABEL, COORDINATES, ATTRIBUTES, META, OBJECT_ID, STATUS, CREATOR, CREATED_AT,
 UPDATED_AT) = range(len(COLS))
#: Rows per INSERT statement: bounds the driver's buffers without costing statements.
CHUNK = 50_000
#: ``meta`` of an annotation with empty system and user areas (most uploads).
EMPTY_META_JSON = '{"system":{},"user":{}}'


@dataclass(frozen=True)
class Written:
    """What :func:`insert_annotations` wrote: the new ids (in the rows' order), their
    timestamp, and how many items became annotated."""

    ids: Sequence[int]
    at: object
    newly_annotated: int


def id_list(session: Session, ids: Sequence[int]):
    """A ``SELECT`` of *ids* bound as ONE parameter, for ``col.in_(...)``: a JSON array read
    by ``json_each`` on SQLite, an array ``unnest``-ed on PostgreSQL.

    Loading a hundred thousand ids into a temporary table (what
    :func:`~dsdesk.catalog.idset.id_set` does) cost twice the statements that use them.
    """
    if session.get_bind().dialect.name == "postgresql":
        return select(func.unnest(bindparam("ids", list(ids), type_=ARRAY(BigInteger))))
    return select(column("value")).select_from(func.json_each(bindparam("ids", json.dumps(list(ids)), type_=String())))


def _check_items(session: Session, dataset_id: int, targets, item_ids: Sequence[int], index_of) -> int:
    """How many of *item_ids* (distinct; *targets* is their :func:`id_list`) are not yet
    annotated; InvalidInputError unless every one is an item of *dataset_id*.

    *index_of(item_id)* gives the index (in the caller's upload) of the first annotation
    for that item, so the message names it.
    """
    found, fresh = session.execute(select(func.count(), func.count().filter(Item.annotated.is_(False)))
                                   .select_from(Item)
                                   .where(Item.id.in_(targets), Item.dataset_id == dataset_id)).one()
    if found == len(item_ids):
        return fresh
    ok = set(session.execute(select(Item.id).where(Item.id.in_(targets), Item.dataset_id == dataset_id)).scalars())
    bad = min((i for i in item_ids if i not in ok), key=index_of)
    elsewhere = session.execute(select(Dataset.name).join(Item, Item.dataset_id == Dataset.id)
                                .where(Item.id == bad)).scalar()
    where = f"an item of dataset '{elsewhere}'" if elsewhere else "not an item (deleted?)"
    raise InvalidInputError(f"annotation {index_of(bad)}: item {bad} is {where}, not of this dataset; "
                            "nothing was written")


def insert_annotations(session: Session, dataset_id: int, rows: Sequence[list], item_ids: Sequence[int],
                       index_of) -> Written:
    """Insert checked rows (lists in :data:`COLS` order, the item id set; see
    :mod:`dsdesk.api.annotation_rows`) into dataset *dataset_id*, in the caller's
    transaction; returns :class:`Written`.  The rows get their id, dataset and timestamps.

    *item_ids* are the rows' distinct items; InvalidInputError (naming the annotation by
    *index_of(item_id)*, its index in the upload) when one is not an item of the dataset,
    raised before anything is written.
    """
    now = utcnow()
    if not rows:
        return Written([], now, 0)
    bulk_cache(session)
    targets = id_list(session, item_ids)
    flipped = _check_items(session, dataset_id, targets, item_ids, index_of)
    pg = session.get_bind().dialect.name == "postgresql"
    # SQLite gets SQLAlchemy's text form of a DateTime, so the ORM reads it back unchanged.
    at = now if pg else now.isoformat(sep=" ", timespec="microseconds")
    # Rows go in by item (a stable sort keeps each item's own order) and take their ids
    # in that order: both the table and its item index then grow at their ends.  In the
    # caller's order, items listed by path land at random places of the item index,
    # which made the insert 2.5x slower than the same rows in item order.
    order = sorted(range(len(rows)), key=[r[ITEM_ID] for r in rows].__getitem__)
    allocated = allocate_ids(session, "annotation", len(rows))
    ids = [0] * len(rows)
    ordered = []
    for new_id, i in zip(allocated, order, strict=True):
        ids[i] = new_id
        r = rows[i]
        r[ID], r[DATASET_ID], r[CREATED_AT], r[UPDATED_AT] = new_id, dataset_id, at, at
        ordered.append(tuple(r))  # SQLAlchemy's exec_driver_sql takes tuples
    insert_rows(session, "annotation", COLS, ordered, chunk=CHUNK)
    del ordered
    if flipped:
        session.execute(update(Item).where(Item.id.in_(targets), Item.annotated.is_(False))
                        .values(annotated=True).execution_options(synchronize_session=False))
    session.execute(update(Dataset).where(Dataset.id == dataset_id)
                    .values(annotation_count=Dataset.annotation_count + len(rows),
                            annotated_count=Dataset.annotated_count + flipped,
                            updated_at=func.current_timestamp())
                    .execution_options(synchronize_session=False))
    return Written(ids, now, flipped)
