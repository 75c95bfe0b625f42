"""The Import annotations… / Export… dialogs and actions: they start the API's jobs on the
window's job manager and show the report when the job is done."""

from __future__ import annotations

import json

from pycocotools.coco import COCO

from dsdesk.ui.dialogs import formats as fmt_dialogs
from tests.ui.conftest import wait_idle


def test_dialogs_ask_for_format_path_and_options(qtbot):
    from dsdesk.api.format_jobs import formats

    dlg = fmt_dialogs.ImportDialog(None, "cars", formats())
    qtbot.addWidget(dlg)
    assert not dlg.ok.isEnabled()  # no path yet
    dlg.format.setCurrentIndex(dlg.format.findData("yolo"))
    dlg.path.edit.setText("/data/yolo")
    assert dlg.ok.isEnabled() and "data.yaml" in dlg.hint.text()
    dlg.skip_bad.setChecked(True)
    assert dlg.params() == fmt_dialogs.ImportParams("/data/yolo", "yolo", True, True)

    exp = fmt_dialogs.ExportDialog(None, "cars", formats(), search="split:train")
    qtbot.addWidget(exp)
    assert not exp.link.isEnabled()
    exp.with_images.setChecked(True)
    exp.link.setChecked(True)
    exp.only_search.setChecked(True)
    exp.path.edit.setText("/tmp/out")
    p = exp.params()
    assert (p.format, p.with_images, p.link, p.scope) == ("json", True, True, "search")


def test_export_then_import_run_as_jobs_with_a_report(window, qtbot, monkeypatch, tmp_path):
    out = tmp_path / "coco"
    monkeypatch.setattr(fmt_dialogs.ExportDialog, "ask", classmethod(
        lambda cls, *a, **kw: fmt_dialogs.ExportParams(str(out), "coco", True, False, False, "all")))
    ds = window.current_dataset_id
    window.run_dataset_action("export", [ds])
    qtbot.waitUntil(lambda: window.dataset_handlers.last_format_report is not None, timeout=30000)
    wait_idle(qtbot, window)
    coco = COCO(str(out / "annotations" / "instances_default.json"))
    assert len(coco.dataset["images"]) > 0 and len(coco.dataset["annotations"]) > 0
    text = window.dataset_handlers.last_format_report.text.toPlainText()
    assert f"annotation(s) of {len(coco.dataset['images'])} item(s) written to {out}" in text
    window.dataset_handlers.last_format_report.close()

    doc = json.loads((out / "annotations" / "instances_default.json").read_text())
    doc["images"].append({"id": 10**6, "file_name": "nowhere.jpg", "width": 5, "height": 5})
    one = tmp_path / "one.json"
    one.write_text(json.dumps(doc))
    monkeypatch.setattr(fmt_dialogs.ImportDialog, "ask", classmethod(
        lambda cls, *a, **kw: fmt_dialogs.ImportParams(str(one), "coco", False, False)))
    window.dataset_handlers.last_format_report = None
    window.run_dataset_action("import_annotations", [ds])
    qtbot.waitUntil(lambda: window.dataset_handlers.last_format_report is not None, timeout=30000)
    wait_idle(qtbot, window)
    dlg = window.dataset_handlers.last_format_report
    dlg.resize(640, 360)
    dlg.grab().save(str(tmp_path / "report.png"))
    text = dlg.text.toPlainText()
    assert f"{len(doc['annotations']):,} annotation(s) written onto" in text
    assert "Matched no item (1):\n  one.json: image 1000000 (nowhere.jpg)" in text
    dlg.close()
