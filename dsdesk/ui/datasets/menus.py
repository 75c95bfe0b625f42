"""The datasets page's context menus: the header's (a check per column, the layout actions)
and a row's (the dataset actions of :mod:`dsdesk.ui.actions`, enabled for the selection)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHeaderView, QMenu, QWidget

from dsdesk.api.columns import Column
from dsdesk.api.dataset_table import DatasetTable
from dsdesk.ui import actions as acts
from dsdesk.ui.icons import icon


def header_menu(parent: QWidget, header: QHeaderView, columns: Sequence[Column],
                set_visible: Callable[[str, bool], None], open_settings: Callable[[], object],
                restore_default: Callable[[], None]) -> QMenu:
    """A check per column in the header's visual order (the last shown one cannot be
    unchecked), then Column settings… and Restore default layout."""
    menu = QMenu(parent)
    visible_count = header.count() - header.hiddenSectionCount()
    for v in range(header.count()):
        logical = header.logicalIndex(v)
        c = columns[logical]
        act = menu.addAction(c.label + ("" if not c.custom else f"  ({c.field})"))
        act.setCheckable(True)
        shown = not header.isSectionHidden(logical)
        act.setChecked(shown)
        act.setEnabled(not (shown and visible_count <= 1))
        act.setData(c.name)
        act.toggled.connect(lambda on, n=c.name: set_visible(n, on))
    menu.addSeparator()
    menu.addAction(icon("table"), "Column settings…", open_settings)
    menu.addAction("Restore default layout", restore_default)
    return menu


def selection_of(table: DatasetTable | None, ids: Sequence[int]) -> acts.Selection:
    """What the action table needs to know of the datasets *ids* shown in *table*."""
    records = [table.records[r] for r in (table.row_of(i) for i in ids) if r is not None] if table is not None else []
    internal = next((r.name for r in records if r.driver_kind == "internal"), None)
    return acts.Selection(datasets=len(ids), readonly=bool(records) and all(r.readonly for r in records),
                          internal=internal)


def row_menu(parent: QWidget, ids: Sequence[int], selection: acts.Selection,
             on_action: Callable[[str, list[int]], None]) -> QMenu:
    """The dataset actions for the datasets *ids*; a chosen one calls ``on_action(name, ids)``."""
    menu = QMenu(parent)
    for d in acts.DATASET_ACTIONS:
        a = acts.make_action(menu, d, lambda n=d.id, sel=list(ids): on_action(n, sel))
        a.setShortcut(QKeySequence())  # the window's actions own the shortcuts
        acts.update_action(a, d, selection)
        menu.addAction(a)
        if d.separator_after:
            menu.addSeparator()
    return menu
