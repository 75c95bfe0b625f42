"""CVAT for images 1.1: one ``annotations.xml`` with an ``<image>`` per image.

Read and written: ``<box>`` (``xtl ytl xbr ybr``), ``<polygon>``, ``<polyline>`` and
``<points>`` (``points="x,y;x,y"``; each point of ``<points>`` one point annotation),
``<tag>`` (a class annotation on the whole image), their ``<attribute name=...>`` children
and the ``occluded`` flag as the annotation's attributes.  Labels come from
``<meta><task|project><labels>`` and from the shapes.  Masks are not carried (CVAT's
own mask RLE is not COCO's); they are listed when exporting.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from dsdesk.formats import geometry as g
from dsdesk.formats.model import Entry, ExportItem, ExportReport, FormatError, Parsed
from dsdesk.formats.paths import check_relative

NAME = "cvat"
LABEL = "CVAT for images 1.1 (XML)"
EDGE_TOLERANCE = 1.0
_SHAPES = ("box", "polygon", "polyline", "points", "tag")


def _float(el, name: str, file: Path, where: str) -> float:
    try:
        v = float(el.get(name))
    except (TypeError, ValueError):
        raise FormatError(file, where, f"{name} must be a number, not {el.get(name)!r}") from None
    if not g.finite(v):
        raise FormatError(file, where, f"{name} must be a finite number")
    return v


def _points(el, file: Path, where: str) -> list[tuple[float, float]]:
    try:
        pts = [tuple(float(v) for v in p.split(",")) for p in (el.get("points") or "").split(";") if p.strip()]
    except ValueError:
        raise FormatError(file, where, f"points must be 'x,y;x,y;...', not {el.get('points')!r}") from None
    if any(len(p) != 2 or not g.finite(*p) for p in pts):
        raise FormatError(file, where, f"points must be 'x,y;x,y;...', not {el.get('points')!r}")
    return pts


def _attributes(el) -> dict:
    attrs: dict = {a.get("name"): (a.text or "") for a in el.findall("attribute") if a.get("name")}
    if el.get("occluded") is not None:
        attrs["occluded"] = el.get("occluded") == "1"
    return attrs


def _inside(b, w, h, file: Path, where: str) -> None:
    t = EDGE_TOLERANCE
    left, top, right, bottom = b
    if left < -t or top < -t or (w and right > w + t) or (h and bottom > h + t):
        raise FormatError(file, where, f"the shape ({left}, {top}, {right}, {bottom}) is outside the image ({w}x{h})")


def _shape(el, w, h, file: Path, where: str) -> list[dict]:
    label = el.get("label")
    if not label:
        raise FormatError(file, where, "a shape needs a label")
    attrs = _attributes(el) or None
    if el.tag == "tag":
        return [g.classification(label, attrs)]
    if el.tag == "box":
        x1, y1, x2, y2 = (_float(el, k, file, where) for k in ("xtl", "ytl", "xbr", "ybr"))
        if x2 < x1 or y2 < y1:
            raise FormatError(file, where, "a box needs xtl <= xbr and ytl <= ybr")
        _inside((x1, y1, x2, y2), w, h, file, where)
        return [g.box(label, x1, y1, x2, y2, attrs)]
    pts = _points(el, file, where)
    need = {"polygon": 3, "polyline": 2, "points": 1}[el.tag]
    if len(pts) < need:
        raise FormatError(file, where, f"a {el.tag} needs {need} point(s) at least")
    _inside(g.bounds(pts), w, h, file, where)
    if el.tag == "points":
        return [g.point(label, x, y, attrs) for x, y in pts]
    ann = g.polygon(label, pts, attrs)
    if el.tag == "polyline":
        ann["type"] = "polyline"
    return [ann]


def read(path: str | Path, skip_bad: bool = False) -> Parsed:
    """Read a CVAT for images XML file (or the ``annotations.xml`` of a folder)."""
    root = Path(path)
    file = root / "annotations.xml" if root.is_dir() else root
    if not file.is_file():
        raise FormatError(file, "", "no such file (a CVAT export holds annotations.xml)")
    try:
        doc = ET.parse(file).getroot()
    except ET.ParseError as e:
        raise FormatError(file, "", f"not valid XML ({e})") from None
    if doc.tag != "annotations":
        raise FormatError(file, "", f"not a CVAT for images file (root <{doc.tag}>, not <annotations>)")
    out = Parsed([], files=[str(file)])
    out.labels = [n.text.strip() for n in doc.iterfind("meta//labels/label/name") if n.text and n.text.strip()]
    for i, im in enumerate(doc.iterfind("image")):
        where = f"image {im.get('id', i)}"
        name = im.get("name")
        if not name:
            raise FormatError(file, where, "an image needs a name")
        path_ = check_relative(name, file, where)
        w = int(_float(im, "width", file, where)) if im.get("width") else None
        h = int(_float(im, "height", file, where)) if im.get("height") else None
        entry = Entry(path_, [], w, h, source=f"{file.name}: {where} ({path_})")
        for j, el in enumerate(e for e in im if e.tag in _SHAPES):
            try:
                entry.annotations.extend(_shape(el, w, h, file, f"{where}, <{el.tag}> {j + 1}"))
            except FormatError as e:
                out.skip(e, skip_bad)
        out.entries.append(entry)
    out.labels = list(dict.fromkeys(out.labels + [a["label"] for e in out.entries for a in e.annotations]))
    return out


def images_folder(path: Path) -> Path | None:
    """The images of a CVAT export with images: its ``images/`` folder."""
    return path / "images" if (path / "images").is_dir() else None


def image_path(it: ExportItem, split_by_folder: bool = False) -> str:
    """Where an item's binary goes: ``images/<path>``."""
    return f"images/{it.path}"


def _num(v: float) -> str:
    """A coordinate as text: CVAT writes two decimals; four keep sub-pixel edits exact."""
    return repr(round(float(v), 4))


def _put_attributes(el, attrs) -> None:
    if not isinstance(attrs, dict):
        return
    for k, v in attrs.items():
        if k == "occluded":
            continue
        a = ET.SubElement(el, "attribute", name=str(k))
        a.text = str(v)


def write(out: Path, items: Iterable[ExportItem], labels: list[str], report: ExportReport,
          split_by_folder: bool = False) -> None:
    """Write ``annotations.xml`` under *out* (or the file *out* when it ends in ``.xml``)."""
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    task = ET.SubElement(ET.SubElement(root, "meta"), "task")
    size = ET.SubElement(task, "size")
    labs = ET.SubElement(task, "labels")
    for lab in labels:
        ET.SubElement(ET.SubElement(labs, "label"), "name").text = lab
    for i, it in enumerate(items):
        im = ET.SubElement(root, "image", id=str(i), name=it.path)
        if it.width is not None and it.height is not None:
            im.set("width", str(it.width))
            im.set("height", str(it.height))
        for a in it.annotations:
            t, label, attrs = a["type"], a.get("label") or "", a.get("attributes")
            occluded = "1" if isinstance(attrs, dict) and attrs.get("occluded") else "0"
            if t == "box":
                left, top, right, bottom = g.box_corners(a["coordinates"])
                el = ET.SubElement(im, "box", label=label, occluded=occluded, source="manual", xtl=_num(left),
                                   ytl=_num(top), xbr=_num(right), ybr=_num(bottom), z_order="0")
            elif t in ("segment", "polyline"):
                pts = ";".join(f"{_num(x)},{_num(y)}" for x, y in g.ring(a["coordinates"]))
                el = ET.SubElement(im, "polygon" if t == "segment" else "polyline", label=label, occluded=occluded,
                                   source="manual", points=pts, z_order="0")
            elif t == "point":  # one <points> per point keeps each one's attributes
                c = a["coordinates"]
                el = ET.SubElement(im, "points", label=label, occluded=occluded, source="manual",
                                   points=f"{_num(c['x'])},{_num(c['y'])}", z_order="0")
            elif t == "class":
                el = ET.SubElement(im, "tag", label=label, source="manual")
            else:
                report.not_carried.append(f"{it.path}: a {t} annotation (CVAT XML here carries boxes, polygons, "
                                          "polylines, points and tags)")
                continue
            _put_attributes(el, attrs)
            report.annotations += 1
    size.text = str(len(root.findall("image")))
    file = out if out.suffix == ".xml" else out / "annotations.xml"
    file.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(file, encoding="utf-8", xml_declaration=True)
    report.files.append(str(file))
