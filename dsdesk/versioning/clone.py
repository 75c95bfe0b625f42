"""Clone a dataset (or the items a DQL filter selects) into a new or an existing dataset.

Zero-copy: a cloned item points at the same blob as its source; no byte is read or
written.  Lineage follows Dataloop: the new dataset's ``src_dataset_id`` is the source,
each item's ``master_item_id`` is the source's master (or the source itself when it is a
master item) and ``parent_item_id`` is the source item; each copied annotation's
``src_annotation_id`` is the root of its copy chain, which is what merge uses to recognise
two copies of one annotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import JSON, and_, func, literal, select
from sqlalchemy.orm import Session

from dsdesk.catalog import paths, stats
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.ingest import ensure_folders
from dsdesk.catalog.models import Dataset, Driver, Folder, Item, utcnow
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.errors import AlreadyExistsError, InvalidInputError
from dsdesk.storage.kinds import is_external
from dsdesk.versioning._common import (
    Reporter,
    boundaries,
    checkpoint,
    copy_stats,
    dialect_of,
    id_range,
    rebase_dir_expr,
    reserve_ids,
)
from dsdesk.versioning._copy import ANN_T, ITEM_T, CopyPlan, copy_rows, count_items


@dataclass
class CloneResult:
    """What a clone wrote."""

    dataset_id: int
    items: int = 0
    annotations: int = 0
    task_statuses: int = 0
    folders: int = 0
    target_directory: str = "/"
    warnings: list[str] = field(default_factory=list)


def item_filter_select(dataset_id: int, filters):
    """The SELECT of item ids a DQL *filters* picks in the dataset (None: every item).

    Delegates to the shared query engine so clone selects exactly what a listing shows.
    """
    if filters is None or filters == {}:
        return None
    from dsdesk.query import item_ids_select  # the one query engine (dsdesk/query)

    return item_ids_select(dataset_id, filters)


def _filters_json(filters):
    """The filters as JSON for the lineage record (a Filters object becomes its DQL)."""
    if filters is None or isinstance(filters, (dict, str)):
        return filters
    if hasattr(filters, "prepare"):
        return filters.prepare()
    return repr(filters)


def check_drivers(session: Session, src: Dataset, dst: Dataset) -> None:
    """Refuse a clone between storages the items cannot be shared between.

    Internal -> internal is always fine (one content-addressed store per catalog).
    External -> external only within the same driver: the blob rows name that driver's
    objects.  Anything else would leave items pointing at blobs of a storage the
    destination does not use.
    """
    sd, dd = session.get(Driver, src.driver_id), session.get(Driver, dst.driver_id)
    if not is_external(sd.kind) and not is_external(dd.kind):
        return
    if is_external(sd.kind) and sd.id == dd.id:
        return
    raise InvalidInputError(
        f"cannot clone from dataset '{src.name}' (storage '{sd.name}', {sd.kind}) into dataset "
        f"'{dst.name}' (storage '{dd.name}', {dd.kind}): clone is allowed internal -> internal "
        "or external -> the same external driver only")


def _check_name_free(session: Session, project_id: int, name: str) -> None:
    taken = session.execute(select(Dataset.id).where(
        Dataset.project_id == project_id, Dataset.name == name, Dataset.deleted_at.is_(None),
        Dataset.kind != "snapshot")).first()
    if taken:
        raise AlreadyExistsError(f"a dataset named '{name}' already exists in this project")


def clone(session: Session, src_dataset_id: int, clone_name: str | None = None, filters=None,
          with_items_annotations: bool = True, with_metadata: bool = True,
          with_task_annotations_status: bool = True, dst_dataset_id: int | None = None,
          target_directory: str | None = None, *, ctx=None) -> CloneResult:
    """Clone the items of *src_dataset_id* (all, or those *filters* selects).

    Into a new dataset named *clone_name* (kind ``clone``, same project, driver and recipe)
    or into the existing dataset *dst_dataset_id*, below *target_directory* (default: the
    root).  Flags:

    * ``with_items_annotations`` copies annotations (else clones are unannotated);
    * ``with_metadata`` copies the items' user and system metadata; when False user
      metadata is empty and system metadata is kept (facts about the binary - size,
      mimetype, width, height - live on the blob and always follow it);
    * ``with_task_annotations_status`` copies task statuses.

    Everything happens in the caller's transaction; every check (names, drivers, read-only,
    path collisions) runs before the first item is written.  *ctx* is an optional job
    context for progress and cancellation.
    """
    rep = Reporter(ctx, dialect_of(session))
    src = live_dataset(session, src_dataset_id)
    if not clone_name and dst_dataset_id is None:
        raise InvalidInputError("clone needs a clone_name or a dst_dataset_id")
    target = paths.normalize_dir(target_directory)
    flt = item_filter_select(src.id, filters)
    now = utcnow()

    if dst_dataset_id is not None:
        dst = writable_dataset(session, dst_dataset_id, "clone into")
        check_drivers(session, src, dst)
        _check_collisions(session, src.id, dst.id, target, flt)
        dst.updated_at = now  # first write: takes SQLite's write lock before the copy reads
        session.flush()
    else:
        _check_name_free(session, src.project_id, clone_name)
        dst = Dataset(project_id=src.project_id, name=clone_name, kind="clone", driver_id=src.driver_id,
                      recipe_id=src.recipe_id, src_dataset_id=src.id,
                      meta_system={"clone": {"src_dataset_id": src.id, "filters": _filters_json(filters),
                                             "with_items_annotations": with_items_annotations,
                                             "with_metadata": with_metadata,
                                             "with_task_annotations_status": with_task_annotations_status}},
                      meta_user=dict(src.meta_user or {}) if with_metadata else {},
                      description=src.description)
        session.add(dst)
        session.flush()
    checkpoint("clone", "start")

    ranges = boundaries(session, src.id)
    total = count_items(session, src.id, flt)
    result = CloneResult(dataset_id=dst.id, target_directory=target)
    if ranges:
        lo, hi = ranges[0][0], ranges[-1][1]
        item_delta = reserve_ids(session, ITEM_T, hi - lo + 1) - lo
        # Copied annotations need no particular ids (nothing maps them back; merge
        # recognises copies by src_annotation_id), so the database numbers them.
        ann_delta = None
        empty = literal({}, JSON)

        def item_over(s):
            over = {
                "dir": rebase_dir_expr(s.c.dir, target),
                "master_item_id": func.coalesce(s.c.master_item_id, s.c.id),
                "parent_item_id": s.c.id,
                "created_at": literal(now), "updated_at": literal(now), "row_version": literal(1),
                "changed_at": s.c.changed_at,
            }
            if not with_metadata:
                over["meta_user"] = empty
            if not with_items_annotations:
                over["annotated"] = literal(False)
            return over

        def ann_over(a):
            return {"src_annotation_id": func.coalesce(a.c.src_annotation_id, a.c.id)}

        ann_ids = None
        if with_items_annotations and flt is None:
            alo, ahi = id_range(session, ANN_T, ANN_T.c.dataset_id == src.id)
            ann_ids = (alo, ahi) if alo is not None else None
        plan = CopyPlan(src=src.id, dst=dst.id, item_delta=item_delta, ann_delta=ann_delta,
                        item_filter=flt, annotations=with_items_annotations,
                        tasks=with_task_annotations_status, item_overrides=item_over,
                        ann_overrides=ann_over, op="clone", ann_ids=ann_ids)
        with deferred_name_index(session):  # name search indexed in one statement at the end
            counts = copy_rows(session, plan, ranges, rep, total)
        result.items, result.annotations, result.task_statuses = (
            counts.items, counts.annotations, counts.task_statuses)

    result.folders = _copy_folders(session, src.id, dst.id, target, flt)
    if dst_dataset_id is None and flt is None:
        copy_stats(session, src.id, dst.id, annotations=with_items_annotations)
    else:
        stats.refresh(session, dst.id)
    checkpoint("clone", "end")
    rep.progress(result.items, total, f"cloned {result.items} items into '{dst.name}'")
    return result


def _check_collisions(session: Session, src_id: int, dst_id: int, target: str, flt) -> None:
    """Refuse (before writing) a clone whose items would land on paths taken in *dst*."""
    s = ITEM_T.alias("s")
    d = ITEM_T.alias("d")
    q = (select(s.c.dir, s.c.name).select_from(s.join(d, and_(
        d.c.dataset_id == dst_id, d.c.dir == rebase_dir_expr(s.c.dir, target), d.c.name == s.c.name)))
        .where(s.c.dataset_id == src_id))
    if flt is not None:
        q = q.where(s.c.id.in_(flt))
    hits = session.execute(q.limit(5)).all()
    if hits:
        n = session.execute(select(func.count()).select_from(q.subquery())).scalar()
        example = ", ".join(paths.join(paths.rebase(h.dir, "/", target), h.name) for h in hits[:3])
        raise AlreadyExistsError(f"cannot clone: {n} item path(s) already exist in the destination "
                                 f"below {target} (e.g. {example}); clone into another folder")


def _copy_folders(session: Session, src_id: int, dst_id: int, target: str, flt) -> int:
    """Recreate the source's folders (empty ones too) below *target* in the destination.

    With a filter only the folders that hold a cloned item (and their parents) come along:
    a filtered clone is a selection, not the whole tree.
    """
    if flt is None:
        dirs = [p for (p,) in session.execute(select(Folder.path).where(Folder.dataset_id == src_id))]
    else:
        dirs = [d for (d,) in session.execute(select(Item.dir).where(
            Item.dataset_id == src_id, Item.id.in_(flt)).distinct())]
    if target != "/":
        dirs = [target] + [paths.rebase(p, "/", target) for p in dirs]
    return ensure_folders(session, dst_id, [d for d in dirs if d != "/"])
