"""Rollback to a version point, in place, touching only what changed since the point.

For each versioned table (items, then annotations, then task statuses):

- a row written since the point whose old state the point saw takes that state back in
  place: one UPDATE of its own pages (the trigger archives the current state for the
  safety point taken just before);
- a row the point does not see at all (added since) goes;
- a state the point sees whose row is gone comes back, with its original id.

Restored rows get ``row_version`` one above what they had, so an editor holding an older
copy gets a conflict instead of silently overwriting the restored state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from dsdesk.versioning.points import ANN_STATE, ITEM_STATE, TASK_STATE, Point, current_version, for_engine

CHUNK = 5000  # ids bound per statement, well below SQLite's variable limit


@dataclass
class Restored:
    """Rows one restore changed, per table: (taken back in place, removed, brought back)."""

    items: tuple[int, int, int] = (0, 0, 0)
    annotations: tuple[int, int, int] = (0, 0, 0)
    task_statuses: tuple[int, int, int] = (0, 0, 0)


def _chunks(ids: list[int]):
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _restore(session: Session, point: Point, table: str, state: list[str], excluded: str, included: str,
             bump: bool, extra_where: str = "") -> tuple[int, int, int]:
    """Give *table*'s rows of the dataset the states *point* sees (see the module doc)."""
    p = point.params
    now = set(session.execute(text(for_engine(session, excluded)), p).scalars())
    then = dict(session.execute(text(for_engine(session, f"SELECT id, hid {included}")), p).all())
    gone = sorted(now - set(then))
    same = sorted(now & set(then))
    back = sorted(set(then) - now)
    removed = 0
    for part in _chunks(gone):  # first, so a restored name or (item, task) is free again
        removed += session.execute(text(f"DELETE FROM {table} WHERE id IN ({','.join(map(str, part))})")).rowcount
    cols = ", ".join(state)
    version = ", row_version = row_version + 1" if bump else ""
    if same and table == "item":
        # (dataset, dir, name) is unique: two items swapping names would collide midway
        for part in _chunks(same):
            session.execute(text(f"UPDATE item SET name = name || :tag || CAST(id AS VARCHAR) "
                                 f"WHERE id IN ({','.join(map(str, part))})"), {"tag": "\x01"})
    for part in _chunks(same):
        hids = ",".join(str(then[i]) for i in part)
        session.execute(text(
            f"UPDATE {table} SET ({cols}) = (SELECT {cols} FROM {table}_history h WHERE h.id = {table}.id "
            f"AND h.hid IN ({hids})){version} WHERE id IN ({','.join(map(str, part))})"))
    cur = current_version(session, point.dataset_id)
    brought = 0
    rv = ", row_version" if bump else ""
    rv_val = ", row_version + 1" if bump else ""
    for part in _chunks(back):
        hids = ",".join(str(then[i]) for i in part)
        brought += session.execute(text(
            f"INSERT INTO {table} (id, {cols}{rv}, v) SELECT id, {cols}{rv_val}, :cur FROM {table}_history "
            f"WHERE hid IN ({hids}){extra_where}"), {"cur": cur}).rowcount
    return len(same), removed, brought


def restore(session: Session, point: Point) -> Restored:
    """Make the dataset of *point* exactly what the point sees (items, their metadata,
    annotations and task statuses), in the caller's transaction."""
    out = Restored()
    out.items = _restore(session, point, "item", ITEM_STATE, Point.ITEMS_EXCLUDED, Point.ITEMS_INCLUDED, True)
    out.annotations = _restore(session, point, "annotation", ANN_STATE, Point.ANNS_EXCLUDED,
                               Point.ANNS_INCLUDED, False)
    out.task_statuses = _restore(session, point, "task_status", TASK_STATE, Point.TASKS_EXCLUDED,
                                 Point.TASKS_INCLUDED, False)
    return out
