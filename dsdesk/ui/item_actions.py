"""What the folder and item actions do (declared in :mod:`dsdesk.ui.actions`): new, rename
and delete folder, upload, delete items, and the drops onto the library's trees (move,
clone into a folder or a dataset, upload desktop files).

Short writes go through the window's task runner, long ones are jobs the API describes
(:mod:`dsdesk.api.jobs`).  The handlers see the window only through
:class:`~dsdesk.ui.dataset_actions.ActionHost`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from dsdesk.api import jobs as api_jobs
from dsdesk.ui.dataset_actions import ActionHost
from dsdesk.ui.dialogs import common as dialogs


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> str | None:
    """Ask for one line of text; None when cancelled (tests patch this function)."""
    value, ok = QInputDialog.getText(parent, title, label, text=text)
    return value.strip() if ok and value.strip() else None


def ask_files(parent: QWidget | None, title: str) -> list[str]:
    """Ask for local files to upload (tests patch this function)."""
    files, _ = QFileDialog.getOpenFileNames(parent, title)
    return files


class ItemActionHandlers:
    """Folder and item actions and drops on the current dataset (GUI thread)."""

    def __init__(self, host: ActionHost):
        self.host = host

    # ---- folders ---------------------------------------------------------------------
    def new_folder(self) -> None:
        """Create a folder under the current one."""
        h = self.host
        ds, parent = h.current_dataset_id, h.current_folder() or "/"
        if ds is None:
            return
        name = ask_text(h.widget(), "New folder", f"New folder in {parent}:", "new folder")
        if not name:
            return
        path = (parent.rstrip("/") + "/" + name) if parent != "/" else "/" + name
        h.run_write(f"Create {path}", lambda: h.cat.dataset_by_id(ds).items.make_dir(path),
                    changes={"folders"}, on_done=lambda p: h.reload_folders(select=p))

    def rename_folder(self) -> None:
        """Rename the current folder."""
        h = self.host
        ds, path = h.current_dataset_id, h.current_folder()
        if ds is None or not path or path == "/":
            return
        name = ask_text(h.widget(), "Rename folder", f"New name for {path}:", path.rsplit("/", 1)[1])
        if not name:
            return
        h.run_write(f"Rename {path}", lambda: h.cat.dataset_by_id(ds).items.rename_folder(path, name),
                    changes={"folders", "items"}, on_done=lambda p: h.reload_folders(select=p))

    def delete_folder(self) -> None:
        """Delete the current folder with everything under it, after a confirmation with counts."""
        h = self.host
        ds, path = h.current_dataset_id, h.current_folder()
        if ds is None or not path or path == "/":
            return

        def ask(counts) -> None:
            items, subs = counts
            if not dialogs.confirm(h.widget(), "Delete folder",
                                   f"Delete {path} with {items:,} item(s) and {subs:,} sub-folder(s)?\n"
                                   "Binaries no other item or snapshot uses are removed from storage.",
                                   "Delete", danger=True):
                return
            h.set_current_folder(path.rsplit("/", 1)[0] or "/")
            h.jobs.submit(api_jobs.delete_items(ds, folder=path, title=f"Delete folder {path}"))

        h.tasks.run(lambda: h.cat.dataset_by_id(ds).directory_tree.counts_under(path), ask)

    # ---- items -----------------------------------------------------------------------
    def upload(self) -> None:
        """Upload local files into the current folder."""
        h = self.host
        if h.current_dataset_id is None:
            return
        files = ask_files(h.widget(), f"Upload into {h.current_folder()}")
        if files:
            self.upload_paths(files, h.current_folder() or "/")

    def upload_paths(self, files: list[str], folder: str) -> None:
        """Upload *files* (files or folders) into *folder* of the current dataset, as a job."""
        ds = self.host.current_dataset_id
        if ds is None:
            return
        self.host.jobs.submit(api_jobs.upload(ds, files if len(files) > 1 else files[0], folder,
                                              title=f"Upload {len(files)} file(s) to {folder}"))

    def delete_items(self) -> None:
        """Delete the grid's selected items, after a confirmation."""
        h = self.host
        ds, ids = h.current_dataset_id, h.selected_item_ids()
        if ds is None or not ids:
            return
        if not dialogs.confirm(h.widget(), "Delete items", f"Delete {len(ids):,} selected item(s)?", "Delete",
                               danger=True):
            return
        h.jobs.submit(api_jobs.delete_items(ds, item_ids=ids, title=f"Delete {len(ids):,} item(s)"))

    def clone_items_to(self, src_id: int, item_ids: list[int], dst_id: int, folder: str = "/") -> None:
        """Clone items (by id) into *folder* of *dst_id*, as a job."""
        name = self.host.dataset_name(dst_id)
        self.host.jobs.submit(api_jobs.clone_into_folder(
            src_id, list(item_ids), dst_id, folder, title=f"Clone {len(item_ids):,} item(s) into {name}:{folder}"))

    # ---- drops -----------------------------------------------------------------------
    def items_dropped_on_folder(self, payload, folder: str, copy: bool) -> None:
        """Items dropped on a folder: moved within their dataset, else (or with Ctrl) cloned there."""
        h = self.host
        ds = h.current_dataset_id
        if ds is None:
            return
        if payload.dataset_id == ds and not copy:
            ids = list(payload.item_ids)
            h.run_write(f"Move {len(ids)} item(s) to {folder}",
                        lambda: h.cat.dataset_by_id(ds).items.move_items(folder, item_ids=ids),
                        changes={"folders", "items"})
            return
        self.clone_items_to(payload.dataset_id, payload.item_ids, ds, folder)

    def folder_dropped_on_folder(self, payload, folder: str) -> None:
        """A folder dropped on another folder of its dataset moves there."""
        h = self.host
        ds = h.current_dataset_id
        if ds is None or payload.dataset_id != ds:
            return
        h.run_write(f"Move {payload.path} into {folder}",
                    lambda: h.cat.dataset_by_id(ds).items.move_folder(payload.path, folder),
                    changes={"folders", "items"})

    def files_dropped_on_folder(self, files: list[str], folder: str) -> None:
        """Desktop files dropped on a folder are uploaded there."""
        if self.host.current_dataset_id is not None:
            self.upload_paths(files, folder)

    def items_dropped_on_dataset(self, payload, dataset_id: int) -> None:
        """Items dropped on another dataset are cloned into its root."""
        self.clone_items_to(payload.dataset_id, payload.item_ids, dataset_id, "/")
