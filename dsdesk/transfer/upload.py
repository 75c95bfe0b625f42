"""Uploading local files into a dataset (a job).

:func:`plan_upload` turns the user's ``local_path`` into a list of (local file, folder,
name) *before* anything is written, so a missing path or an illegal name fails with the
catalog untouched.  :func:`upload_job` stores the bytes through the dataset's driver and
records them through the bulk ingest path, committing in batches so the GUI sees progress
and an interrupted upload keeps what was done.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from dsdesk.catalog import paths, stats
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.ingest import Record, ingest
from dsdesk.catalog.models import Dataset, Driver
from dsdesk.errors import DsdeskError, InvalidInputError, InvalidPathError, NotFoundError
from dsdesk.storage.media import probe

COMMIT_EVERY = 200  # files per transaction


@dataclass
class UploadPlan:
    """What an upload will do: (local file, target folder, target name) triples."""

    files: list[tuple[str, str, str]] = field(default_factory=list)
    single: bool = False
    #: Per file (index-aligned with *files*), when each has its own: (user metadata, description).
    per_file: list[tuple[dict | None, str | None]] = field(default_factory=list)


def _wanted(name: str, file_types) -> bool:
    if not file_types:
        return True
    ext = os.path.splitext(name)[1].lower()
    return ext in {(t if t.startswith(".") else "." + t).lower() for t in file_types}


def plan_upload(local_path, remote_path: str = "/", remote_name: str | None = None, file_types=None) -> UploadPlan:
    """Resolve *local_path* (file, folder, ``folder/*``, or a list of them) into an UploadPlan.

    Raises NotFoundError for a missing path and InvalidPathError for an illegal target path.
    """
    base = paths.normalize_dir(remote_path)
    plan = UploadPlan()
    sources = list(local_path) if isinstance(local_path, (list, tuple)) else [local_path]
    if not sources:
        raise InvalidInputError("nothing to upload: local_path is empty")
    for src in sources:
        src = os.fspath(src)
        if src.endswith(("/*", os.sep + "*")):  # Dataloop: 'dir/*' drops the head folder
            head = src[:-2]
            if not os.path.isdir(head):
                raise NotFoundError(f"no such folder: {head}")
            for child in sorted(glob.glob(os.path.join(glob.escape(head), "*"))):
                _add(plan, child, base, None, file_types)
            continue
        if not os.path.exists(src):
            raise NotFoundError(f"no such file or folder: {src}")
        if os.path.isdir(src):
            name = os.path.basename(os.path.normpath(src))
            _add(plan, src, base, name, file_types)
        else:
            _add(plan, src, base, remote_name if len(sources) == 1 else None, file_types)
    plan.single = is_single_file(local_path)
    seen = set()
    for _, d, n in plan.files:
        if (d, n) in seen:
            raise InvalidPathError(f"two files would be uploaded to {paths.join(d, n)}")
        seen.add((d, n))
    return plan


def plan_entries(entries) -> UploadPlan:
    """One plan for many uploads that each have their own target and metadata (the rows of a
    DataFrame upload): *entries* are dicts with ``local_path``, ``remote_path``,
    ``remote_name``, ``file_types``, ``user_metadata`` and ``description``.  Checked whole
    before anything is written, as :func:`plan_upload`."""
    plan = UploadPlan()
    seen: set[tuple[str, str]] = set()
    for e in entries:
        part = plan_upload(e["local_path"], e.get("remote_path") or "/", e.get("remote_name"), e.get("file_types"))
        for f in part.files:
            if f[1:] in seen:
                raise InvalidPathError(f"two files would be uploaded to {paths.join(f[1], f[2])}")
            seen.add(f[1:])
            plan.per_file.append((e.get("user_metadata"), e.get("description")))
        plan.files.extend(part.files)
    if not plan.files and not entries:
        raise InvalidInputError("nothing to upload: no rows")
    return plan


def upload_entries_job(ctx, dataset_id: int, entries, overwrite: bool = False, raise_on_error: bool = True) -> list[int]:
    """Job: :func:`plan_entries` then :func:`upload_job`; returns the item ids."""
    return upload_job(ctx, dataset_id, plan_entries(entries), overwrite=overwrite, raise_on_error=raise_on_error)


def _add(plan: UploadPlan, src: str, base: str, name: str | None, file_types) -> None:
    if os.path.isdir(src):
        top = paths.normalize_dir(paths.join(base, paths.check_name(name or os.path.basename(src))))
        root = Path(src)
        for dirpath, dirnames, filenames in os.walk(src):
            dirnames.sort()
            rel = Path(dirpath).relative_to(root).as_posix()
            folder = top if rel == "." else paths.normalize_dir(top + "/" + rel)
            for f in sorted(filenames):
                if _wanted(f, file_types):
                    plan.files.append((os.path.join(dirpath, f), folder, paths.check_name(f)))
    elif _wanted(src, file_types) or name:
        plan.files.append((src, base, paths.check_name(name or os.path.basename(src))))


def _ids_at(session, dataset_id: int, where: list[tuple[str, str]]) -> list[int]:
    from sqlalchemy import select, tuple_

    from dsdesk.catalog.models import Item

    if not where:
        return []
    q = select(Item.id).where(Item.dataset_id == dataset_id, tuple_(Item.dir, Item.name).in_(where))
    return list(session.execute(q).scalars())


def open_dataset_driver(db, session, dataset_id: int):
    """The StorageDriver that holds the dataset's binaries, and the driver row."""
    ds = session.get(Dataset, dataset_id)
    row = session.get(Driver, ds.driver_id)
    from dsdesk.transfer.reader import driver_for_row

    return driver_for_row(db, row), row


def upload_paths_job(ctx, dataset_id: int, local_path, remote_path: str = "/", remote_name: str | None = None,
                     file_types=None, **kwargs) -> list[int]:
    """Job: :func:`plan_upload` then :func:`upload_job` (the plan is made by the job, so a
    dropped folder of many files is walked off the caller's thread); returns the item ids."""
    return upload_job(ctx, dataset_id, plan_upload(local_path, remote_path, remote_name, file_types), **kwargs)


def is_single_file(local_path) -> bool:
    """True when an upload of *local_path* gives one item: one file, alone or in a list."""
    sources = list(local_path) if isinstance(local_path, (list, tuple)) else [local_path]
    return len(sources) == 1 and os.path.isfile(os.fspath(sources[0]))


def upload_job(ctx, dataset_id: int, plan: UploadPlan, user_metadata: dict | None = None,
               overwrite: bool = False, description: str | None = None, raise_on_error: bool = True) -> list[int]:
    """Job: store every planned file and record it as an item; returns the item ids.

    Files that cannot be read are skipped and reported together at the end (as one
    DsdeskError when *raise_on_error*), after every other file was uploaded.
    """
    db = ctx.db
    with db.session() as s:
        writable_dataset(s, dataset_id, "upload to")
        driver, row = open_dataset_driver(db, s, dataset_id)
        driver_id, prefix = row.id, (row.prefix or "").strip("/")
    ids: list[int] = []
    errors: list[str] = []
    total = len(plan.files)
    ctx.progress(0, total, f"uploading {total} files")
    for start in range(0, total, COMMIT_EVERY):
        ctx.check_cancelled()
        records = []
        for i, (local, d, n) in enumerate(plan.files[start:start + COMMIT_EVERY], start):
            meta_user, desc = plan.per_file[i] if plan.per_file else (user_metadata, description)
            try:
                key = None if row.kind == "internal" else "/".join(p for p in (prefix, paths.join(d, n).lstrip("/")) if p)
                stored = driver.put_file(local, key)
                with open(local, "rb") as f:
                    info = probe(f, n)
            except (OSError, DsdeskError) as e:
                errors.append(f"{local}: {e}")
                continue
            records.append(Record(dir=d, name=n, storage_key=stored.storage_key, size=stored.size,
                                  etag=stored.etag, content_hash=stored.content_hash, mimetype=info["mimetype"],
                                  width=info["width"], height=info["height"],
                                  meta_user=dict(meta_user or {}),
                                  meta_system={"originalname": os.path.basename(local)}, description=desc))
        with db.session(write=True) as s:
            ingest(s, dataset_id, driver_id, records, mode="overwrite" if overwrite else "skip", collect_ids=False)
            stats.refresh(s, dataset_id)
            # Created, overwritten and skipped (already there) alike: the caller gets every item it named.
            ids.extend(_ids_at(s, dataset_id, [(r.dir, r.name) for r in records]))
        ctx.progress(min(start + COMMIT_EVERY, total), total, f"uploaded {min(start + COMMIT_EVERY, total)}/{total}")
    if errors and raise_on_error:
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise DsdeskError(f"{len(errors)} of {total} files could not be uploaded: " + "; ".join(errors[:5]) + more)
    return ids
