"""Sync bookkeeping per dataset (``sync_state``): the run in progress and its cursor, what
the last run did, the auto-sync interval, and which datasets are due for an automatic re-sync.

This is the one place the auto-sync rule lives: a dataset with an interval is due when the
interval has elapsed since its last sync or its last failed attempt (so a dead bucket is not
retried every poll), and no sync of it is queued or running.  :class:`dsdesk.api.autosync.AutoSync`
is its facade for the window and the CLI.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import tombstones
from dsdesk.catalog.guards import live_dataset
from dsdesk.catalog.models import Dataset, Item, Job, SyncListing, SyncState, utcnow
from dsdesk.errors import InvalidInputError
from dsdesk.sync.session import sync_session

MIN_INTERVAL_SECONDS = 10
SYNC_JOB_KIND = "sync"  # the kind every sync job is recorded under in the job table
STALE_RUN = dt.timedelta(hours=6)  # an interrupted listing older than this is restarted, not resumed


@dataclass
class Run:
    """The run a sync continues or starts (see :func:`open_run`)."""

    run_id: str
    cursor: str | None  # the last key fully staged: listing resumes after it
    phase: str  # "listing" or "listed" (staged completely, not applied yet)
    first_sync: bool  # written through the first-sync sink, no diff
    resumed: bool
    staged: int  # rows already staged by the interrupted run (0 for a new one)


def open_run(s: Session, dataset_id: int, dry_run: bool, restore_deleted: bool) -> Run:
    """Resume the dataset's interrupted run, or start a new one, in session *s*.

    A run resumes when it was interrupted while listing or before its apply, less than
    :data:`STALE_RUN` ago, and neither it nor this one is a dry run.  A new run clears any
    staged rows; it is a first sync when the dataset has no item yet and no tombstone
    (deleted keys must be diffed like a re-sync) unless *restore_deleted* forgets them.
    """
    state = s.get(SyncState, dataset_id)
    if state is None:
        state = SyncState(dataset_id=dataset_id, stats={})
        s.add(state)
        s.flush()
    started = (state.stats or {}).get("run_started")
    fresh = started is not None and utcnow() - dt.datetime.fromisoformat(started) < STALE_RUN
    if (state.run_id is not None and state.phase in ("listing", "listed") and fresh
            and not (state.stats or {}).get("run_dry") and not dry_run):
        staged = s.execute(select(func.count()).select_from(SyncListing)
                           .where(SyncListing.dataset_id == dataset_id)).scalar_one()
        return Run(state.run_id, state.cursor, state.phase, bool((state.stats or {}).get("run_bulk")),
                   resumed=True, staged=staged)
    run = Run(uuid.uuid4().hex, None, "listing", False, resumed=False, staged=0)
    # A dataset with no item yet has nothing to diff against: its first sync writes
    # blobs, items and folders page by page (still resumable from the cursor) and
    # skips the staging table, the cost of which dominates a million-key import.
    run.first_sync = not dry_run and s.execute(select(Item.id).where(Item.dataset_id == dataset_id)
                                               .limit(1)).first() is None \
        and (restore_deleted or not tombstones.exist(s, dataset_id))
    s.execute(delete(SyncListing).where(SyncListing.dataset_id == dataset_id))
    state.run_id, state.cursor, state.phase = run.run_id, None, run.phase
    state.stats = {**(state.stats or {}), "run_started": utcnow().isoformat(), "run_dry": dry_run,
                   "run_bulk": run.first_sync}
    state.last_error = None
    return run


def mark_listed(db, dataset_id: int) -> None:
    """The listing is staged completely: a resumed run goes straight to the apply."""
    with sync_session(db) as s:
        s.execute(update(SyncState).where(SyncState.dataset_id == dataset_id).values(phase="listed", cursor=None))


def close_run(s: Session, dataset_id: int, report, now) -> None:
    """End a successful run: drop its staged listing, clear the cursor, keep *report*'s
    summary as ``last`` and *now* as the last sync time."""
    s.execute(delete(SyncListing).where(SyncListing.dataset_id == dataset_id))
    st = s.get(SyncState, dataset_id)
    st.run_id = st.cursor = st.phase = None
    st.last_sync_at = now
    st.last_error = None
    keep = {k: v for k, v in (st.stats or {}).items() if not k.startswith("run_")}
    summary = report.to_json()
    summary.pop("errors", None)
    st.stats = {**keep, "last": summary}


def discard_run(db, dataset_id: int) -> None:
    """Forget a dry run's staged listing: it is not a real run a later sync could resume."""
    with sync_session(db) as s:
        s.execute(delete(SyncListing).where(SyncListing.dataset_id == dataset_id))
        s.execute(update(SyncState).where(SyncState.dataset_id == dataset_id)
                  .values(run_id=None, cursor=None, phase=None))


def sync_state(db, dataset_id: int) -> dict[str, Any]:
    """The dataset's sync bookkeeping: last sync time, interval, last counts, run in
    progress, and how many keys the user deleted that sync keeps out (``deleted_keys``)."""
    with sync_session(db) as s:
        st = s.get(SyncState, int(dataset_id))
        deleted = tombstones.count(s, dataset_id)
        if st is None:
            return {"dataset_id": int(dataset_id), "last_sync_at": None, "interval_seconds": None,
                    "in_progress": False, "phase": None, "last_error": None, "last": None,
                    "deleted_keys": deleted}
        return {"dataset_id": st.dataset_id, "last_sync_at": st.last_sync_at,
                "interval_seconds": st.interval_seconds, "in_progress": st.run_id is not None,
                "phase": st.phase, "last_error": st.last_error, "last": (st.stats or {}).get("last"),
                "deleted_keys": deleted}


def set_interval(db, dataset_id: int, seconds: int | None) -> None:
    """Turn on (every *seconds*, at least 10) or off (None) automatic re-sync of a dataset.

    Raises :class:`~dsdesk.errors.InvalidInputError` for a shorter interval and
    :class:`~dsdesk.errors.NotFoundError` for a dataset that is gone."""
    if seconds is not None:
        seconds = int(seconds)
        if seconds < MIN_INTERVAL_SECONDS:
            raise InvalidInputError(f"auto-sync interval must be at least {MIN_INTERVAL_SECONDS} seconds, "
                                    f"not {seconds}")
    with sync_session(db) as s:
        live_dataset(s, dataset_id)
        st = s.get(SyncState, int(dataset_id))
        if st is None:
            s.add(SyncState(dataset_id=int(dataset_id), stats={}, interval_seconds=seconds))
        else:
            st.interval_seconds = seconds


def datasets_due(db, now: dt.datetime | None = None) -> list[int]:
    """Ids of live datasets whose auto-sync interval has elapsed since their last sync or
    last failed attempt (:func:`mark_attempt`), leaving out those with a sync job still
    queued or running (in this process or another one on the same catalog)."""
    now = now or utcnow()
    busy = (select(Job.dataset_id)
            .where(Job.kind == SYNC_JOB_KIND, Job.finished_at.is_(None), Job.dataset_id.is_not(None)))
    with sync_session(db) as s:
        rows = s.execute(select(SyncState.dataset_id, SyncState.last_sync_at, SyncState.interval_seconds,
                                SyncState.stats)
                         .join(Dataset, Dataset.id == SyncState.dataset_id)
                         .where(SyncState.interval_seconds.is_not(None), Dataset.deleted_at.is_(None),
                                SyncState.dataset_id.not_in(busy))
                         .order_by(SyncState.dataset_id)).all()
    due = []
    for r in rows:
        times = [t for t in (r.last_sync_at, _parse((r.stats or {}).get("last_attempt_at"))) if t is not None]
        if not times or now - max(times) >= dt.timedelta(seconds=r.interval_seconds):
            due.append(r.dataset_id)
    return due


def mark_attempt(db, dataset_id: int) -> None:
    """Record a failed auto-sync as an attempt: it counts for the interval (or a dead bucket
    would be retried every poll) without pretending to be a successful sync."""
    with db.session(write=True) as s:
        st = s.get(SyncState, int(dataset_id))
        if st is not None:
            st.stats = {**(st.stats or {}), "last_attempt_at": utcnow().isoformat()}


def record_error(db, dataset_id: int, message: str) -> None:
    """Keep *message* (cut to 2,000 characters) as the dataset's ``last_error``."""
    with sync_session(db) as s:
        s.execute(update(SyncState).where(SyncState.dataset_id == dataset_id).values(last_error=message[:2000]))


def _parse(s: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(s) if s else None
    except ValueError:
        return None
