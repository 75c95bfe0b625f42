"""Copy-on-write versions, the prototype of issue 18: today's row copies beside the design
of ``docs/VERSIONING.md``, measured in one run on the same 1M-item, 3M-annotation catalog.

    python -m benchmarks.bench_cow                 # 1M items + 3M annotations, SQLite
    python -m benchmarks.bench_cow --size 100000   # quick
    python -m benchmarks.bench_cow --size 100000 --postgres   # on a temporary PostgreSQL server

"Today" runs dsdesk's own snapshot, diff, rollback and clone (``dsdesk.versioning``) on one
fresh copy of the cached base catalog.  "CoW" applies the prototype schema (history tables,
version stamps, triggers: :data:`PROTOTYPE_DDL`) to another fresh copy with raw SQL and runs
the same steps the way the design says the catalog will: a snapshot is a version point, a
write archives the old state of a row that a version still sees, a version's reads are the
live rows corrected by the (small) set of rows that differ.  Every CoW read is checked
against the naive reading of the same version (a ``UNION ALL`` of live and history rows,
filtered row by row) and against today's frozen copy, so the figures are of correct answers.

With ``--postgres`` both run on a temporary server (``benchmarks.pgserver``) holding a copy
of the base catalog (``dsdesk catalog copy``: about a minute per 100k items here); the
triggers are then PL/pgSQL ``BEFORE`` row triggers that set ``NEW.v`` themselves
(:func:`_pg_trigger`).  Raw SQL is written once, in SQLite's dialect; :class:`PgCon`
translates the parameters.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import re
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.bench_versioning import _base, _scratch
from dsdesk.catalog.engine import open_database

PAGE = 100
ROW = "dir, name, id, blob_id, meta_user, annotated"  # what a grid page reads of an item
FILTER = "json_extract(meta_user, '$.split') = 'val'"  # SQLite's; PgCon.filter is PostgreSQL's
ITEM_COLS = ("id, dataset_id, dir, name, blob_id, master_item_id, parent_item_id, meta_system, meta_user, "
             "annotated, hidden, description, changed_at, created_at, updated_at, row_version")
ANN_COLS = ("id, item_id, dataset_id, type, label, coordinates, attributes, meta, object_id, status, "
            "src_annotation_id, creator, created_at, updated_at")


def _cols(cols: str, prefix: str) -> str:
    return ", ".join(f"{prefix}.{c.strip()}" for c in cols.split(","))


def _sqlite_triggers(table: str, cols: str, hwm: str) -> str:
    """SQLite's triggers on *table*: a state the dataset's newest point still sees is
    archived before it changes or goes; an update is stamped with the current version; a
    new row that got a reused id at or below the watermark is stamped too, so no point
    mistakes it for a row it saw (SQLite hands out max(rowid) + 1)."""
    ds = "(SELECT {} FROM dataset WHERE id = {}.dataset_id)"
    seen = (f"OLD.id <= {ds.format(hwm, 'OLD')} AND coalesce(OLD.v, 0) <= {ds.format('cow_point', 'OLD')}")
    archive = (f"INSERT INTO {table}_history SELECT {_cols(cols, 'OLD')}, coalesce(OLD.v, 0), "
               f"{ds.format('cow_version', 'OLD')};")
    stamp = f"UPDATE {table} SET v = {ds.format('cow_version', 'NEW')} WHERE id = NEW.id;"
    # The stamp's own UPDATE (it changes only v) is not a change of state: NEW.v IS OLD.v.
    return f"""
CREATE TRIGGER {table}_cow_update BEFORE UPDATE ON {table} WHEN NEW.v IS OLD.v AND {seen}
BEGIN {archive} END;
CREATE TRIGGER {table}_cow_delete BEFORE DELETE ON {table} WHEN {seen}
BEGIN {archive} END;
CREATE TRIGGER {table}_cow_stamp AFTER UPDATE ON {table}
WHEN {ds.format('cow_point', 'NEW')} IS NOT NULL AND NEW.v IS NOT {ds.format('cow_version', 'NEW')}
BEGIN {stamp} END;
CREATE TRIGGER {table}_cow_reused_id AFTER INSERT ON {table}
WHEN NEW.id <= {ds.format(hwm, 'NEW')} AND NEW.v IS NULL
BEGIN {stamp} END;
"""


# The prototype schema.  ``v``: the dataset version at which the row's current state was
# written (NULL: at its insert, which its id dates against a version's id watermark).
# A dataset's ``cow_*`` columns: the version writes happen at now, and the newest
# version point's (version, item id watermark, annotation id watermark); NULL = no point.
PROTOTYPE_DDL = f"""
ALTER TABLE item ADD COLUMN v INTEGER;
ALTER TABLE annotation ADD COLUMN v INTEGER;
ALTER TABLE dataset ADD COLUMN cow_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE dataset ADD COLUMN cow_point INTEGER;
ALTER TABLE dataset ADD COLUMN cow_item_hwm INTEGER;
ALTER TABLE dataset ADD COLUMN cow_ann_hwm INTEGER;
CREATE TABLE version_point (
    id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, frozen_dataset_id INTEGER,
    version INTEGER NOT NULL, item_hwm INTEGER NOT NULL, ann_hwm INTEGER NOT NULL);
CREATE TABLE item_history AS SELECT {ITEM_COLS}, 0 AS v_from, 0 AS v_to FROM item WHERE 0;
CREATE INDEX ix_item_history_ds ON item_history (dataset_id, v_to, v_from);
CREATE INDEX ix_item_history_order ON item_history (dataset_id, dir, name, id);
CREATE INDEX ix_item_history_id ON item_history (id, v_to);
CREATE TABLE annotation_history AS SELECT {ANN_COLS}, 0 AS v_from, 0 AS v_to FROM annotation WHERE 0;
CREATE INDEX ix_annotation_history_ds ON annotation_history (dataset_id, v_to, v_from);
CREATE INDEX ix_annotation_history_item ON annotation_history (item_id);
CREATE INDEX ix_item_changed ON item (dataset_id, v) WHERE v IS NOT NULL;
CREATE TABLE item_tombstone (dataset_id INTEGER NOT NULL, item_id INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, item_id));
CREATE INDEX ix_annotation_changed ON annotation (dataset_id, v) WHERE v IS NOT NULL;

{_sqlite_triggers("item", ITEM_COLS, "cow_item_hwm")}
{_sqlite_triggers("annotation", ANN_COLS, "cow_ann_hwm")}
"""


def _pg_trigger(table: str, hwm: str) -> str:
    """PostgreSQL's form of the triggers: one BEFORE row trigger per table sets ``NEW.v``
    itself (no second UPDATE), archives a state the newest point sees, and stamps inserts
    into a dataset that has a point (an insert in flight may hold an id below a new
    point's watermark)."""
    return f"""
CREATE FUNCTION {table}_cow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ds record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT cow_point, cow_version INTO ds FROM dataset WHERE id = NEW.dataset_id;
    IF ds.cow_point IS NOT NULL AND NEW.v IS NULL THEN NEW.v := ds.cow_version; END IF;
    RETURN NEW;
  END IF;
  SELECT cow_point, cow_version, {hwm} AS hwm INTO ds FROM dataset WHERE id = OLD.dataset_id;
  IF ds.cow_point IS NOT NULL AND OLD.id <= ds.hwm AND coalesce(OLD.v, 0) <= ds.cow_point THEN
    INSERT INTO {table}_history SELECT (OLD).*, coalesce(OLD.v, 0), ds.cow_version;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF ds.cow_point IS NOT NULL THEN NEW.v := ds.cow_version; END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER {table}_cow BEFORE INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_cow();
"""


PG_DDL = f"""
ALTER TABLE item ADD COLUMN v integer;
ALTER TABLE annotation ADD COLUMN v integer;
ALTER TABLE dataset ADD COLUMN cow_version integer NOT NULL DEFAULT 1, ADD COLUMN cow_point integer,
    ADD COLUMN cow_item_hwm bigint, ADD COLUMN cow_ann_hwm bigint;
CREATE TABLE version_point (id bigserial PRIMARY KEY, dataset_id bigint NOT NULL, frozen_dataset_id bigint,
    version integer NOT NULL, item_hwm bigint NOT NULL, ann_hwm bigint NOT NULL);
CREATE TABLE item_history (LIKE item);
ALTER TABLE item_history ADD COLUMN v_from integer, ADD COLUMN v_to integer, ADD COLUMN hid bigserial PRIMARY KEY;
CREATE INDEX ix_item_history_ds ON item_history (dataset_id, v_to, v_from);
CREATE INDEX ix_item_history_order ON item_history (dataset_id, dir, name, id);
CREATE INDEX ix_item_history_id ON item_history (id, v_to);
CREATE TABLE annotation_history (LIKE annotation);
ALTER TABLE annotation_history ADD COLUMN v_from integer, ADD COLUMN v_to integer,
    ADD COLUMN hid bigserial PRIMARY KEY;
CREATE INDEX ix_annotation_history_ds ON annotation_history (dataset_id, v_to, v_from);
CREATE INDEX ix_annotation_history_item ON annotation_history (item_id);
CREATE INDEX ix_item_changed ON item (dataset_id, v) WHERE v IS NOT NULL;
CREATE INDEX ix_annotation_changed ON annotation (dataset_id, v) WHERE v IS NOT NULL;
CREATE TABLE item_tombstone (dataset_id bigint NOT NULL, item_id bigint NOT NULL, PRIMARY KEY (dataset_id, item_id));
{_pg_trigger("item", "cow_item_hwm")}
{_pg_trigger("annotation", "cow_ann_hwm")}
"""


class View:
    """What a version of a dataset sees, read as the live rows of one dataset *d* (in its
    grid-order index) corrected by small sets: the live rows it does not see
    (``excluded``: ids of *d*'s rows) and rows it sees that are not live rows of *d*
    (``included``: archived states, a clone's own rows).  Ids are shown shifted by
    ``shift`` (a clone's item id block; 0 for a snapshot), so every key is in the view's
    own id space and the live index order is the view's order."""

    def __init__(self, con: sqlite3.Connection, d: int, params: dict, live_where: str, excluded: str,
                 included: list[tuple[str, str]], shift: int = 0):
        self.con, self.d, self.shift = con, d, shift
        self.p = {**params, "d": d, "delta": shift}
        self.live_where = live_where  # SQL on the live rows of d: the view sees this one
        self.excluded = excluded  # SELECT of the ids of d's live rows the view does not see
        self.included = included  # (FROM ... WHERE ..., id expression) of the other rows it sees
        self._delta: tuple[list[tuple], list[tuple]] | None = None

    def _one(self, sql: str, extra: dict | None = None):
        return self.con.execute(sql, {**self.p, **(extra or {})}).fetchone()

    def count(self, where: str = "TRUE") -> int:
        """Rows of the view matching *where*: the live count, minus the excluded rows and
        plus the included ones that match, both read by primary key from the cached delta
        (a plan no engine can get wrong, whatever its statistics say)."""
        live = self._one(f"SELECT count(*) FROM item WHERE dataset_id = :d AND {where}")[0]
        gone, back = self.delta_keys()
        n = live - self._count_ids("FROM item WHERE TRUE", [k[2] - self.shift for k in gone], where)
        for k, (src, idexpr) in enumerate(self.included):
            shift = self.shift if idexpr != "id" else 0
            n += self._count_ids(src, [key[2] - shift for key in back if key[3] == k], where)
        return n

    def _count_ids(self, src: str, ids: list[int], where: str) -> int:
        total = 0
        for i in range(0, len(ids), 50_000):  # statements of bounded size
            chunk = ",".join(map(str, ids[i:i + 50_000]))
            total += self._one(f"SELECT count(*) {src} AND id IN ({chunk}) AND {where}")[0] if chunk else 0
        return total

    def _row(self, idexpr: str) -> str:
        return ROW.replace("id,", f"{idexpr} AS id,", 1)

    def page_after(self, key=None, n: int = PAGE) -> list[tuple]:
        """The next *n* rows of the view's grid order after *key*, from the cached delta
        (:meth:`delta_keys`): the master's own page query over the live rows, dropping the
        excluded ones (reading on while some were dropped), merged with the next included
        rows, read by primary key.  No sort of anything but the page."""
        gone, back = self.delta_keys()
        gone_set = self._gone_set
        rows: list[tuple] = []
        cursor = key
        while True:
            extra = dict(zip(("kd", "kn", "ki"), cursor, strict=True)) if cursor else {}
            # compared on the stored id (key id minus the shift) so the index range applies
            after = "AND (dir, name, id) > (:kd, :kn, :ki - :delta)" if cursor else ""
            got = self.con.execute(f"SELECT {self._row('id + :delta')} FROM item WHERE dataset_id = :d {after} "
                                   "ORDER BY dir, name, id LIMIT :n", {**self.p, **extra, "n": n}).fetchall()
            rows += [r for r in got if r[:3] not in gone_set]
            if len(rows) >= n or len(got) < n:
                break
            cursor = got[-1][:3]
        j = bisect.bisect_right(back, (*key, float("inf"))) if key else 0
        # only the included rows that fall inside the page the live rows already fill
        end = bisect.bisect_right(back, (*rows[n - 1][:3], float("inf"))) if len(rows) >= n else len(back)
        rows += self._included_rows(back[j:min(j + n, end)])
        return sorted(rows)[:n]

    def _included_rows(self, keys: list[tuple]) -> list[tuple]:
        """The rows behind included keys ``(dir, name, id, source)``, by primary key."""
        out: list[tuple] = []
        for k, (src, idexpr) in enumerate(self.included):
            shift = self.shift if idexpr != "id" else 0
            ids = [key[2] - shift for key in keys if key[3] == k]
            if ids:
                # "+dataset_id": by the ids (the history's id index, the primary key)
                src = src.replace("dataset_id =", "+dataset_id =", 1)
                out += self.con.execute(f"SELECT {self._row(idexpr)} {src} AND id IN ({','.join(map(str, ids))})",
                                        self.p).fetchall()
        return out

    def delta_keys(self) -> tuple[list[tuple], list[tuple]]:
        """The grid-order keys of the excluded rows ``(dir, name, id)`` and of the included
        ones ``(dir, name, id, source)``, sorted: small lists kept while the dataset does
        not change (the catalog's change counter says when)."""
        if self._delta is None:
            gone = self.con.execute(f"SELECT dir, name, id + :delta FROM item WHERE +dataset_id = :d "
                                    f"AND id IN ({self.excluded})", self.p)
            back = [(*r, k) for k, (src, idexpr) in enumerate(self.included)
                    for r in self.con.execute(f"SELECT dir, name, {idexpr} {src}", self.p)]
            self._delta = (sorted(map(tuple, gone)), sorted(back))
            self._gone_set = set(self._delta[0])
        return self._delta

    def forget(self) -> None:
        """Drop the cached delta (the dataset changed)."""
        self._delta = None

    def _adj(self, row: tuple) -> int:
        """Excluded minus included rows up to and with *row* in grid order."""
        gone, back = self.delta_keys()
        return bisect.bisect_right(gone, row) - bisect.bisect_right(back, (*row, float("inf")))

    def _live_at(self, offset: int):
        row = self.con.execute("SELECT dir, name, id + :delta FROM item WHERE dataset_id = :d "
                               "ORDER BY dir, name LIMIT 1 OFFSET :o", {**self.p, "o": offset}).fetchone()
        return tuple(row) if row else None

    def _step(self, row: tuple, by: int):
        """The live row *by* places after (or before, negative) *row*: a short keyset walk."""
        op, order = (">", "") if by > 0 else ("<", " DESC")
        got = self.con.execute(
            f"SELECT dir, name, id + :delta FROM item WHERE dataset_id = :d AND (dir, name, id) {op} "
            f"(:kd, :kn, :ki - :delta) ORDER BY dir{order}, name{order}, id{order} LIMIT 1 OFFSET :o",
            {**self.p, **dict(zip(("kd", "kn", "ki"), row, strict=True)), "o": abs(by) - 1}).fetchone()
        return tuple(got) if got else None

    def key_at(self, k: int):
        """The key after which the view's page at offset *k* starts.

        One ``OFFSET`` walk of the live index to position ``k - 1``, then short keyset steps
        by ``adj`` = excluded minus included rows up to the current row, to a fixed point:
        the view has ``k`` rows up to and with it.  The steps are as long as the changes
        near the position, so the cost is one walk of the live dataset plus the changes."""
        if k <= 0:
            return None
        row, adj = self._live_at(k - 1), 0
        for _ in range(64):
            if row is None:
                return None
            want = self._adj(row)
            if want == adj:
                break
            row, adj = self._step(row, want - adj), want
        # The view has exactly k rows up to and with *row*: *row* is the key unless the
        # view does not see it; then the key is the view's last row before it: the live
        # row before (skipping excluded ones) or an included one, whichever is later.
        gone, back = self.delta_keys()
        i = bisect.bisect_left(gone, row)
        if i == len(gone) or gone[i] != row:
            return row
        j = bisect.bisect_right(back, (*row, float("inf")))
        prev_back = back[j - 1][:3] if j else None
        prev_live = row
        while prev_live is not None:
            prev_live = self._step(prev_live, -1)
            i = bisect.bisect_left(gone, prev_live) if prev_live else 0
            if prev_live is None or i == len(gone) or gone[i] != prev_live:
                break
        return max((r for r in (prev_back, prev_live) if r is not None), default=None)

    def naive_count(self, where: str = "TRUE") -> int:
        """The same count read the obvious way."""
        parts = [f"SELECT 1 FROM item WHERE dataset_id = :d AND {self.live_where} AND {where}"]
        parts += [f"SELECT 1 {src} AND {where}" for src, _ in self.included]
        return self._one(f"SELECT count(*) FROM ({' UNION ALL '.join(parts)}) AS every_row")[0]

    def naive_page(self, k: int, n: int = PAGE) -> list[tuple]:
        """The same page read the obvious way (every row of the view, filtered one by one)."""
        parts = [f"SELECT {self._row('id + :delta')} FROM item WHERE dataset_id = :d AND {self.live_where}"]
        parts += [f"SELECT {self._row(idexpr)} {src}" for src, idexpr in self.included]
        return self.con.execute(" UNION ALL ".join(parts) + " ORDER BY 1, 2, 3 LIMIT :n OFFSET :k",
                                {**self.p, "n": n, "k": k}).fetchall()


class Version(View):
    """What a version point (s, h, ha) of dataset *d* sees: rows with ``id <= h`` whose
    state was written at a version ``<= s``, live or archived."""

    # live rows of d the version does not see (changed or added since), by index
    EXCLUDED = ("SELECT id FROM item WHERE dataset_id = :d AND v > :s "
                "UNION SELECT id FROM item WHERE dataset_id = :d AND id > :h")
    # archived states it does see: by the (dataset_id, v_to) index, the states superseded
    # since the point (few while little changed; sorted for a page)
    INCLUDED = "FROM item_history WHERE dataset_id = :d AND v_to > :s AND v_from <= :s AND id <= :h"

    def __init__(self, con: sqlite3.Connection, d: int, s: int, h: int, ha: int):
        self.s, self.h, self.ha = s, h, ha
        super().__init__(con, d, {"s": s, "h": h, "ha": ha}, "+id <= :h AND coalesce(v, 0) <= :s",
                         self.EXCLUDED, [(self.INCLUDED, "id")])

    def diff_counts(self) -> dict[str, int]:
        """Added / removed / changed item ids from this version to the live dataset, from
        the excluded and included sets only (no scan of the dataset)."""
        now = {r[0] for r in self.con.execute(self.EXCLUDED, self.p)}
        then = {r[0] for r in self.con.execute(f"SELECT id {self.INCLUDED}", self.p)}
        # an item whose annotations changed is changed too
        ann = {r[0] for r in self.con.execute(
            "SELECT item_id FROM annotation WHERE dataset_id = :d AND v > :s UNION "
            "SELECT item_id FROM annotation WHERE +dataset_id = :d AND id > :ha UNION "
            "SELECT item_id FROM annotation_history WHERE dataset_id = :d AND v_to > :s AND v_from <= :s "
            "AND id <= :ha", self.p)}
        changed = (now & then) | ((ann - now - then) & self._live_ids(ann))
        return {"added": len(now - then), "removed": len(then - now), "changed": len(changed)}

    def _live_ids(self, ids: set[int]) -> set[int]:
        if not ids:
            return set()
        return {r[0] for r in self.con.execute(
            f"SELECT id FROM item WHERE dataset_id = :d AND id IN ({','.join(map(str, ids))})", self.p)}


class CloneView(View):
    """An unfiltered clone *c* of dataset *d* made at version point *at*: what the point
    sees, ids shifted by the clone's id block, minus the shared rows the clone changed
    (its own row with the shifted id replaces it) or deleted (a tombstone), plus the
    clone's own rows."""

    def __init__(self, con: sqlite3.Connection, at: Version, c: int, delta: int, adelta: int):
        self.c, self.at = c, at
        mine = "(SELECT 1 FROM item o WHERE o.id = {i} + :delta)"
        tomb = "(SELECT 1 FROM item_tombstone t WHERE t.dataset_id = :c AND t.item_id = {i} + :delta)"
        live_where = f"{at.live_where} AND NOT EXISTS {mine.format(i='item.id')} AND NOT EXISTS {tomb.format(i='item.id')}"
        excluded = (f"{at.EXCLUDED} UNION SELECT id - :delta FROM item WHERE dataset_id = :c "
                    "AND id BETWEEN 1 + :delta AND :h + :delta "
                    "UNION SELECT item_id - :delta FROM item_tombstone WHERE dataset_id = :c")
        history = (f"{at.INCLUDED} AND NOT EXISTS {mine.format(i='item_history.id')} "
                   f"AND NOT EXISTS {tomb.format(i='item_history.id')}")
        super().__init__(con, at.d, {**at.p, "c": c, "adelta": adelta}, live_where, excluded,
                         [(history, "id + :delta"), ("FROM item WHERE dataset_id = :c", "id")], shift=delta)


def point(con: sqlite3.Connection, d: int) -> Version:
    """Take a version point of dataset *d*: O(1), three small statements."""
    con.execute("UPDATE dataset SET cow_point = cow_version, cow_version = cow_version + 1, "
                "cow_item_hwm = (SELECT max(id) FROM item), "
                "cow_ann_hwm = (SELECT coalesce(max(id), 0) FROM annotation) WHERE id = ?", (d,))
    s, h, ha = con.execute("SELECT cow_point, cow_item_hwm, cow_ann_hwm FROM dataset WHERE id = ?", (d,)).fetchone()
    con.execute("INSERT INTO version_point (dataset_id, version, item_hwm, ann_hwm) VALUES (?, ?, ?, ?)",
                (d, s, h, ha))
    return Version(con, d, s, h, ha)


def snapshot_cow(con: sqlite3.Connection, d: int, name: str) -> Version:
    """A snapshot: the frozen dataset row (metadata and cached statistics), its folders, a point."""
    cur = con.execute("INSERT INTO dataset (project_id, name, kind, driver_id, recipe_id, readonly, src_dataset_id, "
                "meta_system, meta_user, description, item_count, annotated_count, annotation_count, "
                "folder_count, bytes_total) SELECT project_id, name || '@' || ?, 'snapshot', driver_id, recipe_id, "
                "TRUE, id, '{}', meta_user, '', item_count, annotated_count, annotation_count, folder_count, "
                "bytes_total FROM dataset WHERE id = ? RETURNING id", (name, d))
    frozen = cur.fetchone()[0]
    con.execute("INSERT INTO folder (dataset_id, path, created_at) SELECT ?, path, created_at FROM folder "
                "WHERE dataset_id = ?", (frozen, d))
    v = point(con, d)
    con.execute("UPDATE version_point SET frozen_dataset_id = ? WHERE id = (SELECT max(id) FROM version_point)",
                (frozen,))
    return v


def rollback_cow(con: sqlite3.Connection, v: Version) -> tuple[int, int, int]:
    """Roll dataset v.d back to version *v* after a safety point, touching only what
    changed since: an item changed since takes back the state the version saw in place
    (one UPDATE, its own pages; the trigger archives the current state for the safety
    point), an item added since goes, an item deleted since comes back with its id; the
    annotations likewise.  Returns (items restored in place, removed, brought back)."""
    point(con, v.d)  # the safety snapshot's point
    cur = con.execute("SELECT cow_version FROM dataset WHERE id = ?", (v.d,)).fetchone()[0]
    for t in ("rb_now (id INTEGER PRIMARY KEY)", "rb_then (id INTEGER PRIMARY KEY, hrow INTEGER)"):
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {t}")
        con.execute(f"DELETE FROM {t.split()[0]}")
    con.execute(f"INSERT INTO rb_now {v.EXCLUDED}", v.p)  # live rows the version does not see
    con.execute(f"INSERT INTO rb_then SELECT id, {con.hid} {v.INCLUDED}", v.p)  # its states that are not live
    cols = [c.strip() for c in ITEM_COLS.split(",") if c.strip() not in ("id", "row_version")]
    hcols = ", ".join(f"h.{c}" for c in cols)
    same = con.execute(
        f"UPDATE item SET ({', '.join(cols)}) = (SELECT {hcols} FROM item_history h WHERE h.{con.hid} = "
        "(SELECT hrow FROM rb_then WHERE rb_then.id = item.id)), row_version = row_version + 1 "
        "WHERE id IN (SELECT id FROM rb_now WHERE id IN (SELECT id FROM rb_then))").rowcount
    con.execute("DELETE FROM annotation WHERE item_id IN (SELECT id FROM rb_now WHERE id NOT IN "
                "(SELECT id FROM rb_then))")
    gone = con.execute("DELETE FROM item WHERE id IN (SELECT id FROM rb_now WHERE id NOT IN "
                       "(SELECT id FROM rb_then))").rowcount
    back = con.execute(f"INSERT INTO item ({ITEM_COLS}, v) SELECT {_cols(ITEM_COLS, 'h')}, :cur "
                       f"FROM item_history h WHERE h.{con.hid} IN (SELECT hrow FROM rb_then WHERE id NOT IN "
                       "(SELECT id FROM rb_now))", {"cur": cur}).rowcount
    # "+dataset_id": the annotations above the watermark by primary key range, not every
    # annotation of the dataset through the (dataset_id, label) index
    con.execute("DELETE FROM annotation WHERE id IN (SELECT id FROM annotation WHERE dataset_id = :d AND v > :s "
                "UNION SELECT id FROM annotation WHERE +dataset_id = :d AND id > :ha)", v.p)
    con.execute(f"INSERT INTO annotation ({ANN_COLS}, v) SELECT {ANN_COLS}, :cur FROM annotation_history "
                "WHERE dataset_id = :d AND v_to > :s AND v_from <= :s AND id <= :ha "
                "AND id NOT IN (SELECT id FROM annotation)", {**v.p, "cur": cur})
    return same, gone, back


def clone_cow(con: sqlite3.Connection, d: int, name: str) -> CloneView:
    """An unfiltered clone: its dataset row, its folders, a version point of the source
    and the clone's id blocks (the next ids of each table: in the catalog, the sequence is
    moved past the block, as ``reserve_ids`` does on PostgreSQL today)."""
    cur = con.execute("INSERT INTO dataset (project_id, name, kind, driver_id, recipe_id, src_dataset_id, meta_system, "
                "meta_user, description, item_count, annotated_count, annotation_count, folder_count, bytes_total) "
                "SELECT project_id, ?, 'clone', driver_id, recipe_id, id, '{}', meta_user, '', item_count, "
                "annotated_count, annotation_count, folder_count, bytes_total FROM dataset WHERE id = ? RETURNING id",
                (name, d))
    c = cur.fetchone()[0]
    con.execute("INSERT INTO folder (dataset_id, path, created_at) SELECT ?, path, created_at FROM folder "
                "WHERE dataset_id = ?", (c, d))
    at = point(con, d)
    delta = con.execute("SELECT max(id) FROM item").fetchone()[0]
    adelta = con.execute("SELECT coalesce(max(id), 0) FROM annotation").fetchone()[0]
    return CloneView(con, at, c, delta, adelta)


def materialize(con: sqlite3.Connection, cv: CloneView, ids_sql: str) -> int:
    """Give the clone its own copy of the shared items *ids_sql* selects (source ids) and
    of their annotations, with the shifted ids, as the point sees them: the first write
    of a clone to a shared row.  Returns the items copied."""
    at, p = cv.at, cv.p
    cols = ITEM_COLS.replace("id, dataset_id,", "").strip()
    n = con.execute(
        f"INSERT INTO item ({ITEM_COLS}) SELECT id + :delta, :c, {cols} FROM item WHERE dataset_id = :d "
        f"AND {at.live_where} AND id IN ({ids_sql}) "
        f"UNION ALL SELECT id + :delta, :c, {cols} {at.INCLUDED} AND id IN ({ids_sql})", p).rowcount
    acols = ANN_COLS.replace("id, item_id, dataset_id,", "").strip()
    con.execute(
        f"INSERT INTO annotation ({ANN_COLS}) SELECT id + :adelta, item_id + :delta, :c, {acols} FROM annotation "
        f"WHERE item_id IN ({ids_sql}) AND +dataset_id = :d AND id <= :ha AND coalesce(v, 0) <= :s "
        f"UNION ALL SELECT id + :adelta, item_id + :delta, :c, {acols} FROM annotation_history "
        f"WHERE dataset_id = :d AND v_to > :s AND v_from <= :s AND id <= :ha AND item_id IN ({ids_sql})", p)
    return n


def change_clone_one_percent(con: sqlite3.Connection, cv: CloneView) -> None:
    """The same 1% change made in the clone: the shared rows it touches are materialized
    first (metadata, path, annotations), the deleted ones get a tombstone."""
    sel = "SELECT id FROM item WHERE dataset_id = :d AND id % 100 = 0 AND id % 500 {}"
    materialize(con, cv, sel.format("< 400"))
    con.execute("UPDATE item SET meta_user = '{\"split\": \"changed\"}' WHERE id IN "
                f"(SELECT id + :delta FROM ({sel.format('< 200')}) AS chosen)", cv.p)
    con.execute("UPDATE item SET name = name || '.moved' WHERE id IN "
                f"(SELECT id + :delta FROM ({sel.format('BETWEEN 200 AND 299')}) AS chosen)", cv.p)
    con.execute("DELETE FROM annotation WHERE item_id IN "
                f"(SELECT id + :delta FROM ({sel.format('BETWEEN 300 AND 399')}) AS chosen)", cv.p)
    con.execute("INSERT INTO item_tombstone (dataset_id, item_id) SELECT :c, id + :delta "
                f"FROM ({sel.format('>= 400')}) AS chosen", cv.p)


def change_one_percent(con: sqlite3.Connection, d: int) -> None:
    """bench_versioning's 1% change in raw SQL: metadata 0.4%, path 0.2%, annotations
    removed 0.2%, items removed 0.2% (every 100th item)."""
    con.execute("UPDATE item SET meta_user = '{\"split\": \"changed\"}' WHERE dataset_id = ? AND id % 100 = 0 "
                "AND id % 500 < 200", (d,))
    con.execute("UPDATE item SET name = name || '.moved' WHERE dataset_id = ? AND id % 100 = 0 "
                "AND id % 500 >= 200 AND id % 500 < 300", (d,))
    con.execute("DELETE FROM annotation WHERE item_id IN (SELECT id FROM item WHERE dataset_id = ? AND "
                "id % 100 = 0 AND id % 500 >= 300)", (d,))
    con.execute("DELETE FROM item WHERE dataset_id = ? AND id % 100 = 0 AND id % 500 >= 400", (d,))


def _size(con) -> int:
    """Bytes of the catalog in use."""
    return con.size()


def _ms(fn, repeat: int = 3):
    """Best of *repeat* wall times in ms, and the last result."""
    best, out = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        dt = (time.perf_counter() - t) * 1000
        best = dt if best is None else min(best, dt)
    return best, out


def _master_reads(con: sqlite3.Connection, d: int, deep: int) -> dict[str, tuple[float, object]]:
    """First page, filtered count and deep page of a plain dataset (the master, or today's
    frozen copy), each as dsdesk runs it."""
    def deep_page():
        key = con.execute("SELECT dir, name, id FROM item WHERE dataset_id = ? ORDER BY dir, name LIMIT 1 OFFSET ?",
                          (d, deep - 1)).fetchone()
        return con.execute(f"SELECT {ROW} FROM item WHERE dataset_id = ? AND (dir, name, id) > (?, ?, ?) "
                           "ORDER BY dir, name, id LIMIT ?", (d, *key, PAGE)).fetchall()
    return {
        "first page": _ms(lambda: con.execute(f"SELECT {ROW} FROM item WHERE dataset_id = ? "
                                              "ORDER BY dir, name, id LIMIT ?", (d, PAGE)).fetchall()),
        "filtered count": _ms(lambda: con.execute(f"SELECT count(*) FROM item WHERE dataset_id = ? AND {con.filter}",
                                                  (d,)).fetchone()[0]),
        "deep page": _ms(deep_page),
    }


def _version_reads(v: Version, deep: int) -> dict[str, tuple[float, object]]:
    return {
        "first page": _ms(lambda: v.page_after(None)),
        "filtered count": _ms(lambda: v.count(v.con.filter)),
        "deep page": _ms(lambda: v.page_after(v.key_at(deep))),
    }


def _paired_reads(con: sqlite3.Connection, d: int, view: View, deep: int, rounds: int = 3):
    """Master and view reads taken in alternation, best of *rounds* each: on a shared
    machine the load drifts, and alternating puts the same drift on both."""
    best_m: dict = {}
    best_v: dict = {}
    for _ in range(rounds):
        for best, got in ((best_m, _master_reads(con, d, deep)), (best_v, _version_reads(view, deep))):
            for step, (ms, out) in got.items():
                if step not in best or ms < best[step][0]:
                    best[step] = (ms, out)
    return best_m, best_v


def _check_view(view: View, deep: int) -> None:
    """The view's fast reads are its naive reads."""
    f = view.con.filter
    assert view.count(f) == view.naive_count(f), (view.count(f), view.naive_count(f))
    assert view.count() == view.naive_count()
    assert view.page_after(None) == view.naive_page(0), "first page differs from the naive one"
    assert view.page_after(view.key_at(deep)) == view.naive_page(deep), "deep page differs from the naive one"


class SqliteCon(sqlite3.Connection):
    """An sqlite3 connection with what the prototype asks of either engine."""

    dialect, hid, filter, begin = "sqlite", "rowid", FILTER, "BEGIN IMMEDIATE"

    def size(self) -> int:
        pages = self.execute("PRAGMA page_count").fetchone()[0] - self.execute("PRAGMA freelist_count").fetchone()[0]
        return pages * self.execute("PRAGMA page_size").fetchone()[0]

    def ddl(self) -> list[str]:
        return _statements()

    def after_commit(self) -> None:
        self.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # dsdesk's background checkpoint


class PgCon:
    """A psycopg connection taking the prototype's SQL: ``:name`` and ``?`` parameters
    become psycopg's, ``%`` is escaped; explicit BEGIN/COMMIT (autocommit otherwise)."""

    dialect, hid, filter, begin = "postgresql", "hid", "meta_user->>'split' = 'val'", "BEGIN"

    def __init__(self, url: str):
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        self.raw = psycopg.connect(dbname=u.database, user=u.username, host=u.query.get("host"),
                                   port=u.query.get("port"), autocommit=True)

    def execute(self, sql: str, params=None):
        sql = re.sub(r"(?<![:\w]):([a-z_]\w*)", r"%(\1)s", sql.replace("%", "%%")).replace("?", "%s")
        return self.raw.execute(sql, params if params is not None else {})

    def size(self) -> int:
        return self.raw.execute("SELECT pg_database_size(current_database())").fetchone()[0]

    def ddl(self) -> list[str]:
        return [PG_DDL]

    def after_commit(self) -> None:
        # dsdesk runs ANALYZE in the background after a bulk write on PostgreSQL
        # (catalog/engine): without it the planner takes the partial index's first
        # estimate (a third of the dataset "changed") and scans instead of probing
        self.raw.execute("ANALYZE item, annotation")
        if self.raw.execute("SELECT to_regclass('item_history')").fetchone()[0]:
            self.raw.execute("ANALYZE item_history, annotation_history")

    def close(self) -> None:
        self.raw.close()


def _connect(target) -> SqliteCon | PgCon:
    """A connection to a scratch catalog (a path, or a PostgreSQL URL), set up as dsdesk's
    are (dsdesk.catalog.engine): on SQLite WAL, synchronous=NORMAL, no automatic checkpoint
    inside a commit (dsdesk checkpoints in the background; here :func:`_timed_tx` does after
    the measured transaction)."""
    if isinstance(target, str) and target.startswith("postgresql"):
        return PgCon(target)
    con = sqlite3.connect(target, isolation_level=None, factory=SqliteCon)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "wal_autocheckpoint=0", "cache_size=-262144",
                   "foreign_keys=ON"):
        con.execute(f"PRAGMA {pragma}")
    return con


def _timed_tx(con, fn):
    """Run *fn* in one transaction; its wall time with the commit."""
    t = time.perf_counter()
    con.execute(con.begin)
    out = fn()
    con.execute("COMMIT")
    took = time.perf_counter() - t
    con.after_commit()
    return took, out


def run_today(target, d: int, deep: int) -> dict:
    """dsdesk's own operations (row copies) on a fresh copy, and reads of the frozen copy."""
    from dsdesk.versioning import clone, diff, rollback, snapshot

    db = open_database(target)
    out: dict = {}

    def timed(fn):
        db.checkpointer.wait() if db.checkpointer is not None else None
        t = time.perf_counter()
        with db.session(write=True) as s:
            r = fn(s)
        return time.perf_counter() - t, r

    con = _connect(target)
    size0 = _size(con)
    out["snapshot"], info = timed(lambda s: snapshot(s, d, "before"))
    out["growth"] = _size(con) - size0
    frozen = info.frozen_dataset_id
    out["reads master"] = _master_reads(con, d, deep)
    out["reads version"] = _master_reads(con, frozen, deep)
    out["change 1%"], _ = _timed_tx(con, lambda: change_one_percent(con, d))
    t = time.perf_counter()
    with db.session() as s:
        rep = diff(s, d, "before")
    out["diff"] = time.perf_counter() - t
    out["diff counts"] = {k: rep.counts.get(k, 0) for k in ("added", "removed", "changed")}
    out["rollback"], _ = timed(lambda s: rollback(s, d, "before"))
    out["clone"], _ = timed(lambda s: clone(s, d, "experiment"))
    con.close()
    db.close()
    return out


def run_cow(target, d: int, deep: int, today_frozen_reads: dict) -> dict:
    """The prototype on a fresh copy of the same base."""
    con = _connect(target)
    out: dict = {}
    out["migrate"], _ = _timed_tx(con, lambda: [con.execute(st) for st in con.ddl()])
    size0 = _size(con)
    out["snapshot"], v = _timed_tx(con, lambda: snapshot_cow(con, d, "before"))
    out["growth"] = _size(con) - size0
    out["reads master"], out["reads version"] = _paired_reads(con, d, v, deep)
    _check_same(v, today_frozen_reads, deep)
    out["change 1%"], _ = _timed_tx(con, lambda: change_one_percent(con, d))
    v.forget()
    out["delta load"], _ = _timed_tx(con, v.delta_keys)
    size1 = _size(con)
    out["reads master, 1% changed"], out["reads version, 1% changed"] = _paired_reads(con, d, v, deep)
    _check_same(v, today_frozen_reads, deep)
    t = time.perf_counter()
    out["diff counts"] = v.diff_counts()
    out["diff"] = time.perf_counter() - t
    out["rollback"], out["rollback rows"] = _timed_tx(con, lambda: rollback_cow(con, v))
    out["history bytes"] = size1 - size0
    # rolled back: the dataset reads what the snapshot read, and what today's frozen copy reads
    back_reads = _master_reads(con, d, deep)
    for step in ("first page", "deep page"):
        assert [r[:2] for r in back_reads[step][1]] == [r[:2] for r in today_frozen_reads[step][1]], step
    assert back_reads["filtered count"][1] == today_frozen_reads["filtered count"][1]
    out["after rollback"] = con.execute(f"SELECT count(*), sum(CASE WHEN {con.filter} THEN 1 ELSE 0 END) "
                                        "FROM item WHERE dataset_id = ?",
                                        (d,)).fetchone()
    out["clone"], cv = _timed_tx(con, lambda: clone_cow(con, d, "experiment"))
    out["reads master, clone"], out["reads clone"] = _paired_reads(con, d, cv, deep)
    _check_view(cv, deep)
    out["clone change 1%"], _ = _timed_tx(con, lambda: change_clone_one_percent(con, cv))
    cv.forget()
    out["reads master, clone changed"], out["reads clone, 1% changed"] = _paired_reads(con, d, cv, deep)
    _check_view(cv, deep)
    out["clone count after change"] = cv.count()
    con.close()
    return out


def _statements() -> list[str]:
    """PROTOTYPE_DDL split into statements (triggers hold semicolons up to their END)."""
    out, cur = [], []
    for line in PROTOTYPE_DDL.strip().splitlines():
        if line.startswith("--") or not line.strip():
            continue
        cur.append(line)
        text = "\n".join(cur)
        if sqlite3.complete_statement(text):
            out.append(text)
            cur = []
    return out


def _check_same(v: Version, frozen_reads: dict, deep: int) -> None:
    """The CoW version reads what today's frozen copy reads (ids aside: a copy's ids are
    shifted), and its fixed-point deep page is the naive OFFSET page."""
    _check_view(v, deep)
    first = v.page_after(None)
    assert [r[:2] for r in first] == [r[:2] for r in frozen_reads["first page"][1]], "first page differs"
    assert v.count(v.con.filter) == frozen_reads["filtered count"][1], frozen_reads["filtered count"]
    assert v.page_after(v.key_at(deep)) == v.naive_page(deep), "deep page differs from the naive one"
    assert [r[:2] for r in v.page_after(v.key_at(deep))] == [r[:2] for r in frozen_reads["deep page"][1]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "dsdesk-bench-cache")
    ap.add_argument("--postgres", action="store_true",
                    help="run both on a temporary PostgreSQL server (the base catalog copied there)")
    a = ap.parse_args()
    a.cache.mkdir(parents=True, exist_ok=True)
    base = _base(a.cache, a.size, 3.0)
    open_database(base).close()
    deep = int(a.size * 0.9)
    with contextlib.ExitStack() as stack:
        if a.postgres:
            from benchmarks.pgserver import temporary_server
            from dsdesk.api.catalog_copy import copy_catalog

            pg = stack.enter_context(temporary_server(settings=(
                "shared_buffers=1GB", "max_wal_size=8GB", "work_mem=64MB", "maintenance_work_mem=512MB")))
            t = time.perf_counter()
            copy_catalog(base, pg.create("base"))
            print(f"base catalog copied to PostgreSQL in {time.perf_counter() - t:.0f} s", flush=True)
            targets = [pg.create(name, template="base") for name in ("today", "cow")]
            for url in targets:  # planner statistics, as dsdesk's background ANALYZE gives them
                with contextlib.closing(PgCon(url)) as con:
                    con.execute("ANALYZE")
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dsdesk-cow-")))
            targets = []
            for name in ("today", "cow"):
                (work / name).mkdir()
                targets.append(_scratch(base, work / name))
        print("today (row copies) ...", flush=True)
        today = run_today(targets[0], 1, deep)
        print("copy-on-write prototype ...", flush=True)
        cow = run_cow(targets[1], 1, deep, today["reads version"])
    _report(a.size, today, cow, "PostgreSQL" if a.postgres else "SQLite")


def _report(n: int, today: dict, cow: dict, engine: str) -> None:
    rows = [
        ("snapshot", f"{today['snapshot']:.2f} s", f"{cow['snapshot'] * 1000:.1f} ms", "<= 0.2 s",
         cow["snapshot"] <= 0.2),
        ("catalog growth per snapshot", f"{today['growth'] / 2**20:.0f} MB", f"{cow['growth'] / 2**20:.2f} MB",
         "<= 1 MB + changed rows", cow["growth"] <= 2**20),
        ("1% change (writes)", f"{today['change 1%'] * 1000:.0f} ms", f"{cow['change 1%'] * 1000:.0f} ms",
         "- (trigger cost)", True),
        ("diff after 1% changed", f"{today['diff']:.2f} s", f"{cow['diff'] * 1000:.0f} ms", "<= 0.5 s",
         cow["diff"] <= 0.5),
        ("rollback after 1% changed", f"{today['rollback']:.2f} s", f"{cow['rollback'] * 1000:.0f} ms", "<= 2 s",
         cow["rollback"] <= 2),
        ("unfiltered clone", f"{today['clone']:.2f} s", f"{cow['clone'] * 1000:.1f} ms", "<= 0.5 s",
         cow["clone"] <= 0.5),
        ("1% change in the clone (materializes)", "-", f"{cow['clone change 1%'] * 1000:.0f} ms", "-", True),
    ]
    for what, label, key, master_key in (
            ("snapshot", "fresh", "reads version", "reads master"),
            ("snapshot", "1% changed", "reads version, 1% changed", "reads master, 1% changed"),
            ("clone", "fresh", "reads clone", "reads master, clone"),
            ("clone", "1% changed", "reads clone, 1% changed", "reads master, clone changed")):
        for step in ("first page", "filtered count", "deep page"):
            m = cow[master_key][step][0]
            t = today["reads version"][step][0] if what == "snapshot" else float("nan")
            c = cow[key][step][0]
            rows.append((f"{what} {step} ({label}); master {m:.2f} ms", f"{t:.2f} ms", f"{c:.2f} ms",
                         "<= 1.2x master", c <= 1.2 * m))
    w = max(len(r[0]) for r in rows)
    print(f"\n{engine}, {n:,} items; today = dsdesk's row copies, CoW = the prototype, same base, same run")
    print(f"{'step'.ljust(w)}  {'today':>12}  {'CoW':>24}  {'target':<22}  met")
    print("-" * (w + 72))
    for name, t, c, target, ok in rows:
        print(f"{name.ljust(w)}  {t:>12}  {c:>24}  {target:<22}  {'yes' if ok else 'NO'}")
    print(f"\nthe changed rows' keys, loaded once after the change for the deep pages: "
          f"{cow['delta load'] * 1000:.1f} ms")
    print(f"migration of the prototype schema: {cow['migrate'] * 1000:.0f} ms; history written by the 1% "
          f"change: {cow['history bytes'] / 2**20:.1f} MB; diff counts today {today['diff counts']}, "
          f"CoW {cow['diff counts']}; rollback rows (in place, removed, back) {cow['rollback rows']}; "
          f"after rollback (items, split=val) {cow['after rollback']}")


if __name__ == "__main__":
    main()
