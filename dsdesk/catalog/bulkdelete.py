"""Deleting most of the item table: its secondary indexes and name index rebuilt once.

A ``DELETE`` keeps every index of the table up to date one row at a time, and for an
expression index (``dsdesk.query.indexes``: a JSON path of the metadata) that means parsing
the row's JSON again per index; the FTS5 name index takes one 'delete' command per row.
Measured on this 2-core machine, deleting a 1M-item dataset with three metadata indexes
took 18 s: 5.5 s in the name index, 9 s in the metadata indexes, 3.5 s for the rows
themselves.  Rebuilding an index costs a sort of the rows that *remain*, so when a delete
removes at least as many rows as it leaves (purging a big clone or merge), this drops the
secondary indexes and the name index's delete trigger inside the caller's write
transaction, and creates them again and rebuilds the name index from the remaining rows
before it ends.  The same guarantees as :mod:`dsdesk.catalog.bulkload`: SQLite only
(DDL is transactional: readers keep the old table until the commit, a rollback or a kill
restores everything), unique indexes stay.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dsdesk.catalog import bulkload
from dsdesk.catalog.bulkload import IndexDeferral

log = logging.getLogger(__name__)


def worth_rebuilding(session: Session, deleting: int) -> bool:
    """True when deleting *deleting* items is better done with the indexes rebuilt."""
    if session.get_bind().dialect.name != "sqlite" or deleting < bulkload.MIN_ROWS:
        return False
    total = session.execute(text("SELECT count(*) FROM item")).scalar() or 0
    return deleting >= total - deleting


#: The name index's delete trigger (migration 0014): dropped for a bulk delete, not paused.
_DELETE_TRIGGER = "item_name_fts_ad"
#: The tables whose rows a purge deletes along with their datasets.
_PURGED_TABLES = ("item", "annotation", "task_status")
_ON_DELETE = re.compile(r"\b(BEFORE|AFTER)\s+DELETE\s+ON\b", re.IGNORECASE)
#: FTS5's default ``automerge`` (used when the catalog never set one).
_FTS_AUTOMERGE = 4


@contextmanager
def bulk_item_delete(session: Session, deleting: int) -> Iterator[bool]:
    """Run the enclosed delete of about *deleting* items with the item indexes and the name
    index rebuilt at the end when that pays (module docstring); yields whether it does."""
    if not worth_rebuilding(session, deleting):
        yield False
        return
    deferral = IndexDeferral(session, "item")
    deferral.drop_now()
    # Dropped, not paused: a paused trigger still runs its WHEN test for every deleted
    # row (1.8 s of CPU for 2M rows); the name index is rebuilt anyway.
    trigger = session.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                              {"n": _DELETE_TRIGGER}).scalar()
    if trigger is not None:
        session.execute(text(f"DROP TRIGGER {_DELETE_TRIGGER}"))
    try:
        yield True
    finally:
        if trigger is not None:
            session.connection().exec_driver_sql(trigger)  # SQLite's own text, no parameters
        deferral.restore()
    _rebuild_name_index(session)


def _rebuild_name_index(session: Session) -> None:
    """Rebuild the external-content name index from the remaining items, with FTS5's
    incremental merging off meanwhile (30 % less CPU: the rebuild writes its segments
    once instead of merging them as it goes; later writes merge them as usual)."""
    con = session.connection()
    automerge = con.exec_driver_sql("SELECT v FROM item_name_fts_config WHERE k = 'automerge'").scalar()
    con.exec_driver_sql("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('automerge', 0)")
    # 'rebuild' empties the index and reads every remaining item.
    con.exec_driver_sql("INSERT INTO item_name_fts(item_name_fts) VALUES ('rebuild')")
    con.exec_driver_sql("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('automerge', ?)",
                        (_FTS_AUTOMERGE if automerge is None else int(automerge),))


@contextmanager
def row_triggers_off(session: Session) -> Iterator[int]:
    """Drop the per-row DELETE triggers of items, annotations and task statuses for the
    enclosed delete of whole datasets, and create them again before it ends; yields how
    many were dropped.

    Those triggers keep something of the deleted row's own dataset: the copy-on-write
    history of a dataset with a live snapshot point (migration 0018) archives the old
    row.  A purge deletes the dataset, its snapshots and their history together, so the
    archive would be written only to be deleted; each trigger still costs its ``WHEN``
    test (dataset look-ups) per row, 2M times when a clone and a merge go.  The name
    index's trigger is not one of them (the index is the whole catalog's):
    :func:`bulk_item_delete` decides about it.  SQLite only (transactional DDL, as in
    the module docstring); elsewhere nothing changes.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield 0
        return
    con = session.connection()
    found = [(name, sql) for name, sql in con.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (?, ?, ?)", _PURGED_TABLES)
        if name != _DELETE_TRIGGER and _ON_DELETE.search(sql)]
    for name, _ in found:
        con.exec_driver_sql(f'DROP TRIGGER "{name}"')

    def restore():
        for _, sql in found:
            con.exec_driver_sql(sql)  # SQLite's own text, no parameters

    try:
        yield len(found)
    except BaseException:
        # When the transaction itself is gone, its rollback restored them already.
        try:
            restore()
        except SQLAlchemyError as e:
            log.debug("delete triggers not recreated after a failed purge: %s", e)
        raise
    restore()
