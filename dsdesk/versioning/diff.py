"""Item-level differences between versions of one dataset (the dataset and its snapshots).

Versions are compared by item identity, not by path: a snapshot's copy of item ``i`` has
id ``i + delta`` (see :mod:`dsdesk.versioning.snapshots`), so "the same item" in two
versions is one join on an arithmetic key.  A moved or renamed item is therefore *changed*
(what: ``path``), not removed and added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, and_, cast, func, or_, select, union
from sqlalchemy.orm import Session

from dsdesk.catalog.guards import live_dataset
from dsdesk.catalog.models import Dataset
from dsdesk.errors import InvalidInputError
from dsdesk.versioning._copy import ANN_T, ITEM_T, TASK_T
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


def _txt(col):
    # JSON is compared as stored text: copies are byte-identical, edits re-serialise.
    # PostgreSQL's json type has no equality operator, so the cast is needed there too.
    return func.coalesce(cast(col, String), "")


def _version(session: Session, dataset_id: int, ref) -> Dataset:
    """The dataset itself (ref None) or the frozen dataset of its snapshot *ref*."""
    if ref is None:
        return live_dataset(session, dataset_id)
    if isinstance(ref, Dataset):
        return ref
    snap = get_snapshot(session, dataset_id, ref)
    return session.get(Dataset, snap.frozen_dataset_id)


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
    da, aa = deltas(va)
    db_, ab = deltas(vb)
    report = DiffReport(a=a if a is not None else "(current)", b=b if b is not None else "(current)")

    x, y = ITEM_T.alias("x"), ITEM_T.alias("y")
    # key = the item's id in the live dataset
    join_xy = and_(y.c.dataset_id == vb.id, y.c.id == x.c.id - da + db_)

    removed = (select(x.c.id - da, x.c.dir, x.c.name).select_from(x.outerjoin(y, join_xy))
               .where(x.c.dataset_id == va.id, y.c.id.is_(None)))
    join_yx = and_(x.c.dataset_id == va.id, x.c.id == y.c.id - db_ + da)
    added = (select(y.c.id - db_, y.c.dir, y.c.name).select_from(y.outerjoin(x, join_yx))
             .where(y.c.dataset_id == vb.id, x.c.id.is_(None)))

    p_path = or_(x.c.dir != y.c.dir, x.c.name != y.c.name)
    p_bin = x.c.blob_id != y.c.blob_id
    p_meta = or_(_txt(x.c.meta_user) != _txt(y.c.meta_user), _txt(x.c.meta_system) != _txt(y.c.meta_system),
                 func.coalesce(x.c.description, "") != func.coalesce(y.c.description, ""))
    changed = (select(y.c.id - db_, y.c.dir, y.c.name, p_path, p_bin, p_meta).select_from(x.join(y, join_xy))
               .where(x.c.dataset_id == va.id, or_(p_path, p_bin, p_meta)))

    # Items whose annotations differ: an annotation only on one side, or one that changed.
    p, q = ANN_T.alias("p"), ANN_T.alias("q")
    same_ann = and_(q.c.dataset_id == vb.id, q.c.id == p.c.id - aa + ab)
    ann_diff = or_(q.c.id.is_(None), p.c.item_id - da != q.c.item_id - db_, p.c.type != q.c.type,
                   func.coalesce(p.c.label, "") != func.coalesce(q.c.label, ""),
                   _txt(p.c.coordinates) != _txt(q.c.coordinates),
                   _txt(p.c.attributes) != _txt(q.c.attributes), _txt(p.c.meta) != _txt(q.c.meta),
                   func.coalesce(p.c.status, "") != func.coalesce(q.c.status, ""),
                   func.coalesce(p.c.object_id, "") != func.coalesce(q.c.object_id, ""))
    from_a = (select((p.c.item_id - da).label("k")).select_from(p.outerjoin(q, same_ann))
              .where(p.c.dataset_id == va.id, ann_diff))
    same_ann_b = and_(p.c.dataset_id == va.id, p.c.id == q.c.id - ab + aa)
    from_b = (select((q.c.item_id - db_).label("k")).select_from(q.outerjoin(p, same_ann_b))
              .where(q.c.dataset_id == vb.id, p.c.id.is_(None)))
    ann_keys = union(from_a, from_b).subquery()
    # Only items present on both sides count as "changed"; added/removed items are listed as such.
    ann_changed = (select(y.c.id - db_, y.c.dir, y.c.name)
                   .select_from(ann_keys.join(y, and_(y.c.dataset_id == vb.id, y.c.id == ann_keys.c.k + db_))
                                .join(x, join_xy)))

    # Items whose task statuses differ: a (task, status) present on one side only.
    t1, t2 = TASK_T.alias("t1"), TASK_T.alias("t2")

    def one_sided(ta, tb, va_id, vb_id, d_a, d_b):
        match = and_(tb.c.item_id == ta.c.item_id - d_a + d_b, tb.c.task == ta.c.task, tb.c.status == ta.c.status)
        return (select((ta.c.item_id - d_a).label("k")).select_from(ta.outerjoin(tb, match))
                .where(ta.c.item_id.in_(select(ITEM_T.c.id).where(ITEM_T.c.dataset_id == va_id)),
                       tb.c.id.is_(None)))

    task_keys = union(one_sided(t1, t2, va.id, vb.id, da, db_), one_sided(t2, t1, vb.id, va.id, db_, da)).subquery()
    task_changed = (select(y.c.id - db_, y.c.dir, y.c.name)
                    .select_from(task_keys.join(y, and_(y.c.dataset_id == vb.id, y.c.id == task_keys.c.k + db_))
                                 .join(x, join_xy)))

    def stream(q):
        # Streamed: only the first *limit* rows are kept, the rest are only counted.
        kept, n = [], 0
        for r in session.execute(q.execution_options(yield_per=5000)):
            n += 1
            if n <= limit:
                kept.append({"id": r[0], "filename": _filename(r[1], r[2])})
        return kept, n

    report.removed, n_rem = stream(removed.order_by(x.c.id))
    report.added, n_add = stream(added.order_by(y.c.id))
    chg = {r[0]: {"id": r[0], "filename": _filename(r[1], r[2]),
                  "changes": [w for w, f in (("path", r[3]), ("binary", r[4]), ("metadata", r[5])) if f]}
           for r in session.execute(changed)}
    for r in session.execute(ann_changed):
        e = chg.setdefault(r[0], {"id": r[0], "filename": _filename(r[1], r[2]), "changes": []})
        e["changes"].append("annotations")
    for r in session.execute(task_changed):
        e = chg.setdefault(r[0], {"id": r[0], "filename": _filename(r[1], r[2]), "changes": []})
        e["changes"].append("status")
    report.counts = {"added": n_add, "removed": n_rem, "changed": len(chg)}
    report.changed = sorted(chg.values(), key=lambda e: e["id"])[:limit]
    report.truncated = max(n_add, n_rem, len(chg)) > limit
    return report
