"""The grid's selection shown in the inspector and opened in viewers.

:class:`ItemInspection` wires the grid to the inspector in one place: one selected item
is read (off the GUI thread, through the API) and shown with its thumbnail as preview
and the header size the thumbnail workers measured; several selected show their count.
The inspector's metadata edits are saved through the API, and items open in non-modal
viewer windows it keeps track of; an annotation saved in a viewer makes the grid's overlay
and badge, the inspector and the label legend read the item again.  The legend follows the
dataset shown, and its "filter by label" puts the label's query in the grid's search bar.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Qt, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from dsdesk.api.item_details import read_item_details
from dsdesk.api.overlays import label_counts, label_search
from dsdesk.ui.viewer import ItemViewerDialog, load_image


class ItemInspection(QObject):
    """Inspector and viewers for the items of the current dataset (GUI thread only).

    *current_dataset* gives the dataset shown; *show_status* puts a passing message in the
    window's status bar.  Catalog reads and writes run on *tasks* (a TaskRunner).
    """

    def __init__(self, cat, tasks, grid, inspector, selection_status: QLabel,
                 current_dataset: Callable[[], int | None], show_status: Callable[[str, int], None],
                 parent: QWidget):
        super().__init__(parent)
        self._cat, self._tasks, self._grid, self._inspector = cat, tasks, grid, inspector
        self._selection_status, self._current_dataset, self._show_status = selection_status, current_dataset, show_status
        self._parent = parent
        self.viewers: list[ItemViewerDialog] = []
        self._legend_dataset: int | None = None
        # Edits come in bursts (a box drawn, relabelled, undone): the legend's counts are
        # one GROUP BY over the dataset's annotations, read once the burst is over.
        self._legend_timer = QTimer(self)
        self._legend_timer.setSingleShot(True)
        self._legend_timer.setInterval(400)
        self._legend_timer.timeout.connect(self.refresh_legend)
        grid.view.open_requested.connect(self.open_item)
        grid.view.selectionModel().selectionChanged.connect(self.refresh)
        # A re-read of the dataset on show (a change here or by another client) keeps the
        # selection, and the inspector with its unsaved edits, instead of clearing them.
        self._reselect: tuple[int | None, list[int]] | None = None
        grid.model.modelAboutToBeReset.connect(self._on_model_about_to_be_reset)
        grid.model.loading_finished.connect(self._on_model_loading_finished)
        grid.model.query_failed.connect(self._on_model_query_failed)
        grid.model.modelReset.connect(self.refresh)
        grid.model.modelReset.connect(self._on_model_reset)
        grid.model.overlays_changed.connect(self._update_preview)
        inspector.label_filter_requested.connect(self._on_inspector_label_filter_requested)
        inspector.annotations.itemDoubleClicked.connect(self._on_inspector_annotation_double_clicked)
        grid.loader.thumbnail_ready.connect(self._on_loader_thumbnail_ready)
        grid.loader.image_sizes_recorded.connect(self._on_loader_image_sizes_recorded)
        inspector.metadata_save_requested.connect(self.save_metadata)
        inspector.conflict_resolution_requested.connect(self.resolve_conflicts)

    def refresh(self, *_args) -> None:
        """Show the grid's selection: one item's details, a count, or nothing."""
        ids = self._grid.view.selected_ids()
        n = len(ids)
        if not n and self._reselect is not None and self._reselect[0] == self._grid.model.dataset_id:
            return  # the grid is reading the same items again: its selection comes back
        self._selection_status.setText(f"{n:,} selected" if n else "")
        if n == 1:
            self._load(ids[0])
        elif n > 1:
            self._inspector.show_selection(n)
        else:
            self._inspector.show_nothing()

    def _load(self, item_id: int) -> None:
        ds = self._current_dataset()
        if ds is None:
            return

        def done(details) -> None:
            sel = self._grid.view.selected_ids()
            if len(sel) == 1 and sel[0] == item_id:
                self._inspector.show_details(details)
                self._update_preview()
                got = self._grid.loader.measured_size(item_id)  # recorded while the details were read
                if got is not None:
                    self._on_loader_image_sizes_recorded({item_id: got})

        self._tasks.run(lambda: read_item_details(self._cat, ds, item_id), done,
                        lambda e: self._inspector.show_nothing(f"Cannot read the item: {e}"), key="inspector")

    def _update_preview(self) -> None:
        d, loader = self._inspector.details, self._grid.loader
        if d is None:
            return
        pm = loader.pixmap(d.item.id)
        if pm is None and d.item.id in loader.failed:
            self._inspector.set_preview(None)
        elif pm is None:
            info = self._grid.model.info(d.item.id)
            if info is not None:
                loader.request(info.thumb_key)
        else:
            model = self._grid.model
            self._inspector.set_preview(pm, model.overlay(d.item.id) if model.overlays_enabled else None)

    def _on_loader_thumbnail_ready(self, item_id: int) -> None:
        d = self._inspector.details
        if d is not None and d.item.id == item_id:
            self._update_preview()

    def _on_loader_image_sizes_recorded(self, sizes: dict) -> None:
        d = self._inspector.details
        if d is not None and not (d.item.width and d.item.height):
            got = sizes.get(d.item.id)
            if got is not None:
                self._inspector.set_dimensions(*got)

    def save_metadata(self, item_id: int, value: dict) -> None:
        """Save the user metadata the inspector's editor produced for *item_id*."""
        item = self._inspector.edit_item  # what the edits were made from (see InspectorPanel.edit_item)
        if self._current_dataset() is None or item is None or item.id != item_id:
            return

        def save():
            item.metadata["user"] = value
            return item.update()

        def done(_r) -> None:
            self._show_status("Metadata saved", 4000)
            self._load(item_id)

        self._tasks.run(save, done, self._inspector.save_failed)

    def resolve_conflicts(self, item_id: int, error, choices: dict) -> None:
        """Save the user's decision on a conflicting save of *item_id* (the conflict panel's
        choice per path); a newer conflict opens the panel again."""
        ds = self._current_dataset()
        if ds is None:
            return
        item = self._inspector.edit_item
        item = item if item is not None and item.id == item_id else None  # else no longer shown: read it
        who = next((c.theirs_by for c in error.conflicts if c.theirs_by), None)
        whose = f"{who}'s" if who else "the newer"

        def save():
            it = item or self._cat.dataset_by_id(ds).items.get(item_id=item_id)
            return it.resolve_conflicts(error, choices).update()

        def done(_r) -> None:
            self._show_status(f"Metadata saved, merged with {whose} changes", 4000)
            self._inspector.hide_conflicts()  # decided and saved, whatever the grid's selection is now
            self._load(item_id)

        self._tasks.run(save, done, self._inspector.save_failed)

    # ---- annotations: the legend, the label filter, the viewers' edits ---------------------
    def refresh_legend(self) -> None:
        """Read the current dataset's label legend again (off the GUI thread)."""
        ds = self._current_dataset()
        self._legend_dataset = ds
        if ds is None:
            self._inspector.legend.clear()
            return
        self._tasks.run(lambda: label_counts(self._cat, ds), self._inspector.legend.show_counts,
                        lambda _e: self._inspector.legend.clear(), key="legend")

    def _on_model_about_to_be_reset(self) -> None:
        ids = self._grid.view.selected_ids()
        # Up to a hundred: finding each row is a scan of the grid's ids.
        self._reselect = (self._grid.model.dataset_id, ids) if 0 < len(ids) <= 100 else None

    def _on_model_loading_finished(self, _total: int) -> None:
        pending, self._reselect = self._reselect, None
        model = self._grid.model
        if pending is None or pending[0] != model.dataset_id:
            if pending is not None:
                self.refresh()  # another dataset: nothing to bring back
            return
        rows = [r for r in (model.row_of(i) for i in pending[1]) if r is not None]
        if not rows:
            self.refresh()  # the items are gone (deleted, filtered out)
            return
        sel = QItemSelection()
        for r in rows:
            sel.select(model.index(r), model.index(r))
        view = self._grid.view
        view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        view.selectionModel().setCurrentIndex(model.index(rows[0]), QItemSelectionModel.SelectionFlag.NoUpdate)

    def _on_model_query_failed(self, _message: str) -> None:
        self._reselect = None
        self.refresh()

    def _on_model_reset(self) -> None:
        if self._current_dataset() != self._legend_dataset:
            self.refresh_legend()

    def catalog_changed(self, changes: set) -> None:
        """Something was written: show the selection again; labels or annotations that may
        have changed are read again too (colours, counts, overlays)."""
        self.refresh()
        if changes & {"annotations", "labels", "items", "datasets"}:
            self.refresh_legend()
            self._grid.model.forget_overlays()

    def _on_inspector_label_filter_requested(self, label: str) -> None:
        self._grid.search.setText(label_search(label))
        self._grid.search_changed.emit(self._grid.search.text())

    def _on_inspector_annotation_double_clicked(self, li) -> None:
        d = self._inspector.details
        ann_id = li.data(Qt.ItemDataRole.UserRole)
        if d is not None and ann_id is not None:
            v = self.open_item(d.item.id)
            if v is not None:
                v.select_annotation(ann_id)

    def _on_viewer_annotations_saved(self, item_id: int) -> None:
        self._grid.model.forget_overlays([item_id])
        self._grid.model.forget_infos([item_id])  # the annotated badge
        sel = self._grid.view.selected_ids()
        if len(sel) == 1 and sel[0] == item_id:
            self._load(item_id)
        self._legend_timer.start()

    def open_current(self) -> None:
        """Open the first selected item."""
        ids = self._grid.view.selected_ids()
        if ids:
            self.open_item(ids[0])

    def open_item(self, item_id: int) -> ItemViewerDialog | None:
        """Open the item viewer (non-modal) with the annotations drawn."""
        ds = self._current_dataset()
        if ds is None:
            return None
        v = ItemViewerDialog(self._parent)
        self.viewers.append(v)
        v.destroyed.connect(lambda _o=None, v=v: self.viewers.remove(v) if v in self.viewers else None)
        v.annotations_saved.connect(self._on_viewer_annotations_saved)
        self._tasks.run(lambda: load_image(self._cat, ds, item_id), v.set_loaded, v.set_failed)
        v.show()
        return v

    def close_viewers(self) -> None:
        """Close every open viewer (the window is closing)."""
        for v in list(self.viewers):
            v.close()
