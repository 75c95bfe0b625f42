"""Item-level differences between versions of one dataset (the dataset and its snapshots).

Snapshots that are version points go to :mod:`dsdesk.versioning.point_diff` (cost: what
changed).  What follows is the diff of frozen copies, the snapshots made before them.

Versions are compared by item identity, not by path: a snapshot's copy of item ``i`` has
id ``i + delta`` (see :mod:`dsdesk.versioning.snapshots`), so "the same item" in two
versions is one join on an arithmetic key.  A moved or renamed item is therefore *changed*
(what: ``path``), not removed and added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, and_, cast, exists, func, or_, select, union
from sqlalchemy.orm import Session

from dsdesk.catalog.guards import live_dataset
from dsdesk.catalog.models import Dataset
from dsdesk.errors import InvalidInputError
from dsdesk.versioning._copy import ANN_T, ITEM_T, TASK_T
from dsdesk.versioning.point_diff import diff_points
from dsdesk.versioning.points import Point, get_point
from dsdesk.versioning.snapshots import deltas, get_snapshot

DEFAULT_LIMIT = 10000


@dataclass
class DiffReport:
    """Added / removed / changed items from version *a* (older) to version *b* (newer).

    Each entry is ``{"id": <item id in the dataset>, "filename": "/dir/name"}``; changed
    entries also carry ``"changes"``: a list among ``path``, ``binary``, ``metadata``,
    ``annotations`` and ``status`` (task statuses).  Lists stop at *limit* entries; the counts are always complete.
    """

    a: str
    b: str
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    truncated: bool = False

    def to_json(self) -> dict:
        """A JSON-ready dict of the report."""
        return {"a": self.a, "b": self.b, "counts": self.counts, "truncated": self.truncated,
                "added": self.added, "removed": self.removed, "changed": self.changed}


def _differ(a, b, sqlite: bool):
    """SQL: *a* and *b* differ, NULLs included.  JSON is compared as stored text: copies
    are byte-identical and edits re-serialise.  SQLite compares the stored values as they
    are (``IS NOT``, no function calls per row); PostgreSQL's json type has no equality
    operator, so there both sides are cast to text first."""
    if not sqlite:
        a, b = cast(a, String), cast(b, String)
    return a.is_distinct_from(b)


def _version(session: Session, dataset_id: int, ref) -> Dataset:
    """The dataset itself (ref None) or the frozen dataset of its snapshot *ref*."""
    if ref is None:
        return live_dataset(session, dataset_id)
    if isinstance(ref, Dataset):
        return ref
    snap = get_snapshot(session, dataset_id, ref)
    return session.get(Dataset, snap.frozen_dataset_id)


def _point_of(session: Session, version: Dataset) -> Point | None:
    """The version point a snapshot's hidden dataset stands for (None: the dataset itself,
    or a frozen copy made before points)."""
    pid = (version.meta_system or {}).get("snapshot", {}).get("point_id") if version.kind == "snapshot" else None
    return get_point(session, pid) if pid is not None else None


def _filename(d, n):
    return d + "/" + n if d != "/" else "/" + n


def diff(session: Session, dataset_id: int, a=None, b=None, limit: int = DEFAULT_LIMIT) -> DiffReport:
    """Differences from *a* to *b*, each a snapshot name/id of *dataset_id* or None for the
    dataset as it is now.  ``diff(s, ds, "before")`` lists what changed since "before"."""
    va, vb = _version(session, dataset_id, a), _version(session, dataset_id, b)
    for v in (va, vb):
        origin = v.id if v.kind != "snapshot" else (v.meta_system or {}).get("snapshot", {}).get("of_dataset_id")
        if origin != dataset_id:
            raise InvalidInputError(f"'{v.name}' is not a version of dataset {dataset_id}")
    report = DiffReport(a=a if a is not None else "(current)", b=b if b is not None else "(current)")
    pa, pb = _point_of(session, va), _point_of(session, vb)
    if pa is not None or pb is not None:
        for v, p in ((va, pa), (vb, pb)):
            if v.kind == "snapshot" and p is None:
                raise InvalidInputError(f"'{v.name}' is a snapshot made before this catalog's upgrade (a full copy); "
                                        "diff it with the dataset itself, not with a newer snapshot")
        return diff_points(session, dataset_id, pa, pb, report, limit)
    da, aa = deltas(va)
    db_, ab = deltas(vb)

    x, y = ITEM_T.alias("x"), ITEM_T.alias("y")
    # An item's key is its id in the live dataset; a version's row for key k has id k + delta.
    join_xy = and_(y.c.dataset_id == vb.id, y.c.id == x.c.id - da + db_)
    join_yx = and_(x.c.dataset_id == va.id, x.c.id == y.c.id - db_ + da)

    def count(t, ds_id):
        return session.execute(select(func.count()).select_from(t).where(t.c.dataset_id == ds_id)).scalar()

    # ONE pass over a's items finds the removed ones (no counterpart) and the changed ones;
    # how many were added follows from the counts, and b is scanned only when there are any.
    lite = session.get_bind().dialect.name == "sqlite"
    p_path = or_(x.c.dir != y.c.dir, x.c.name != y.c.name)
    p_bin = x.c.blob_id != y.c.blob_id
    p_meta = or_(_differ(x.c.meta_user, y.c.meta_user, lite), _differ(x.c.meta_system, y.c.meta_system, lite),
                 x.c.description.is_distinct_from(y.c.description))
    n_a, xlo, xhi = session.execute(select(func.count(), func.min(ITEM_T.c.id), func.max(ITEM_T.c.id))
                                    .where(ITEM_T.c.dataset_id == va.id)).one()
    in_x = x.c.dataset_id == va.id
    if n_a and n_a * 2 >= xhi - xlo + 1:
        # Dense id range (always so for a snapshot): walk the primary key, reading rows in
        # order, instead of an index entry then its row.
        in_x = and_(x.c.dataset_id + 0 == va.id, x.c.id >= xlo, x.c.id <= xhi)
    pass_a = (select(x.c.id - da, x.c.dir, x.c.name, y.c.id, y.c.dir, y.c.name, p_path, p_bin, p_meta)
              .select_from(x.outerjoin(y, join_xy))
              .where(in_x, or_(y.c.id.is_(None), p_path, p_bin, p_meta)))
    added = (select(y.c.id - db_, y.c.dir, y.c.name).select_from(y.outerjoin(x, join_yx))
             .where(y.c.dataset_id == vb.id, x.c.id.is_(None)).order_by(y.c.id))

    n_rem = 0
    chg: dict[int, dict] = {}
    for r in session.execute(pass_a.order_by(x.c.id).execution_options(yield_per=5000)):
        if r[3] is None:
            n_rem += 1
            if n_rem <= limit:
                report.removed.append({"id": r[0], "filename": _filename(r[1], r[2])})
        else:
            chg[r[0]] = {"id": r[0], "filename": _filename(r[4], r[5]),
                         "changes": [w for w, f in (("path", r[6]), ("binary", r[7]), ("metadata", r[8])) if f]}
    n_add = count(ITEM_T, vb.id) - (n_a - n_rem)
    if n_add:
        for i, r in enumerate(session.execute(added.execution_options(yield_per=5000))):
            if i >= limit:
                break
            report.added.append({"id": r[0], "filename": _filename(r[1], r[2])})

    # Annotations: one pass over a's (gone or changed), b's scanned only when it has new ones.
    p, q = ANN_T.alias("p"), ANN_T.alias("q")
    same_ann = and_(q.c.dataset_id == vb.id, q.c.id == p.c.id - aa + ab)
    ann_diff = or_(q.c.id.is_(None), p.c.item_id - da != q.c.item_id - db_, p.c.type != q.c.type,
                   p.c.label.is_distinct_from(q.c.label), _differ(p.c.coordinates, q.c.coordinates, lite),
                   _differ(p.c.attributes, q.c.attributes, lite), _differ(p.c.meta, q.c.meta, lite),
                   p.c.status.is_distinct_from(q.c.status), p.c.object_id.is_distinct_from(q.c.object_id))
    # Walk a's annotations in id order (the primary key), not through the (dataset, label)
    # index: rows and their counterparts (id + constant) are then read sequentially.
    known = (va.meta_system or {}).get("snapshot", {}).get("annotation_ids", False) if va.kind == "snapshot" \
        else False
    if known is not False:  # a snapshot records its range (None: it has no annotations)
        alo, ahi = known or (None, None)
    else:
        alo, ahi = session.execute(select(func.min(ANN_T.c.id), func.max(ANN_T.c.id))
                                   .where(ANN_T.c.dataset_id == va.id)).one()
    in_a = and_(p.c.dataset_id + 0 == va.id, p.c.id >= (alo or 0), p.c.id <= (ahi or -1))
    ann_keys: set[int] = set()
    gone = 0
    for k, qid, qk in session.execute(
            select(p.c.item_id - da, q.c.id, q.c.item_id - db_).select_from(p.outerjoin(q, same_ann))
            .where(in_a, ann_diff).execution_options(yield_per=5000)):
        ann_keys.add(k)
        if qid is None:
            gone += 1
        elif qk != k:
            ann_keys.add(qk)  # moved to another item: both changed
    if count(ANN_T, vb.id) - (count(ANN_T, va.id) - gone):
        same_ann_b = and_(p.c.dataset_id == va.id, p.c.id == q.c.id - ab + aa)
        ann_keys.update(session.scalars(select(q.c.item_id - db_).select_from(q.outerjoin(p, same_ann_b))
                                        .where(q.c.dataset_id == vb.id, p.c.id.is_(None))))

    # Task statuses: a (task, status) present on one side only.
    t1, t2 = TASK_T.alias("t1"), TASK_T.alias("t2")

    def one_sided(ta, tb, va_id, d_a, d_b):
        # Driven by the task_status table (usually small), not by the items.
        own = ITEM_T.alias()
        match = and_(tb.c.item_id == ta.c.item_id - d_a + d_b, tb.c.task == ta.c.task, tb.c.status == ta.c.status)
        return (select((ta.c.item_id - d_a).label("k"))
                .select_from(ta.join(own, and_(own.c.id == ta.c.item_id, own.c.dataset_id == va_id))
                             .outerjoin(tb, match))
                .where(tb.c.id.is_(None)))

    task_keys = set(session.scalars(union(one_sided(t1, t2, va.id, da, db_), one_sided(t2, t1, vb.id, db_, da))))

    # Only items present in both versions are "changed"; the others are listed as added/removed.
    for what, keys in (("annotations", ann_keys), ("status", task_keys)):
        todo = sorted(keys)
        for i in range(0, len(todo), 5000):
            part = [k + db_ for k in todo[i:i + 5000]]
            # Driven by the id list (primary-key lookups), with a's copy checked per row.
            in_a = exists().where(x.c.id == y.c.id - db_ + da, x.c.dataset_id == va.id)
            rows = session.execute(select(y.c.id - db_, y.c.dir, y.c.name)
                                   .where(y.c.id.in_(part), y.c.dataset_id == vb.id, in_a))
            for r in rows:
                e = chg.setdefault(r[0], {"id": r[0], "filename": _filename(r[1], r[2]), "changes": []})
                e["changes"].append(what)
    report.counts = {"added": n_add, "removed": n_rem, "changed": len(chg)}
    report.changed = sorted(chg.values(), key=lambda e: e["id"])[:limit]
    report.truncated = max(n_add, n_rem, len(chg)) > limit
    return report
