"""The recipe editor: labels as a tree with colours; add, child, rename, recolour, delete;
saved through the API from the Dataset menu; locked on a read-only dataset."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from dsdesk.api.label_edits import LabelEntry, plan_label_edits, read_recipe_labels, save_label_edits
from dsdesk.errors import InvalidInputError, ReadOnlyError
from dsdesk.ui.annotations import recipe_editor
from dsdesk.ui.annotations.recipe_editor import RecipeEditorDialog
from tests.ui.conftest import wait_idle


@pytest.fixture
def labelled(catalog):
    return catalog.projects.create("p").datasets.create(
        "cars", labels=[{"tag": "vehicle", "color": (255, 0, 0), "children": [{"tag": "car", "color": "#00ff00"}]},
                        {"tag": "person", "color": "#0000ff"}])


def _recipe(ds) -> dict[str, str]:
    return {lab.tag: lab.color for lab in ds.recipe.labels}


def test_tree_shows_dotted_names_as_children(qtbot, catalog, labelled):
    dlg = RecipeEditorDialog(read_recipe_labels(catalog, labelled.id))
    qtbot.addWidget(dlg)
    assert dlg.tree.topLevelItemCount() == 2
    vehicle = dlg.tree.topLevelItem(0)
    assert (vehicle.text(0), vehicle.text(1), vehicle.childCount()) == ("vehicle", "#ff0000", 1)
    assert vehicle.child(0).text(0) == "car" and dlg.tag_of(vehicle.child(0)) == "vehicle.car"
    assert [r.tag for r in dlg.rows()] == ["vehicle", "vehicle.car", "person"]


def test_round_trip_add_child_rename_recolour_delete(qtbot, catalog, labelled, monkeypatch):
    names = iter(["bike", "truck", "human"])
    monkeypatch.setattr(recipe_editor, "ask_name", lambda *a, **k: next(names))
    monkeypatch.setattr(recipe_editor, "ask_color", lambda *a, **k: "#123456")
    dlg = RecipeEditorDialog(read_recipe_labels(catalog, labelled.id))
    qtbot.addWidget(dlg)
    dlg.add_button.click()  # bike, top level
    dlg.tree.setCurrentItem(dlg.tree.topLevelItem(0))
    dlg.child_button.click()  # vehicle.truck
    person = dlg.tree.topLevelItem(1)
    dlg.tree.setCurrentItem(person)
    dlg.rename_button.click()  # person -> human
    dlg.color_button.click()  # human #123456
    car = dlg.tree.topLevelItem(0).child(0)
    dlg.tree.clearSelection()
    car.setSelected(True)
    dlg.delete_button.click()
    dlg.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dlg.result() == QDialog.DialogCode.Accepted
    save_label_edits(catalog, labelled.id, dlg.edits)
    got = _recipe(catalog.dataset_by_id(labelled.id))
    assert got["vehicle"] == "#ff0000" and got["human"] == "#123456"
    assert set(got) == {"vehicle", "vehicle.truck", "human", "bike"}
    assert all(len(c) == 7 and c.startswith("#") for c in got.values())


def test_edit_recipe_from_the_dataset_menu(qtbot, window, monkeypatch):
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    assert "car" in _recipe(ds)
    monkeypatch.setattr(recipe_editor, "ask_color", lambda *a, **k: "#abcdef")

    def exec_(dlg):
        dlg.tree.setCurrentItem(dlg.tree.topLevelItem(0))  # car
        dlg.recolour()
        dlg._on_buttons_accepted()
        return dlg.result()

    monkeypatch.setattr(RecipeEditorDialog, "exec", exec_)
    grid = window.grid
    grid.set_overlays_visible(True)
    car_item = next(i.id for i in ds.items.list().all() if "car" in [a.label for a in i.annotations.list()])
    row = grid.model.row_of(car_item)
    grid.view.scrollTo(grid.model.index(row))
    grid.view.viewport().update()

    def car_colors() -> set:
        ov = grid.model.overlay(car_item)
        return {s.color for s in ov.shapes if s.label == "car"} if ov is not None else set()

    qtbot.waitUntil(lambda: car_colors() == {"#e6194b"}, timeout=20000)
    action = window.actions["edit_recipe"]
    assert action.isEnabled()
    action.trigger()
    qtbot.waitUntil(lambda: _recipe(window.cat.dataset_by_id(ds.id))["car"] == "#abcdef", timeout=20000)
    # The grid's overlays and the legend take the new colour.
    grid.view.viewport().update()
    qtbot.waitUntil(lambda: car_colors() == {"#abcdef"}, timeout=20000)
    qtbot.waitUntil(lambda: window.inspector.legend.row("car") is not None
                    and next(c.color for c in window.inspector.legend.counts if c.label == "car") == "#abcdef",
                    timeout=20000)
    wait_idle(qtbot, window)


def test_read_only_dataset_locks_the_editor(qtbot, catalog, labelled):
    labelled.set_readonly(True)
    labels = read_recipe_labels(catalog, labelled.id)
    assert "read-only" in labels.readonly_reason
    dlg = RecipeEditorDialog(labels)
    qtbot.addWidget(dlg)
    dlg.tree.setCurrentItem(dlg.tree.topLevelItem(0))
    assert not dlg.add_button.isEnabled() and not dlg.color_button.isEnabled()
    assert not dlg.buttons.button(QDialogButtonBox.StandardButton.Save).isEnabled()
    assert "read-only" in dlg.banner.text() and not dlg.banner.isHidden()
    edits = plan_label_edits(labels.labels, [LabelEntry("new", "#000000")])
    with pytest.raises(ReadOnlyError):
        save_label_edits(catalog, labelled.id, edits)
    assert set(_recipe(catalog.dataset_by_id(labelled.id))) == {"vehicle", "vehicle.car", "person"}


def test_bad_names_are_refused_before_saving(catalog, labelled):
    before = read_recipe_labels(catalog, labelled.id).labels
    with pytest.raises(InvalidInputError, match="given twice"):
        plan_label_edits(before, [LabelEntry("a", "#000000"), LabelEntry("a", "#111111")])
    with pytest.raises(InvalidInputError, match="not a label name"):
        plan_label_edits(before, [LabelEntry("a..b", "#000000")])
    with pytest.raises(InvalidInputError, match="not a colour"):
        plan_label_edits(before, [LabelEntry("a", "bluish")])
