"""Every dataset action end to end against a real SQLite catalog with real images.
Modal dialogs are patched (their ``ask``), never clicked with timers."""

from __future__ import annotations

import pytest
from PIL import Image

from dsdesk.api.merge_plan import plan_merge
from dsdesk.ui.dataset_actions import DatasetActionHandlers
from dsdesk.ui.dialogs import common as dialogs
from dsdesk.ui.dialogs.clone import CloneDialog, CloneParams
from dsdesk.ui.dialogs.merge import MergeDialog, MergeParams
from dsdesk.ui.dialogs.properties import DatasetPropertiesDialog, PropertiesAnswer
from dsdesk.ui.dialogs.recipe import SwitchRecipeDialog
from dsdesk.ui.dialogs.versions import DiffDialog, RollbackDialog, SnapshotDialog, SnapshotParams
from tests.ui.conftest import wait_idle


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, text, details="": shown.append((title, text)))
    return shown


def _succeeded(win):
    return [h for h in win.jobs.handles.values() if h.status == "succeeded"]


def _by_name(cat, name):
    return cat.projects.get(project_name="demo").datasets.get(dataset_name=name)


def test_clone_whole_dataset(qtbot, window, monkeypatch, errors):
    monkeypatch.setattr(CloneDialog, "ask", classmethod(lambda cls, *a, **k: CloneParams(
        "cars copy", None, "/", True, True, True, "all")))
    window.dataset_actions["clone"].trigger()
    wait_idle(qtbot, window)
    assert not errors
    clone = _by_name(window.cat, "cars copy")
    src = _by_name(window.cat, "cars")
    assert clone.kind == "clone" and clone.items_count == src.items_count
    assert clone.annotations_count == src.annotations_count
    assert clone.id in window.library.rows  # the library was refreshed


def test_clone_only_selected_items(qtbot, window, monkeypatch, errors):
    window.grid.view.selectionModel().clearSelection()
    for r in (0, 1, 2):
        window.grid.view.selectionModel().select(window.grid.model.index(r),
                                                 window.grid.view.selectionModel().SelectionFlag.Select)
    picked = window.grid.view.selected_ids()
    seen = {}

    def ask(cls, parent, src_name, src_id, datasets, selected_count=0, search=""):
        seen["count"] = selected_count
        return CloneParams("three", None, "/", True, False, False, "selected")

    monkeypatch.setattr(CloneDialog, "ask", classmethod(ask))
    window.run_dataset_action("clone", [window.current_dataset_id])
    wait_idle(qtbot, window)
    assert seen["count"] == 3 and not errors
    got = list(_by_name(window.cat, "three").items.list().all())
    assert sorted(i.parent_item_id for i in got) == sorted(picked)
    assert all(i.metadata["user"] == {} for i in got)  # with_metadata=False


def test_merge_clones_of_one_master(qtbot, window, monkeypatch, errors):
    cat = window.cat
    cars = _by_name(cat, "cars")
    monkeypatch.setattr(CloneDialog, "ask", classmethod(lambda cls, *a, **k: CloneParams(
        "cars b", None, "/", True, True, True, "all")))
    window.run_dataset_action("clone", [cars.id])
    wait_idle(qtbot, window)
    b = _by_name(cat, "cars b")
    plan = plan_merge(cat, [cars.id, b.id])
    assert plan.clone_groups and plan.refusal is None
    monkeypatch.setattr(MergeDialog, "ask", classmethod(lambda cls, *a, **k: MergeParams(
        "cars merged", [cars.id, b.id], True, False, False)))
    window.run_dataset_action("merge", [cars.id])
    wait_idle(qtbot, window)
    assert not errors
    merged = _by_name(cat, "cars merged")
    assert merged.kind == "merge" and merged.items_count == cars.items_count


def test_merge_refuses_different_recipes(window):
    cat = window.cat
    plan = plan_merge(cat, [_by_name(cat, "cars").id, _by_name(cat, "pedestrians").id])
    assert plan.refusal and "recipe" in plan.refusal
    assert "Refused" in MergeDialog.describe(plan)


def test_snapshot_rollback_and_diff(qtbot, window, monkeypatch, errors):
    cat, ds = window.cat, window.current_dataset_id
    monkeypatch.setattr(SnapshotDialog, "ask", classmethod(lambda cls, *a, **k: SnapshotParams("before", "")))
    window.dataset_actions["snapshot"].trigger()
    wait_idle(qtbot, window)
    assert not errors
    n = cat.dataset_by_id(ds).items_count
    victim = next(iter(cat.dataset_by_id(ds).items.list().all()))
    cat.dataset_by_id(ds).items.delete(item_id=victim.id)
    # Diff "before" -> now shows the removed item.
    monkeypatch.setattr(DiffDialog, "ask", classmethod(lambda cls, *a, **k: ("before", None)))
    window.dataset_actions["diff"].trigger()
    wait_idle(qtbot, window)
    report_dialog = window.last_diff_dialog
    assert "1 removed" in report_dialog.findChildren(type(window.jobs_status))[0].text()
    assert report_dialog.tabs.tabText(report_dialog.tabs.currentIndex()) == "Removed (1)"  # opens where the news is
    report_dialog.close()
    # Rollback restores it.
    monkeypatch.setattr(RollbackDialog, "ask", classmethod(lambda cls, parent, name, snaps: snaps[-1].name
                                                           if snaps[-1].name == "before" else "before"))
    window.dataset_actions["rollback"].trigger()
    wait_idle(qtbot, window)
    assert not errors
    assert cat.dataset_by_id(ds).items_count == n
    assert window.grid.model.rowCount() == n  # the grid was reloaded


def test_switch_recipe(qtbot, window, monkeypatch, errors):
    cat = window.cat
    ped = _by_name(cat, "pedestrians")
    cars = _by_name(cat, "cars")
    monkeypatch.setattr(SwitchRecipeDialog, "ask", classmethod(lambda cls, *a, **k: cars.recipe_id))
    window.run_dataset_action("switch_recipe", [ped.id])
    wait_idle(qtbot, window)
    assert not errors
    assert _by_name(cat, "pedestrians").recipe_id == cars.recipe_id
    assert plan_merge(cat, [cars.id, ped.id]).refusal is None  # now mergeable


def _folder_dataset(qtbot, window, folder, name: str):
    """A dataset on a local-folder driver over *folder*, selected in the window (not synced yet)."""
    project = window.cat.projects.get(project_name="demo")
    drv = project.drivers.create(f"{name}-folder", "local", bucket_name=str(folder))
    ds = project.datasets.create(name, driver_id=drv.id)
    window.reload_library()
    wait_idle(qtbot, window)
    window.library.select_dataset(ds.id)
    wait_idle(qtbot, window)
    return ds


def test_sync_now_on_a_local_folder(qtbot, window, tmp_path, errors):
    cat = window.cat
    folder = tmp_path / "bucket"
    (folder / "a").mkdir(parents=True)
    for i in range(3):
        Image.new("RGB", (20, 20), (i * 60, 0, 0)).save(folder / "a" / f"s{i}.jpg")
    ds = _folder_dataset(qtbot, window, folder, "on-disk")
    assert window.dataset_actions["sync"].isEnabled()
    window.dataset_actions["sync"].trigger()
    wait_idle(qtbot, window)
    assert not errors
    assert cat.dataset_by_id(ds.id).items_count == 3
    assert window.grid.model.rowCount() == 3


def test_sync_keeps_deleted_items_out_until_asked_to_bring_them_back(qtbot, window, tmp_path, errors, monkeypatch):
    cat = window.cat
    folder = tmp_path / "bucket"
    folder.mkdir()
    for i in range(3):
        Image.new("RGB", (20, 20), (0, i * 60, 0)).save(folder / f"k{i}.jpg")
    ds = _folder_dataset(qtbot, window, folder, "kept")
    window.dataset_actions["sync"].trigger()
    wait_idle(qtbot, window)
    k1 = cat.dataset_by_id(ds.id).items.get(filepath="/k1.jpg")
    cat.dataset_by_id(ds.id).items.delete(item_id=k1.id)  # the object stays in the folder
    window.dataset_actions["sync"].trigger()
    wait_idle(qtbot, window)
    assert cat.dataset_by_id(ds.id).items_count == 2  # not resurrected

    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text, *a, **k: asked.append(text) or False)
    assert window.dataset_actions["sync_restore"].isEnabled()
    window.dataset_actions["sync_restore"].trigger()
    wait_idle(qtbot, window)
    assert asked and "1 item(s)" in asked[0]
    assert cat.dataset_by_id(ds.id).items_count == 2  # declined: nothing happened
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: True)
    window.dataset_actions["sync_restore"].trigger()
    wait_idle(qtbot, window)
    assert not errors
    assert cat.dataset_by_id(ds.id).items_count == 3
    assert cat.dataset_by_id(ds.id).items.get(filepath="/k1.jpg").name == "k1.jpg"


def test_sync_disabled_for_internal_store(window):
    for name in ("sync", "sync_restore"):
        a = window.dataset_actions[name]
        assert not a.isEnabled() and "internal store" in a.toolTip()


def test_set_readonly_toggles(qtbot, window, errors):
    ds = window.current_dataset_id
    window.dataset_actions["readonly"].trigger()
    wait_idle(qtbot, window)
    assert window.cat.dataset_by_id(ds).readonly
    assert window.library.rows[ds].readonly and window.dataset_actions["readonly"].isChecked()
    window.dataset_actions["readonly"].trigger()
    wait_idle(qtbot, window)
    assert not window.cat.dataset_by_id(ds).readonly


def test_delete_dataset_after_confirmation(qtbot, window, monkeypatch, errors):
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text, *a, **k: asked.append(text) or True)
    ped = _by_name(window.cat, "pedestrians")
    window.run_dataset_action("delete", [ped.id])
    wait_idle(qtbot, window)
    assert "pedestrians" in asked[0] and "0 item" in asked[0]
    assert ped.id not in window.library.rows
    assert window.cat.projects.get(project_name="demo").datasets.trash()[0].id == ped.id


def test_delete_cancelled_keeps_dataset(qtbot, window, monkeypatch):
    monkeypatch.setattr(dialogs, "confirm", lambda *a, **k: False)
    window.run_dataset_action("delete", [window.current_dataset_id])
    wait_idle(qtbot, window)
    assert window.current_dataset_id in window.library.rows


def test_properties_saves_description_and_metadata(qtbot, window, monkeypatch, errors):
    monkeypatch.setattr(DatasetPropertiesDialog, "ask", classmethod(lambda cls, parent, facts: PropertiesAnswer(
        "reviewed set", {**facts.dataset.metadata["user"], "quality": 0.9, "tags": ["a", "b"]})))
    window.dataset_actions["properties"].trigger()
    wait_idle(qtbot, window)
    assert not errors
    ds = window.cat.dataset_by_id(window.current_dataset_id)
    assert ds.description == "reviewed set"
    assert ds.metadata["user"]["quality"] == 0.9 and ds.metadata["user"]["tags"] == ["a", "b"]


def test_datasets_page_routes_actions(qtbot, window, monkeypatch):
    ran = []
    monkeypatch.setattr(DatasetActionHandlers, "snapshot", lambda self, ids: ran.append(ids))
    page = window.datasets_page
    page.dataset_action_requested.emit("snapshot", [window.current_dataset_id])
    assert ran == [[window.current_dataset_id]]


def test_folder_new_rename_delete(qtbot, window, monkeypatch, errors):
    from dsdesk.ui import item_actions as mw

    cat, ds = window.cat, window.current_dataset_id
    window.library.select_folder("/train")
    monkeypatch.setattr(mw, "ask_text", lambda *a, **k: "extra")
    window.act_new_folder.trigger()
    wait_idle(qtbot, window)
    assert "/train/extra" in cat.dataset_by_id(ds).directory_tree.dir_names
    assert window.library.current_folder == "/train/extra"
    monkeypatch.setattr(mw, "ask_text", lambda *a, **k: "renamed")
    window.act_rename_folder.trigger()
    wait_idle(qtbot, window)
    assert "/train/renamed" in cat.dataset_by_id(ds).directory_tree.dir_names
    asked = []
    monkeypatch.setattr(dialogs, "confirm", lambda parent, title, text, *a, **k: asked.append(text) or True)
    window.library.select_folder("/train/city")
    n = len(list(cat.dataset_by_id(ds).items.list(filters='dir:"/train/city"').all()))
    window.act_delete_folder.trigger()
    wait_idle(qtbot, window)
    assert f"{n:,} item(s)" in asked[0]
    assert "/train/city" not in cat.dataset_by_id(ds).directory_tree.dir_names
    assert not errors
