"""Files written by another tool come in, and what dsdesk writes another tool reads.

The other tool is globox (a detection-annotation converter for COCO, YOLO, Pascal VOC and
CVAT, independent of dsdesk and of pycocotools): it writes each format from the same boxes,
dsdesk imports them; dsdesk exports each format, globox reads it back.  Boxes are compared
in pixels, within the rounding a normalised YOLO line carries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from globox import Annotation, AnnotationSet, BoundingBox  # the test extras have it

import dsdesk as dd

# image (as uploaded by the photos fixture) -> (size, [(label, xmin, ymin, xmax, ymax)])
TRUTH = {
    "a.jpg": ((64, 48), [("car", 2, 3, 20, 30), ("person", 30, 5, 60, 40)]),
    "b.png": ((32, 16), [("car", 1, 1, 10, 12)]),
}
LABELS = {"car": 0, "person": 1}


def _set() -> AnnotationSet:
    return AnnotationSet([
        Annotation(image_id=name, image_size=size,
                   boxes=[BoundingBox(label=lab, xmin=x0, ymin=y0, xmax=x1, ymax=y1) for lab, x0, y0, x1, y1 in boxes])
        for name, (size, boxes) in TRUTH.items()])


def _close(got: dict, tol: float) -> None:
    assert set(got) == set(TRUTH)
    for name, (_, want) in TRUTH.items():
        have = sorted(got[name])
        assert [b[0] for b in have] == sorted(w[0] for w in want), name
        for h, w in zip(have, sorted(want), strict=True):
            assert all(abs(a - b) <= tol for a, b in zip(h[1:], w[1:], strict=True)), (name, h, w)


def _dsdesk_boxes(ds) -> dict:
    out: dict = {}
    for it in ds.items.list().all():
        if it.dir != "/" or it.name not in TRUTH:
            continue
        for a in it.annotations.list():
            if a.type == "box":
                (p, q) = a.coordinates[:2]
                out.setdefault(it.name, []).append((a.label, p["x"], p["y"], q["x"], q["y"]))
    return out


def _globox_boxes(s: AnnotationSet) -> dict:
    return {Path(a.image_id).name: [(b.label, b.xmin, b.ymin, b.xmax, b.ymax) for b in a.boxes]
            for a in s if a.boxes}


def _written_by_globox(fmt: str, root: Path) -> Path:
    s = _set()
    for d in (root, root / "Annotations", root / "labels"):
        d.mkdir(parents=True, exist_ok=True)
    if fmt == "coco":
        s.save_coco(root / "instances.json", label_to_id=LABELS, auto_ids=True)
        return root / "instances.json"
    if fmt == "voc":
        s.save_pascal_voc(root / "Annotations")
        return root
    if fmt == "cvat":
        s.save_cvat(root / "annotations.xml")
        return root / "annotations.xml"
    s.save_yolo_v5(root / "labels", label_to_id=LABELS)
    (root / "data.yaml").write_text("names: [car, person]\n")  # the names file is the user's, not the tool's
    return root


CHECKED_IN = Path(__file__).resolve().parents[1] / "data" / "formats" / "globox"  # written by globox 2.9
_ENTRY = {"coco": "instances.json", "voc": "", "cvat": "annotations.xml", "yolo": ""}


@pytest.mark.parametrize("source", ["checked-in", "written-now"])
@pytest.mark.parametrize("fmt,tol", [("coco", 0.01), ("voc", 0.01), ("cvat", 0.01), ("yolo", 0.05)])
def test_files_written_by_globox_import(shot_dataset, tmp_path, fmt, tol, source):
    if source == "checked-in":
        path = CHECKED_IN / fmt / _ENTRY[fmt] if _ENTRY[fmt] else CHECKED_IN / fmt
    else:
        path = _written_by_globox(fmt, tmp_path / "in")
    report = shot_dataset.import_annotations(str(path), format=fmt, with_images=False)
    assert report.annotations_written == 3 and not report.unmatched
    _close(_dsdesk_boxes(shot_dataset), tol)


@pytest.mark.parametrize("fmt", ["coco", "voc", "cvat", "yolo"])
def test_what_dsdesk_writes_globox_reads(shot_dataset, tmp_path, fmt):
    for it in shot_dataset.items.list().all():
        if it.dir == "/" and it.name in TRUTH:
            b = it.annotations.builder()
            for lab, x0, y0, x1, y1 in TRUTH[it.name][1]:
                b.add(annotation_definition=dd.Box(left=x0, top=y0, right=x1, bottom=y1, label=lab))
            it.annotations.upload(b)
    out = tmp_path / "out"
    shot_dataset.export(str(out), format=fmt, with_images=(fmt == "yolo"))
    if fmt == "coco":
        (f,) = list(out.rglob("*.json"))
        read = AnnotationSet.from_coco(f)
    elif fmt == "voc":
        read = AnnotationSet.from_pascal_voc(next(p.parent for p in out.rglob("*.xml")))
    elif fmt == "cvat":
        (f,) = list(out.rglob("*.xml"))
        read = AnnotationSet.from_cvat(f)
    else:
        names = {0: "car", 1: "person"}
        labels = next(p.parent for p in out.rglob("*.txt") if p.stem == "a")
        images = next(p.parent for p in out.rglob("a.jpg"))
        only_a = tmp_path / "only-a"  # globox's YOLO reader takes one image extension: the .jpg one here
        only_a.mkdir()
        (only_a / "a.txt").write_text((labels / "a.txt").read_text())
        read = AnnotationSet.from_yolo_v5(only_a, image_folder=images, image_extension=".jpg")
        read.map_labels({str(k): v for k, v in names.items()})
        b_txt = labels / "b.txt"
        assert b_txt.is_file()  # b.png's line, read by hand
        (cls, cx, cy, w, h) = b_txt.read_text().split()
        W, H = TRUTH["b.png"][0]
        x0, y0 = (float(cx) - float(w) / 2) * W, (float(cy) - float(h) / 2) * H
        x1, y1 = (float(cx) + float(w) / 2) * W, (float(cy) + float(h) / 2) * H
        got = _globox_boxes(read)
        got["b.png"] = [(names[int(cls)], x0, y0, x1, y1)]
        _close(got, 0.05)
        return
    _close(_globox_boxes(read), 0.01)
