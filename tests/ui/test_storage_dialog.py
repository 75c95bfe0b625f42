"""The storage dialog: its form is the API's storage kinds, and Test checks what Save saves."""

from __future__ import annotations

import pytest

from dsdesk.ui.dialogs.storage import StorageConnectionsDialog
from dsdesk.ui.tasks import TaskRunner


@pytest.fixture
def dialog(qtbot, project):
    tasks = TaskRunner()
    dlg = StorageConnectionsDialog(None, project._cat, project.id, project.name, tasks)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.list.count() == 1, timeout=10000)  # the internal store
    yield dlg
    tasks.shutdown()


def _test_then(qtbot, dlg) -> str:
    dlg.test_button.click()
    qtbot.waitUntil(lambda: dlg.test_button.isEnabled() and "Testing" not in dlg.status.text(), timeout=20000)
    return dlg.status.text()


def test_the_form_is_built_from_the_storage_kinds(dialog):
    assert [dialog.type.itemData(i) for i in range(dialog.type.count())] == ["local", "s3", "gcs", "azure"]
    dialog.set_values(type="local")
    bucket_label, _ = dialog.fields["bucket_name"]
    assert bucket_label.text() == "Folder:" and not dialog.cred_kind.isEnabled()
    assert not dialog.fields["endpoint"][1].isEnabled()
    dialog.set_values(type="s3")
    assert bucket_label.text() == "Bucket:" and dialog.fields["endpoint"][1].isEnabled()
    assert dialog.cred_kind.findData("profile") >= 0
    dialog.set_values(type="azure", cred_kind="env")
    assert dialog.fields["bucket_name"][0].text() == "Container:" and not dialog.fields["region"][1].isEnabled()
    assert dialog.cred_kind.findData("profile") == -1 and dialog.cred_value.isEnabled()
    dialog.set_values(cred_kind="anonymous")
    assert not dialog.cred_value.isEnabled()


def test_test_refuses_what_save_would_refuse(qtbot, dialog, project, tmp_path):
    """Test and Save used to differ: Test built a driver itself and passed for a name the
    project already has, so Save then failed.  Test is now project.drivers.test(**spec)."""
    folder = tmp_path / "photos"
    (folder / "captures").mkdir(parents=True)
    (folder / "captures" / "a.txt").write_text("x")
    project.drivers.create("photos", driver_type="local", bucket_name=str(folder))
    dialog.set_values(type="local", name="photos", bucket_name=str(folder), path="captures")
    text = _test_then(qtbot, dialog)
    assert "Test failed" in text and "already exists" in text and not dialog.save_button.isEnabled()


def test_what_is_tested_is_what_is_saved(qtbot, dialog, project, tmp_path):
    folder = tmp_path / "photos"
    (folder / "captures").mkdir(parents=True)
    (folder / "captures" / "a.txt").write_text("x")
    dialog.set_values(type="local", name="mine", bucket_name=f" {folder} ", path="/captures/")
    assert "Connection works" in _test_then(qtbot, dialog) and "captures/a.txt" in dialog.status.text()
    assert dialog.save_button.isEnabled()
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.list.count() == 2, timeout=10000)
    saved = project.drivers.get(driver_name="mine")
    assert (saved.type, saved.bucket_name, saved.path) == ("local", str(folder), "captures")
    assert saved.test()["read"] == "captures/a.txt"
