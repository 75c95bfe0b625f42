"""What the fault suite compares and checks in a catalog file (plain sqlite3: no dsdesk code
between the checks and the file)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

# A rollback's safety snapshot is named after the time it was taken: two runs differ there only.
_STAMP = re.compile(r"-\d{8}-\d{6}-\d+$")


def fingerprint(path: Path) -> dict:
    """Everything a user sees of the catalog's content, without timestamps or ids: each
    dataset's kind, state and cached counts, a digest of its items (path, binary, user
    metadata) and of its annotations, and the snapshots."""
    con = sqlite3.connect(path)
    try:
        out = {}
        for ds_id, name, kind, deleted, readonly, n, na, nf in con.execute(
                "SELECT id, name, kind, deleted_at IS NOT NULL, readonly, item_count, annotation_count, folder_count "
                "FROM dataset ORDER BY name"):
            h = hashlib.sha1()
            for row in con.execute("SELECT i.dir, i.name, b.storage_key, i.meta_user FROM item i JOIN blob b "
                                   "ON b.id = i.blob_id WHERE i.dataset_id = ? ORDER BY i.dir, i.name", (ds_id,)):
                h.update(repr(row).encode())
            ann = con.execute("SELECT count(*), total(length(coalesce(label, ''))) FROM annotation "
                              "WHERE dataset_id = ?", (ds_id,)).fetchone()
            out[_STAMP.sub("", name)] = (kind, bool(deleted), bool(readonly), n, na, nf, h.hexdigest(), ann)
        out["#snapshots"] = sorted((d, _STAMP.sub("", s)) for d, s in con.execute(
            "SELECT d.name, s.name FROM snapshot s JOIN dataset d ON d.id = s.dataset_id"))
        return out
    finally:
        con.close()


def _point_of(con, ds_id: int):
    """(source dataset, version, item and annotation watermarks) of a snapshot that is a
    version point (migration 0018), else None."""
    return con.execute("SELECT p.dataset_id, p.version, p.item_hwm, p.ann_hwm FROM snapshot s JOIN version_point p "
                       "ON p.id = s.point_id WHERE s.frozen_dataset_id = ?", (ds_id,)).fetchone()


def _seen_by(con, point) -> tuple[int, int, int]:
    """(items, annotations, annotated items) the point sees, read the naive way: live rows
    written at or before its version plus the archived states valid at it."""
    d, v, h, ha = point
    live = "dataset_id = :d AND id <= :h AND coalesce(v, 0) <= :v"
    old = "dataset_id = :d AND id <= :h AND v_from <= :v AND v_to > :v"
    p = {"d": d, "v": v, "h": h}
    items = con.execute(f"SELECT (SELECT count(*) FROM item WHERE {live}) + (SELECT count(*) FROM item_history "
                        f"WHERE {old}), (SELECT count(*) FROM item WHERE {live} AND annotated) + "
                        f"(SELECT count(*) FROM item_history WHERE {old} AND annotated)", p).fetchone()
    anns = con.execute(f"SELECT (SELECT count(*) FROM annotation WHERE {live.replace(':h', ':ha')}) + "
                       f"(SELECT count(*) FROM annotation_history WHERE {old.replace(':h', ':ha')})",
                       {**p, "ha": ha}).fetchone()[0]
    return items[0], anns, items[1]


def problems(path: Path, blob_root: Path, stored: set[str]) -> list[str]:
    """What is wrong with the catalog at *path*: integrity, foreign keys, the name index,
    cached counts against the rows, orphans, and internal binaries an item points at but
    that are gone (what a too-eager release or gc would do)."""
    con = sqlite3.connect(path)
    bad: list[str] = []
    try:
        if (r := con.execute("PRAGMA integrity_check").fetchone()[0]) != "ok":
            bad.append(f"integrity_check: {r}")
        if fk := con.execute("PRAGMA foreign_key_check").fetchall():
            bad.append(f"foreign keys: {fk[:5]}")
        try:
            con.execute("INSERT INTO item_name_fts(item_name_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as e:
            bad.append(f"name index: {e}")
        for ds_id, name, n, na, nf, ann_items in con.execute(
                "SELECT d.id, d.name, d.item_count, d.annotation_count, d.folder_count, d.annotated_count FROM dataset d "
                "WHERE d.deleted_at IS NULL"):
            real = con.execute("SELECT (SELECT count(*) FROM item WHERE dataset_id = :d), "
                               "(SELECT count(*) FROM annotation WHERE dataset_id = :d), "
                               "(SELECT count(*) FROM folder WHERE dataset_id = :d), "
                               "(SELECT count(*) FROM item WHERE dataset_id = :d AND annotated)", {"d": ds_id}).fetchone()
            point = _point_of(con, ds_id)
            if point is not None:  # a snapshot that is a version point: the rows it sees
                real = (*_seen_by(con, point)[:2], real[2], _seen_by(con, point)[2])
            if (n, na, nf, ann_items) != real:
                bad.append(f"cached counts of {name}: {(n, na, nf, ann_items)} but the rows say {real}")
        for what, sql in (
                ("annotations of no item", "SELECT count(*) FROM annotation a LEFT JOIN item i ON i.id = a.item_id "
                                           "WHERE i.id IS NULL"),
                ("annotations in another dataset than their item",
                 "SELECT count(*) FROM annotation a JOIN item i ON i.id = a.item_id WHERE i.dataset_id != a.dataset_id"),
                ("items of no dataset", "SELECT count(*) FROM item i LEFT JOIN dataset d ON d.id = i.dataset_id "
                                        "WHERE d.id IS NULL"),
                ("items without their blob", "SELECT count(*) FROM item i LEFT JOIN blob b ON b.id = i.blob_id "
                                             "WHERE b.id IS NULL"),
                ("snapshots' archived items without their blob",
                 "SELECT count(*) FROM item_history i LEFT JOIN blob b ON b.id = i.blob_id WHERE b.id IS NULL"),
                ("jobs left running", "SELECT count(*) FROM job WHERE status IN ('queued', 'running')")):
            if n := con.execute(sql).fetchone()[0]:
                bad.append(f"{n} {what}")
        # Binaries that were in the store before the operation and that an item still points at.
        con.execute("CREATE TEMP TABLE stored (k TEXT PRIMARY KEY)")
        con.executemany("INSERT INTO stored VALUES (?)", [(k,) for k in stored])
        keys = [k for (k,) in con.execute("SELECT s.k FROM stored s WHERE EXISTS (SELECT 1 FROM blob b JOIN item i "
                                          "ON i.blob_id = b.id WHERE b.storage_key = s.k)")]
        gone = sorted(k for k in keys if not (blob_root / _rel(k)).exists())
        if gone:
            bad.append(f"{len(gone)} binaries items point at are gone from the internal store, e.g. {gone[:3]}")
    finally:
        con.close()
    return bad


def _rel(key: str) -> Path:
    from dsdesk.storage.blobstore import BlobStore

    return BlobStore("/").path_of(key).relative_to("/")


def stored_keys(path: Path, blob_root: Path) -> set[str]:
    """The internal storage keys whose binary is in the store under *blob_root*."""
    con = sqlite3.connect(path)
    try:
        keys = [k for (k,) in con.execute("SELECT b.storage_key FROM blob b JOIN driver v ON v.id = b.driver_id "
                                          "WHERE v.kind = 'internal'")]
    finally:
        con.close()
    out = set()
    for k in keys:
        try:
            if (blob_root / _rel(k)).exists():
                out.add(k)
        except Exception:  # noqa: BLE001 - not a content key of the store (a synthetic record)
            pass
    return out
