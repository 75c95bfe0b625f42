"""Downloading a dataset (or a filtered part of it) to a local folder (a job)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select

from dsdesk.catalog import paths
from dsdesk.catalog.models import Annotation, Blob, Driver, Item
from dsdesk.errors import InvalidInputError
from dsdesk.transfer.reader import driver_for_row

PAGE = 1000


def local_target(root: Path, dir_: str, name: str) -> Path:
    """Where an item lands under *root*; refuses anything that would escape it."""
    rel = paths.join(dir_, name).lstrip("/")
    target = (root / rel).resolve()
    if root.resolve() not in target.parents:
        raise InvalidInputError(f"refusing to write outside {root}: {rel}")
    return target


def download_job(ctx, dataset_id: int, local_path, filters=None, to_items_folder: bool = True,
                 annotation_options=None, overwrite: bool = False) -> str:
    """Job: write the matching items' binaries under *local_path*, keeping folders; returns the folder."""
    from dsdesk.query import count_items, item_ids_select

    if annotation_options not in (None, "json", ["json"]):
        raise InvalidInputError(f"annotation_options must be None or 'json', not {annotation_options!r}")
    root = Path(local_path).expanduser()
    items_root = root / "items" if to_items_folder else root
    items_root.mkdir(parents=True, exist_ok=True)
    db = ctx.db
    with db.session() as s:
        total = count_items(s, dataset_id, filters)
    ctx.progress(0, total, f"downloading {total} items")
    drivers: dict[int, object] = {}
    done, last = 0, 0
    ids = item_ids_select(dataset_id, filters)
    while True:
        ctx.check_cancelled()
        with db.session() as s:
            rows = s.execute(
                select(Item.id, Item.dir, Item.name, Blob.storage_key, Blob.driver_id)
                .join(Blob, Blob.id == Item.blob_id)
                .where(Item.id.in_(ids), Item.id > last).order_by(Item.id).limit(PAGE)).all()
            for drv_id in {r.driver_id for r in rows} - drivers.keys():
                drivers[drv_id] = driver_for_row(db, s.get(Driver, drv_id))
            anns = annotations_json(s, [r.id for r in rows]) if annotation_options and rows else {}
        if not rows:
            break
        for r in rows:
            target = local_target(items_root, r.dir, r.name)
            if overwrite or not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(target.name + ".part")
                with drivers[r.driver_id].open(r.storage_key) as src, open(tmp, "wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                os.replace(tmp, target)
            if annotation_options:
                jt = local_target(root / "json", r.dir, r.name + ".json")
                jt.parent.mkdir(parents=True, exist_ok=True)
                jt.write_text(json.dumps({"id": r.id, "filename": paths.join(r.dir, r.name),
                                          "annotations": anns.get(r.id, [])}, indent=1))
            done += 1
        last = rows[-1].id
        ctx.progress(done, total, f"downloaded {done}/{total}")
    return str(root)


def annotations_json(session, item_ids: list[int]) -> dict[int, list[dict]]:
    """The annotations of *item_ids* as Dataloop-shaped JSON, by item id (in id order)."""
    out: dict[int, list[dict]] = {}
    for a in session.execute(select(Annotation).where(Annotation.item_id.in_(item_ids))
                             .order_by(Annotation.id)).scalars():
        out.setdefault(a.item_id, []).append(_ann_json(a))
    return out


def _ann_json(a: Annotation) -> dict:
    meta = dict(a.meta or {})
    meta.setdefault("system", {})
    meta["system"] = {**meta["system"], "objectId": a.object_id, "status": a.status}
    return {"id": a.id, "type": a.type, "label": a.label, "coordinates": a.coordinates,
            "attributes": a.attributes or [], "metadata": meta}
