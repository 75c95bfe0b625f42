"""CVAT for images 1.1: boxes, polygons, polylines, points, tags and attributes in and out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsdesk.formats.model import FormatError

CVAT = Path(__file__).parent.parent / "data" / "formats" / "cvat"


def test_import_a_cvat_export(shot_dataset):
    report = shot_dataset.import_annotations(CVAT, format="cvat")
    assert report.items_matched == 2 and report.annotations_written == 6 and report.unmatched == []
    assert report.labels_added == ["night"]
    a = shot_dataset.items.get("/a.jpg").annotations.list()
    assert [(x.type, x.label) for x in a] == [("box", "car"), ("segment", "person"), ("point", "person"),
                                              ("point", "person"), ("class", "night")]
    assert (a[0].left, a[0].top, a[0].right, a[0].bottom) == (1.5, 2.0, 21.5, 12.0)
    assert a[0].attributes == {"color": "blue", "occluded": True}
    assert a[3].coordinates == {"x": 7.5, "y": 8.0, "z": 0}
    c = shot_dataset.items.get("/sub/c.jpg").annotations.list()
    assert c[0].type == "polyline"


def test_round_trip(shot_dataset, project, tmp_path, photos):
    shot_dataset.import_annotations(CVAT, format="cvat")
    out = tmp_path / "out"
    report = shot_dataset.export(out, format="cvat")
    assert report.annotations == 6 and report.not_carried == []
    again = project.datasets.create("again")
    again.items.upload(local_path=str(photos) + "/*")
    again.import_annotations(out, format="cvat")
    for path in ("/a.jpg", "/sub/c.jpg"):
        mine = [(a.type, a.label, a.coordinates, a.attributes) for a in shot_dataset.items.get(path).annotations.list()]
        theirs = [(a.type, a.label, a.coordinates, a.attributes) for a in again.items.get(path).annotations.list()]
        assert mine == theirs


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: s.replace("</annotations>", ""), "annotations.xml: not valid XML"),
    (lambda s: s.replace('xbr="21.50"', 'xbr="99"'), "annotations.xml: image 0, <box> 1: the shape"),
    (lambda s: s.replace('points="1.00,1.00;40.00,30.00"', 'points="1.00;40.00,30.00"'),
     "annotations.xml: image 1, <polyline> 1: points must be"),
])
def test_bad_files_are_named(shot_dataset, tmp_path, change, says):
    cvat = tmp_path / "cvat"
    shutil.copytree(CVAT, cvat)
    f = cvat / "annotations.xml"
    f.write_text(change(f.read_text()))
    with pytest.raises(FormatError, match=says):
        shot_dataset.import_annotations(cvat, format="cvat")
    assert shot_dataset.refresh().annotations_count == 0
