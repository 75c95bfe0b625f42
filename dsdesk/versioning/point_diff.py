"""Diff between versions of one dataset that are version points (or the dataset now).

Two versions of a dataset can differ only in rows that one of them does not see as live:
the live rows written since a point, and the archived states a point sees
(:mod:`dsdesk.versioning.points`).  So the diff reads those few rows by id and never the
dataset: its cost is what changed since the older point, not the dataset's size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from dsdesk.versioning.points import Point, for_engine

CHUNK = 5000  # ids bound per statement, well below SQLite's variable limit

ITEM_COLS = "id, dir, name, blob_id, meta_user, meta_system, description"
ANN_COLS = "id, item_id, type, label, coordinates, attributes, meta, status, object_id"
TASK_COLS = "id, item_id, task, status"


def _by_id(session: Session, sql: str, ids: Iterable[int], params: dict | None = None) -> dict[int, tuple]:
    """Rows of ``sql`` (ending in ``IN``) for *ids*, by their first column, in bounded chunks."""
    out: dict[int, tuple] = {}
    todo = sorted(ids)
    # "+dataset_id": by the primary key, not a walk of the dataset's index (SQLite's hint)
    sql = for_engine(session, sql.replace("dataset_id =", "+dataset_id =", 1))
    for i in range(0, len(todo), CHUNK):
        part = ",".join(map(str, todo[i:i + CHUNK]))
        for r in session.execute(text(f"{sql} ({part})"), params or {}):
            out[r[0]] = tuple(r)
    return out


class _Side:
    """What one version (a point, or None for the dataset now) says about given rows."""

    def __init__(self, session: Session, point: Point | None, excluded: str, included: str, cols: str):
        self.point = point
        self.excluded: set[int] = set()
        self.included: dict[int, tuple] = {}
        if point is not None:
            self.excluded = set(session.execute(text(for_engine(session, excluded)), point.params).scalars())
            self.included = {r[0]: tuple(r) for r in session.execute(
                text(for_engine(session, f"SELECT {cols} {included}")), point.params)}

    def keys(self) -> set[int]:
        return self.excluded | set(self.included)

    def state(self, key: int, live: dict[int, tuple]) -> tuple | None:
        """The row *key* as this version sees it (None: it does not have it)."""
        if key in self.included:
            return self.included[key]
        if key in self.excluded:
            return None
        return live.get(key)


def _sides(session, a: Point | None, b: Point | None, excluded: str, included: str, cols: str, table: str,
           dataset_id: int):
    sa, sb = (_Side(session, p, excluded, included, cols) for p in (a, b))
    keys = sa.keys() | sb.keys()
    live = _by_id(session, f"SELECT {cols} FROM {table} WHERE {'dataset_id = :d AND ' if table != 'task_status' else ''}"
                           "id IN", keys, {"d": dataset_id})
    return sa, sb, keys, live


def _filename(d, n):
    return d + "/" + n if d != "/" else "/" + n


def diff_points(session: Session, dataset_id: int, a: Point | None, b: Point | None, report, limit: int):
    """Fill *report* (a :class:`~dsdesk.versioning.diff.DiffReport`) with what differs from
    version *a* to version *b* of the dataset (each a point, or None for now)."""
    sa, sb, keys, live = _sides(session, a, b, Point.ITEMS_EXCLUDED, Point.ITEMS_INCLUDED, ITEM_COLS, "item",
                                dataset_id)
    added, removed, changed = [], [], {}
    for k in sorted(keys):
        x, y = sa.state(k, live), sb.state(k, live)
        if x is None and y is None:
            continue
        if x is None:
            added.append({"id": k, "filename": _filename(y[1], y[2])})
        elif y is None:
            removed.append({"id": k, "filename": _filename(x[1], x[2])})
        else:
            what = [w for w, f in (("path", x[1:3] != y[1:3]), ("binary", x[3] != y[3]), ("metadata", x[4:7] != y[4:7]))
                    if f]
            if what:
                changed[k] = {"id": k, "filename": _filename(y[1], y[2]), "changes": what}

    # Annotations: an annotation one version has and the other has not (or has otherwise)
    # changes the item(s) it belongs to in either.
    aa, ab, akeys, alive = _sides(session, a, b, Point.ANNS_EXCLUDED, Point.ANNS_INCLUDED, ANN_COLS,
                                  "annotation", dataset_id)
    ann_items: set[int] = set()
    for k in akeys:
        x, y = aa.state(k, alive), ab.state(k, alive)
        if x != y:
            ann_items.update(r[1] for r in (x, y) if r is not None)

    # Task statuses: compared per item as sets of (task, status), as for frozen copies.
    ta, tb, tkeys, tlive = _sides(session, a, b, Point.TASKS_EXCLUDED, Point.TASKS_INCLUDED, TASK_COLS,
                                  "task_status", dataset_id)
    touched = {r[1] for side in (ta, tb) for r in side.included.values()}
    touched |= {r[1] for r in tlive.values()}
    # every live task status of those items, so both sides' sets are whole
    every = _by_id(session, f"SELECT {TASK_COLS} FROM task_status WHERE item_id IN", touched)
    per_side = []
    for side in (ta, tb):
        sets: dict[int, set] = defaultdict(set)
        for k, r in every.items():  # the live ones this version sees as they are
            if k not in side.excluded and k not in side.included:
                sets[r[1]].add((r[2], r[3]))
        for r in side.included.values():
            sets[r[1]].add((r[2], r[3]))
        per_side.append(sets)
    task_items = {i for i in touched if per_side[0].get(i, set()) != per_side[1].get(i, set())}

    # Only items both versions have are "changed"; the others are added or removed.
    for what, items in (("annotations", ann_items), ("status", task_items)):
        rest = [i for i in items if i not in live]
        both_live = _by_id(session, "SELECT id, dir, name FROM item WHERE dataset_id = :d AND id IN", rest,
                           {"d": dataset_id})
        for i in sorted(items):
            x = sa.state(i, live) if i in keys else both_live.get(i)
            y = sb.state(i, live) if i in keys else both_live.get(i)
            if x is None or y is None:
                continue
            e = changed.setdefault(i, {"id": i, "filename": _filename(y[1], y[2]), "changes": []})
            e["changes"].append(what)
    report.counts = {"added": len(added), "removed": len(removed), "changed": len(changed)}
    report.added, report.removed = added[:limit], removed[:limit]
    report.changed = sorted(changed.values(), key=lambda e: e["id"])[:limit]
    report.truncated = max(len(added), len(removed), len(changed)) > limit
    return report
