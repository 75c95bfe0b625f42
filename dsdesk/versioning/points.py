"""Version points: a version of a dataset that costs nothing until rows change.

A point of dataset D is a version number ``s`` and the id watermarks ``h`` (items), ``ha``
(annotations) and ``ht`` (task statuses) at the moment it was taken (migration 0018,
``docs/VERSIONING.md``).  It sees a row state, live or archived in ``*_history``, when
the row's id is at most the watermark and the state was written at a version ``<= s``
and not yet superseded then.  The database's triggers archive a state the newest point
sees before it changes or goes, so the point's view never changes.

Everything here costs what changed since the point, never the dataset's size:

- ``excluded``: the live rows of D the point does not see (written since, or added since),
  found through the partial index on ``v`` and the id range;
- ``included``: the archived states it does see, found through ``(dataset_id, v_to)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from dsdesk.catalog.models import (
    Annotation,
    Dataset,
    Item,
    TaskStatus,
    VersionPoint,
)

# Taking a point holds this advisory lock exclusively; every write statement on a versioned
# table holds it shared (PostgreSQL triggers of migration 0018), so a point is an exact cut.
POINT_LOCK = 0x64736476

ITEM_T, ANN_T, TASK_T = Item.__table__, Annotation.__table__, TaskStatus.__table__
# Live columns a restored state takes back (the id stays; v and row_version are set anew).
ITEM_STATE = [c.name for c in ITEM_T.columns if c.name not in ("id", "v", "row_version")]
ANN_STATE = [c.name for c in ANN_T.columns if c.name not in ("id", "v")]
TASK_STATE = [c.name for c in TASK_T.columns if c.name not in ("id", "v")]


@dataclass(frozen=True)
class Point:
    """One version point of dataset *dataset_id*, with the SQL of what it sees."""

    id: int
    dataset_id: int
    version: int
    item_hwm: int
    ann_hwm: int
    task_hwm: int

    @property
    def params(self) -> dict:
        """The bind parameters the SQL fragments below use."""
        return {"d": self.dataset_id, "s": self.version, "h": self.item_hwm, "ha": self.ann_hwm,
                "ht": self.task_hwm}

    # Live item ids of the dataset this point does not see: written since, or added since.
    ITEMS_EXCLUDED = ("SELECT id FROM item WHERE dataset_id = :d AND v > :s "
                      "UNION SELECT id FROM item WHERE dataset_id = :d AND id > :h")
    # The archived item states it sees (at most one per id).
    ITEMS_INCLUDED = "FROM item_history WHERE dataset_id = :d AND v_to > :s AND v_from <= :s AND id <= :h"
    # "+dataset_id": by the primary key's id range, not every annotation of the dataset.
    ANNS_EXCLUDED = ("SELECT id FROM annotation WHERE dataset_id = :d AND v > :s "
                     "UNION SELECT id FROM annotation WHERE +dataset_id = :d AND id > :ha")
    ANNS_INCLUDED = ("FROM annotation_history WHERE dataset_id = :d AND v_to > :s AND v_from <= :s "
                     "AND id <= :ha")
    # Driven by the task statuses written or added since (CROSS JOIN: SQLite keeps that
    # order), never by a walk of the dataset's items.
    TASKS_EXCLUDED = ("SELECT t.id FROM task_status t CROSS JOIN item i WHERE t.v > :s AND i.id = t.item_id "
                      "AND i.dataset_id = :d UNION SELECT t.id FROM task_status t CROSS JOIN item i "
                      "WHERE t.id > :ht AND i.id = t.item_id AND i.dataset_id = :d")
    TASKS_INCLUDED = ("FROM task_status_history WHERE dataset_id = :d AND v_to > :s AND v_from <= :s "
                      "AND id <= :ht")


def for_engine(session: Session, sql: str) -> str:
    """*sql* for the session's engine: PostgreSQL has no ``+col`` (a SQLite planner hint)."""
    if session.get_bind().dialect.name == "sqlite":
        return sql
    return sql.replace("+dataset_id", "dataset_id")


def ids(session: Session, sql: str, point: Point) -> set[int]:
    """The ids one of :class:`Point`'s SELECTs (or ``FROM`` fragments) gives."""
    if sql.startswith("FROM"):
        sql = "SELECT id " + sql
    return set(session.execute(text(for_engine(session, sql)), point.params).scalars())


def _point(row: VersionPoint) -> Point:
    return Point(row.id, row.dataset_id, row.version, row.item_hwm, row.ann_hwm, row.task_hwm)


def get_point(session: Session, point_id: int) -> Point:
    """The point with that id."""
    return _point(session.get(VersionPoint, point_id))


def take_point(session: Session, dataset_id: int) -> Point:
    """Take a version point of a dataset now: a few statements, whatever its size.

    The dataset's ``cow_version`` moves on, so every write from now on is stamped with a
    version the point does not see, and the triggers start archiving the states it sees.
    """
    if session.get_bind().dialect.name == "postgresql":
        # waits for writes in flight (they hold it shared until they commit)
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": POINT_LOCK})
    hwm = [session.execute(select(func.coalesce(func.max(t.c.id), 0))).scalar() for t in (ITEM_T, ANN_T, TASK_T)]
    version = session.execute(select(Dataset.cow_version).where(Dataset.id == dataset_id)).scalar()
    # Core, not the ORM: the dataset's row_version is its editors' conflict check, and a
    # point changes nothing they see.
    session.execute(update(Dataset).where(Dataset.id == dataset_id).values(
        cow_point=version, cow_version=version + 1, cow_item_hwm=hwm[0], cow_ann_hwm=hwm[1], cow_task_hwm=hwm[2])
        .execution_options(synchronize_session=False))
    row = VersionPoint(dataset_id=dataset_id, version=version, item_hwm=hwm[0], ann_hwm=hwm[1], task_hwm=hwm[2])
    session.add(row)
    session.flush()
    _expire_dataset(session, dataset_id)
    return _point(row)


def _expire_dataset(session: Session, dataset_id: int) -> None:
    """The ORM's copy of the dataset (if loaded) reads the columns changed in Core anew."""
    ds = session.identity_map.get(identity_key(Dataset, dataset_id))
    if ds is not None:
        session.expire(ds, ["cow_version", "cow_point", "cow_item_hwm", "cow_ann_hwm", "cow_task_hwm"])


def current_version(session: Session, dataset_id: int) -> int:
    """The version the dataset's writes are stamped with now."""
    return session.execute(select(Dataset.cow_version).where(Dataset.id == dataset_id)).scalar()


def drop_point(session: Session, point_id: int) -> None:
    """Forget a point and the archived states no other point of its dataset sees.

    Costs the dataset's history, not the dataset.  When it was the newest point, the
    triggers go on for the next newest one, or stop when none is left.
    """
    row = session.get(VersionPoint, point_id)
    if row is None:
        return
    d = row.dataset_id
    session.delete(row)
    session.flush()
    for table, hwm in (("item", "item_hwm"), ("annotation", "ann_hwm"), ("task_status", "task_hwm")):
        # a state [v_from, v_to) stays while some point p with v_from <= p.version < v_to sees it
        session.execute(text(
            f"DELETE FROM {table}_history WHERE dataset_id = :d AND NOT EXISTS (SELECT 1 FROM version_point p "
            f"WHERE p.dataset_id = :d AND {table}_history.id <= p.{hwm} AND {table}_history.v_from <= p.version "
            f"AND p.version < {table}_history.v_to)"), {"d": d})
    newest = session.execute(select(VersionPoint).where(VersionPoint.dataset_id == d)
                             .order_by(VersionPoint.version.desc()).limit(1)).scalars().first()
    values = dict(cow_point=None, cow_item_hwm=None, cow_ann_hwm=None, cow_task_hwm=None) if newest is None else \
        dict(cow_point=newest.version, cow_item_hwm=newest.item_hwm, cow_ann_hwm=newest.ann_hwm,
             cow_task_hwm=newest.task_hwm)
    session.execute(update(Dataset).where(Dataset.id == d).values(**values)
                    .execution_options(synchronize_session=False))
    _expire_dataset(session, d)
