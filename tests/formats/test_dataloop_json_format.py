"""Dataloop JSON: per-item files as download_annotations writes them, and as Dataloop's
export writes them (ids, timestamps, V1 naming), import and round trip."""

from __future__ import annotations

import json

import pytest

from dsdesk.formats.model import FormatError

FROM_DATALOOP = {
    "_id": "64f1c0ffee", "filename": "/sub/c.jpg", "name": "c.jpg", "dir": "/sub",
    "annotations": [
        {"id": "650a", "datasetId": "64d", "itemId": "64f1c0ffee", "type": "box", "label": "car",
         "coordinates": [{"x": 10, "y": 5, "z": 0}, {"x": 30, "y": 25, "z": 0}],
         "attributes": {"1": "red"}, "creator": "a@b.c", "createdAt": "2024-01-01T00:00:00.000Z",
         "metadata": {"system": {"objectId": "3", "status": None, "parentId": None}, "user": {"score": 0.9}}},
        {"id": "650b", "type": "point", "label": "person", "coordinates": {"x": 7, "y": 8, "z": 0}},
        {"id": "650c", "type": "segment", "label": "person",
         "coordinates": [[{"x": 1, "y": 1}, {"x": 9, "y": 1}, {"x": 5, "y": 9}]]},
    ],
    "metadata": {"system": {"width": 80, "height": 60}, "user": {}},
}


def test_dataloop_export_imports_unchanged(shot_dataset, tmp_path):
    (tmp_path / "dl" / "json" / "sub").mkdir(parents=True)
    (tmp_path / "dl" / "json" / "sub" / "c.json").write_text(json.dumps(FROM_DATALOOP))
    report = shot_dataset.import_annotations(tmp_path / "dl", format="json")
    assert report.items_matched == 1 and report.annotations_written == 3 and report.unmatched == []
    anns = shot_dataset.items.get("/sub/c.jpg").annotations.list()
    assert [(a.type, a.label) for a in anns] == [("box", "car"), ("point", "person"), ("segment", "person")]
    assert anns[0].attributes == {"1": "red"} and anns[0].metadata["user"] == {"score": 0.9}
    assert anns[0].object_id == "3"


def test_download_annotations_writes_v1_names_and_round_trips(shot_dataset, project, tmp_path):
    (tmp_path / "in.json").write_text(json.dumps(FROM_DATALOOP))
    shot_dataset.import_annotations(tmp_path / "in.json", format="dataloop")
    folder = shot_dataset.download_annotations(tmp_path / "out")
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json"))
    assert files == ["json/a.json", "json/b.json", "json/sub/c.json", "json/sub/deeper/d.json"]
    doc = json.loads((tmp_path / "out" / "json" / "sub" / "c.json").read_text())
    assert doc["filename"] == "/sub/c.jpg" and doc["annotationsCount"] == 3
    assert doc["annotations"][0]["coordinates"] == FROM_DATALOOP["annotations"][0]["coordinates"]
    again = project.datasets.create("again")
    again.items.upload(local_path=str(tmp_path / "photos") + "/*")
    report = again.import_annotations(folder, format="json")
    assert report.items_matched == 4 and report.annotations_written == 3
    mine = [(a.type, a.label, a.coordinates, a.attributes) for a in shot_dataset.items.get("/sub/c.jpg").annotations.list()]
    theirs = [(a.type, a.label, a.coordinates, a.attributes) for a in again.items.get("/sub/c.jpg").annotations.list()]
    assert mine == theirs


def test_whole_dataset_export_is_a_list(shot_dataset, tmp_path):
    other = dict(FROM_DATALOOP, filename="/a.jpg", annotations=FROM_DATALOOP["annotations"][:1])
    (tmp_path / "all.json").write_text(json.dumps([FROM_DATALOOP, other]))
    report = shot_dataset.import_annotations(tmp_path / "all.json", format="json")
    assert report.items_matched == 2 and report.annotations_written == 4


def test_bad_annotation_is_named(shot_dataset, tmp_path):
    bad = dict(FROM_DATALOOP, annotations=[{"label": "car"}])
    (tmp_path / "c.json").write_text(json.dumps(bad))
    with pytest.raises(FormatError, match=r"c\.json: annotations\[0\]: an annotation must be an object with a 'type'"):
        shot_dataset.import_annotations(tmp_path / "c.json", format="json")
    assert shot_dataset.refresh().annotations_count == 0


def test_a_download_with_its_items_imports_in_one_job(shot_dataset, project, tmp_path):
    (tmp_path / "in.json").write_text(json.dumps(FROM_DATALOOP))
    shot_dataset.import_annotations(tmp_path / "in.json", format="json")
    shot_dataset.export(tmp_path / "dl", format="json", with_images=True)
    assert (tmp_path / "dl" / "items" / "sub" / "c.jpg").is_file()
    fresh = project.datasets.create("fresh")
    report = fresh.import_annotations(tmp_path / "dl", format="json")
    assert report.images_uploaded == 4 and report.items_matched == 4 and report.annotations_written == 3
    assert [a.label for a in fresh.items.get("/sub/c.jpg").annotations.list()] == ["car", "person", "person"]
