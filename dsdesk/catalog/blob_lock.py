"""One lock between copying items (clone, merge, snapshot, rollback) and releasing blobs
(deleting items' binaries, gc), for PostgreSQL.

A copy runs on a REPEATABLE READ snapshot and inserts items pointing at the blobs its source
items point at.  A delete in another client commits its item deletion and then releases the
blobs nothing points at any more: it cannot see the copy's uncommitted items, so it dropped
blob rows (and files) the copy was about to reference, and the copy failed on the foreign key
(``could not serialize access due to concurrent update``, tests/versioning/test_races.py).

So a copy holds a transaction-level advisory lock in shared mode from its first statement
(copies do not wait for each other), and a release takes it exclusively.  A copy whose
snapshot predates an item deletion thus finishes before that deletion's blobs are released,
and the release then sees the copy's items; a copy that starts while a release runs waits
for it (one short transaction) and its snapshot no longer has the deleted items.

SQLite needs none of this: its writers take the database's write lock one at a time.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: The advisory lock's key (``dsdesk_blobs`` in ASCII, folded to 63 bits).
KEY = int.from_bytes(b"dsdesk_b", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def hold_for_copy(session: Session) -> None:
    """Hold the lock shared until the transaction ends.  Call it as the transaction's first
    statement: a copy that waits here for a release then has a snapshot taken after that
    release's items were deleted."""
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": KEY})


def hold_for_release(session: Session) -> None:
    """Hold the lock exclusively until the transaction ends, waiting for running copies."""
    if _postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": KEY})


def try_hold_for_release(session: Session) -> bool:
    """Take the lock exclusively if no copy is running; False (nothing taken) when one is."""
    if not _postgres(session):
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": KEY}).scalar())
