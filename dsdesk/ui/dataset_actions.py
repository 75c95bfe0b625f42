"""What the dataset actions do: clone, merge, snapshot, rollback, diff, switch recipe, sync,
read-only, delete and properties (declared in :mod:`dsdesk.ui.actions`).

Each handler asks its questions with a dialog, then starts the operation the API
describes (:mod:`dsdesk.api.jobs`) on the window's job manager, or a short write on its
task runner.  Catalog reads run on the task runner, never on the GUI thread.  The
handlers see the window only through :class:`ActionHost`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtWidgets import QWidget

from dsdesk.api import jobs as api_jobs
from dsdesk.api.autosync import AutoSync
from dsdesk.jobs.spec import JobSpec
from dsdesk.ui.dialogs import common as dialogs


class ActionHost(Protocol):
    """What the action handlers need of the window (and nothing else of it)."""

    cat: Any
    jobs: Any  # dsdesk.ui.jobs.JobManager
    tasks: Any  # dsdesk.ui.tasks.TaskRunner
    current_dataset_id: int | None

    def widget(self) -> QWidget: ...  # the parent of the dialogs

    def dataset_row(self, dataset_id: int | None) -> Any: ...  # the library's row, or None

    def dataset_name(self, dataset_id: int) -> str: ...

    def project_datasets(self, dataset_id: int) -> list[tuple[int, str]]: ...

    def selected_item_ids(self) -> list[int]: ...

    def search_text(self) -> str: ...

    def current_filter(self) -> Any: ...

    def current_folder(self) -> str: ...

    def set_current_folder(self, path: str) -> None: ...

    def reload_folders(self, select: str | None = None) -> None: ...

    def run_write(self, title: str, fn: Callable[[], Any], changes=frozenset(),
                  on_done: Callable[[Any], None] | None = None) -> None: ...

    def show_error(self, title: str, message: str, details: str = "") -> None: ...

    def show_status(self, message: str, ms: int = 4000) -> None: ...


def newest_first(snapshots: list) -> list:
    """Snapshots as the version dialogs list them: the newest first."""
    return sorted(snapshots, key=lambda x: x.created_at or 0, reverse=True)


class DatasetActionHandlers:
    """The dataset actions' handlers: ``run(action_id, dataset_ids)`` (GUI thread)."""

    def __init__(self, host: ActionHost):
        self.host = host
        self.autosync = AutoSync(host.cat)
        self.last_diff_dialog = None  # the newest diff report (tests read it)
        self.last_format_report = None  # the newest import/export report (tests read it)

    def run(self, name: str, dataset_ids, **kw) -> None:
        """Run the dataset action *name* on *dataset_ids* (every route ends here)."""
        h = self.host
        ids = [int(i) for i in dataset_ids]
        handler = getattr(self, name, None) if not name.startswith("_") else None
        if handler is None or name == "run":
            h.show_error("Unknown action", f"dsdesk has no dataset action named {name!r}")
            return
        if not ids:
            h.show_status("Select a dataset first")
            return
        handler(ids, **kw)

    def _submit(self, job: JobSpec, **kw) -> None:
        self.host.jobs.submit(job, **kw)

    def _read(self, fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
        self.host.tasks.run(fn, then)

    # ---- versioning ------------------------------------------------------------------
    def clone(self, ids: list[int], scope: str | None = None) -> None:
        """Clone the first dataset (all, the grid's selected items, or its search)."""
        from dsdesk.ui.dialogs.clone import CloneDialog

        h, src = self.host, ids[0]
        current = src == h.current_dataset_id
        selected = h.selected_item_ids() if current else []
        search = h.search_text().strip() if current else ""
        p = CloneDialog.ask(h.widget(), h.dataset_name(src), src, h.project_datasets(src), len(selected), search)
        if p is None:
            return
        filters, item_ids = None, None
        if p.scope == "selected" and selected:
            item_ids = selected
        elif p.scope == "search" and current:
            filters = h.current_filter()
        what = {"selected": f"{len(selected):,} item(s) of ", "search": "a search of "}.get(p.scope, "")
        dest = p.clone_name or h.dataset_name(p.dst_dataset_id)
        self._submit(api_jobs.clone(
            src, clone_name=p.clone_name, filters=filters, item_ids=item_ids,
            with_items_annotations=p.with_items_annotations, with_metadata=p.with_metadata,
            with_task_annotations_status=p.with_task_annotations_status, dst_dataset_id=p.dst_dataset_id,
            target_directory=p.target_directory, title=f"Clone {what}{h.dataset_name(src)} → {dest}"))

    def merge(self, ids: list[int]) -> None:
        """Merge datasets (chosen in the dialog, the selected ones ticked) into a new one."""
        from dsdesk.api.merge_plan import plan_merge
        from dsdesk.ui.dialogs.merge import MergeDialog

        h, base = self.host, ids[0]
        p = MergeDialog.ask(h.widget(), base, h.project_datasets(base), lambda d: plan_merge(h.cat, d),
                            preselected=ids)
        if p is None:
            return
        names = ", ".join(h.dataset_name(i) for i in p.dataset_ids)
        self._submit(api_jobs.merge(p.merge_name, p.dataset_ids, with_items_annotations=p.with_items_annotations,
                                    with_metadata=p.with_metadata,
                                    with_task_annotations_status=p.with_task_annotations_status,
                                    title=f"Merge {names} → {p.merge_name}"))

    def snapshot(self, ids: list[int]) -> None:
        """Snapshot each dataset, asking for each one's name."""
        from dsdesk.ui.dialogs.versions import SnapshotDialog

        h = self.host
        for ds in ids:
            p = SnapshotDialog.ask(h.widget(), h.dataset_name(ds))
            if p is None:
                return
            self._submit(api_jobs.snapshot(ds, p.name, p.description,
                                           title=f"Snapshot {h.dataset_name(ds)} as '{p.name}'"))

    def _with_snapshots(self, ds: int, then: Callable[[list], None]) -> None:
        self._read(lambda: newest_first(self.host.cat.dataset_by_id(ds).snapshots.list()), then)

    def rollback(self, ids: list[int]) -> None:
        """Roll a dataset back to a snapshot picked from its list."""
        from dsdesk.ui.dialogs.versions import RollbackDialog

        h, ds = self.host, ids[0]

        def ask(snaps) -> None:
            if not snaps:
                h.show_error("Rollback", f"'{h.dataset_name(ds)}' has no snapshot to roll back to")
                return
            name = RollbackDialog.ask(h.widget(), h.dataset_name(ds), snaps)
            if name is not None:
                self._submit(api_jobs.rollback(ds, name, title=f"Roll {h.dataset_name(ds)} back to '{name}'"))

        self._with_snapshots(ds, ask)

    def diff(self, ids: list[int]) -> None:
        """Compare two versions of one dataset and show the report."""
        from dsdesk.ui.dialogs.versions import DiffDialog, DiffReportDialog

        h = self.host
        if len(ids) > 1:
            h.show_error("Diff", "Diff compares versions (snapshots) of one dataset: select one dataset")
            return
        ds = ids[0]

        def show(report) -> None:
            dlg = DiffReportDialog(h.widget(), report)
            self.last_diff_dialog = dlg
            dlg.show()

        def ask(snaps) -> None:
            if not snaps:
                h.show_error("Diff", f"'{h.dataset_name(ds)}' has no snapshot to compare with: take one first")
                return
            ab = DiffDialog.ask(h.widget(), h.dataset_name(ds), snaps)
            if ab is not None:
                a, b = ab
                self._submit(api_jobs.diff(ds, a, b, title=f"Diff {h.dataset_name(ds)}: {a} → {b or 'now'}"),
                             on_success=show)

        self._with_snapshots(ds, ask)

    # ---- formats ---------------------------------------------------------------------
    def import_annotations(self, ids: list[int]) -> None:
        """Import annotations (and a shipped folder's images) into the first dataset."""
        from dsdesk.api.format_jobs import formats
        from dsdesk.ui.dialogs.formats import FormatReportDialog, ImportDialog

        h, ds = self.host, ids[0]
        p = ImportDialog.ask(h.widget(), h.dataset_name(ds), formats())
        if p is None:
            return
        title = f"Import {p.format} into {h.dataset_name(ds)}"

        def show(report) -> None:
            self.last_format_report = dlg = FormatReportDialog(h.widget(), title, report)
            dlg.show()
            h.reload_folders()

        self._submit(api_jobs.import_annotations(ds, p.path, format=p.format, skip_bad=p.skip_bad,
                                                 with_images=p.with_images, title=title), on_success=show)

    def export(self, ids: list[int]) -> None:
        """Export the first dataset (or its current search) in a format."""
        from dsdesk.api.format_jobs import formats
        from dsdesk.ui.dialogs.formats import ExportDialog, FormatReportDialog

        h, ds = self.host, ids[0]
        search = h.search_text().strip() if ds == h.current_dataset_id else ""
        p = ExportDialog.ask(h.widget(), h.dataset_name(ds), formats(), search)
        if p is None:
            return
        title = f"Export {h.dataset_name(ds)} as {p.format}"

        def show(report) -> None:
            self.last_format_report = dlg = FormatReportDialog(h.widget(), title, report)
            dlg.show()

        self._submit(api_jobs.export(ds, p.path, format=p.format, with_images=p.with_images, link=p.link,
                                     split_by_folder=p.split_by_folder,
                                     filters=h.current_filter() if p.scope == "search" else None, title=title),
                     on_success=show)

    def switch_recipe(self, ids: list[int]) -> None:
        """Give the datasets another recipe of their project (e.g. before a merge)."""
        from dsdesk.ui.dialogs.recipe import SwitchRecipeDialog

        h, ds = self.host, ids[0]

        def read():
            d = h.cat.dataset_by_id(ds)
            return d.recipe_id, [(r.id, r.name, list(r.label_names)) for r in d.project.recipes.list()]

        def ask(data) -> None:
            current, recipes = data
            rid = SwitchRecipeDialog.ask(h.widget(), h.dataset_name(ds), current, recipes)
            if rid is None or rid == current:
                return
            for d in ids:
                h.run_write(f"Switch the recipe of {h.dataset_name(d)}",
                            lambda d=d: h.cat.dataset_by_id(d).switch_recipe(recipe_id=rid), changes={"datasets"})

        self._read(read, ask)

    def edit_recipe(self, ids: list[int]) -> None:
        """Edit the labels of the dataset's recipe (names, colours, children) and save them."""
        from dsdesk.api.label_edits import read_recipe_labels, save_label_edits
        from dsdesk.ui.annotations.recipe_editor import RecipeEditorDialog

        h, ds = self.host, ids[0]

        def ask(labels) -> None:
            edits = RecipeEditorDialog.ask(h.widget(), labels)
            if edits:
                h.run_write(f"Save the labels of {labels.dataset_name}",
                            lambda: save_label_edits(h.cat, ds, edits), changes={"datasets", "labels"})

        self._read(lambda: read_recipe_labels(h.cat, ds), ask)

    # ---- sync ------------------------------------------------------------------------
    def sync(self, ids: list[int], auto: bool = False, restore_deleted: bool = False) -> None:
        """Sync each dataset with its storage, as a job (one sync of a dataset at a time)."""
        h = self.host
        for ds in ids:
            if any(j.kind == "sync" and j.dataset_id == ds and not j.finished for j in h.jobs.handles.values()):
                continue
            on_failure = (lambda _ev, ds=ds: h.tasks.run(lambda: self.autosync.record_failure(ds), None)) if auto \
                else None
            self._submit(api_jobs.sync(ds, restore_deleted=restore_deleted, auto=auto,
                                       title=f"{'Auto-sync' if auto else 'Sync'} {h.dataset_name(ds)}"),
                         on_failure=on_failure)

    def sync_restore(self, ids: list[int]) -> None:
        """Sync after forgetting the items the user deleted, so their keys come back.

        Sync keeps deleted keys out while their object is unchanged (tombstones); this asks
        first, with how many would come back, since it undoes deletions.
        """
        h = self.host

        def ask(counts: dict[int, int]) -> None:
            total = sum(counts.values())
            if total == 0:
                h.show_status("No deleted items to bring back: syncing as usual")
            elif not dialogs.confirm(
                    h.widget(), "Bring back deleted items",
                    f"{total:,} item(s) deleted in dsdesk are still in storage and are kept out of "
                    f"{', '.join(h.dataset_name(i) for i in ids)} by sync.\n"
                    "Sync now and bring them back as new items (without their old annotations)?", "Sync"):
                return
            self.sync(ids, restore_deleted=True)

        self._read(lambda: {ds: h.cat.dataset_by_id(ds).sync_status["deleted_keys"] for ds in ids}, ask)

    def sync_due(self) -> None:
        """Sync the datasets whose auto-sync interval has elapsed (the check runs off the GUI thread)."""
        self.host.tasks.run(self.autosync.due, lambda due: due and self.sync(list(due), auto=True), key="auto-sync")

    # ---- the dataset itself ------------------------------------------------------------
    def readonly(self, ids: list[int]) -> None:
        """Lock the datasets, or unlock them when all are locked."""
        h = self.host
        rows = [h.dataset_row(i) for i in ids]
        state = not all(r is not None and r.readonly for r in rows)
        for ds in ids:
            h.run_write(f"{'Lock' if state else 'Unlock'} {h.dataset_name(ds)}",
                        lambda ds=ds: h.cat.dataset_by_id(ds).set_readonly(state), changes={"datasets"})

    def delete(self, ids: list[int]) -> None:
        """Move the datasets to the trash, after a confirmation."""
        h = self.host
        rows = [h.dataset_row(i) for i in ids]
        items = sum(r.items_count for r in rows if r is not None)
        names = ", ".join(h.dataset_name(i) for i in ids)
        if not dialogs.confirm(h.widget(), "Delete datasets",
                               f"Move {names} ({items:,} item(s)) to the trash?\n"
                               "Trashed datasets can be restored until they are purged.", "Delete", danger=True):
            return
        for ds in ids:
            h.run_write(f"Delete {h.dataset_name(ds)}", lambda ds=ds: h.cat.dataset_by_id(ds).delete(),
                        changes={"datasets"})

    def properties(self, ids: list[int]) -> None:
        """Show a dataset's facts; save its description and user metadata."""
        from dsdesk.api.dataset_facts import read_dataset_facts, save_dataset_properties
        from dsdesk.ui.conflict_dialog import save_resolving
        from dsdesk.ui.dialogs.properties import DatasetPropertiesDialog

        h, ds = self.host, ids[0]

        def ask(facts) -> None:
            ans = DatasetPropertiesDialog.ask(h.widget(), facts)
            if ans is None or facts.dataset.readonly:
                return
            d = facts.dataset
            # Someone else's newer save merges; the same key changed by both is asked about.
            save_resolving(h, f"Save the properties of {d.name}",
                           lambda: save_dataset_properties(d, ans.description, ans.user_metadata),
                           lambda e, choices: d.resolve_conflicts(e, choices).update(), changes={"datasets"})

        self._read(lambda: read_dataset_facts(h.cat, ds), ask)
