"""What a sync did: the report every phase adds its counts and refused keys to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsdesk.catalog.models import SyncListing

MAX_REPORTED_ERRORS = 200  # the report lists this many refused keys; error_count counts them all


@dataclass
class SyncReport:
    """What a sync did (or, for a dry run, would do)."""

    dataset_id: int
    dry_run: bool = False
    delete_missing: bool = False
    listed: int = 0  # objects seen (folder markers included, .dsdesk/ excluded)
    new: int = 0
    changed: int = 0
    renamed: int = 0
    missing: int = 0  # newly marked missing
    restored: int = 0  # marked missing before, present again
    deleted: int = 0  # items deleted because their key vanished (delete_missing)
    unchanged: int = 0
    skipped: int = 0  # listed keys the user deleted from the dataset (tombstoned, object unchanged)
    undeleted: int = 0  # tombstones cleared by restore_deleted (their objects come back as new items)
    folders: int = 0  # folders created
    conflicts: int = 0  # new keys whose path was taken: item created under a suffixed name
    error_count: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    resumed: bool = False
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (job results, the CLI's output)."""
        return asdict(self)

    def summary(self) -> str:
        """One line for a progress bar or a log."""
        kinds = ("new", "changed", "renamed", "missing", "restored", "deleted", "undeleted", "folders",
                 "conflicts")
        parts = [f"{k} {getattr(self, k)}" for k in kinds if getattr(self, k)]
        if self.skipped:
            parts.append(f"skipped {self.skipped} deleted by the user")
        head = "dry run: " if self.dry_run else ""
        errs = f", {self.error_count} error(s)" if self.error_count else ""
        return f"{head}{self.listed} listed: " + (", ".join(parts) or "no change") + errs


def add_error(report: SyncReport, key: str, message: str) -> None:
    """Count a problem with *key* and list it while the report has room."""
    report.error_count += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append({"key": key, "error": message})


def collect_errors(s: Session, d: int, report: SyncReport) -> None:
    """Add the keys the listing refused (staged with their reason) to the report."""
    n = s.execute(select(func.count()).select_from(SyncListing)
                  .where(SyncListing.dataset_id == d, SyncListing.error.is_not(None))).scalar_one()
    rows = s.execute(select(SyncListing.storage_key, SyncListing.error)
                     .where(SyncListing.dataset_id == d, SyncListing.error.is_not(None))
                     .order_by(SyncListing.storage_key).limit(MAX_REPORTED_ERRORS)).all()
    report.error_count += n
    room = MAX_REPORTED_ERRORS - len(report.errors)
    report.errors.extend({"key": k, "error": e} for k, e in rows[:max(0, room)])
