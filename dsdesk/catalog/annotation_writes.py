"""The one write path of new annotations: many rows, over many items, in set-based statements.

``item.annotations.upload`` and ``dataset.annotations.upload`` both end here, inside the
caller's transaction (one per call), so an upload either writes every annotation it was
given or none.  :class:`AnnotationWrite`:

1. checks that every target item is an item of the dataset (one indexed count over the
   distinct item ids, bound as one parameter: :func:`id_list`; only when it fails are
   the offenders looked up, to name the first);
2. allocates the annotations' ids up front (:func:`dsdesk.catalog.sql.allocate_ids`);
3. writes the rows through the driver's executemany, JSON already text, binding only what
   differs from row to row (:func:`_statements`);
4. sets the items' ``annotated`` flag and bumps the dataset's cached counts by what
   changed (no recount of a million-item dataset).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from operator import itemgetter

from sqlalchemy import BigInteger, String, bindparam, column, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from dsdesk.catalog.engine import bulk_cache
from dsdesk.catalog.models import Dataset, Item, utcnow
from dsdesk.catalog.sql import allocate_ids
from dsdesk.errors import InvalidInputError

COLS = ("id", "item_id", "dataset_id", "type", "label", "coordinates", "attributes", "meta", "object_id",
        "status", "creator", "created_at", "updated_at")
#: A row is a list of the values of :data:`COLS` in that order, JSON columns as text: the
#: upload reads each annotation into one, this module fills in the id, the dataset and the
#: timestamps, and the rows go to the driver's executemany (as tuples).  These name its
#: positions.
(ID, ITEM_ID, DATASET_ID, TYPE, LABEL, COORDINATES, ATTRIBUTES, META, OBJECT_ID, STATUS, CREATOR, CREATED_AT,
 UPDATED_AT) = range(len(COLS))
#: Rows per INSERT statement: bounds the driver's buffers without costing statements; on
#: SQLite also what the writer thread takes at once (the first chunk is read before any
#: write can start, so a smaller one starts the overlap sooner).
CHUNK = 20_000
#: ``meta`` of an annotation with empty system and user areas (most uploads).
EMPTY_META_JSON = '{"system":{},"user":{}}'


#: What a row binds: the short statement for rows without attributes, object id, status
#: and creator (most of a bulk upload), the full one otherwise.  The dataset and the
#: timestamps are the same for every row of a write and are part of the statement.
#: Binding fewer values is what makes the insert cheaper: at a million boxes the 13
#: parameters of every row cost 40 % of the executemany, of which the driver's binding of
#: the five that are constant or None is most.
_SHORT = (ID, ITEM_ID, TYPE, LABEL, COORDINATES, META)
_FULL = (ID, ITEM_ID, TYPE, LABEL, COORDINATES, ATTRIBUTES, META, OBJECT_ID, STATUS, CREATOR)
_short_of, _full_of = itemgetter(*_SHORT), itemgetter(*_FULL)
_extras_of = itemgetter(ATTRIBUTES, OBJECT_ID, STATUS, CREATOR)
_NONE4 = (None, None, None, None)


def _statements(session: Session, dataset_id: int, at) -> tuple[str, str]:
    """The short and the full ``INSERT`` of one write (see :data:`_SHORT`), in the driver's
    parameter style, with the write's dataset and timestamps as literals (an int and the
    text of :func:`~dsdesk.catalog.models.utcnow`, both made here: nothing of the caller's
    is spliced into SQL)."""
    ph = "?" if session.get_bind().dialect.paramstyle == "qmark" else "%s"
    stamp = (at if isinstance(at, str) else at.isoformat(sep=" ", timespec="microseconds"))
    if not _STAMP.fullmatch(stamp):
        raise ValueError(f"not a timestamp: {stamp!r}")
    constants = {DATASET_ID: str(int(dataset_id)), CREATED_AT: f"'{stamp}'", UPDATED_AT: f"'{stamp}'"}

    def insert(bound: tuple[int, ...]) -> str:
        cols = [COLS[i] for i in (*bound, *constants)]
        return (f"INSERT INTO annotation ({', '.join(cols)}) "
                f"VALUES ({', '.join([ph] * len(bound) + list(constants.values()))})")

    return insert(_SHORT), insert(_FULL)


_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}")


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

    def insert(self, chunks: Iterable[list[list]]) -> None:
        """Insert the rows of each chunk *chunks* yields, in turn, so a million rows are
        never all built at once.  A row is a list of :data:`COLS` values with its id and
        item id set; the dataset and the timestamps are this write's (their places in the
        row are not read).  An error raised while the caller reads a later chunk
        propagates and the caller's transaction rolls back: nothing is written.  (Writing
        one chunk on a thread while reading the next did not pay: an executemany takes the
        GIL back for every row's parameters; one ``INSERT … SELECT`` from a chunk as JSON
        text, which would not, cost 2.5x the executemany in ``json_each``.)
        """
        con = self.session.connection()
        short_sql, full_sql = _statements(self.session, self.dataset_id, self.at)
        for part in chunks:
            if set(map(_extras_of, part)) == {_NONE4}:  # the usual chunk: one short statement
                con.exec_driver_sql(short_sql, list(map(_short_of, part)))
                continue
            short = [r for r in part if _extras_of(r) == _NONE4]
            full = [r for r in part if _extras_of(r) != _NONE4]
            if short:
                con.exec_driver_sql(short_sql, list(map(_short_of, short)))
            con.exec_driver_sql(full_sql, list(map(_full_of, full)))

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
