"""The one table of dataset, folder and item actions.

Each action is declared once here (id, text, icon, shortcut, how many things it takes,
when it is enabled) and used by the menu bar, the toolbar, the context menus of the
library and the grid, and the datasets page's row menu, so they cannot disagree.  What
an action does lives in :mod:`dsdesk.ui.dataset_actions` and :mod:`dsdesk.ui.item_actions`.

Whether an action is enabled is a pure function of a :class:`Selection`
(:func:`disabled_reason`), so every place that shows the action gives the same answer,
with the same tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from dsdesk.ui.icons import icon

#: Conditions an action may require of the selection, with the reason shown when it is not met.
EXTERNAL, WRITABLE, NOT_ROOT = "external", "writable", "not_root"


@dataclass(frozen=True)
class ActionDef:
    """One action: *minimum* to *maximum* (None: any number) selected things of its *scope*
    (``dataset``, ``folder`` or ``item``), and the conditions of :data:`EXTERNAL` ...
    in *requires*.  *shortcut* is a key sequence's text or a ``QKeySequence.StandardKey``."""

    id: str
    text: str
    icon: str | None
    shortcut: str | QKeySequence.StandardKey | None = None
    scope: str = "dataset"
    minimum: int = 1
    maximum: int | None = None
    requires: frozenset[str] = frozenset()
    separator_after: bool = False
    status_tip: str = ""
    checkable: bool = False


DATASET_ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("clone", "Clone…", "clone", "Ctrl+Shift+C", maximum=1),
    ActionDef("merge", "Merge with…", "merge", "Ctrl+Shift+M"),
    ActionDef("snapshot", "Snapshot", "snapshot", "Ctrl+Shift+S"),
    ActionDef("rollback", "Rollback to…", "rollback", "Ctrl+Shift+R", maximum=1),
    ActionDef("diff", "Diff with…", "diff", "Ctrl+Shift+D", maximum=1, separator_after=True),
    ActionDef("import_annotations", "Import annotations…", "upload", "Ctrl+Shift+I", maximum=1,
              status_tip="Import COCO, YOLO, Dataloop JSON, Pascal VOC or CVAT annotations (with their images) "
                         "into the selected dataset"),
    ActionDef("export", "Export…", "download", "Ctrl+Shift+X", maximum=1, separator_after=True,
              status_tip="Export the selected dataset's annotations as COCO, YOLO, Dataloop JSON, VOC or CVAT"),
    ActionDef("edit_recipe", "Edit labels…", "recipe", "Ctrl+Shift+E", maximum=1,
              status_tip="Edit the labels of the selected dataset's recipe: names, colours, children"),
    ActionDef("switch_recipe", "Switch recipe…", "recipe", separator_after=True),
    ActionDef("sync", "Sync now", "sync", "Ctrl+Shift+Y", requires=frozenset({EXTERNAL})),
    ActionDef("sync_restore", "Sync and bring back deleted items…", "sync", requires=frozenset({EXTERNAL}),
              status_tip="Sync the selected dataset, bringing back the items deleted in dsdesk whose objects "
                         "are still in storage"),
    ActionDef("readonly", "Set read-only", "readonly", "Ctrl+Shift+L", separator_after=True, checkable=True),
    ActionDef("delete", "Delete", "delete", "Ctrl+Shift+Del"),
    ActionDef("properties", "Properties", "properties", "Alt+Return", maximum=1),
)

FOLDER_ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("new_folder", "New folder…", "folder-new", "Ctrl+Shift+N", scope="folder", minimum=0,
              requires=frozenset({WRITABLE})),
    ActionDef("rename_folder", "Rename folder…", "rename", "F2", scope="folder", minimum=0,
              requires=frozenset({WRITABLE, NOT_ROOT})),
    ActionDef("delete_folder", "Delete folder…", "delete", scope="folder", minimum=0,
              requires=frozenset({WRITABLE, NOT_ROOT})),
    ActionDef("upload", "Upload files…", "upload", "Ctrl+U", scope="folder", minimum=0,
              requires=frozenset({WRITABLE})),
)

ITEM_ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("open_item", "Open", "image", scope="item"),
    ActionDef("clone_items", "Clone selected items…", "clone", scope="item"),
    # Minimum 0: on the datasets page the Delete key trashes the selected datasets instead.
    ActionDef("delete_items", "Delete selected items…", "delete", QKeySequence.StandardKey.Delete, scope="item",
              minimum=0, requires=frozenset({WRITABLE})),
    ActionDef("select_all", "Select all", None, QKeySequence.StandardKey.SelectAll, scope="item", minimum=0),
)

#: Actions of the view (no selection needed): the grid's annotation overlays toggle.
VIEW_ACTIONS: tuple[ActionDef, ...] = (
    ActionDef("toggle_overlays", "Show annotations", "badge-annotated", "A", scope="view", minimum=0,
              checkable=True, status_tip="Draw the items' annotations over the thumbnails in label colours"),
)

ACTIONS: dict[str, ActionDef] = {a.id: a for a in (*DATASET_ACTIONS, *FOLDER_ACTIONS, *ITEM_ACTIONS,
                                                   *VIEW_ACTIONS)}


@dataclass(frozen=True)
class Selection:
    """What the user has selected, as the actions see it.

    *datasets*: how many datasets; *readonly*: all of them are read-only; *internal*: the
    name of one that lives in the internal store (sync does not apply), else None;
    *writable*: one current dataset that can be changed; *items*: items selected in the
    grid; *root*: the current folder is the root.
    """

    datasets: int = 0
    readonly: bool = False
    internal: str | None = None
    writable: bool = False
    items: int = 0
    root: bool = True


def disabled_reason(action: ActionDef, sel: Selection) -> str | None:
    """Why *action* cannot run on *sel* (a tooltip), or None when it can."""
    n = {"dataset": sel.datasets, "item": sel.items}.get(action.scope, 0)
    if n < action.minimum:
        return {"dataset": "select a dataset", "item": "select items"}.get(action.scope, "select something")
    if action.maximum is not None and n > action.maximum:
        return f"select at most {action.maximum} {action.scope}{'s' if action.maximum > 1 else ''}"
    if EXTERNAL in action.requires and sel.internal is not None:
        return f"Sync applies to datasets on external storage; '{sel.internal}' is in the app's internal store"
    if WRITABLE in action.requires and not sel.writable:
        return "the dataset is read-only" if sel.datasets else "select a dataset"
    if NOT_ROOT in action.requires and sel.root:
        return "the root folder cannot be renamed or deleted"
    return None


def make_action(parent: QObject, action: ActionDef, slot: Callable[[], None] | None = None) -> QAction:
    """A QAction for *action* (window-wide shortcut), calling *slot* when triggered."""
    a = QAction(icon(action.icon), action.text, parent) if action.icon else QAction(action.text, parent)
    a.setObjectName(f"action_{action.id}")
    if action.shortcut:
        a.setShortcut(QKeySequence(action.shortcut))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    a.setCheckable(action.checkable)
    if action.status_tip:
        a.setStatusTip(action.status_tip)
    elif action.scope == "dataset":
        a.setStatusTip(f"{action.text.rstrip('…')} the selected dataset")
    a.setData(action.id)
    if slot is not None:
        a.triggered.connect(lambda _checked=False: slot())
    return a


def update_action(a: QAction, action: ActionDef, sel: Selection) -> None:
    """Enable *a* (and set its tooltip and check state) from *sel*."""
    reason = disabled_reason(action, sel)
    a.setEnabled(reason is None)
    a.setToolTip(reason or action.text.rstrip("…"))
    if action.id == "readonly":
        a.blockSignals(True)  # showing the state is not toggling it
        a.setChecked(sel.readonly)
        a.blockSignals(False)


def fill_menu(menu: QMenu, actions: dict[str, QAction], defs: Iterable[ActionDef]) -> QMenu:
    """Add the QActions of *defs* to *menu*, in order, with the declared separators."""
    for d in defs:
        menu.addAction(actions[d.id])
        if d.separator_after:
            menu.addSeparator()
    return menu
