"""Shared machinery of the versioning operations: progress, id reservation, batching.

Every versioning operation runs inside ONE transaction of the caller's session, so a crash
or a SIGKILL at any point leaves the catalog exactly as before (nothing committed) or
exactly as after.  Work is split into batches of source ids only so that progress can be
reported and cancellation noticed between statements; a cancellation raises and the
caller's session rolls the whole transaction back.

Row ids of copies are computed, not looked up: a copy of row ``r`` gets ``r.id + delta``
where ``delta`` moves the whole source id range above every id in use.  That makes the
mapping source -> copy an arithmetic expression, so annotations and task statuses follow
their items without a join, and a snapshot can be rolled back to the original ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.orm import Session

from dsdesk.catalog import blob_lock
from dsdesk.catalog.models import Dataset, Item

# Source rows per batch: a batch is one statement, between two of them progress is reported
# and cancellation noticed.  Read at call time, so a test can make batches tiny.
BATCH = 50_000

# Called as ``checkpoint_hook(op, step)`` at every named point of an operation when set; None in
# production.  A test installs one to stop an operation there (tests/versioning/test_atomicity.py
# SIGKILLs it at each point to show the catalog is left as before or as after).
checkpoint_hook: Callable[[str, str], None] | None = None


def checkpoint(op: str, step: str) -> None:
    """Mark the named point *step* of the operation *op* (``"clone"``, ``"batch3"``): calls
    :data:`checkpoint_hook` when one is installed, else nothing."""
    hook = checkpoint_hook
    if hook is not None:
        hook(op, step)


class Reporter:
    """Progress and cancellation for a job context (or nothing, when called directly)."""

    def __init__(self, ctx: Any = None, dialect: str = "sqlite"):
        self.ctx = ctx
        self.dialect = dialect

    def progress(self, done: int, total: int | None = None, message: str | None = None) -> None:
        """Report *done* of *total* units (the runner keeps SQLite's writer lock free of it)."""
        if self.ctx is not None:
            self.ctx.progress(done, total, message)

    def check_cancelled(self) -> None:
        """Raise JobCancelledError when the user cancelled (the transaction then rolls back)."""
        if self.ctx is not None:
            self.ctx.check_cancelled()


def dialect_of(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def repeatable_read(session: Session) -> None:
    """On PostgreSQL, make every statement of the transaction see one snapshot.

    Batches are separate statements; under READ COMMITTED a concurrent commit between two
    batches would make a copy inconsistent.  Must run before the first statement.  The
    first statement then holds :mod:`dsdesk.catalog.blob_lock` shared, so no other client
    releases a blob the copy is about to point at.
    SQLite needs nothing: its transactions are serializable.
    """
    if dialect_of(session) == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        blob_lock.hold_for_copy(session)


def id_range(session: Session, table, where) -> tuple[int | None, int | None]:
    """(min id, max id) of the rows of *table* matching *where*."""
    lo, hi = session.execute(select(func.min(table.c.id), func.max(table.c.id)).where(where)).one()
    return lo, hi


def reserve_ids(session: Session, table, span: int) -> int:
    """The first id of a block of *span* consecutive ids nobody uses or will be given.

    SQLite: the transaction holds the write lock, so nothing else inserts; ids above the
    current maximum are free.  PostgreSQL: the table's sequence is moved past the block,
    so concurrent inserts by other clients get ids after it.
    """
    cur = session.execute(select(func.max(table.c.id))).scalar() or 0
    if dialect_of(session) != "postgresql":
        return cur + 1
    seq = session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')").bindparams(t=table.name)).scalar()
    # nextval is not transactional: the block [start, start + span] stays ours even if this
    # transaction rolls back (a gap in the ids, never a reuse).
    start = session.execute(text("SELECT GREATEST(nextval(CAST(:s AS regclass)), :cur + 1)")
                            .bindparams(s=seq, cur=cur)).scalar()
    session.execute(text("SELECT setval(CAST(:s AS regclass), :v)").bindparams(s=seq, v=start + span))
    return start


def boundaries(session: Session, dataset_id: int, size: int | None = None,
               table=None) -> list[tuple[int, int]]:
    """Split a dataset's item ids (or *table*'s ids by ``dataset_id``) into ranges
    ``[lo, hi]`` of about *size* (default :data:`BATCH`) rows each, with one pass over the index."""
    size = size or BATCH
    t = (table if table is not None else Item.__table__)
    n, lo, hi = session.execute(select(func.count(), func.min(t.c.id), func.max(t.c.id))
                                .where(t.c.dataset_id == dataset_id)).one()
    if not n:
        return []
    if n <= size:  # one batch: no need to number the rows
        return [(lo, hi)]
    rn = func.row_number().over(order_by=t.c.id).label("rn")
    inner = select(t.c.id.label("id"), rn).where(t.c.dataset_id == dataset_id).subquery()
    starts = [r[0] for r in session.execute(
        select(inner.c.id).where((inner.c.rn - 1) % size == 0).order_by(inner.c.id))]
    return [(a, (starts[i + 1] - 1) if i + 1 < len(starts) else hi) for i, a in enumerate(starts)]


def copy_stats(session: Session, src_id: int, dst_id: int, annotations: bool = True) -> None:
    """Give *dst* the cached statistics of *src*, for a copy of all of src's content.

    The statistics are kept exact by every operation that changes a dataset (see
    :mod:`dsdesk.catalog.stats`), so a full copy has the same ones; recomputing them would
    scan every copied row once more.
    """
    src = select(Dataset.item_count, Dataset.annotated_count, Dataset.annotation_count, Dataset.folder_count,
                 Dataset.bytes_total).where(Dataset.id == src_id)
    n, annotated, ann, folders, size = session.execute(src).one()
    session.execute(update(Dataset).where(Dataset.id == dst_id).values(
        item_count=n, annotated_count=annotated if annotations else 0, annotation_count=ann if annotations else 0,
        folder_count=folders, bytes_total=size, updated_at=func.current_timestamp())
        .execution_options(synchronize_session=False))


def rebase_dir_expr(dir_col, target: str):
    """SQL for the folder an item lands in when copied below *target* (``/`` keeps it)."""
    from sqlalchemy import case

    if target == "/":
        return dir_col
    return case((dir_col == "/", literal(target)), else_=literal(target) + dir_col)


Progress = Callable[[int, int | None, str | None], None]
