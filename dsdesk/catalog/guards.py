"""Checks every mutation passes before it touches a dataset's content.

Read-only is enforced here, under the API, so the GUI, the CLI, scripts, sync and
versioning all get the same refusal with the same message.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from dsdesk.catalog.changes import touch
from dsdesk.catalog.models import Dataset
from dsdesk.errors import NotFoundError, ReadOnlyError


def live_dataset(session: Session, dataset_id: int) -> Dataset:
    """The dataset with *dataset_id*, unless it does not exist or is in the trash."""
    ds = session.get(Dataset, int(dataset_id))
    if ds is None or ds.deleted_at is not None:
        raise NotFoundError(f"dataset {dataset_id} not found")
    return ds


def writable_dataset(session: Session, dataset_id: int, action: str = "modify") -> Dataset:
    """The dataset with *dataset_id* if its content may be changed; else ReadOnlyError.

    *action* words the refusal ("upload to", "move items in", ...).
    """
    ds = live_dataset(session, dataset_id)
    if ds.kind == "snapshot":
        raise ReadOnlyError(f"cannot {action} snapshot '{ds.name}': snapshots are immutable")
    if ds.readonly:
        raise ReadOnlyError(f"cannot {action} dataset '{ds.name}': it is read-only "
                            "(ds.set_readonly(False) to allow changes)")
    touch(session, ds.id)  # the change feed names this dataset if the transaction writes
    return ds
