"""frozen-copy snapshots become version points: the catalog keeps only what changed since each

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05

Before 0018 a snapshot was a full copy of its dataset's rows (a hidden dataset of kind
``snapshot``, ids ``id + delta``).  Here each one becomes the version point 0018 gives new
snapshots, and its copy goes.  Per dataset, its snapshots are taken oldest first; snapshot
number *i* becomes the point of version *i*, and the dataset writes at version *k + 1* after
its *k* snapshots.  For snapshot *i* and each table (items, annotations, task statuses):

- a copied row equal to the live one needs nothing: the point sees the live row;
- a copied row that differs from the live one, or whose live row is gone, goes to the
  history as the state valid at version *i* exactly (``[i, i + 1)``);
- a live row the point must not see (it differs from the copy, or the copy has no such row)
  gets ``v = i + 1``; if earlier points saw it as it is, its state is archived for them
  first (``[v, i)``).

So every point sees exactly its copy's rows, and no earlier point's view changes.  Costs one
pass over each copy, once.  Item and annotation watermarks are the dataset's largest id at
the snapshot (the copy's largest minus its delta); task statuses are matched by (item,
task), their watermark is the largest task-status id now.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | Sequence[str] | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ITEM_STATE = ("dir", "name", "blob_id", "master_item_id", "parent_item_id", "meta_system", "meta_user", "annotated",
              "hidden", "description", "changed_at", "created_at", "updated_at")
ANN_STATE = ("type", "label", "coordinates", "attributes", "meta", "object_id", "status", "src_annotation_id",
             "creator", "created_at", "updated_at")
TASK_STATE = ("task", "status", "creator", "at")
JSON_COLS = {"meta_system", "meta_user", "coordinates", "attributes", "meta"}


def _differ(cols, pg: bool, *extra: str) -> str:
    """SQL: the copy ``f`` and the live row ``l`` differ in one of *cols* or *extra* (NULLs
    included; PostgreSQL's json has no equality, so JSON is compared as text there)."""
    def c(alias, col):
        return f"CAST({alias}.{col} AS TEXT)" if pg and col in JSON_COLS else f"{alias}.{col}"
    return "(" + " OR ".join([f"{c('f', col)} IS DISTINCT FROM {c('l', col)}" for col in cols] + list(extra)) + ")"


def _convert(bind, d: int, i: int, frozen: int, di: int, da: int, ht: int) -> dict:
    """Make point *i* of dataset *d* see what the frozen copy *frozen* holds (see the module doc)."""
    pg = bind.dialect.name == "postgresql"
    p = {"d": d, "f": frozen, "di": di, "da": da, "i": i, "j": i + 1, "ht": ht}
    ex = bind.execute
    h = ex(sa.text("SELECT coalesce(max(id) - :di, 0) FROM item WHERE dataset_id = :f"), p).scalar()
    ha = ex(sa.text("SELECT coalesce(max(id) - :da, 0) FROM annotation WHERE dataset_id = :f"), p).scalar()
    p.update(h=h, ha=ha)
    icols, acols, tcols = ", ".join(ITEM_STATE), ", ".join(ANN_STATE), ", ".join(TASK_STATE)

    def fcols(alias, cols):
        return ", ".join(f"{alias}.{c}" for c in cols)

    # Items.  f: the copy, l: the live row with the same key.
    i_differ = _differ(ITEM_STATE, pg)
    ex(sa.text(f"INSERT INTO item_history (id, dataset_id, {icols}, row_version, v, v_from, v_to) "
               f"SELECT f.id - :di, :d, {fcols('f', ITEM_STATE)}, f.row_version, :i, :i, :j FROM item f "
               f"LEFT JOIN item l ON l.id = f.id - :di AND l.dataset_id = :d "
               f"WHERE f.dataset_id = :f AND (l.id IS NULL OR {i_differ})"), p)
    not_seen_live = (f"l.dataset_id = :d AND l.id <= :h AND coalesce(l.v, 0) <= :i AND NOT EXISTS "
                     f"(SELECT 1 FROM item f WHERE f.id = l.id + :di AND f.dataset_id = :f AND NOT {i_differ})")
    ex(sa.text(f"INSERT INTO item_history (id, dataset_id, {icols}, row_version, v, v_from, v_to) "
               f"SELECT l.id, :d, {fcols('l', ITEM_STATE)}, l.row_version, l.v, coalesce(l.v, 0), :i FROM item l "
               f"WHERE {not_seen_live} AND coalesce(l.v, 0) < :i"), p)
    ex(sa.text(f"UPDATE item SET v = :j WHERE id IN (SELECT l.id FROM item l WHERE {not_seen_live})"), p)

    # Annotations: keyed by id - delta, their item by item id - item delta.
    a_differ = _differ(ANN_STATE, pg, "l.item_id IS DISTINCT FROM f.item_id - :di")
    ex(sa.text(f"INSERT INTO annotation_history (id, item_id, dataset_id, {acols}, v, v_from, v_to) "
               f"SELECT f.id - :da, f.item_id - :di, :d, {fcols('f', ANN_STATE)}, :i, :i, :j FROM annotation f "
               f"LEFT JOIN annotation l ON l.id = f.id - :da AND l.dataset_id = :d "
               f"WHERE f.dataset_id = :f AND (l.id IS NULL OR {a_differ})"), p)
    a_not_seen = (f"l.dataset_id = :d AND l.id <= :ha AND coalesce(l.v, 0) <= :i AND NOT EXISTS "
                  f"(SELECT 1 FROM annotation f WHERE f.id = l.id + :da AND f.dataset_id = :f AND NOT {a_differ})")
    ex(sa.text(f"INSERT INTO annotation_history (id, item_id, dataset_id, {acols}, v, v_from, v_to) "
               f"SELECT l.id, l.item_id, :d, {fcols('l', ANN_STATE)}, l.v, coalesce(l.v, 0), :i FROM annotation l "
               f"WHERE {a_not_seen} AND coalesce(l.v, 0) < :i"), p)
    ex(sa.text(f"UPDATE annotation SET v = :j WHERE id IN (SELECT l.id FROM annotation l WHERE {a_not_seen})"), p)

    # Task statuses: matched by (item, task); an archived one keeps the live row's id when
    # there is one (a rollback then restores it in place), else the copy's.
    t_differ = _differ(TASK_STATE, pg)
    frozen_tasks = "task_status f JOIN item fi ON fi.id = f.item_id AND fi.dataset_id = :f"
    ex(sa.text(f"INSERT INTO task_status_history (id, item_id, dataset_id, {tcols}, v, v_from, v_to) "
               f"SELECT coalesce(l.id, f.id), f.item_id - :di, :d, {fcols('f', TASK_STATE)}, :i, :i, :j "
               f"FROM {frozen_tasks} LEFT JOIN task_status l ON l.item_id = f.item_id - :di AND l.task = f.task "
               f"WHERE l.id IS NULL OR {t_differ}"), p)
    t_not_seen = (f"l.item_id IN (SELECT id FROM item WHERE dataset_id = :d) AND l.id <= :ht "
                  f"AND coalesce(l.v, 0) <= :i AND NOT EXISTS (SELECT 1 FROM {frozen_tasks} "
                  f"WHERE f.item_id = l.item_id + :di AND f.task = l.task AND NOT {t_differ})")
    ex(sa.text(f"INSERT INTO task_status_history (id, item_id, dataset_id, {tcols}, v, v_from, v_to) "
               f"SELECT l.id, l.item_id, :d, {fcols('l', TASK_STATE)}, l.v, coalesce(l.v, 0), :i "
               f"FROM task_status l WHERE {t_not_seen} AND coalesce(l.v, 0) < :i"), p)
    ex(sa.text(f"UPDATE task_status SET v = :j WHERE id IN (SELECT l.id FROM task_status l WHERE {t_not_seen})"), p)

    # The copy goes; the hidden dataset stays as the snapshot's shell (folders, statistics).
    ex(sa.text("DELETE FROM task_status WHERE item_id IN (SELECT id FROM item WHERE dataset_id = :f)"), p)
    ex(sa.text("DELETE FROM annotation WHERE dataset_id = :f"), p)
    ex(sa.text("DELETE FROM item WHERE dataset_id = :f"), p)
    return {"h": h, "ha": ha}


def upgrade() -> None:
    import json

    bind = op.get_bind()
    snaps = bind.execute(sa.text(
        "SELECT s.id, s.dataset_id, s.frozen_dataset_id, d.meta_system FROM snapshot s "
        "JOIN dataset d ON d.id = s.frozen_dataset_id WHERE s.point_id IS NULL "
        "ORDER BY s.dataset_id, s.created_at, s.id")).all()
    if not snaps:
        return
    ht = bind.execute(sa.text("SELECT coalesce(max(id), 0) FROM task_status")).scalar()
    rank: dict[int, int] = {}
    for sid, d, frozen, meta in snaps:
        meta = json.loads(meta) if isinstance(meta, str) else (meta or {})
        info = meta.get("snapshot", {})
        i = rank[d] = rank.get(d, 0) + 1
        w = _convert(bind, d, i, frozen, int(info.get("item_delta", 0)), int(info.get("annotation_delta", 0)), ht)
        pid = bind.execute(sa.text(
            "INSERT INTO version_point (dataset_id, version, item_hwm, ann_hwm, task_hwm) "
            "VALUES (:d, :i, :h, :ha, :ht) RETURNING id"), {"d": d, "i": i, "ht": ht, **w}).scalar()
        bind.execute(sa.text("UPDATE snapshot SET point_id = :p WHERE id = :s"), {"p": pid, "s": sid})
        info = {k: v for k, v in info.items() if k not in ("item_delta", "annotation_delta", "annotation_ids")}
        meta["snapshot"] = {**info, "point_id": pid}
        bind.execute(sa.text("UPDATE dataset SET meta_system = :m WHERE id = :f")
                     .bindparams(sa.bindparam("m", type_=sa.JSON())), {"m": meta, "f": frozen})
    for d, k in rank.items():
        w = bind.execute(sa.text("SELECT version, item_hwm, ann_hwm, task_hwm FROM version_point "
                                 "WHERE dataset_id = :d AND version = :k"), {"d": d, "k": k}).one()
        bind.execute(sa.text("UPDATE dataset SET cow_version = :n, cow_point = :k, cow_item_hwm = :h, "
                             "cow_ann_hwm = :ha, cow_task_hwm = :ht WHERE id = :d"),
                     {"n": k + 1, "k": k, "h": w[1], "ha": w[2], "ht": w[3], "d": d})


def downgrade() -> None:
    # The copies are gone; a point cannot be made a copy again here.  Snapshots stay points.
    pass
