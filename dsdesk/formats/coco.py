"""COCO instances files: read into entries, written from a dataset's items.

Reading: ``images`` become entries (``file_name`` with its sub-folders, ``width`` /
``height``), ``categories`` recipe labels (``supercategory`` + ``name`` as a dotted label,
``vehicle.car``; a category that is its own supercategory, has none, or is the single root
that Roboflow exports put above every other, stays a plain name), and ``annotations``
Dataloop annotations: an RLE segmentation (compressed or not, decoded by pycocotools) a
mask, polygons one polygon each, otherwise the ``bbox`` a box; ``keypoints`` with visibility
> 0 become points labelled ``<label>.<keypoint name>``.  A folder is read file by file
(``instances_train.json`` / Roboflow's ``train/_annotations.coco.json`` name the split,
whose dataset folder ``/train`` is tried first when matching).

Writing: one file, or one per top folder (``split_by_folder``: ``annotations/instances_<folder>.json``
with ``file_name`` relative to that folder); boxes, polygons and masks (compressed RLE,
``iscrowd`` 1) are carried, other types are listed in the report.  JSON is parsed and
written with orjson (the stdlib's takes most of the import budget and twice the export
one on a million boxes: /work/shared/FORMATS-FIGURES.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from dsdesk.formats import geometry as g
from dsdesk.formats.model import Entry, ExportItem, ExportReport, FormatError, Parsed
from dsdesk.formats.paths import check_relative, existing, found, load_json

NAME = "coco"
LABEL = "COCO instances (JSON)"
#: Pixels a box may stick out of its image before it is refused (rounding in real files).
EDGE_TOLERANCE = 1.0
_SPLIT_PREFIXES = ("instances_", "person_keypoints_", "captions_")
_NUM = frozenset({int, float})
_GENERIC_STEMS = {"_annotations", "annotations", "instances", "instances_default", "labels", "coco"}


# ---------------------------------------------------------------------------- reading
def annotation_files(path: Path) -> list[Path]:
    """The files an import of *path* reads: the file itself, or every ``.json`` file under
    the folder (those that are not COCO files are listed as skipped)."""
    return [path] if path.is_file() else sorted(path.rglob("*.json"))


def split_folder(file: Path, root: Path) -> str:
    """The dataset folder a COCO file's images are looked for in first: ``/train`` for
    ``instances_train.json``, ``train.json`` or ``train/_annotations.coco.json``; ``/``
    when the name says nothing."""
    stem = file.name[:-len(".coco.json")] if file.name.endswith(".coco.json") else file.stem
    for prefix in _SPLIT_PREFIXES:
        if stem.startswith(prefix):
            stem = stem[len(prefix):]
    if stem.lower() in _GENERIC_STEMS or not stem:
        parent = file.parent
        if parent == root or parent.name in ("annotations", ""):
            return "/"
        return "/" + parent.name
    return "/" + stem


def _labels(categories: Any, file: Path) -> dict[int, dict]:
    """``{category id: {"label": dotted label, "keypoints": [...]}}``, FormatError for a bad one."""
    if not isinstance(categories, list):
        raise FormatError(file, "categories", "must be a list")
    cats: dict[int, dict] = {}
    for i, c in enumerate(categories):
        if not isinstance(c, dict) or not isinstance(c.get("id"), int) or not isinstance(c.get("name"), str) \
                or not c["name"]:
            raise FormatError(file, f"categories[{i}]", "a category needs an integer 'id' and a 'name'")
        if c["id"] in cats:
            raise FormatError(file, f"categories[{i}]", f"category id {c['id']} appears twice")
        cats[c["id"]] = c
    # Roboflow puts one category above all others ("objects", supercategory "none"): the
    # dataset's name, not a label family.
    roots = {c["name"] for c in cats.values() if _no_super(c) and len(cats) > 1 and all(
        o is c or o.get("supercategory") == c["name"] for o in cats.values())}
    out = {}
    for cid, c in cats.items():
        sup = c.get("supercategory")
        dotted = c["name"] if _no_super(c) or sup == c["name"] or sup in roots else f"{sup}.{c['name']}"
        out[cid] = {"label": dotted, "keypoints": c.get("keypoints") or [], "root": c["name"] in roots}
    return out


def _no_super(c: dict) -> bool:
    sup = c.get("supercategory")
    return not isinstance(sup, str) or not sup or sup.lower() == "none"


def read_file(file: Path, root: Path, skip_bad: bool, out: Parsed, doc: Any) -> None:
    """Read one COCO document *doc* (the contents of *file*) into *out*."""
    anns = doc.get("annotations", [])
    if not isinstance(anns, list):
        raise FormatError(file, "annotations", "must be a list")
    cats = _labels(doc.get("categories", []), file)
    folder = split_folder(file, root)
    entries: dict[int, Entry] = {}
    for i, im in enumerate(doc["images"]):
        where = f"images[{i}]"
        if not isinstance(im, dict) or not isinstance(im.get("id"), (int, str)) or not isinstance(
                im.get("file_name"), str):
            raise FormatError(file, where, "an image needs an 'id' and a 'file_name'")
        w, h = im.get("width"), im.get("height")
        if (w is not None and not g.finite(w)) or (h is not None and not g.finite(h)):
            raise FormatError(file, where, f"width/height must be numbers, not {w!r}/{h!r}")
        if im["id"] in entries:
            raise FormatError(file, where, f"image id {im['id']} appears twice")
        name = check_relative(im["file_name"], file, where)
        entries[im["id"]] = Entry(name, [], int(w) if w else None, int(h) if h else None, folder,
                                  source=f"{file.name}: image {im['id']} ({name})")
    t = EDGE_TOLERANCE
    for i, a in enumerate(anns):
        # Each source annotation is dropped from the parsed document once read, so the
        # document and what it becomes are never both whole in memory (a million boxes).
        anns[i] = None
        # The bulk case, a plain box inside its image, read inline (a million of them are
        # most of an import); anything else takes the checked path, which names what is wrong.
        if type(a) is dict and not a.get("segmentation") and not a.get("keypoints"):
            entry, cat, bbox = entries.get(a.get("image_id")), cats.get(a.get("category_id")), a.get("bbox")
            if entry is not None and cat is not None and type(bbox) is list and len(bbox) == 4:
                x, y, bw, bh = bbox
                if type(x) in _NUM and type(y) in _NUM and type(bw) in _NUM and type(bh) in _NUM and bw >= 0 \
                        and bh >= 0 and math.isfinite(x + y + bw + bh):
                    r, b, w, h = x + bw, y + bh, entry.width, entry.height
                    if x >= -t and y >= -t and (w is None or r <= w + t) and (h is None or b <= h + t):
                        box = {"type": "box", "label": cat["label"],
                               "coordinates": [{"x": x, "y": y, "z": 0}, {"x": r, "y": b, "z": 0}]}
                        attrs = a.get("attributes")
                        if attrs and type(attrs) is dict:
                            box["attributes"] = attrs
                        entry.annotations.append(box)
                        continue
        where = f"annotations[{i}]" + (f" (id {a.get('id')})" if isinstance(a, dict) and "id" in a else "")
        try:
            entry = _annotation(a, entries, cats, file, where)
        except FormatError as e:
            out.skip(e, skip_bad)
            continue
        entry[0].annotations.extend(entry[1])
    out.labels.extend(c["label"] for c in cats.values() if not c["root"])
    out.entries.extend(entries.values())
    out.files.append(str(file))


def _annotation(a: Any, entries: dict, cats: dict, file: Path, where: str) -> tuple[Entry, list[dict]]:
    """The entry an annotation belongs to and the Dataloop annotations it becomes."""
    if not isinstance(a, dict):
        raise FormatError(file, where, "an annotation must be an object")
    entry = entries.get(a.get("image_id"))
    if entry is None:
        raise FormatError(file, where, f"image_id {a.get('image_id')!r} is not an image of the file")
    cat = cats.get(a.get("category_id"))
    if cat is None:
        raise FormatError(file, where, f"category_id {a.get('category_id')!r} is not a category of the file")
    label = cat["label"]
    attrs = a.get("attributes") if isinstance(a.get("attributes"), dict) else None
    seg = a.get("segmentation")
    w, h = entry.width, entry.height
    out: list[dict] = []
    if isinstance(seg, dict):
        from dsdesk.formats.masks import mask_to_png, rle_to_mask

        size = seg.get("size")
        if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)):
            raise FormatError(file, where, "an RLE needs 'size': [height, width]")
        if h is not None and w is not None and size != [h, w]:
            raise FormatError(file, where, f"the RLE's size {size} is not the image's [{h}, {w}]")
        try:
            mask = rle_to_mask(seg, size[0], size[1])
        except (ValueError, TypeError) as e:
            raise FormatError(file, where, f"the RLE does not decode: {e}") from None
        out.append(g.binary(label, mask_to_png(mask), attrs))
    elif isinstance(seg, list) and seg:
        for j, poly in enumerate(seg):
            if not isinstance(poly, list) or len(poly) < 6 or len(poly) % 2 or not g.finite(*poly):
                raise FormatError(file, where, f"segmentation[{j}] must be x, y pairs (three points at least)")
            pts = list(zip(poly[0::2], poly[1::2], strict=True))
            _inside(g.bounds(pts), w, h, file, where)
            out.append(g.polygon(label, pts, attrs))
    else:
        bbox = a.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and g.finite(*bbox)) or bbox[2] < 0 or bbox[3] < 0:
            raise FormatError(file, where, f"bbox must be [x, y, width, height] (width, height >= 0), not {bbox!r}")
        x, y, bw, bh = bbox
        _inside((x, y, x + bw, y + bh), w, h, file, where)
        out.append(g.box(label, x, y, x + bw, y + bh, attrs))
    kps = a.get("keypoints")
    if kps:
        names = cat["keypoints"]
        if not isinstance(kps, list) or len(kps) % 3 or not g.finite(*kps):
            raise FormatError(file, where, "keypoints must be x, y, visibility triples")
        for k in range(len(kps) // 3):
            x, y, v = kps[3 * k:3 * k + 3]
            if v > 0:
                name = names[k] if k < len(names) else str(k)
                out.append(g.point(f"{label}.{name}", x, y))
    return entry, out


def _inside(b: tuple[float, float, float, float], w, h, file: Path, where: str) -> None:
    """FormatError when box *b* (left, top, right, bottom) leaves the image."""
    left, top, right, bottom = b
    t = EDGE_TOLERANCE
    if left < -t or top < -t or (w is not None and right > w + t) or (h is not None and bottom > h + t):
        size = f"{w}x{h}" if w is not None and h is not None else "its image"
        raise FormatError(file, where, f"the box ({left}, {top}, {right}, {bottom}) is outside the image ({size})")


def read(path: str | Path, skip_bad: bool = False) -> Parsed:
    """Read a COCO file, or every COCO file under a folder; FormatError naming the file and
    the entry for anything malformed (with *skip_bad*, bad annotations are listed in
    ``skipped`` instead)."""
    root = existing(path)
    files = found(root, annotation_files(root), "COCO .json file")
    out = Parsed([])
    for f in files:
        doc = load_json(f)
        if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
            if root.is_file():
                raise FormatError(f, "", "not a COCO file: it needs an 'images' list")
            out.skipped.append(f"{f}: not a COCO file (no 'images' list)")
            continue
        read_file(f, root if root.is_dir() else f.parent, skip_bad, out, doc)
    if not out.files:
        raise FormatError(root, "", "no COCO file here")
    out.labels = list(dict.fromkeys(out.labels))
    return out


def images_folder(path: Path) -> Path:
    """The folder of a COCO dataset as it ships whose images an import uploads: the
    dataset's own folder (``train2017/``, Roboflow's ``train/`` ... keep their names)."""
    return path


# ---------------------------------------------------------------------------- writing
def categories(labels: list[str]) -> list[dict]:
    """COCO categories (ids from 1) for dotted labels: ``vehicle.car`` is ``car`` of
    supercategory ``vehicle``."""
    cats = []
    for i, lab in enumerate(labels, start=1):
        sup, _, name = lab.rpartition(".")
        cats.append({"id": i, "name": name, "supercategory": sup})
    return cats


def _ann_dicts(it: ExportItem, image_id: int, cat_ids: dict[str, int], next_id: int,
               report: ExportReport) -> list[dict]:
    out = []
    for a in it.annotations:
        t, coords = a["type"], a.get("coordinates")
        cid = cat_ids.get(a.get("label"))
        if t == "box" and cid is not None and len(coords) == 2 and not a.get("attributes"):
            # The bulk case, a plain two-corner box, written inline.
            p, q = coords
            x0, y0, x1, y1 = p["x"], p["y"], q["x"], q["y"]
            if x1 < x0:
                x0, x1 = x1, x0
            if y1 < y0:
                y0, y1 = y1, y0
            w, h = x1 - x0, y1 - y0
            out.append({"id": next_id + len(out), "image_id": image_id, "category_id": cid, "iscrowd": 0,
                        "bbox": [x0, y0, w, h], "area": w * h, "segmentation": []})
            continue
        if cid is None or t not in ("box", "segment", "binary"):
            report.not_carried.append(f"{it.path}: a {t} annotation" + (
                "" if cid is not None else f" labelled {a.get('label')!r}") + " (COCO carries boxes, polygons, masks)")
            continue
        d: dict = {"id": next_id + len(out), "image_id": image_id, "category_id": cid, "iscrowd": 0}
        if t == "box":
            left, top, right, bottom = g.box_corners(coords)
            d["bbox"] = [left, top, right - left, bottom - top]
            d["area"] = (right - left) * (bottom - top)
            d["segmentation"] = []
        elif t == "segment":
            pts = g.ring(coords)
            left, top, right, bottom = g.bounds(pts)
            d["bbox"] = [left, top, right - left, bottom - top]
            d["area"] = g.polygon_area(pts)
            d["segmentation"] = [[v for p in pts for v in p]]
        else:
            from dsdesk.formats.masks import mask_to_rle, png_to_mask, rle_area_bbox

            rle = mask_to_rle(png_to_mask(coords))
            d["area"], d["bbox"] = rle_area_bbox(rle)
            d["segmentation"], d["iscrowd"] = rle, 1
        if a.get("attributes") and isinstance(a["attributes"], dict):
            d["attributes"] = a["attributes"]
        out.append(d)
    return out


def documents(items: Iterable[ExportItem], labels: list[str], report: ExportReport,
              split_by_folder: bool = False) -> dict[str, dict]:
    """The COCO documents of *items*, by split (``""`` for one document; with
    *split_by_folder* one per top folder, ``file_name`` relative to it, items at the root
    in ``default``), in one pass over *items* (they may stream)."""
    cats = categories(labels)
    cat_ids = {lab: c["id"] for lab, c in zip(labels, cats, strict=True)}
    docs: dict[str, dict] = {}
    for it in items:
        top, path = "", it.path
        if split_by_folder:
            top, _, rest = it.path.partition("/")
            top, path = (top, rest) if rest else ("default", it.path)
        doc = docs.get(top)
        if doc is None:
            doc = docs[top] = {"info": {"description": "exported by dsdesk"}, "licenses": [], "images": [],
                               "annotations": [], "categories": cats}
        images, anns = doc["images"], doc["annotations"]
        image_id = len(images) + 1
        im: dict = {"id": image_id, "file_name": path}
        if it.width is not None and it.height is not None:
            im["width"], im["height"] = it.width, it.height
        images.append(im)
        written = _ann_dicts(it, image_id, cat_ids, len(anns) + 1, report)
        anns.extend(written)
        report.annotations += len(written)
    return docs or {"": {"info": {"description": "exported by dsdesk"}, "licenses": [], "images": [],
                         "annotations": [], "categories": cats}}


def image_path(it: ExportItem, split_by_folder: bool = False) -> str:
    """Where an item's binary goes in an export folder: ``images/<its path>`` (with
    *split_by_folder* the path's first folder is the split, as ``file_name`` expects)."""
    return f"images/{it.path}"


def write(out: Path, items: Iterable[ExportItem], labels: list[str], report: ExportReport,
          split_by_folder: bool = False) -> None:
    """Write *items* as COCO under *out*: the file *out* itself when it ends in ``.json``,
    else ``annotations/instances_default.json`` (or one ``instances_<folder>.json`` per top
    folder with *split_by_folder*)."""
    single = out.suffix == ".json"
    for top, doc in documents(items, labels, report, split_by_folder and not single).items():
        file = out if single else out / "annotations" / f"instances_{top or 'default'}.json"
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(orjson.dumps(doc))
        report.files.append(str(file))
