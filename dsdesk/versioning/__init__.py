"""Zero-copy versioning: clone, merge, snapshots, rollback, diff, read-only and gc.

Every function takes an open Session and works inside its transaction (gc takes the
Database); :mod:`dsdesk.versioning.jobs` wraps each as a job for the runner.
"""

from dsdesk.versioning.clone import CloneResult, clone
from dsdesk.versioning.diff import DiffReport, diff
from dsdesk.versioning.gc import GcReport, gc
from dsdesk.versioning.merge import MergeResult, merge, switch_recipe
from dsdesk.versioning.readonly import set_readonly
from dsdesk.versioning.snapshots import (
                                         RollbackResult,
                                         SnapshotInfo,
                                         delete_snapshot,
                                         get_snapshot,
                                         list_snapshots,
                                         rollback,
                                         snapshot,
                                         snapshot_info,
)

__all__ = [
    "CloneResult", "DiffReport", "GcReport", "MergeResult", "RollbackResult", "SnapshotInfo",
    "clone", "delete_snapshot", "diff", "gc", "get_snapshot", "list_snapshots", "merge", "rollback",
    "set_readonly", "snapshot", "snapshot_info", "switch_recipe",
]
