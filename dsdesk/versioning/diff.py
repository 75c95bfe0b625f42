"""Item-level differences between versions of one dataset (the dataset and its snapshots).

Every snapshot is a version point (migration 0019 turned the older frozen copies into
points), so a diff reads only the rows changed since the older version
(:mod:`dsdesk.versioning.point_diff`).  Versions are compared by item identity, not by
path: a moved or renamed item is *changed* (what: ``path``), not removed and added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from dsdesk.catalog.guards import live_dataset
from dsdesk.catalog.models import Dataset
from dsdesk.errors import InvalidInputError
from dsdesk.versioning.point_diff import diff_points
from dsdesk.versioning.points import Point, get_point
from dsdesk.versioning.snapshots import get_snapshot

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


def _version(session: Session, dataset_id: int, ref) -> Dataset:
    """The dataset itself (ref None) or the frozen dataset of its snapshot *ref*."""
    if ref is None:
        return live_dataset(session, dataset_id)
    if isinstance(ref, Dataset):
        return ref
    snap = get_snapshot(session, dataset_id, ref)
    return session.get(Dataset, snap.frozen_dataset_id)


def _point_of(session: Session, version: Dataset) -> Point | None:
    """The version point a snapshot's hidden dataset stands for (None: the dataset itself)."""
    pid = (version.meta_system or {}).get("snapshot", {}).get("point_id") if version.kind == "snapshot" else None
    return get_point(session, pid) if pid is not None else None


def diff(session: Session, dataset_id: int, a=None, b=None, limit: int = DEFAULT_LIMIT) -> DiffReport:
    """Differences from *a* to *b*, each a snapshot name/id of *dataset_id* or None for the
    dataset as it is now.  ``diff(s, ds, "before")`` lists what changed since "before"."""
    va, vb = _version(session, dataset_id, a), _version(session, dataset_id, b)
    for v in (va, vb):
        origin = v.id if v.kind != "snapshot" else (v.meta_system or {}).get("snapshot", {}).get("of_dataset_id")
        if origin != dataset_id:
            raise InvalidInputError(f"'{v.name}' is not a version of dataset {dataset_id}")
    report = DiffReport(a=a if a is not None else "(current)", b=b if b is not None else "(current)")
    return diff_points(session, dataset_id, _point_of(session, va), _point_of(session, vb), report, limit)
