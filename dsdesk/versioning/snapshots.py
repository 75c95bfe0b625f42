"""Snapshots: named, immutable versions of a dataset, and rollback to one of them.

A snapshot is a *version point* of the dataset (:mod:`dsdesk.versioning.points`): it
copies no row.  The rows it sees are the dataset's own, and a write to a row whose state
the snapshot sees first archives that state (the catalog's triggers), so a snapshot costs
a few statements at any size and the catalog grows only by what changes afterwards.  A
``snapshot`` row names it, and a hidden, read-only dataset of kind ``snapshot`` (no items
of its own) keeps its folders, the dataset's user metadata and cached statistics of that
moment.  Rollback restores in place what changed since (:mod:`dsdesk.versioning.restore`);
items and annotations keep their ids, so every reference to them stays valid.

Snapshots taken before migration 0018 were *frozen copies* of every row; migration 0019
turned them into points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.orm import Session

from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.models import Dataset, Folder, Snapshot, utcnow
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from dsdesk.versioning._common import (
    Reporter,
    checkpoint,
    copy_stats,
    dialect_of,
)
from dsdesk.versioning._copy import ANN_T, ITEM_T, TASK_T
from dsdesk.versioning.points import drop_point, get_point, take_point
from dsdesk.versioning.restore import restore

FOLDER_T = Folder.__table__


@dataclass
class SnapshotInfo:
    """A snapshot as the API and the CLI show it."""

    id: int
    dataset_id: int
    frozen_dataset_id: int
    name: str
    description: str
    auto: bool
    created_at: dt.datetime
    item_count: int
    annotation_count: int


@dataclass
class RollbackResult:
    """What a rollback did: the safety snapshot it took and what it restored."""

    dataset_id: int
    snapshot: str
    safety_snapshot: SnapshotInfo
    items: int
    annotations: int
    task_statuses: int
    folders: int


def _info(session: Session, snap: Snapshot) -> SnapshotInfo:
    frozen = session.get(Dataset, snap.frozen_dataset_id)
    return SnapshotInfo(snap.id, snap.dataset_id, snap.frozen_dataset_id, snap.name, snap.description,
                        bool(snap.auto), snap.created_at, frozen.item_count, frozen.annotation_count)


def snapshot(session: Session, dataset_id: int, name: str, description: str = "", *,
             auto: bool = False, ctx=None) -> SnapshotInfo:
    """Take the snapshot *name* of a dataset: an exact, read-only version of its content now.

    A version point: a few statements whatever the dataset's size, no row copied.  A
    read-only dataset can be snapshotted (nothing of it changes); a snapshot cannot.
    """
    return _snapshot(session, dataset_id, name, description, auto=auto, ctx=ctx)


def _snapshot(session: Session, dataset_id: int, name: str, description: str = "", *,
              auto: bool = False, ctx=None) -> SnapshotInfo:
    rep = Reporter(ctx, dialect_of(session))
    src = live_dataset(session, dataset_id)
    if src.kind == "snapshot":
        raise InvalidInputError(f"'{src.name}' is a snapshot; take snapshots of the dataset itself")
    if not name or not str(name).strip():
        raise InvalidInputError("a snapshot needs a name")
    if len(name) > 255:
        raise InvalidInputError(f"snapshot name too long ({len(name)} characters, 255 at most)")
    if session.execute(select(Snapshot.id).where(Snapshot.dataset_id == src.id, Snapshot.name == name)).first():
        raise AlreadyExistsError(f"dataset '{src.name}' already has a snapshot named '{name}'")

    frozen = Dataset(project_id=src.project_id, name=f"{src.name}@{name}"[:255], kind="snapshot",
                     driver_id=src.driver_id, recipe_id=src.recipe_id, readonly=True,
                     src_dataset_id=src.id, meta_user=dict(src.meta_user or {}),
                     meta_system={}, description=description or "")
    session.add(frozen)
    session.flush()
    checkpoint("snapshot", "start")
    rep.progress(0, 1, "snapshot")
    point = take_point(session, src.id)
    frozen.meta_system = {"snapshot": {"of_dataset_id": src.id, "name": name, "point_id": point.id,
                                       "dataset_name": src.name}}
    # Folders are few (a path per folder, not per item): the snapshot keeps its own list.
    _copy_folders(session, src.id, frozen.id)
    snap = Snapshot(dataset_id=src.id, frozen_dataset_id=frozen.id, name=name, point_id=point.id,
                    description=description or "", auto=auto, created_at=utcnow())
    session.add(snap)
    session.flush()
    copy_stats(session, src.id, frozen.id)
    session.refresh(frozen)
    rep.progress(1, 1, "snapshot")
    checkpoint("snapshot", "end")
    return _info(session, snap)


def _copy_folders(session: Session, src_id: int, dst_id: int) -> None:
    session.execute(insert(FOLDER_T).from_select(
        ["dataset_id", "path", "created_at"],
        select(literal(dst_id), FOLDER_T.c.path, FOLDER_T.c.created_at).where(FOLDER_T.c.dataset_id == src_id)))


def _take_back_dataset_facts(session: Session, ds: Dataset, frozen: Dataset) -> None:
    """The dataset gets the snapshot's folders (after its own were cleared), user metadata
    and cached statistics."""
    _copy_folders(session, frozen.id, ds.id)
    ds.meta_user = dict(frozen.meta_user or {})
    session.flush()
    copy_stats(session, frozen.id, ds.id)
    session.refresh(ds)


def list_snapshots(session: Session, dataset_id: int, include_auto: bool = True) -> list[SnapshotInfo]:
    """The snapshots of a dataset, oldest first."""
    live_dataset(session, dataset_id)
    q = select(Snapshot).where(Snapshot.dataset_id == dataset_id).order_by(Snapshot.created_at, Snapshot.id)
    if not include_auto:
        q = q.where(Snapshot.auto.is_(False))
    return [_info(session, s) for s in session.scalars(q)]


def get_snapshot(session: Session, dataset_id: int, name_or_id: str | int) -> Snapshot:
    """The snapshot of *dataset_id* with that name (or id); NotFoundError otherwise."""
    q = select(Snapshot).where(Snapshot.dataset_id == dataset_id)
    if isinstance(name_or_id, int):
        q = q.where(Snapshot.id == name_or_id)
    else:
        q = q.where(Snapshot.name == name_or_id)
    snap = session.scalars(q).first()
    if snap is None:
        ds = session.get(Dataset, dataset_id)
        raise NotFoundError(f"dataset '{ds.name if ds else dataset_id}' has no snapshot {name_or_id!r}")
    return snap


def snapshot_info(session: Session, dataset_id: int, name_or_id: str | int) -> SnapshotInfo:
    """The public description of one snapshot (see :func:`get_snapshot`)."""
    return _info(session, get_snapshot(session, dataset_id, name_or_id))


def _clear_content(session: Session, dataset_id: int) -> None:
    """Delete every item, annotation, task status and folder of a dataset (set-based)."""
    items = select(ITEM_T.c.id).where(ITEM_T.c.dataset_id == dataset_id)
    session.execute(delete(TASK_T).where(TASK_T.c.item_id.in_(items)))
    session.execute(delete(ANN_T).where(ANN_T.c.dataset_id == dataset_id))
    session.execute(delete(ITEM_T).where(ITEM_T.c.dataset_id == dataset_id))
    session.execute(delete(FOLDER_T).where(FOLDER_T.c.dataset_id == dataset_id))


def delete_snapshot(session: Session, dataset_id: int, name_or_id: str | int) -> None:
    """Delete a snapshot: its point and the archived states only it saw.  Blobs only it
    referenced become garbage for gc."""
    snap = get_snapshot(session, dataset_id, name_or_id)
    frozen_id, point_id = snap.frozen_dataset_id, snap.point_id
    session.delete(snap)
    session.flush()
    drop_point(session, point_id)
    _clear_content(session, frozen_id)
    session.execute(delete(Dataset.__table__).where(Dataset.__table__.c.id == frozen_id))


def rollback(session: Session, dataset_id: int, name_or_id: str | int, *, ctx=None) -> RollbackResult:
    """Restore a dataset to a snapshot, exactly, after taking a safety snapshot.

    Items, folders, item metadata, the dataset's user metadata, annotations and task
    statuses become what they were in the snapshot, with their original ids; only what
    changed since is written (:func:`dsdesk.versioning.restore.restore`), and the safety
    snapshot is a point too.  The one deliberate difference is ``row_version``: a restored
    row gets a version above the one it had, so an editor holding a copy read before the
    rollback gets a conflict instead of silently overwriting the restored state.
    """
    rep = Reporter(ctx, dialect_of(session))
    ds = writable_dataset(session, dataset_id, "roll back")
    snap = get_snapshot(session, ds.id, name_or_id)
    frozen = session.get(Dataset, snap.frozen_dataset_id)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S-%f")
    safety = _snapshot(session, ds.id, f"before-rollback-to-{snap.name[:200]}-{stamp}",
                       f"taken automatically before rolling back to '{snap.name}'", auto=True, ctx=ctx)
    rep.check_cancelled()
    checkpoint("rollback", "after-safety")
    done = restore(session, get_point(session, snap.point_id))
    checkpoint("rollback", "cleared")
    session.execute(delete(FOLDER_T).where(FOLDER_T.c.dataset_id == ds.id))
    _take_back_dataset_facts(session, ds, frozen)
    rep.progress(1, 1, f"rollback: {sum(done.items):,} items and {sum(done.annotations):,} annotations "
                       "written back")
    checkpoint("rollback", "end")
    tasks = session.execute(select(func.count()).select_from(TASK_T).join(ITEM_T, ITEM_T.c.id == TASK_T.c.item_id)
                            .where(ITEM_T.c.dataset_id == ds.id)).scalar()
    # what the dataset holds now, as a rollback by copy reports it (done says what was written)
    return RollbackResult(ds.id, snap.name, safety, ds.item_count, ds.annotation_count, tasks, ds.folder_count)
