"""``dsdesk import`` / ``dsdesk export`` as a user runs them (a real process, a real catalog)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.conftest import make_image


def dsdesk(*args, catalog, check=True):
    r = subprocess.run([sys.executable, "-m", "dsdesk.cli.main", "--catalog", str(catalog), *args],
                       capture_output=True, text=True, env=dict(os.environ), timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"dsdesk {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def test_import_a_shipped_coco_dataset_then_export_yolo(tmp_path):
    cat = tmp_path / "cli.sqlite"
    root = tmp_path / "shipped"
    make_image(root / "train" / "a.jpg", (100, 50))
    make_image(root / "train" / "b.jpg", (100, 50))
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50},
                      {"id": 2, "file_name": "b.jpg", "width": 100, "height": 50},
                      {"id": 3, "file_name": "gone.jpg", "width": 100, "height": 50}],
           "categories": [{"id": 1, "name": "car", "supercategory": "vehicle"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 20, 20]}]}
    (root / "train" / "_annotations.coco.json").write_text(json.dumps(doc))
    dsdesk("project", "create", "demo", catalog=cat)
    dsdesk("dataset", "create", "cars", catalog=cat)
    r = dsdesk("import", "cars", str(root), "-f", "coco", catalog=cat)
    assert "imported 1 annotation(s) onto 2 item(s) of cars, 2 image(s) uploaded" in r.stdout
    assert "entries that matched no item (1):" in r.stdout and "gone.jpg" in r.stdout
    assert "labels added to the recipe (1):\n  vehicle.car" in r.stdout

    out = tmp_path / "yolo"
    r = dsdesk("export", "cars", str(out), "-f", "yolo", "--split", "--images", "--json", catalog=cat)
    report = json.loads(r.stdout)
    assert report["annotations"] == 1 and report["images_copied"] == 2
    names = yaml.safe_load((out / "data.yaml").read_text())["names"]
    car = next(k for k, v in names.items() if v == "vehicle.car")
    assert (out / "labels" / "train" / "a.txt").read_text() == f"{car} 0.200000 0.400000 0.200000 0.400000\n"
    assert (out / "images" / "train" / "b.jpg").is_file()


def test_a_bad_file_is_an_error_naming_it(tmp_path):
    cat = tmp_path / "cli.sqlite"
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [')
    dsdesk("project", "create", "demo", catalog=cat)
    dsdesk("dataset", "create", "cars", catalog=cat)
    r = dsdesk("import", "cars", str(bad), "-f", "coco", catalog=cat, check=False)
    assert r.returncode == 2 and f"{bad}: not valid JSON" in r.stderr
