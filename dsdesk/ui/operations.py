"""Qt-free operations the window runs on workers: job functions and small reads.

Job functions take ``ctx`` first (see :mod:`dsdesk.jobs.runner`) and open their own
sessions; nothing here imports Qt, so each can be tested and reused headless.
"""

from __future__ import annotations

from dsdesk.catalog import paths

#: SQLite page cache of each of the GUI process's connections, in KiB (the engine's default,
#: 64 MiB, is sized for bulk jobs, which now run in worker processes with the default).
GUI_SQLITE_CACHE_KIB = 8192


def _gui_pragmas(dbapi_con, _record) -> None:
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA mmap_size=0")
    cur.execute(f"PRAGMA cache_size=-{GUI_SQLITE_CACHE_KIB}")
    cur.close()


def tune_catalog_for_gui(db) -> None:
    """Give the GUI process's SQLite connections small memory settings (no-op elsewhere).

    Measured on the 1M-item catalog, streaming the grid's million ids: with the engine's
    defaults (mmap 256 MiB, cache 64 MiB) the process grew by 120 MB of mapped file and
    64 MB of page cache per connection that read; with mmap off and an 8 MiB cache it
    grew by 18 MB and the stream was as fast (1.2-2.0 s either way; the OS page cache
    keeps the file's pages, shared with the job processes).  Jobs and the API/CLI keep
    the engine's defaults.  Connections already open are replaced.
    """
    from sqlalchemy import event

    if db is None or db.dialect != "sqlite" or event.contains(db.engine, "connect", _gui_pragmas):
        return
    event.listen(db.engine, "connect", _gui_pragmas)
    db.engine.dispose()  # pooled connections have the old settings; checked-out ones close on return


def ids_filter(item_ids: list[int]) -> dict:
    """The DQL filter selecting exactly *item_ids*."""
    return {"filter": {"id": {"$in": [int(i) for i in item_ids]}}}


def available(action: str) -> str | None:
    """None when *action* can run with the code installed, else why not (for a tooltip)."""
    try:
        if action in ("clone", "merge", "snapshot", "rollback", "diff"):
            from dsdesk.versioning import jobs

            if not hasattr(jobs, f"{action}_job"):
                return f"this build has no {action} job (dsdesk.versioning.jobs.{action}_job)"
        elif action == "switch_recipe":
            from dsdesk.versioning.merge import switch_recipe  # noqa: F401
        elif action in ("sync", "sync_restore"):
            from dsdesk.sync.engine import sync_job  # noqa: F401
        elif action == "storage":
            from dsdesk.api.projects import Project

            if not hasattr(Project, "drivers"):
                return "the API has no project.drivers yet"
    except ImportError as e:
        return f"not available in this build ({e.name or e})"
    return None


def clone_items_to_folder_job(ctx, src_dataset_id: int, item_ids: list[int], dst_dataset_id: int, folder: str):
    """Job: clone *item_ids* into *folder* of *dst_dataset_id*, each landing in the folder itself.

    ``clone`` keeps each item's relative folder below its target directory; a drop onto a
    folder means "put them here", so the clones are moved into *folder* in the same
    transaction (a name clash refuses the whole operation).
    """
    from sqlalchemy import func, select

    from dsdesk.catalog import stats, tree
    from dsdesk.catalog.models import Item
    from dsdesk.versioning._common import repeatable_read
    from dsdesk.versioning.clone import clone

    target = paths.normalize_dir(folder)
    with ctx.db.session() as s:
        repeatable_read(s)
        before = s.execute(select(func.max(Item.id))).scalar() or 0
        result = clone(s, src_dataset_id, filters=ids_filter(item_ids), dst_dataset_id=dst_dataset_id,
                       target_directory=target, ctx=ctx)
        moved = select(Item.id).where(Item.dataset_id == dst_dataset_id, Item.id > before, Item.dir != target)
        tree.move_items(s, dst_dataset_id, moved, target)
        stats.refresh(s, dst_dataset_id)
    return result


def upload_files_job(ctx, dataset_id: int, local_paths: list[str], folder: str):
    """Job: upload local files and folders into *folder* of a dataset (files from a desktop drop)."""
    from dsdesk.transfer.upload import plan_upload, upload_job

    plan = plan_upload(local_paths if len(local_paths) > 1 else local_paths[0], folder)
    return upload_job(ctx, dataset_id, plan)


def delete_items_job(ctx, dataset_id: int, item_ids: list[int] | None = None, folder: str | None = None):
    """Job: delete items (by id) or a folder with everything under it."""
    from dsdesk.api.catalog import Catalog

    ctx.progress(0, None, "deleting")
    ds = Catalog(ctx.db).dataset_by_id(dataset_id)
    if folder is not None:
        return ds.items.delete(folder=folder)
    return ds.items.delete(items=list(item_ids or []))


def list_snapshots(cat, dataset_id: int) -> list:
    """The dataset's snapshots, newest first (worker thread)."""
    from dsdesk.versioning.snapshots import list_snapshots as _list

    with cat.db.session() as s:
        return sorted(_list(s, dataset_id), key=lambda x: x.created_at or 0, reverse=True)


def read_recipes(cat, dataset_id: int) -> tuple[int | None, list[tuple[int, str, list[str]]]]:
    """(current recipe id, [(id, name, labels)]) of the dataset's project (worker thread)."""
    ds = cat.dataset_by_id(dataset_id)
    return ds.recipe_id, [(r.id, r.name, list(r.label_names)) for r in ds.project.recipes.list()]


def switch_recipe(cat, dataset_id: int, recipe_id: int) -> None:
    """Make *recipe_id* the dataset's recipe (through the API when it has the method)."""
    ds = cat.dataset_by_id(dataset_id)
    method = getattr(ds, "switch_recipe", None)
    if method is not None:
        method(recipe_id)
        return
    from dsdesk.versioning.merge import switch_recipe as _switch

    with cat.db.session() as s:
        _switch(s, dataset_id, recipe_id)


def folder_counts(cat, dataset_id: int, folder: str) -> tuple[int, int]:
    """(items under *folder*, sub-folders under it) for a delete confirmation (worker thread)."""
    f = paths.normalize_dir(folder)
    items, subs = 0, 0
    for d in cat.dataset_by_id(dataset_id).directory_tree.dirs:
        if d.path == f:
            items = d.total
        elif paths.is_under(d.path, f):
            subs += 1
    return items, subs
