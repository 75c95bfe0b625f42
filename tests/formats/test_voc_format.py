"""Pascal VOC: a VOC folder as it ships (Annotations/, JPEGImages/) imports with its images;
difficult / truncated / pose survive a round trip; bad XML is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dsdesk.formats.model import FormatError

VOC = Path(__file__).parent.parent / "data" / "formats" / "voc"


def test_import_as_shipped(project):
    ds = project.datasets.create("voc")
    report = ds.import_annotations(VOC, format="voc")
    assert report.images_uploaded == 2 and report.items_matched == 2 and report.annotations_written == 3
    assert report.labels_added == ["chair", "car"]
    a = ds.items.get("/000005.jpg").annotations.list()
    assert [(x.left, x.top, x.right, x.bottom) for x in a] == [(26, 21, 34, 37), (1, 40, 18.5, 75)]
    assert a[0].attributes == {"difficult": False, "truncated": False, "pose": "Rear"}
    assert a[1].attributes == {"difficult": True, "truncated": True}


def test_round_trip(project, tmp_path):
    ds = project.datasets.create("voc")
    ds.import_annotations(VOC, format="voc")
    out = tmp_path / "out"
    report = ds.export(out, format="voc", with_images=True)
    assert report.annotations == 3 and report.images_copied == 2
    again = project.datasets.create("again")
    again.import_annotations(out, format="voc")
    for path in ("/000005.jpg", "/000007.jpg"):
        mine = [(a.label, a.coordinates, a.attributes) for a in ds.items.get(path).annotations.list()]
        theirs = [(a.label, a.coordinates, a.attributes) for a in again.items.get(path).annotations.list()]
        assert mine == theirs


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: s.replace("</annotation>", ""), "000005.xml: not valid XML"),
    (lambda s: s.replace("<xmax>34</xmax>", "<xmax>340</xmax>"), "000005.xml: object 1: the box"),
    (lambda s: s.replace("<ymin>21</ymin>", "<ymin>x</ymin>"), "000005.xml: object 1: <ymin> must be a number"),
])
def test_bad_files_are_named(project, tmp_path, change, says):
    voc = tmp_path / "voc"
    shutil.copytree(VOC, voc)
    f = voc / "Annotations" / "000005.xml"
    f.write_text(change(f.read_text()))
    ds = project.datasets.create("voc")
    with pytest.raises(FormatError, match=says):
        ds.import_annotations(voc, format="voc")
    assert ds.refresh().items_count == 0
