"""Dataloop JSON: one file per item, as ``dataset.download_annotations`` writes it.

``json/<folders>/<name>.json`` holds ``{"_id"/"id", "filename": "/a/b.jpg",
"annotations": [...], "metadata": {...}}`` (dtlpy's V1 naming: ``a/b.jpg`` -> ``a/b.json``;
V2's ``a/b.jpg.json`` is read too).  Reading also takes the whole-dataset export (one file,
a list of such item objects).  Annotations come in unchanged but for what belongs to their
old home (ids, item and dataset ids, timestamps), so an export from Dataloop imports as it
is; the files dsdesk writes carry the SDK's field names, so ``dl.AnnotationCollection``
reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from dsdesk.formats.model import Entry, ExportItem, ExportReport, FormatError, Parsed
from dsdesk.formats.paths import check_relative, existing, found, load_json, stem

NAME = "json"
LABEL = "Dataloop JSON (one file per item)"
#: The export reads the annotations' and items' metadata (the other formats write none).
WITH_METADATA = True
#: The fields of an annotation an import keeps; the rest (id, itemId, datasetId,
#: createdAt, creator ...) describe where it was, not what it is.
KEPT = ("type", "label", "coordinates", "attributes", "metadata", "description")


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    base = root / "json" if (root / "json").is_dir() else root
    return sorted(base.rglob("*.json"))


def _annotation(a: Any, file: Path, where: str) -> dict:
    if not isinstance(a, dict) or not isinstance(a.get("type"), str):
        raise FormatError(file, where, "an annotation must be an object with a 'type'")
    out = {k: a[k] for k in KEPT if k in a}
    if "coordinates" not in out and "data" in a:
        out["coordinates"] = a["data"]
    meta = out.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("system"), dict):
        system = {k: v for k, v in meta["system"].items() if k not in ("parentId", "itemId", "datasetId")}
        out["metadata"] = {**meta, "system": system}
    return out


def _entry(doc: Any, file: Path, base: Path, where: str) -> Entry:
    if not isinstance(doc, dict) or not isinstance(doc.get("annotations", []), list):
        raise FormatError(file, where, "an item's JSON must be an object with an 'annotations' list")
    filename = doc.get("filename")
    if isinstance(filename, str) and filename:
        path = check_relative(filename, file, where)
    else:  # no filename: the JSON file's own path names the item (extension unknown)
        path = stem(file.relative_to(base).as_posix()) if file.is_relative_to(base) else file.stem
    anns = [_annotation(a, file, f"{where}annotations[{i}]".lstrip()) for i, a in enumerate(doc.get("annotations", []))]
    sysmeta = (doc.get("metadata") or {}).get("system") or {}
    w, h = sysmeta.get("width"), sysmeta.get("height")
    return Entry(path, anns, w if isinstance(w, int) else None, h if isinstance(h, int) else None,
                 source=f"{file.name}: {where}{path}" if where else f"{file.name} ({path})")


def read(path: str | Path, skip_bad: bool = False) -> Parsed:
    """Read per-item Dataloop JSON files (a folder, its ``json/`` folder) or a whole-dataset
    export (one file holding a list); FormatError naming the file and the annotation."""
    root = existing(path)
    files = found(root, _files(root), ".json files")
    base = root / "json" if root.is_dir() and (root / "json").is_dir() else root
    out = Parsed([])
    for f in files:
        doc = load_json(f)
        docs = doc if isinstance(doc, list) else [doc]
        for i, d in enumerate(docs):
            where = f"item {i}: " if isinstance(doc, list) else ""
            try:
                out.entries.append(_entry(d, f, base, where))
            except FormatError as e:
                out.skip(e, skip_bad)
        out.files.append(str(f) if root.is_file() else str(f.parent))
    out.files = list(dict.fromkeys(out.files))
    out.labels = list(dict.fromkeys(a["label"] for e in out.entries for a in e.annotations
                                    if isinstance(a.get("label"), str) and a["label"]))
    return out


def images_folder(path: Path) -> Path | None:
    """The images of a Dataloop download: its ``items/`` folder."""
    return path / "items" if (path / "items").is_dir() else None


def image_path(it: ExportItem, split_by_folder: bool = False) -> str:
    """Where an item's binary goes: ``items/<path>``, as ``dataset.download`` puts it."""
    return f"items/{it.path}"


def item_json(it: ExportItem) -> dict:
    """The per-item JSON of an item (dtlpy's field names)."""
    filename = "/" + it.path
    system: dict = {}
    if it.width is not None and it.height is not None:
        system = {"width": it.width, "height": it.height}
    return {"id": str(it.id), "filename": filename, "name": it.name, "dir": it.dir or "/",
            "annotated": bool(it.annotations), "annotationsCount": len(it.annotations),
            "annotations": it.annotations, "metadata": {"system": system, "user": it.metadata.get("user", {})}}


def write(out: Path, items: Iterable[ExportItem], labels: list[str], report: ExportReport,
          split_by_folder: bool = False) -> None:
    """Write one ``json/<dir>/<stem>.json`` per item under *out* (a second item of the same
    stem in a folder, ``a.png`` beside ``a.jpg``, gets V2's ``a.png.json``)."""
    taken: set[str] = set()
    for it in items:
        rel = str(PurePosixPath(it.path).with_suffix(".json"))
        if rel in taken:
            rel = it.path + ".json"
        taken.add(rel)
        f = out / "json" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(orjson.dumps(item_json(it), option=orjson.OPT_INDENT_2))
        report.annotations += len(it.annotations)
    report.files.append(str(out / "json"))
