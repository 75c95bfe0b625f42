"""A dataset's snapshots: ``dataset.snapshots.list/get/delete``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsdesk.errors import InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.datasets import Dataset



def _snapshot_ref(snapshot):
    """A snapshot's name or id from a name, an id or a SnapshotInfo; anything else (a
    dataset, say: diff and rollback compare with snapshots) is a clear error."""
    if hasattr(snapshot, "frozen_dataset_id"):
        return snapshot.name
    if isinstance(snapshot, (str, int)) and not isinstance(snapshot, bool):
        return snapshot
    raise InvalidInputError(f"a snapshot is given by its name, its id or a SnapshotInfo, not {snapshot!r} "
                            f"({type(snapshot).__name__}); take a snapshot of a dataset to compare with it")


class Snapshots:
    """The snapshots of one dataset (``ds.snapshots``)."""

    def __init__(self, catalog: Catalog, dataset: Dataset):
        self._cat, self._ds = catalog, dataset

    def list(self, include_auto: bool = True) -> list:
        """Every snapshot, oldest first (safety snapshots have ``auto=True``)."""
        from dsdesk.versioning import list_snapshots

        with self._cat.db.session() as s:
            return list_snapshots(s, self._ds.id, include_auto=include_auto)

    def get(self, name: str | None = None, snapshot_id: int | None = None):
        """One snapshot by name or id (NotFoundError otherwise)."""
        from dsdesk.versioning import snapshot_info

        with self._cat.db.session() as s:
            return snapshot_info(s, self._ds.id, snapshot_id if snapshot_id is not None else name)

    def delete(self, name: str | None = None, snapshot_id: int | None = None) -> bool:
        """Delete a snapshot; binaries only it referenced become garbage for ``cat.gc``."""
        from dsdesk.versioning import delete_snapshot

        with self._cat.db.session(write=True) as s:
            delete_snapshot(s, self._ds.id, snapshot_id if snapshot_id is not None else name)
        return True
