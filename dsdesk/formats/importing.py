"""The read-and-match half of an import: files -> checked annotations per item.

:func:`plan_import` reads the files with the format's reader (every error names the file
and the entry), matches entries to the dataset's items, scales normalised coordinates
(YOLO) by each item's size, and returns an :class:`ImportPlan`: the annotations to write
(each naming its item, as the bulk upload takes them), the labels the recipe lacks, and a
report that already lists the unmatched and skipped entries.  Nothing is written here: the
API's import job hands the plan to the bulk annotation upload, one transaction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dsdesk.catalog.gcpause import no_cyclic_gc
from dsdesk.formats.matching import match
from dsdesk.formats.model import Entry, FormatError, ImportReport, Parsed

#: The image files an import of a folder uploads along with its annotations.
IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass
class ImportPlan:
    """What an import will write: Dataloop annotation dicts with ``itemId``, the labels
    the recipe lacks (dotted, in the files' order), and the report so far."""

    annotations: list[dict] = field(default_factory=list)
    new_labels: list[str] = field(default_factory=list)
    report: ImportReport = field(default_factory=lambda: ImportReport(""))


def read(path: str | os.PathLike, fmt: str, skip_bad: bool = False) -> Parsed:
    """Read *path* with format *fmt*'s reader."""
    from dsdesk.formats import get

    with no_cyclic_gc():
        return get(fmt).read(Path(path).expanduser(), skip_bad=skip_bad)


def image_root(path: str | os.PathLike, fmt: str) -> Path | None:
    """The local folder whose images an import of *path* uploads (keeping sub-folders),
    or None when *path* holds no images (an annotation file alone)."""
    from dsdesk.formats import get

    p = Path(path).expanduser()
    if not p.is_dir():
        return None
    root = get(fmt).images_folder(p)
    if root is None or not any(f.suffix.lower() in IMAGE_EXTS for f in root.rglob("*") if f.is_file()):
        return None
    return root


def _scaled(e: Entry, w, h) -> list[dict]:
    """*e*'s normalised annotations in pixels of a *w* x *h* image."""
    out = []
    for a in e.annotations:
        c = a["coordinates"]
        if a["type"] == "box":
            c = [{"x": p["x"] * w, "y": p["y"] * h, "z": 0} for p in c]
        elif a["type"] in ("segment", "polyline"):
            c = [[{"x": p["x"] * w, "y": p["y"] * h} for p in c[0]]]
        elif a["type"] == "point":
            c = {"x": c["x"] * w, "y": c["y"] * h, "z": 0}
        out.append({**a, "coordinates": c})
    return out


def plan_import(session, dataset_id: int, parsed: Parsed, fmt: str, recipe_tags, skip_bad: bool = False) -> ImportPlan:
    """Match *parsed* to the items of dataset *dataset_id*; *recipe_tags* are the labels
    the recipe has.  FormatError for a normalised entry whose item has no known size (with
    *skip_bad*: listed as skipped)."""
    report = ImportReport(fmt, files=list(parsed.files), entries=len(parsed.entries), skipped=list(parsed.skipped))
    m = match(session, dataset_id, parsed.entries)
    plan = ImportPlan(report=report)
    report.unmatched = [e.source or e.path for e in m.unmatched]
    items = set()
    for hit in m.matched:
        e = hit.entry
        anns = e.annotations
        if e.normalized and anns:
            w, h = hit.width or e.width, hit.height or e.height
            if not w or not h:
                err = FormatError(e.source or e.path, "", "the image's size is unknown, so its normalised "
                                  "coordinates cannot be placed (upload the image, or give its width and height)")
                if not skip_bad:
                    raise err
                report.skipped.append(str(err))
                continue
            anns = _scaled(e, w, h)
        items.add(hit.item_id)
        for a in anns:
            a["itemId"] = hit.item_id
        plan.annotations.extend(anns)
    report.items_matched = len(items)
    plan.new_labels = [lab for lab in parsed.labels if lab not in recipe_tags]
    plan.new_labels += [lab for lab in dict.fromkeys(a.get("label") for a in plan.annotations)
                        if lab and lab not in recipe_tags and lab not in plan.new_labels]
    return plan
