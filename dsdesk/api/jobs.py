"""Every long operation, described once as a :class:`~dsdesk.jobs.spec.JobSpec`.

One builder per operation the API, the CLI or the GUI starts: the entity methods
(``ds.clone``, ``ds.sync``, ``project.datasets.merge`` ...) run them with
``Catalog.run`` on the calling thread, the window hands the same JobSpec to its job
manager, so the ``job`` table records one operation one way whoever started it.

A builder only describes: it reads nothing and writes nothing; a bad argument raises
:class:`~dsdesk.errors.InvalidInputError` at once.  Job functions are module-level so a
worker process can import them by path, and their arguments pickle (ids, names, DQL).
The domain modules are imported inside the builders, so importing the API does not load
the sync engine or the storage drivers.
"""

from __future__ import annotations

from dsdesk.errors import InvalidInputError
from dsdesk.jobs.spec import JobSpec

#: Modules a worker process needs for these jobs: a fork server imports them once
#: (``dsdesk.jobs.process.add_preload``), so that each job starts in milliseconds.
WORKER_PRELOAD: tuple[str, ...] = (
    "dsdesk.api.jobs",
    "dsdesk.api.catalog",
    "dsdesk.versioning.jobs",
    "dsdesk.sync.engine",
    "dsdesk.transfer.upload",
    "dsdesk.transfer.download",
    "dsdesk.transfer.purge",
    "dsdesk.storage.thumbnails",
)

_ALL = frozenset({"datasets", "folders", "items", "annotations"})


def _id(value, what: str) -> int:
    """An entity or its id as an int (a clear error for anything else)."""
    value = getattr(value, "id", value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInputError(f"{what} must be an id or an entity with an id, not {value!r}")
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(f"{what} must be an id, not {value!r}") from None


def ids_filter(item_ids) -> dict:
    """The DQL filter selecting exactly *item_ids*."""
    return {"filter": {"id": {"$in": [_id(i, "an item") for i in item_ids]}}}


# ---------------------------------------------------------------------------- versioning
def clone(src_dataset_id, clone_name: str | None = None, filters=None, with_items_annotations: bool = True,
          with_metadata: bool = True, with_task_annotations_status: bool = True, dst_dataset_id=None,
          target_directory: str | None = None, item_ids=None, title: str | None = None) -> JobSpec:
    """Clone a dataset (all items, those *filters* selects, or exactly *item_ids*) into a new
    dataset named *clone_name* or into *dst_dataset_id* below *target_directory*."""
    from dsdesk.versioning.jobs import clone_job

    src = _id(src_dataset_id, "the source dataset")
    dst = _id(dst_dataset_id, "the destination dataset") if dst_dataset_id is not None else None
    if clone_name is None and dst is None:
        raise InvalidInputError("a clone needs a clone_name or a dst_dataset_id")
    if item_ids is not None:
        if filters is not None:
            raise InvalidInputError("give filters or item_ids to clone, not both")
        filters = ids_filter(item_ids)
    return JobSpec(
        "clone", title or f"Clone dataset {src} → {clone_name or f'dataset {dst}'}", clone_job, (src,),
        {"clone_name": clone_name, "filters": filters, "with_items_annotations": with_items_annotations,
         "with_metadata": with_metadata, "with_task_annotations_status": with_task_annotations_status,
         "dst_dataset_id": dst, "target_directory": target_directory},
        dataset_id=src,
        spec={"src_dataset_id": src, "clone_name": clone_name, "dst_dataset_id": dst,
              "target_directory": target_directory, "filtered": filters is not None},
        changes={"datasets", "folders", "items"}, in_process=True)


def clone_into_folder(src_dataset_id, item_ids, dst_dataset_id, folder: str, title: str | None = None) -> JobSpec:
    """Clone items (by id) into *folder* of *dst_dataset_id*, each landing in the folder
    itself (a drop of items onto a folder)."""
    from dsdesk.versioning.jobs import clone_into_folder_job

    src, dst = _id(src_dataset_id, "the source dataset"), _id(dst_dataset_id, "the destination dataset")
    ids = [_id(i, "an item") for i in item_ids]
    if not ids:
        raise InvalidInputError("nothing to clone: no item ids")
    return JobSpec("clone", title or f"Clone {len(ids):,} item(s) into dataset {dst}:{folder}", clone_into_folder_job,
                   (src, ids, dst, folder), dataset_id=dst,
                   spec={"src_dataset_id": src, "clone_name": None, "dst_dataset_id": dst,
                         "target_directory": folder, "filtered": True, "items": len(ids)},
                   changes={"datasets", "folders", "items"}, in_process=True)


def merge(merge_name: str, dataset_ids, project_id=None, with_items_annotations: bool = True,
          with_metadata: bool = False, with_task_annotations_status: bool = False,
          title: str | None = None) -> JobSpec:
    """Merge datasets into a new dataset of kind ``merge`` (in *project_id*, default the
    first dataset's project)."""
    from dsdesk.versioning.jobs import merge_job

    ids = [_id(d, "a dataset to merge") for d in dataset_ids]
    if not ids:
        raise InvalidInputError("a merge needs datasets to merge")
    pid = _id(project_id, "the project") if project_id is not None else None
    return JobSpec("merge", title or f"Merge {len(ids)} datasets → {merge_name}", merge_job, (merge_name, ids),
                   {"with_items_annotations": with_items_annotations, "with_metadata": with_metadata,
                    "with_task_annotations_status": with_task_annotations_status, "project_id": pid},
                   dataset_id=ids[0], spec={"merge_name": merge_name, "dataset_ids": ids},
                   changes={"datasets"}, in_process=True)


def snapshot(dataset_id, name: str, description: str = "", title: str | None = None) -> JobSpec:
    """Take a named, read-only snapshot of a dataset."""
    from dsdesk.versioning.jobs import snapshot_job

    ds = _id(dataset_id, "the dataset")
    return JobSpec("snapshot", title or f"Snapshot dataset {ds} as '{name}'", snapshot_job, (ds, name, description),
                   dataset_id=ds, spec={"dataset_id": ds, "name": name}, changes={"datasets"}, in_process=True)


def rollback(dataset_id, snapshot_ref, title: str | None = None) -> JobSpec:
    """Restore a dataset to a snapshot (its name or id), after a safety snapshot."""
    from dsdesk.versioning.jobs import rollback_job

    ds = _id(dataset_id, "the dataset")
    return JobSpec("rollback", title or f"Roll dataset {ds} back to '{snapshot_ref}'", rollback_job,
                   (ds, snapshot_ref), dataset_id=ds, spec={"dataset_id": ds, "snapshot": snapshot_ref},
                   changes=_ALL, in_process=True)


def diff(dataset_id, a=None, b=None, limit: int = 10000, title: str | None = None) -> JobSpec:
    """Compare snapshot *a* with snapshot *b* (None: the dataset as it is now); read-only."""
    from dsdesk.versioning.jobs import diff_job

    ds = _id(dataset_id, "the dataset")
    return JobSpec("diff", title or f"Diff dataset {ds}: {a} → {b or 'now'}", diff_job, (ds, a, b), {"limit": limit},
                   dataset_id=ds, spec={"dataset_id": ds, "a": a, "b": b}, in_process=True)


def gc(dry_run: bool = True, title: str | None = None) -> JobSpec:
    """Find (and unless *dry_run* delete) binaries nothing points at any more."""
    from dsdesk.versioning.jobs import gc_job

    return JobSpec("gc", title or ("Find unused binaries" if dry_run else "Delete unused binaries"), gc_job,
                   (bool(dry_run),), spec={"dry_run": bool(dry_run)}, in_process=True)


# ---------------------------------------------------------------------------- sync
def sync(dataset_id, dry_run: bool = False, delete_missing: bool = False, restore_deleted: bool = False,
         auto: bool = False, title: str | None = None) -> JobSpec:
    """Reconcile a dataset with its external storage (*auto*: started by the auto-sync)."""
    from dsdesk.sync.engine import sync_job

    ds = _id(dataset_id, "the dataset")
    return JobSpec("sync", title or f"{'Auto-sync' if auto else 'Sync'} dataset {ds}", sync_job, (ds,),
                   {"dry_run": dry_run, "delete_missing": delete_missing, "restore_deleted": restore_deleted},
                   dataset_id=ds,
                   spec={"dataset_id": ds, "dry_run": dry_run, "delete_missing": delete_missing,
                         "restore_deleted": restore_deleted, "auto": auto},
                   changes=frozenset() if dry_run else _ALL, in_process=True)


# ---------------------------------------------------------------------------- transfer
def upload(dataset_id, local_path, remote_path: str = "/", remote_name: str | None = None, file_types=None,
           user_metadata: dict | None = None, overwrite: bool = False, description: str | None = None,
           raise_on_error: bool = True, title: str | None = None) -> JobSpec:
    """Upload local files and folders (their sub-trees kept) into *remote_path* of a dataset.

    The job walks *local_path* itself: a missing path fails the job before anything is
    written.  Its result is the new items' ids."""
    from dsdesk.transfer.upload import upload_paths_job

    ds = _id(dataset_id, "the dataset")
    paths = [str(p) for p in local_path] if isinstance(local_path, (list, tuple)) else str(local_path)
    shown = f"{len(paths)} file(s)" if isinstance(paths, list) else paths
    return JobSpec("upload", title or f"Upload {shown} to {remote_path}", upload_paths_job,
                   (ds, paths, remote_path, remote_name, file_types),
                   {"user_metadata": user_metadata, "overwrite": overwrite, "description": description,
                    "raise_on_error": raise_on_error},
                   dataset_id=ds, spec={"dataset_id": ds, "local_path": paths, "remote_path": remote_path,
                                        "remote_name": remote_name, "file_types": file_types, "overwrite": overwrite,
                                        "user_metadata": user_metadata, "description": description},
                   changes={"datasets", "folders", "items"}, in_process=True)


def upload_entries(dataset_id, entries, overwrite: bool = False, raise_on_error: bool = True,
                   title: str | None = None) -> JobSpec:
    """Upload many files that each have their own target folder, name, user metadata and
    description (the rows of a DataFrame upload) as one job; *entries* are dicts with
    ``local_path``, ``remote_path``, ``remote_name``, ``file_types``, ``user_metadata``,
    ``description``.  Its result is the items' ids."""
    from dsdesk.transfer.upload import upload_entries_job

    ds = _id(dataset_id, "the dataset")
    rows = [{k: e.get(k) for k in ("local_path", "remote_path", "remote_name", "file_types", "user_metadata",
                                   "description")} for e in entries]
    for r in rows:
        r["local_path"] = str(r["local_path"])
    return JobSpec("upload", title or f"Upload {len(rows)} row(s)", upload_entries_job, (ds, rows),
                   {"overwrite": overwrite, "raise_on_error": raise_on_error}, dataset_id=ds,
                   spec={"dataset_id": ds, "entries": rows, "overwrite": overwrite},
                   changes={"datasets", "folders", "items"}, in_process=True)


def download(dataset_id, local_path, filters=None, to_items_folder: bool = True, annotation_options=None,
             overwrite: bool = False, title: str | None = None) -> JobSpec:
    """Download a dataset's binaries (those *filters* selects) under *local_path*."""
    from dsdesk.transfer.download import download_job

    ds = _id(dataset_id, "the dataset")
    return JobSpec("download", title or f"Download dataset {ds} to {local_path}", download_job, (ds, str(local_path)),
                   {"filters": filters, "to_items_folder": to_items_folder, "annotation_options": annotation_options,
                    "overwrite": overwrite},
                   dataset_id=ds, spec={"dataset_id": ds, "local_path": str(local_path)}, in_process=True)


# ---------------------------------------------------------------------------- formats
def import_annotations(dataset_id, path, format: str = "coco", skip_bad: bool = False, with_images: bool = True,
                       title: str | None = None) -> JobSpec:
    """Import the annotations of *path* (a file, or a folder of them) in *format* into a
    dataset; a folder that also holds images uploads them first (*with_images*).  Its
    result is the ``ImportReport``; every file is checked before anything is written."""
    from dsdesk.api.format_jobs import import_annotations_job
    from dsdesk.formats import get

    ds, fmt = _id(dataset_id, "the dataset"), get(format).NAME
    return JobSpec("import", title or f"Import {fmt} annotations from {path}", import_annotations_job,
                   (ds, str(path), fmt), {"skip_bad": bool(skip_bad), "with_images": bool(with_images)},
                   dataset_id=ds, spec={"dataset_id": ds, "path": str(path), "format": fmt, "skip_bad": bool(skip_bad),
                                        "with_images": bool(with_images)},
                   changes=_ALL, in_process=True)


def export(dataset_id, path, format: str = "coco", filters=None, with_images: bool = False, link: bool = False,
           split_by_folder: bool = False, title: str | None = None) -> JobSpec:
    """Export a dataset's items (those *filters* selects) and annotations as *format* under
    *path*; *with_images* copies the binaries beside them (*link*: hard links where it
    can); *split_by_folder* makes each top folder a split (COCO files, YOLO train/val).
    Its result is the ``ExportReport``."""
    from dsdesk.api.format_jobs import export_job
    from dsdesk.formats import get

    ds, fmt = _id(dataset_id, "the dataset"), get(format).NAME
    return JobSpec("export", title or f"Export dataset {ds} as {fmt} to {path}", export_job, (ds, str(path), fmt),
                   {"filters": filters, "with_images": bool(with_images), "link": bool(link),
                    "split_by_folder": bool(split_by_folder)},
                   dataset_id=ds, spec={"dataset_id": ds, "path": str(path), "format": fmt,
                                        "with_images": bool(with_images), "filtered": filters is not None},
                   in_process=True)


def purge(dataset_ids, title: str | None = None) -> JobSpec:
    """Remove trashed datasets for good."""
    from dsdesk.transfer.purge import purge_datasets

    ids = [_id(d, "a trashed dataset") for d in dataset_ids]
    return JobSpec("purge", title or f"Purge {len(ids)} dataset(s)", purge_datasets, (ids,),
                   spec={"dataset_ids": ids}, changes={"datasets"}, in_process=True)


def delete_items(dataset_id, item_ids=None, folder: str | None = None, title: str | None = None) -> JobSpec:
    """Delete items (by id), or a folder with everything under it."""
    ds = _id(dataset_id, "the dataset")
    if (item_ids is None) == (folder is None):
        raise InvalidInputError("delete either item_ids or a folder")
    ids = [_id(i, "an item") for i in item_ids] if item_ids is not None else None
    spec = {"dataset_id": ds, "folder": folder} if folder is not None else {"dataset_id": ds, "items": len(ids)}
    what = f"folder {folder}" if folder is not None else f"{len(ids):,} item(s)"
    return JobSpec("delete", title or f"Delete {what}", delete_items_job, (ds, ids, folder), dataset_id=ds,
                   spec=spec, changes={"datasets", "folders", "items"}, in_process=True)


def delete_items_job(ctx, dataset_id: int, item_ids: list[int] | None = None, folder: str | None = None):
    """Job: delete items (by id) or a folder with everything under it, through the API."""
    from dsdesk.api.catalog import Catalog

    ctx.progress(0, None, "deleting")
    ds = Catalog(ctx.db).dataset_by_id(dataset_id)
    if folder is not None:
        return ds.items.delete(folder=folder)
    return ds.items.delete(items=list(item_ids or []))


def bulk_import(dataset_id, driver_id: int, records, mode: str = "skip", title: str | None = None) -> JobSpec:
    """Register many binaries already in the dataset's storage, in one transaction.

    *records* may be a generator, so this job runs where it was built (never in a worker
    process)."""
    ds = _id(dataset_id, "the dataset")
    return JobSpec("import", title or f"Import records into dataset {ds}", import_records_job,
                   (ds, int(driver_id), records, mode), dataset_id=ds, spec={"dataset_id": ds, "mode": mode},
                   changes={"datasets", "folders", "items"}, in_process=False)


def import_records_job(ctx, dataset_id: int, driver_id: int, records, mode: str = "skip") -> int:
    """Job: ingest *records* (``dsdesk.catalog.ingest.Record`` or dicts of its fields);
    returns the number of items created."""
    from collections.abc import Sized

    from dsdesk.catalog import paths, stats
    from dsdesk.catalog.ingest import Record, ingest

    def normalised():
        for r in records:
            if isinstance(r, dict):
                r = dict(r)
                if "filepath" in r:
                    r["dir"], r["name"] = paths.split_filepath(r.pop("filepath"))
                r = Record(**r)
            else:
                r.dir = paths.normalize_dir(r.dir)  # cached per folder in dsdesk.catalog.paths
                paths.check_name(r.name)
            yield r

    with ctx.db.session(write=True) as s:
        res = ingest(s, dataset_id, driver_id, normalised(), mode=mode, collect_ids=False,
                     expected=len(records) if isinstance(records, Sized) else None,
                     on_batch=lambda n: (ctx.check_cancelled(), ctx.progress(n, None, f"{n} records")))
        if res.bytes_created is not None:  # only new items: bump the counts, no recount
            stats.add_items(s, dataset_id, res.created, res.bytes_created, res.folders_created)
        else:
            stats.refresh(s, dataset_id)
    return res.created


# ---------------------------------------------------------------------------- resuming
RESUMABLE = frozenset({"sync", "upload"})


def resume(kind: str, spec: dict) -> JobSpec:
    """The job that continues an interrupted *kind* job recorded with *spec*.

    A sync resumes from its committed cursor (the sync state keeps it); an upload runs again
    over the same paths and skips the files already in the dataset, so neither repeats work
    it committed.  InvalidInputError for other kinds or a spec that lacks what is needed.
    """
    if kind not in RESUMABLE:
        raise InvalidInputError(f"a {kind} job cannot be resumed (only {', '.join(sorted(RESUMABLE))})")
    try:
        ds = spec["dataset_id"]
        if kind == "sync":
            return sync(ds, dry_run=bool(spec.get("dry_run")), delete_missing=bool(spec.get("delete_missing")),
                        restore_deleted=bool(spec.get("restore_deleted")), title=f"Resume sync of dataset {ds}")
        if "entries" in spec:
            return upload_entries(ds, spec["entries"], overwrite=bool(spec.get("overwrite")),
                                  title=f"Resume upload of {len(spec['entries'])} row(s)")
        return upload(ds, spec["local_path"], spec.get("remote_path") or "/", remote_name=spec.get("remote_name"),
                      file_types=spec.get("file_types"), user_metadata=spec.get("user_metadata"),
                      overwrite=bool(spec.get("overwrite")), description=spec.get("description"),
                      title=f"Resume upload to {spec.get('remote_path') or '/'}")
    except (KeyError, TypeError) as e:
        raise InvalidInputError(f"the {kind} job's record lacks what resuming needs ({e})") from None
