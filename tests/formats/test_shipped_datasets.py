"""Files shaped as other tools write them (tests/data/formats): what dsdesk reads equals what
pycocotools reads; and the end-to-end path of a curator: import a COCO dataset with its
images, clone and merge it with its annotations, export YOLO."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from pycocotools.coco import COCO

from dsdesk.formats import coco as coco_format

DATA = Path(__file__).parent.parent / "data" / "formats"
ROBOFLOW = DATA / "roboflow"


def test_roboflow_export_reads_as_pycocotools_reads_it():
    file = ROBOFLOW / "train" / "_annotations.coco.json"
    ref = COCO(str(file))
    parsed = coco_format.read(file)
    # Roboflow's root category (the project's name, supercategory "none") is not a label.
    assert parsed.labels == ["car", "truck"]
    ours = Counter(a["label"] for e in parsed.entries for a in e.annotations)
    theirs = Counter(ref.cats[a["category_id"]]["name"] for a in ref.dataset["annotations"])
    assert ours == theirs
    by_file = {e.path: e for e in parsed.entries}
    for img in ref.dataset["images"]:
        e = by_file[img["file_name"]]
        assert (e.width, e.height) == (img["width"], img["height"])
        boxes = [a["bbox"] for a in ref.loadAnns(ref.getAnnIds(imgIds=[img["id"]])) if not a["segmentation"]]
        mine = []
        for a in e.annotations:
            if a["type"] == "box":
                p, q = a["coordinates"]
                mine.append([p["x"], p["y"], q["x"] - p["x"], q["y"] - p["y"]])
        assert [v for b in mine for v in b] == pytest.approx([v for b in boxes for v in b])
    polygon = next(a for e in parsed.entries for a in e.annotations if a["type"] == "segment")
    area = coco_format.g.polygon_area([(p["x"], p["y"]) for p in polygon["coordinates"][0]])
    assert area == pytest.approx(ref.anns[2]["area"])


def test_import_clone_merge_export_yolo(project, tmp_path):
    ds = project.datasets.create("street")
    report = ds.import_annotations(ROBOFLOW, format="coco")
    assert report.images_uploaded == 2 and report.items_matched == 2 and report.annotations_written == 4
    assert ds.items.get("/train/street_01_jpg.rf.3f1c2b.jpg").annotated
    clone = ds.clone(clone_name="street-curated")
    other = ds.clone(clone_name="street-other")
    merged = project.datasets.merge("street-merged", [clone.id, other.id])
    assert merged.refresh().annotations_count == 4  # the same source annotations once
    out = tmp_path / "yolo"
    exp = merged.export(out, format="yolo", split_by_folder=True, with_images=True)
    assert exp.annotations == 4 and exp.images_copied == 2 and exp.not_carried == []
    names = yaml.safe_load((out / "data.yaml").read_text())["names"]
    car = next(k for k, v in names.items() if v == "car")
    lines = (out / "labels" / "train" / "street_02_jpg.rf.9a7d41.txt").read_text().splitlines()
    assert len(lines) == 2 and all(line.split()[0] == str(car) for line in lines)
    assert (out / "images" / "train" / "street_01_jpg.rf.3f1c2b.jpg").is_file()
