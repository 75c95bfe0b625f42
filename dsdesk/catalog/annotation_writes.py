"""The one write path of new annotations: many rows, over many items, in set-based statements.

``item.annotations.upload`` and ``dataset.annotations.upload`` both end here, inside the
caller's transaction (one per call), so an upload either writes every annotation it was
given or none.  :class:`AnnotationWrite`:

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
from collections.abc import Iterator, Sequence

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


class AnnotationWrite:
    """One upload's write, in the caller's transaction (one per call).

    Made with the upload's distinct items and its size: checks the items (InvalidInputError
    naming the annotation, before anything is written) and allocates the ids
    (:attr:`ids`, to hand out in the order rows are given).  :meth:`insert` writes the
    rows chunk by chunk as the caller reads them; :meth:`finish` sets the ``annotated``
    flags and the dataset's counts.
    """

    def __init__(self, session: Session, dataset_id: int, item_ids: Sequence[int], index_of, n: int):
        self.session, self.dataset_id, self.n = session, dataset_id, n
        self.now = utcnow()
        # SQLite gets SQLAlchemy's text form of a DateTime, so the ORM reads it back unchanged.
        self.at = self.now if session.get_bind().dialect.name == "postgresql" else (
            self.now.isoformat(sep=" ", timespec="microseconds"))
        bulk_cache(session)
        self._targets = id_list(session, item_ids)
        self.fresh = _check_items(session, dataset_id, self._targets, item_ids, index_of) if n else 0
        self.ids = allocate_ids(session, "annotation", n) if n else range(0)

    def insert(self, chunks: Iterator[list[tuple]]) -> None:
        """Insert the rows (tuples in :data:`COLS` order) of each chunk *chunks* yields, in
        turn: a chunk is read and checked, then written, so a million rows are never all
        tuples at once.  (Writing one chunk on a thread while reading the next did not
        pay: the writer waited for the GIL at every row.)  An error in a later chunk
        propagates and the caller's transaction rolls back: nothing is written.
        """
        for part in chunks:
            insert_rows(self.session, "annotation", COLS, part)

    def finish(self) -> int:
        """Flag the items annotated and bump the dataset's counts; returns how many items
        became annotated."""
        s = self.session
        if self.fresh:
            s.execute(update(Item).where(Item.id.in_(self._targets), Item.annotated.is_(False))
                      .values(annotated=True).execution_options(synchronize_session=False))
        s.execute(update(Dataset).where(Dataset.id == self.dataset_id)
                  .values(annotation_count=Dataset.annotation_count + self.n,
                          annotated_count=Dataset.annotated_count + self.fresh,
                          updated_at=func.current_timestamp())
                  .execution_options(synchronize_session=False))
        return self.fresh
