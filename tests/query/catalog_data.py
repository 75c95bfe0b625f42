"""Test data for the query engine: a real SQLite catalog filled with Core inserts
(no dependency on the API layer)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import insert

from dsdesk.catalog.engine import open_database
from dsdesk.catalog.models import Annotation, Blob, Dataset, Driver, Item, Project


def make_catalog(path):
    """A catalog with one project, one internal driver and one dataset; returns (db, ids)."""
    db = open_database(path)
    with db.engine.begin() as con:
        pid = con.execute(insert(Project.__table__).values(name="p")).inserted_primary_key[0]
        did = con.execute(insert(Driver.__table__).values(project_id=pid, name="internal",
                                                          kind="internal")).inserted_primary_key[0]
        dsid = con.execute(insert(Dataset.__table__).values(project_id=pid, name="ds", driver_id=did,
                                                            meta_system={}, meta_user={})).inserted_primary_key[0]
    return db, {"project": pid, "driver": did, "dataset": dsid}


def add_items(db, ids, specs):
    """Insert items described by dicts: dir, name, user, system, hidden, annotated, size,
    mimetype, width, height, created, annotations=[{label, type, attributes, meta}].
    Returns the new item ids in order."""
    out = []
    with db.engine.begin() as con:
        for i, s in enumerate(specs):
            bid = con.execute(insert(Blob.__table__).values(
                driver_id=ids["driver"], storage_key=f"k/{uuid.uuid4().hex}",
                size=s.get("size", 0), mimetype=s.get("mimetype"), width=s.get("width"),
                height=s.get("height"))).inserted_primary_key[0]
            iid = con.execute(insert(Item.__table__).values(
                dataset_id=s.get("dataset_id", ids["dataset"]), dir=s["dir"], name=s["name"], blob_id=bid,
                meta_system=s.get("system", {}), meta_user=s.get("user", {}),
                hidden=s.get("hidden", False), annotated=s.get("annotated", bool(s.get("annotations"))),
                description=s.get("description"),
                created_at=s.get("created", dt.datetime(2024, 1, 1) + dt.timedelta(days=i)))).inserted_primary_key[0]
            for a in s.get("annotations", []):
                con.execute(insert(Annotation.__table__).values(
                    item_id=iid, dataset_id=s.get("dataset_id", ids["dataset"]), type=a.get("type", "box"),
                    label=a.get("label"), attributes=a.get("attributes"), meta=a.get("meta", {}),
                    creator=a.get("creator")))
            out.append(iid)
    return out
