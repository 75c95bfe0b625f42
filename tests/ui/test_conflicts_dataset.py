"""A dataset's properties saved while another client changed the same dataset: disjoint
changes merge; the same key is asked about in the conflict dialog and the choice saved
(through the datasets page's dialog and through the window's Dataset > Properties)."""

from __future__ import annotations

import dsdesk
from dsdesk.api.metadata_merge import THEIRS
from dsdesk.ui import conflict_dialog
from dsdesk.ui.conflict_dialog import ConflictDialog
from dsdesk.ui.conflict_panel import _demo_error
from dsdesk.ui.dialogs import properties
from dsdesk.ui.dialogs.properties import DatasetPropertiesDialog, PropertiesAnswer
from tests.ui.conftest import wait_idle


def _other_changes(cat, dataset_id, monkeypatch, **user):
    other = dsdesk.open_catalog(cat.raw_url)
    try:
        monkeypatch.setenv("DSDESK_USER", "alice")
        ds = other.dataset_by_id(dataset_id)
        ds.description = "alice's words"
        ds.metadata["user"].update(user)
        ds.update()
    finally:
        other.close()
        monkeypatch.setenv("DSDESK_USER", "me")


def test_the_properties_dialog_asks_and_saves_the_choice(qtbot, demo_catalog, monkeypatch):
    ds_id = demo_catalog.projects.list()[0].datasets.get("cars").id
    dlg = DatasetPropertiesDialog.for_dataset(demo_catalog, ds_id)
    qtbot.addWidget(dlg)
    dlg.show()
    _other_changes(demo_catalog, ds_id, monkeypatch, reviewer="alice")
    asked = []
    monkeypatch.setattr(ConflictDialog, "ask", classmethod(lambda cls, parent, e: asked.append(e) or {
        c.path: "mine" for c in e.conflicts}))
    dlg.description_edit.setText("my words")
    dlg.accept()
    assert not dlg.isVisible()
    [e] = asked
    assert [c.key for c in e.conflicts] == ["description"] and e.conflicts[0].theirs_by == "alice"
    now = demo_catalog.dataset_by_id(ds_id)
    assert now.description == "my words" and now.metadata["user"]["reviewer"] == "alice"


def test_going_back_keeps_the_dialog_open_with_the_message(qtbot, demo_catalog, monkeypatch):
    ds_id = demo_catalog.projects.list()[0].datasets.get("cars").id
    dlg = DatasetPropertiesDialog.for_dataset(demo_catalog, ds_id)
    qtbot.addWidget(dlg)
    dlg.show()
    _other_changes(demo_catalog, ds_id, monkeypatch)
    monkeypatch.setattr(ConflictDialog, "ask", classmethod(lambda cls, parent, e: None))
    dlg.description_edit.setText("my words")
    dlg.accept()
    assert dlg.isVisible() and "alice" in dlg.message.text()
    assert demo_catalog.dataset_by_id(ds_id).description == "alice's words"


def test_the_windows_properties_action_asks_too(qtbot, window, monkeypatch):
    cat = window.cat
    ds_id = window.current_dataset_id
    facts_ds = cat.dataset_by_id(ds_id)
    monkeypatch.setattr(DatasetPropertiesDialog, "ask", classmethod(
        lambda cls, parent, facts: PropertiesAnswer("my words", facts.dataset.metadata["user"])))
    _other_changes(cat, ds_id, monkeypatch, reviewer="alice")
    asked = []
    monkeypatch.setattr(conflict_dialog.ConflictDialog, "ask", classmethod(
        lambda cls, parent, e: asked.append(e) or {c.path: THEIRS for c in e.conflicts}))
    # the facts (and the dataset entity) read before alice's save
    monkeypatch.setattr("dsdesk.api.dataset_facts.read_dataset_facts",
                        lambda c, i: properties.DatasetFacts(facts_ds, "demo", "", "", None))
    window.dataset_handlers.run("properties", [ds_id])
    qtbot.waitUntil(lambda: bool(asked), timeout=20000)
    wait_idle(qtbot, window)
    now = cat.dataset_by_id(ds_id)
    assert now.description == "alice's words" and now.metadata["user"]["reviewer"] == "alice"


def test_the_conflict_dialog_returns_the_choices(qtbot):
    dlg = ConflictDialog(_demo_error())
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.panel.all_theirs_button.click()
    with qtbot.waitSignal(dlg.accepted):
        dlg.panel.save_button.click()
    assert dlg.choices == {c.conflict.path: THEIRS for c in dlg.panel.cards}
