"""Switching a dataset between read-only and writable.

The refusal itself lives in :mod:`dsdesk.catalog.guards`; this only flips the flag.
Snapshots stay read-only whatever is asked: they are immutable by definition.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dsdesk.catalog.guards import live_dataset
from dsdesk.catalog.models import utcnow
from dsdesk.errors import ReadOnlyError


def set_readonly(session: Session, dataset_id: int, readonly: bool = True) -> None:
    """Make the dataset read-only (every content mutation then raises ReadOnlyError) or writable."""
    ds = live_dataset(session, dataset_id)
    if ds.kind == "snapshot":
        if not readonly:
            raise ReadOnlyError(f"snapshot '{ds.name}' is immutable and cannot be made writable")
        return
    ds.readonly = bool(readonly)
    ds.updated_at = utcnow()
    session.flush()
