"""Pascal VOC: one XML file per image (``Annotations/<name>.xml``), boxes with ``difficult``,
``truncated`` and ``occluded`` flags (kept as the box's attributes) and ``pose``.

Coordinates are taken as the file gives them (``xmin`` ... ``ymax`` in pixels) and written
back the same way, so a round trip is exact.  Only boxes are carried; other types are
listed in the export report.  Images go to ``JPEGImages/<path>`` when exported with them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from dsdesk.formats import geometry as g
from dsdesk.formats.model import Entry, ExportItem, ExportReport, FormatError, Parsed
from dsdesk.formats.paths import check_relative, existing, found

NAME = "voc"
LABEL = "Pascal VOC (XML per image)"
FLAGS = ("difficult", "truncated", "occluded")
EDGE_TOLERANCE = 1.0


def _files(root: Path) -> tuple[Path, list[Path]]:
    if root.is_file():
        return root.parent, [root]
    base = root / "Annotations" if (root / "Annotations").is_dir() else root
    return base, sorted(base.rglob("*.xml"))


def _number(el, tag: str, file: Path, where: str) -> float:
    node = el.find(tag)
    try:
        v = float(node.text)
    except (AttributeError, TypeError, ValueError):
        raise FormatError(file, where, f"<{tag}> must be a number") from None
    if not g.finite(v):
        raise FormatError(file, where, f"<{tag}> must be a finite number")
    return v


def read_file(file: Path, base: Path, skip_bad: bool, out: Parsed) -> Entry:
    """The entry of one VOC XML file."""
    try:
        root = ET.parse(file).getroot()
    except ET.ParseError as e:
        raise FormatError(file, "", f"not valid XML ({e})") from None
    if root.tag != "annotation":
        raise FormatError(file, "", f"not a VOC file (root <{root.tag}>, not <annotation>)")
    name = (root.findtext("filename") or "").strip()
    rel_dir = file.parent.relative_to(base).as_posix() if file.is_relative_to(base) else "."
    path = check_relative(f"{rel_dir}/{name}" if name else f"{rel_dir}/{file.stem}", file, "<filename>")
    size = root.find("size")
    w = h = None
    if size is not None and size.find("width") is not None:
        w, h = int(_number(size, "width", file, "<size>")), int(_number(size, "height", file, "<size>"))
    entry = Entry(path, [], w or None, h or None, source=f"{file.name} ({path})")
    for i, obj in enumerate(root.findall("object")):
        where = f"object {i + 1}"
        try:
            entry.annotations.append(_object(obj, w, h, file, where))
        except FormatError as e:
            out.skip(e, skip_bad)
    return entry


def _object(obj, w, h, file: Path, where: str) -> dict:
    label = (obj.findtext("name") or "").strip()
    if not label:
        raise FormatError(file, where, "an object needs a <name>")
    box = obj.find("bndbox")
    if box is None:
        raise FormatError(file, where, "an object needs a <bndbox>")
    x1, y1, x2, y2 = (_number(box, t, file, where) for t in ("xmin", "ymin", "xmax", "ymax"))
    t = EDGE_TOLERANCE
    if x2 < x1 or y2 < y1 or x1 < -t or y1 < -t or (w and x2 > w + t) or (h and y2 > h + t):
        raise FormatError(file, where, f"the box ({x1}, {y1}, {x2}, {y2}) is outside the image ({w}x{h})")
    attrs = {f: (obj.findtext(f) or "0").strip() in ("1", "true", "True") for f in FLAGS if obj.find(f) is not None}
    pose = (obj.findtext("pose") or "").strip()
    if pose and pose != "Unspecified":
        attrs["pose"] = pose
    return g.box(label, x1, y1, x2, y2, attrs or None)


def read(path: str | Path, skip_bad: bool = False) -> Parsed:
    """Read a VOC file, or every ``.xml`` under a folder (its ``Annotations/`` if it has one)."""
    root = existing(path)
    base, files = _files(root)
    found(root, files, "VOC .xml files")
    out = Parsed([])
    for f in files:
        out.entries.append(read_file(f, base, skip_bad, out))
        out.files.append(str(f) if root.is_file() else str(f.parent))
    out.files = list(dict.fromkeys(out.files))
    out.labels = list(dict.fromkeys(a["label"] for e in out.entries for a in e.annotations))
    return out


def images_folder(path: Path) -> Path | None:
    """The images of a VOC folder as it ships: ``JPEGImages/``."""
    return path / "JPEGImages" if (path / "JPEGImages").is_dir() else None


def image_path(it: ExportItem, split_by_folder: bool = False) -> str:
    """Where an item's binary goes: ``JPEGImages/<path>``."""
    return f"JPEGImages/{it.path}"


def _sub(parent, tag: str, text=None):
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def document(it: ExportItem, report: ExportReport) -> ET.Element:
    """The VOC XML of one item."""
    root = ET.Element("annotation")
    _sub(root, "folder", PurePosixPath(it.path).parent.as_posix())
    _sub(root, "filename", it.name)
    if it.width is not None and it.height is not None:
        size = _sub(root, "size")
        _sub(size, "width", it.width)
        _sub(size, "height", it.height)
        _sub(size, "depth", 3)
    for a in it.annotations:
        if a["type"] != "box" or not a.get("label"):
            report.not_carried.append(f"{it.path}: a {a['type']} annotation (VOC carries labelled boxes)")
            continue
        attrs = a.get("attributes") if isinstance(a.get("attributes"), dict) else {}
        obj = _sub(root, "object")
        _sub(obj, "name", a["label"])
        _sub(obj, "pose", attrs.get("pose", "Unspecified"))
        for f in FLAGS:
            if f in attrs or f != "occluded":
                _sub(obj, f, int(bool(attrs.get(f))))
        left, top, right, bottom = g.box_corners(a["coordinates"])
        bb = _sub(obj, "bndbox")
        for tag, v in (("xmin", left), ("ymin", top), ("xmax", right), ("ymax", bottom)):
            _sub(bb, tag, _num(v))
        report.annotations += 1
    return root


def write(out: Path, items: Iterable[ExportItem], labels: list[str], report: ExportReport,
          split_by_folder: bool = False) -> None:
    """Write ``Annotations/<path without extension>.xml`` per item under *out*."""
    for it in items:
        f = out / "Annotations" / PurePosixPath(it.path).with_suffix(".xml")
        f.parent.mkdir(parents=True, exist_ok=True)
        tree = ET.ElementTree(document(it, report))
        ET.indent(tree)
        tree.write(f, encoding="utf-8", xml_declaration=False)
    report.files.append(str(out / "Annotations"))
