"""COCO instances: import onto matching items, export read back by pycocotools, bad files refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from dsdesk.errors import DsdeskError
from dsdesk.formats.model import FormatError


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE written from its definition: run lengths of the mask read in
    column-major order, starting with a run of zeros."""
    flat = mask.flatten(order="F")
    counts, current, run = [], 0, 0
    for v in flat:
        if v != current:
            counts.append(run)
            current, run = v, 0
        run += 1
    counts.append(run)
    return {"size": list(mask.shape), "counts": [int(c) for c in counts]}


def coco_doc() -> dict:
    mask = np.zeros((60, 80), np.uint8)
    mask[10:30, 20:50] = 1
    crowd = np.zeros((48, 64), np.uint8)
    crowd[5:15, 5:25] = 1
    compressed = mask_utils.encode(np.asfortranarray(crowd))
    return {
        "images": [
            {"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
            {"id": 2, "file_name": "sub/c.jpg", "width": 80, "height": 60},
            {"id": 3, "file_name": "d.jpg", "width": 10, "height": 20},
            {"id": 4, "file_name": "nowhere/z.jpg", "width": 10, "height": 10},
        ],
        "categories": [{"id": 1, "name": "car", "supercategory": "vehicle"},
                       {"id": 2, "name": "person", "supercategory": "person"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1.5, 2.0, 20.0, 10.0], "area": 200.0, "iscrowd": 0,
             "segmentation": []},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [0, 0, 10, 10], "area": 50, "iscrowd": 0,
             "segmentation": [[0, 0, 10, 0, 10, 10]]},
            {"id": 3, "image_id": 2, "category_id": 1, "bbox": [20, 10, 30, 20], "area": 600, "iscrowd": 1,
             "segmentation": uncompressed_rle(mask)},
            {"id": 4, "image_id": 1, "category_id": 2, "bbox": [5, 5, 20, 10], "area": 200, "iscrowd": 1,
             "segmentation": {"size": [48, 64], "counts": compressed["counts"].decode()}},
            {"id": 5, "image_id": 3, "category_id": 2, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0},
        ],
    }


def write(tmp_path, doc, name="instances.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_import_matches_by_path_then_name_and_reports_everything(shot_dataset, tmp_path):
    report = shot_dataset.import_annotations(write(tmp_path, coco_doc()), format="coco")
    assert report.items_matched == 3  # d.jpg by its name alone: sub/deeper/d.jpg is the only one
    assert report.annotations_written == 5
    assert report.unmatched == ["instances.json: image 4 (nowhere/z.jpg)"]
    assert report.labels_added == ["vehicle.car"]
    a = shot_dataset.items.get("/a.jpg").annotations.list()
    assert [(x.type, x.label) for x in a] == [("box", "vehicle.car"), ("segment", "person"), ("binary", "person")]
    box = a[0]
    assert (box.left, box.top, box.right, box.bottom) == (1.5, 2.0, 21.5, 12.0)
    c = shot_dataset.items.get("/sub/c.jpg").annotations.list()
    assert [x.type for x in c] == ["binary"]
    assert "vehicle.car" in shot_dataset.refresh().label_names
    assert shot_dataset.annotations_count == 5


def test_export_is_read_by_pycocotools(shot_dataset, tmp_path):
    doc = coco_doc()
    shot_dataset.import_annotations(write(tmp_path, doc), format="coco")
    out = tmp_path / "out.json"
    report = shot_dataset.export(out, format="coco")
    assert report.items == 4 and report.annotations == 5 and report.not_carried == []
    coco = COCO(str(out))
    files = {im["file_name"]: im for im in coco.dataset["images"]}
    assert set(files) == {"a.jpg", "b.png", "sub/c.jpg", "sub/deeper/d.jpg"}
    assert (files["sub/c.jpg"]["width"], files["sub/c.jpg"]["height"]) == (80, 60)
    names = {c["id"]: (c["supercategory"], c["name"]) for c in coco.loadCats(coco.getCatIds())}
    assert ("vehicle", "car") in names.values() and ("", "person") in names.values()
    car = next(i for i, n in names.items() if n == ("vehicle", "car"))
    person = next(i for i, n in names.items() if n == ("", "person"))
    assert len(coco.getAnnIds(catIds=[car])) == 2 and len(coco.getAnnIds(catIds=[person])) == 3
    a_id = files["a.jpg"]["id"]
    box = next(x for x in coco.loadAnns(coco.getAnnIds(imgIds=[a_id], catIds=[car])))
    assert box["bbox"] == pytest.approx([1.5, 2.0, 20.0, 10.0]) and box["area"] == pytest.approx(200.0)
    # the masks decode to what went in, through pycocotools' own reader
    c_ann = coco.loadAnns(coco.getAnnIds(imgIds=[files["sub/c.jpg"]["id"]]))[0]
    expected = np.zeros((60, 80), np.uint8)
    expected[10:30, 20:50] = 1
    assert (coco.annToMask(c_ann) == expected).all() and c_ann["area"] == 600
    tri = next(x for x in coco.loadAnns(coco.getAnnIds(imgIds=[a_id], catIds=[person])) if not x["iscrowd"])
    assert tri["segmentation"] == [[0, 0, 10, 0, 10, 10]] and tri["area"] == pytest.approx(50.0)


def test_round_trip_compares_equal(shot_dataset, project, tmp_path):
    shot_dataset.import_annotations(write(tmp_path, coco_doc()), format="coco")
    out = tmp_path / "exported"
    shot_dataset.export(out, format="coco", with_images=True)
    again = project.datasets.create("again")
    report = again.import_annotations(out, format="coco")
    assert report.images_uploaded == 4 and report.items_matched == 4 and report.unmatched == []

    def shapes(ds):
        out = {}
        for path in ("/images/a.jpg", "/images/sub/c.jpg", "/images/sub/deeper/d.jpg"):
            src = ds.items.get(path.removeprefix("/images") if ds is shot_dataset else path)
            out[path] = [(a.type, a.label, json.dumps(a.coordinates)) for a in src.annotations.list()]
        return out

    mine, theirs = shapes(shot_dataset), shapes(again)
    for path, anns in mine.items():
        for (t1, l1, c1), (t2, l2, c2) in zip(anns, theirs[path], strict=True):
            assert (t1, l1) == (t2, l2)
            if t1 != "binary":
                assert json.loads(c1) == pytest.approx(json.loads(c2)) if t1 == "point" else c1 == c2
    from dsdesk.formats.masks import png_to_mask

    m1 = png_to_mask(shot_dataset.items.get("/sub/c.jpg").annotations.list()[0].coordinates)
    m2 = png_to_mask(again.items.get("/images/sub/c.jpg").annotations.list()[0].coordinates)
    assert (m1 == m2).all()


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d["annotations"][0].update(category_id=9), "annotations[0] (id 1): category_id 9"),
    (lambda d: d["annotations"][1].update(image_id=99), "annotations[1] (id 2): image_id 99"),
    (lambda d: d["annotations"][0].update(bbox=[60, 40, 20, 20]), "annotations[0] (id 1): the box"),
    (lambda d: d["images"][0].update(file_name="../../etc/a.jpg"), "images[0]: the file name '../../etc/a.jpg'"),
    (lambda d: d["annotations"][3]["segmentation"].update(counts="zz!"), "annotations[3] (id 4): the RLE"),
    (lambda d: d["annotations"][2]["segmentation"]["counts"].append(5), "annotations[2] (id 3): the RLE"),
])
def test_bad_entries_are_named_and_nothing_is_written(shot_dataset, tmp_path, change, says):
    doc = coco_doc()
    change(doc)
    path = write(tmp_path, doc)
    with pytest.raises(FormatError) as e:
        shot_dataset.import_annotations(path, format="coco")
    assert str(path) in str(e.value) and says in str(e.value)
    assert shot_dataset.refresh().annotations_count == 0
    assert "vehicle.car" not in shot_dataset.label_names


def test_skip_bad_writes_the_rest_and_lists_what_it_skipped(shot_dataset, tmp_path):
    doc = coco_doc()
    doc["annotations"][0]["category_id"] = 9
    report = shot_dataset.import_annotations(write(tmp_path, doc), format="coco", skip_bad=True)
    assert report.annotations_written == 4
    assert len(report.skipped) == 1 and "annotations[0] (id 1): category_id 9" in report.skipped[0]


def test_truncated_file_is_refused(shot_dataset, tmp_path):
    p = tmp_path / "instances.json"
    p.write_text(json.dumps(coco_doc())[:200])
    with pytest.raises(DsdeskError, match="instances.json: not valid JSON"):
        shot_dataset.import_annotations(p, format="coco")


def test_train_and_val_files_match_their_folders(project, tmp_path):
    from tests.conftest import make_image

    ds = project.datasets.create("split")
    root = tmp_path / "shipped"
    for split in ("train", "val"):
        make_image(root / split / "0001.jpg", (40, 30))
        doc = {"images": [{"id": 7, "file_name": "0001.jpg", "width": 40, "height": 30}],
               "categories": [{"id": 1, "name": split}],
               "annotations": [{"id": 1, "image_id": 7, "category_id": 1, "bbox": [1, 1, 5, 5]}]}
        (root / "annotations").mkdir(exist_ok=True)
        (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(doc))
    report = ds.import_annotations(root, format="coco")
    assert report.images_uploaded == 2 and report.items_matched == 2 and report.unmatched == []
    assert [a.label for a in ds.items.get("/train/0001.jpg").annotations.list()] == ["train"]
    assert [a.label for a in ds.items.get("/val/0001.jpg").annotations.list()] == ["val"]


def test_unknown_format_is_named(shot_dataset, tmp_path):
    with pytest.raises(DsdeskError, match="unknown annotation format 'kitti'"):
        shot_dataset.import_annotations(tmp_path, format="kitti")


def test_keypoints_become_points_named_by_the_category(shot_dataset, tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}],
           "categories": [{"id": 1, "name": "person", "supercategory": "person", "keypoints": ["nose", "left_eye"]}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 30, 40], "num_keypoints": 1,
                            "keypoints": [10, 12, 2, 0, 0, 0]}]}
    report = shot_dataset.import_annotations(write(tmp_path, doc), format="coco")
    assert report.annotations_written == 2
    a = shot_dataset.items.get("/a.jpg").annotations.list()
    assert [(x.type, x.label) for x in a] == [("box", "person"), ("point", "person.nose")]
    assert a[1].coordinates == {"x": 10, "y": 12, "z": 0}
