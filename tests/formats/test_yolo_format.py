"""YOLO (Ultralytics layout): a dataset as it ships imports with its images in one job;
export and re-import compare equal within float tolerance; bad lines are named."""

from __future__ import annotations

import pytest
import yaml

from dsdesk.formats.model import FormatError
from tests.conftest import make_image


@pytest.fixture
def shipped(tmp_path):
    """An Ultralytics dataset: data.yaml, images/{train,val}, labels/{train,val}."""
    root = tmp_path / "yolo"
    make_image(root / "images" / "train" / "a.jpg", (100, 50))
    make_image(root / "images" / "train" / "b.png", (40, 40), fmt="PNG")
    make_image(root / "images" / "val" / "c.jpg", (200, 100))
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.3 0.1 0.3 0.3\n")
    (root / "labels" / "train" / "b.txt").write_text("")
    (root / "labels" / "val" / "c.txt").write_text("1 0.25 0.5 0.5 1.0\n")
    (root / "data.yaml").write_text(yaml.safe_dump({"path": str(root), "train": "images/train",
                                                    "val": "images/val", "names": {0: "car", 1: "person"}}))
    return root


def test_import_as_shipped_uploads_images_and_places_boxes(project, shipped):
    ds = project.datasets.create("y", labels=["car"])
    report = ds.import_annotations(shipped, format="yolo")
    assert report.images_uploaded == 3 and report.items_matched == 3 and report.unmatched == []
    assert report.annotations_written == 3 and report.labels_added == ["person"]
    a = ds.items.get("/train/a.jpg").annotations.list()
    box = a[0]
    assert (box.type, box.label) == ("box", "car")
    assert (box.left, box.top, box.right, box.bottom) == pytest.approx((40, 15, 60, 35))
    assert a[1].type == "segment" and a[1].coordinates[0][1] == pytest.approx({"x": 30.0, "y": 5.0})
    c = ds.items.get("/val/c.jpg").annotations.list()[0]
    assert (c.left, c.top, c.right, c.bottom) == pytest.approx((0, 0, 100, 100))


def test_export_and_reimport_round_trip(project, shipped, tmp_path):
    ds = project.datasets.create("y")
    ds.import_annotations(shipped, format="yolo")
    out = tmp_path / "exported"
    report = ds.export(out, format="yolo", with_images=True, split_by_folder=True)
    assert report.annotations == 3 and report.images_copied == 3 and report.not_carried == []
    doc = yaml.safe_load((out / "data.yaml").read_text())
    assert doc["train"] == "images/train" and doc["val"] == "images/val"
    assert list(doc["names"].values())[:2] == ["car", "person"]
    assert (out / "images" / "val" / "c.jpg").is_file() and (out / "labels" / "train" / "b.txt").read_text() == ""
    again = project.datasets.create("again")
    again.import_annotations(out, format="yolo")
    for path in ("/train/a.jpg", "/val/c.jpg"):
        mine = ds.items.get(path).annotations.list()
        theirs = again.items.get(path).annotations.list()
        assert [(x.type, x.label) for x in mine] == [(x.type, x.label) for x in theirs]
        for x, y in zip(mine, theirs, strict=True):
            assert (x.left, x.top, x.right, x.bottom) == pytest.approx((y.left, y.top, y.right, y.bottom), abs=1e-3)


@pytest.mark.parametrize(("line", "says"), [
    ("0 0.5 0.5 0.2\n", "a.txt: line 1: 4 columns"),
    ("0 0.5 0.5 0.2 1.4\n", "a.txt: line 1: values must be fractions"),
    ("7 0.5 0.5 0.2 0.2\n", "a.txt: line 1: class 7 is not in the 2 names"),
    ("0 0.5 0.5 0.2 0.2\ncar 1 1 1 1\n", "a.txt: line 2: not numbers"),
])
def test_bad_lines_are_named_and_nothing_is_written(project, shipped, line, says):
    (shipped / "labels" / "train" / "a.txt").write_text(line)
    ds = project.datasets.create("y")
    with pytest.raises(FormatError, match=says):
        ds.import_annotations(shipped, format="yolo")
    assert ds.refresh().items_count == 0 and ds.annotations_count == 0


def test_labels_alone_match_uploaded_items_by_path_without_extension(project, shipped, tmp_path):
    ds = project.datasets.create("y")
    ds.items.upload(local_path=str(shipped / "images") + "/*")
    import shutil

    labels_only = tmp_path / "labels_only"
    shutil.copytree(shipped / "labels", labels_only / "labels")
    shutil.copy(shipped / "data.yaml", labels_only / "data.yaml")
    report = ds.import_annotations(labels_only, format="yolo")
    assert report.images_uploaded == 0 and report.items_matched == 3 and report.annotations_written == 3
    box = ds.items.get("/train/a.jpg").annotations.list()[0]
    assert (box.left, box.right) == pytest.approx((40, 60))


def test_skip_bad_writes_the_good_lines_and_names_the_bad(project, shipped):
    (shipped / "labels" / "train" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n0 0.5 0.5 0.2\n")
    ds = project.datasets.create("y")
    report = ds.import_annotations(shipped, format="yolo", skip_bad=True)
    assert report.annotations_written == 2
    assert len(report.skipped) == 1 and "a.txt: line 2: 4 columns" in report.skipped[0]
