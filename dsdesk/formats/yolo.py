"""YOLO in Ultralytics' layout: ``data.yaml`` names the classes, ``labels/<split>/*.txt``
hold one object per line, ``images/<split>/`` the images.

A line is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ...`` (a polygon, three points
at least), every coordinate a fraction of the image's size.  Reading keeps them
normalised (:attr:`~dsdesk.formats.model.Entry.normalized`); the import scales them by
each item's size once it is matched.  Roboflow's variant (``train/labels``,
``train/images``) and ``classes.txt`` instead of ``data.yaml`` are read too.

Writing puts each item in a split (its top folder with ``split_by_folder``, else
``train``), a label file per item (empty for an item without objects: a background image)
and ``data.yaml`` with the absolute ``path`` so Ultralytics finds it from anywhere.
Boxes and polygons are carried; other types are listed in the report.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import yaml

from dsdesk.formats import geometry as g
from dsdesk.formats.model import Entry, ExportItem, ExportReport, FormatError, Parsed
from dsdesk.formats.paths import stem

NAME = "yolo"
LABEL = "YOLO (Ultralytics: data.yaml, images/, labels/)"
#: How far a normalised value may leave 0..1 (rounding in files written by other tools).
TOLERANCE = 1e-6
_IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")


# ---------------------------------------------------------------------------- reading
def class_names(root: Path) -> list[str]:
    """The class names of a YOLO folder, by class id: ``data.yaml`` (``names`` a list or a
    ``{id: name}`` map), else ``classes.txt``; FormatError when neither is there."""
    yml = next((p for p in (root / "data.yaml", root / "dataset.yaml") if p.is_file()), None)
    if yml is None:
        yml = next(iter(sorted(root.glob("*.yaml"))), None)
    if yml is not None:
        try:
            doc = yaml.safe_load(yml.read_text())
        except yaml.YAMLError as e:
            raise FormatError(yml, "", f"not valid YAML ({e})") from None
        names = doc.get("names") if isinstance(doc, dict) else None
        if isinstance(names, dict) and all(isinstance(k, int) for k in names):
            return [str(names.get(i, i)) for i in range(max(names) + 1)] if names else []
        if isinstance(names, list):
            return [str(n) for n in names]
        raise FormatError(yml, "names", "must be a list of class names or a map of class id to name")
    txt = root / "classes.txt"
    if txt.is_file():
        return [line.strip() for line in txt.read_text().splitlines() if line.strip()]
    raise FormatError(root, "", "no data.yaml (or classes.txt) naming the classes")


def _label_files(root: Path) -> list[tuple[Path, Path]]:
    """``(labels folder, label file)`` for every ``.txt`` below a folder named ``labels``."""
    out = []
    for labels in sorted(p for p in root.rglob("labels") if p.is_dir()):
        out.extend((labels, f) for f in sorted(labels.rglob("*.txt")))
    return out


def _image_for(labels: Path, rel: PurePosixPath) -> Path | None:
    """The image a label file describes, beside it in the mirrored ``images`` folder."""
    base = labels.parent / "images" / rel.parent
    for ext in _IMAGE_EXTS:
        for p in (base / (rel.name + ext), base / (rel.name + ext.upper())):
            if p.is_file():
                return p
    return None


def read(path: str | Path, skip_bad: bool = False) -> Parsed:
    """Read a YOLO folder; FormatError naming the file and line for a bad line (with
    *skip_bad*, listed in ``skipped`` instead)."""
    root = Path(path)
    if not root.is_dir():
        raise FormatError(root, "", "a YOLO import reads a folder (data.yaml, labels/, images/)")
    names = class_names(root)
    out = Parsed([], labels=list(names))
    for labels, f in _label_files(root):
        rel = PurePosixPath(f.relative_to(labels).with_suffix("").as_posix())
        if labels.parent == root and len(rel.parts) > 1:  # labels/train/x.txt
            split, inside = rel.parts[0], PurePosixPath(*rel.parts[1:])
            image = _image_for(labels, rel)
        else:  # train/labels/x.txt (Roboflow), or labels/x.txt
            split = labels.parent.name if labels.parent != root else ""
            inside, image = rel, _image_for(labels, rel)
        entry = Entry(str(inside) if image is None else str(inside.parent / image.name).removeprefix("./"),
                      [], folder="/" + split, normalized=True, source=str(f))
        if image is not None:
            from PIL import Image

            with Image.open(image) as im:  # reads the header only
                entry.width, entry.height = im.size
        _read_lines(f, names, entry, skip_bad, out)
        out.entries.append(entry)
        out.files.append(str(labels))
    out.files = list(dict.fromkeys(out.files))
    if not out.entries:
        raise FormatError(root, "", "no label files (labels/**/*.txt) in this folder")
    return out


def _read_lines(f: Path, names: list[str], entry: Entry, skip_bad: bool, out: Parsed) -> None:
    try:
        text = f.read_text()
    except UnicodeDecodeError:
        raise FormatError(f, "", "not a text file") from None
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry.annotations.append(parse_line(line, names, f, n))
        except FormatError as e:
            out.skip(e, skip_bad)


def parse_line(line: str, names: list[str], f: Path, n: int) -> dict:
    """The normalised Dataloop annotation of one YOLO line."""
    where = f"line {n}"
    cols = line.split()
    try:
        cls = int(cols[0])
        vals = [float(v) for v in cols[1:]]
    except ValueError:
        raise FormatError(f, where, f"not numbers: {line.strip()!r}") from None
    if not 0 <= cls < len(names):
        raise FormatError(f, where, f"class {cls} is not in the {len(names)} names of data.yaml")
    if len(vals) != 4 and (len(vals) < 6 or len(vals) % 2):
        raise FormatError(f, where, f"{len(cols)} columns: a box has 5 (class cx cy w h), "
                                    "a polygon an odd number of 7 or more")
    if not g.finite(*vals) or any(v < -TOLERANCE or v > 1 + TOLERANCE for v in vals):
        raise FormatError(f, where, f"values must be fractions of the image size (0-1): {line.strip()!r}")
    label = names[cls]
    if len(vals) == 4:
        cx, cy, w, h = vals
        return g.box(label, cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    return g.polygon(label, list(zip(vals[0::2], vals[1::2], strict=True)))


def images_folder(path: Path) -> Path | None:
    """The images an import of a YOLO folder uploads: ``images/`` (its ``train``, ``val``
    ... become dataset folders), or the folder itself for Roboflow's ``train/images``."""
    return path / "images" if (path / "images").is_dir() else path


# ---------------------------------------------------------------------------- writing
def split_of(it: ExportItem, split_by_folder: bool) -> tuple[str, str]:
    """``(split, path inside the split)`` of an item."""
    parts = PurePosixPath(it.path).parts
    if split_by_folder and len(parts) > 1:
        return parts[0], "/".join(parts[1:])
    return "train", it.path


def image_path(it: ExportItem, split_by_folder: bool = False) -> str:
    """Where an item's binary goes: ``images/<split>/<path>``."""
    split, rel = split_of(it, split_by_folder)
    return f"images/{split}/{rel}"


def _lines(it: ExportItem, ids: dict[str, int], report: ExportReport) -> list[str]:
    out = []
    w, h = it.width, it.height
    for a in it.annotations:
        t, cid = a["type"], ids.get(a.get("label"))
        if t not in ("box", "segment") or cid is None or not w or not h:
            why = "YOLO carries boxes and polygons" if t not in ("box", "segment") else (
                "the image's size is unknown" if not w or not h else "it has no label")
            report.not_carried.append(f"{it.path}: a {t} annotation ({why})")
            continue
        if t == "box":
            left, top, right, bottom = g.box_corners(a["coordinates"])
            out.append(f"{cid} {(left + right) / 2 / w:.6f} {(top + bottom) / 2 / h:.6f} {(right - left) / w:.6f} "
                       f"{(bottom - top) / h:.6f}")
        else:
            vals = [v for x, y in g.ring(a["coordinates"]) for v in (x / w, y / h)]
            out.append(" ".join([str(cid)] + [f"{v:.6f}" for v in vals]))
    return out


def write(out: Path, items: Iterable[ExportItem], labels: list[str], report: ExportReport,
          split_by_folder: bool = False) -> None:
    """Write *items* as a YOLO folder *out* (``data.yaml``, ``labels/<split>/``)."""
    ids = {lab: i for i, lab in enumerate(labels)}
    splits = set()
    made: set[str] = set()  # folders created (a mkdir per file cost a fifth of the export)
    labels_root = str(out / "labels")
    for it in items:
        split, rel = split_of(it, split_by_folder)
        splits.add(split)
        lines = _lines(it, ids, report)
        report.annotations += len(lines)
        folder, _, name = f"{labels_root}/{split}/{rel}".rpartition("/")
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(f"{folder}/{stem(name)}.txt", "w") as f:
            f.write("".join(line + "\n" for line in lines))
    out.mkdir(parents=True, exist_ok=True)
    doc: dict = {"path": str(out.resolve())}
    for split in sorted(splits) or ["train"]:
        doc[split] = f"images/{split}"
    doc.setdefault("train", "images/train")
    doc.setdefault("val", doc["train"])
    doc["names"] = dict(enumerate(labels))
    (out / "data.yaml").write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    report.files.append(str(out / "data.yaml"))
