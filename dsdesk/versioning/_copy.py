"""The one copy engine behind clone, snapshot and rollback.

Items, their annotations and their task statuses are copied from one dataset to another
with ``INSERT ... SELECT`` per batch of source item ids.  Copies get ``id + delta`` (see
:mod:`dsdesk.versioning._common`), so a copied annotation's ``item_id`` is simply the
source's ``item_id + item_delta``: no lookup, no join, no Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, insert, literal, select
from sqlalchemy.orm import Session

from dsdesk.catalog.engine import bulk_cache
from dsdesk.catalog.models import Annotation, Item, TaskStatus
from dsdesk.catalog.sql import written
from dsdesk.versioning._common import Reporter, checkpoint

ITEM_T = Item.__table__
ANN_T = Annotation.__table__
TASK_T = TaskStatus.__table__

# Columns copied verbatim unless a plan overrides them (id and dataset_id are always set).
# "v" is not copied: a copy is a new row of its dataset, written at no version yet.
ITEM_COLS = [c.name for c in ITEM_T.columns if c.name not in ("id", "dataset_id", "v")]
ANN_COLS = [c.name for c in ANN_T.columns if c.name not in ("id", "dataset_id", "item_id", "v")]
TASK_COLS = [c.name for c in TASK_T.columns if c.name not in ("id", "item_id", "v")]

Overrides = Callable[[Any], dict[str, Any]]  # source alias -> {column: SQL expression}


@dataclass
class CopyPlan:
    """What to copy from *src* to *dst* and how the copies differ from their sources."""

    src: int
    dst: int
    item_delta: int
    ann_delta: int | None = 0  # None: new annotation ids are the database's choice
    item_filter: Any = None  # a SELECT of source item ids, or None for all
    annotations: bool = True
    tasks: bool = True
    item_overrides: Overrides | None = None
    ann_overrides: Overrides | None = None
    op: str = "copy"
    # The source annotations' (min id, max id), for a copy of every item: the annotations
    # are then copied after the items, in id order (see copy_rows), not batch by batch.
    ann_ids: tuple[int, int] | None = None


@dataclass
class CopyCounts:
    """Rows written by one copy."""

    items: int = 0
    annotations: int = 0
    task_statuses: int = 0
    batches: list[tuple[int, int]] = field(default_factory=list)


def _in_range(col, lo: int, hi: int):
    return and_(col >= lo, col <= hi)


def copy_rows(session: Session, plan: CopyPlan, ranges: list[tuple[int, int]], rep: Reporter,
              total: int | None = None) -> CopyCounts:
    """Copy the plan's rows batch by batch inside the caller's transaction.

    Between batches it reports progress and honours cancellation (raising, so the caller
    rolls everything back).
    """
    bulk_cache(session)
    counts = CopyCounts(batches=list(ranges))
    s = ITEM_T.alias("s")
    a = ANN_T.alias("a")
    t = TASK_T.alias("t")
    item_over = plan.item_overrides(s) if plan.item_overrides else {}
    ann_over = plan.ann_overrides(a) if plan.ann_overrides else {}

    item_cols = ["id", "dataset_id", *ITEM_COLS]
    item_exprs = [s.c.id + plan.item_delta, literal(plan.dst)]
    item_exprs += [item_over.get(c, s.c[c]) for c in ITEM_COLS]
    ann_cols = ["dataset_id", "item_id", *ANN_COLS]
    ann_exprs = [literal(plan.dst), a.c.item_id + plan.item_delta]
    if plan.ann_delta is not None:  # ids that map back (snapshots); None: the database picks
        ann_cols.insert(0, "id")
        ann_exprs.insert(0, a.c.id + plan.ann_delta)
    ann_exprs += [ann_over.get(c, a.c[c]) for c in ANN_COLS]
    task_cols = ["item_id", *TASK_COLS]
    task_exprs = [t.c.item_id + plan.item_delta, *[t.c[c] for c in TASK_COLS]]

    # Annotations of a whole dataset go in source id order, after the items: a dataset's
    # annotation ids interleave across its items (one pass of annotating after another),
    # so item batch by item batch would read them at scattered places and, with mapped ids
    # (snapshots), write them at scattered places of the table instead of at its end.  In
    # id order both are sequential, and the item batches no longer alternate with annotation
    # writes: a 1M-item, 3M-annotation snapshot went 23.7 s -> 21.2 s, a clone 22.0 -> 21.2 s.
    by_id = plan.annotations and plan.ann_ids is not None and plan.item_filter is None
    for n, (lo, hi) in enumerate(ranges):
        rep.check_cancelled()
        where = [s.c.dataset_id == plan.src, _in_range(s.c.id, lo, hi)]
        if plan.item_filter is not None:
            where.append(s.c.id.in_(plan.item_filter))
        counts.items += written(session, insert(ITEM_T).from_select(item_cols, select(*item_exprs).where(*where)))
        if plan.annotations and not by_id:
            # "+ 0" keeps the planner off the (dataset_id, label) index: that one would read
            # every annotation of the dataset for every batch; the item_id range is the batch.
            aw = [a.c.dataset_id + 0 == plan.src, _in_range(a.c.item_id, lo, hi)]
            if plan.item_filter is not None:
                aw.append(a.c.item_id.in_(plan.item_filter))
            counts.annotations += written(session, insert(ANN_T).from_select(ann_cols, select(*ann_exprs).where(*aw)))
        if plan.tasks:
            src_items = select(ITEM_T.c.id).where(ITEM_T.c.dataset_id == plan.src,
                                                  _in_range(ITEM_T.c.id, lo, hi))
            if plan.item_filter is not None:
                src_items = src_items.where(ITEM_T.c.id.in_(plan.item_filter))
            counts.task_statuses += written(session, insert(TASK_T).from_select(
                task_cols, select(*task_exprs).where(_in_range(t.c.item_id, lo, hi),
                                                     t.c.item_id.in_(src_items))))
        rep.progress(counts.items, total, f"{plan.op}: {counts.items} items")
        checkpoint(plan.op, f"batch{n}")
    if by_id:
        alo, ahi = plan.ann_ids
        step = max(1, (ahi - alo + 1) // max(1, len(ranges)))
        for first in range(alo, ahi + 1, step):
            rep.check_cancelled()
            # "+ 0": the id range (primary key) is the batch, not the (dataset_id, label) index.
            aw = [a.c.dataset_id + 0 == plan.src, _in_range(a.c.id, first, min(first + step - 1, ahi))]
            counts.annotations += written(session, insert(ANN_T).from_select(ann_cols, select(*ann_exprs).where(*aw)))
            rep.progress(counts.items, total, f"{plan.op}: {counts.items} items, {counts.annotations} annotations")
    return counts


def count_items(session: Session, dataset_id: int, item_filter=None) -> int:
    """How many items of *dataset_id* (matching *item_filter*) there are."""
    q = select(func.count()).select_from(ITEM_T).where(ITEM_T.c.dataset_id == dataset_id)
    if item_filter is not None:
        q = q.where(ITEM_T.c.id.in_(item_filter))
    return session.execute(q).scalar() or 0
