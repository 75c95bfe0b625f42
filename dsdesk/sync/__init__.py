"""Sync: reconcile a dataset with the driver's prefix (list -> stage -> diff -> apply), resumable.

The public names live here; the phases have one module each (see :mod:`dsdesk.sync.engine`
for the run and the order of the phases).
"""

from dsdesk.sync.engine import SyncReport, run_sync, sync_dataset, sync_job
from dsdesk.sync.state import datasets_due, mark_attempt, set_interval, sync_state

__all__ = ["SyncReport", "datasets_due", "mark_attempt", "run_sync", "set_interval", "sync_dataset", "sync_job",
           "sync_state"]
