"""Merge datasets into a new dataset of kind ``merge``, and switch a dataset's recipe.

Identity: an input item stands for its master item, ``master_item_id`` (or itself when it
is a master item).  Every input item with the same master becomes ONE merged item: clones
of one master are unified, carrying the annotations of every input; datasets that are not
clones of each other have no master in common, so their items are summed.

Stated rules (also written into every merge report):

* **Order decides.**  Inputs are ranked in the order of ``dataset_ids``.  The merged item's
  path, binary and system metadata come from the first input that has the item.
* **Annotations** of all inputs are kept; copies of one source annotation (same root of the
  copy chain, ``src_annotation_id``) on one merged item appear once, the first input's copy.
* **User metadata** (``with_metadata=True``): keys are united; when inputs hold different
  values for one key, the first input's value wins and the conflict is listed.
* **Path collisions** between different items: the first keeps its name, the later ones
  are renamed ``stem (dataset name).ext`` (numbered if needed) and listed.
* **Task statuses** (``with_task_annotations_status=True``): united per task; the first
  input's status wins.

Everything is set-based: two temporary tables hold one row per input item and one per
merged item (ids and keys only) and ``INSERT ... SELECT`` does the rest.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from dsdesk.catalog import stats
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.ingest import ensure_folders
from dsdesk.catalog.models import Dataset, Driver, Folder, Label, Recipe, utcnow
from dsdesk.catalog.sql import insert_ignore
from dsdesk.errors import AlreadyExistsError, InvalidInputError
from dsdesk.versioning._common import Reporter, dialect_of, pause_point, reserve_ids
from dsdesk.versioning._copy import ANN_T, ITEM_T, TASK_T

FOLDER_T = Folder.__table__
RULE = ("inputs rank in the order given; the first input's path, binary, system metadata, task status "
        "and value of a conflicting user-metadata key win; copies of one source annotation appear once; "
        "later items on a taken path are renamed 'stem (dataset).ext'")
BATCH = 50000
REPORT_LIMIT = 1000


@dataclass
class MergeResult:
    """What a merge produced, with everything it had to decide listed."""

    dataset_id: int
    items: int = 0
    annotations: int = 0
    duplicate_annotations_skipped: int = 0
    task_statuses: int = 0
    folders: int = 0
    renamed: list[dict] = field(default_factory=list)
    renamed_count: int = 0
    metadata_conflicts: list[dict] = field(default_factory=list)
    metadata_conflict_count: int = 0
    rule: str = RULE


def _temp_tables(dialect: str):
    md = MetaData()
    kw = {"prefixes": ["TEMPORARY"]}
    if dialect == "postgresql":
        kw["postgresql_on_commit"] = "DROP"
    src = Table("vmerge_src", md,
                Column("item_id", BigInteger, primary_key=True, autoincrement=False),
                Column("pos", Integer, nullable=False),
                Column("k", BigInteger, nullable=False),
                Column("occ", Integer, nullable=False), **kw)
    key = Table("vmerge_key", md,
                Column("seq", BigInteger, primary_key=True, autoincrement=False),
                Column("k", BigInteger, nullable=False),
                Column("occ", Integer, nullable=False),
                Column("winner", BigInteger, nullable=False),
                Column("pos", Integer, nullable=False),
                Column("dir", String, nullable=False),
                Column("name", String, nullable=False), **kw)
    return md, src, key


def _recipe_desc(session: Session, recipe_id: int | None) -> tuple[str, frozenset]:
    if recipe_id is None:
        return "(no recipe)", frozenset()
    r = session.get(Recipe, recipe_id)
    tags = frozenset(session.scalars(select(Label.tag).where(Label.recipe_id == recipe_id)))
    return (r.name if r else f"recipe {recipe_id}"), tags


def check_recipes(session: Session, inputs: list[Dataset]) -> None:
    """Refuse a merge of datasets whose recipes differ (same recipe, or equal label sets)."""
    first = inputs[0]
    name0, tags0 = _recipe_desc(session, first.recipe_id)
    for d in inputs[1:]:
        if d.recipe_id == first.recipe_id:
            continue
        name, tags = _recipe_desc(session, d.recipe_id)
        if tags != tags0 or (d.recipe_id is None) != (first.recipe_id is None):
            raise InvalidInputError(
                f"cannot merge: dataset '{first.name}' uses recipe '{name0}' and dataset '{d.name}' uses "
                f"recipe '{name}', and they differ; switch one dataset to the other's recipe first "
                f"(ds.switch_recipe(recipe) / dsdesk.versioning.switch_recipe)")


def check_drivers(session: Session, inputs: list[Dataset]) -> None:
    """Refuse a merge that mixes storages (all internal, or all the same external driver)."""
    drivers = {d.id: session.get(Driver, d.driver_id) for d in inputs}
    kinds = {drv.kind for drv in drivers.values()}
    if kinds == {"internal"}:
        return
    if len({drv.id for drv in drivers.values()}) == 1:
        return
    desc = ", ".join(f"'{d.name}' ({drivers[d.id].name}, {drivers[d.id].kind})" for d in inputs)
    raise InvalidInputError(f"cannot merge datasets stored on different storages: {desc}; "
                            "merge needs all internal or all on the same external driver")


def switch_recipe(session: Session, dataset_id: int, recipe_id: int) -> None:
    """Make *recipe_id* the dataset's recipe (what a refused merge asks for)."""
    ds = writable_dataset(session, dataset_id, "switch the recipe of")
    if session.get(Recipe, recipe_id) is None:
        from dsdesk.errors import NotFoundError

        raise NotFoundError(f"recipe {recipe_id} not found")
    ds.recipe_id = recipe_id
    ds.updated_at = utcnow()
    session.flush()


def merge(session: Session, merge_name: str, dataset_ids: list[int], with_items_annotations: bool = True,
          with_metadata: bool = False, with_task_annotations_status: bool = False, *,
          project_id: int | None = None, ctx=None) -> MergeResult:
    """Merge *dataset_ids* into a new dataset *merge_name* of kind ``merge``.

    The new dataset lives in *project_id* (default: the first input's project), so datasets
    of several projects can be merged.  See the module docstring for the rules; the
    returned report lists every rename and metadata conflict (first 1000, with counts).
    """
    rep = Reporter(ctx, dialect_of(session))
    dialect = dialect_of(session)
    ids = list(dict.fromkeys(int(i) for i in dataset_ids))
    if len(ids) < 2:
        raise InvalidInputError("merge needs at least two different datasets")
    if not merge_name or not str(merge_name).strip():
        raise InvalidInputError("merge needs a merge_name")
    inputs = [live_dataset(session, i) for i in ids]
    check_recipes(session, inputs)
    check_drivers(session, inputs)
    pid = project_id if project_id is not None else inputs[0].project_id
    if session.execute(select(Dataset.id).where(Dataset.project_id == pid, Dataset.name == merge_name,
                                                Dataset.deleted_at.is_(None), Dataset.kind != "snapshot")).first():
        raise AlreadyExistsError(f"a dataset named '{merge_name}' already exists in this project")

    now = utcnow()
    dst = Dataset(project_id=pid, name=merge_name, kind="merge", driver_id=inputs[0].driver_id,
                  recipe_id=inputs[0].recipe_id, meta_user={},
                  meta_system={"merge": {"dataset_ids": ids, "with_items_annotations": with_items_annotations,
                                         "with_metadata": with_metadata,
                                         "with_task_annotations_status": with_task_annotations_status,
                                         "rule": RULE}})
    session.add(dst)
    session.flush()  # first write: takes SQLite's write lock before the reads below
    res = MergeResult(dataset_id=dst.id)
    pause_point("merge", "start")

    md, vsrc, vkey = _temp_tables(dialect)
    md.create_all(session.connection())
    try:
        _fill_keys(session, ids, vsrc, vkey)
        rep.check_cancelled()
        n = session.execute(select(func.count()).select_from(vkey)).scalar()
        res.renamed, res.renamed_count = _rename_collisions(session, vkey, inputs)
        off = (reserve_ids(session, ITEM_T, n) - 1) if n else 0
        _insert_items(session, dst.id, vkey, off, n, with_metadata, now, rep, res)
        if with_metadata:
            _merge_user_metadata(session, dialect, ids, inputs, vsrc, vkey, off, res)
        if with_items_annotations:
            _merge_annotations(session, dst.id, ids, vsrc, vkey, off, rep, res)
        if with_task_annotations_status:
            _merge_tasks(session, ids, vsrc, vkey, off, res)
        session.execute(insert_ignore(session, FOLDER_T, ["dataset_id", "path"]).from_select(
            ["dataset_id", "path"],
            select(literal(dst.id), FOLDER_T.c.path).where(FOLDER_T.c.dataset_id.in_(ids)).distinct()))
        ensure_folders(session, dst.id, [d for (d,) in session.execute(select(vkey.c.dir).distinct())])
    finally:
        md.drop_all(session.connection())
    stats.refresh(session, dst.id)
    session.refresh(dst)
    res.folders = dst.folder_count
    dst.meta_system = {**dst.meta_system, "merge": {
        **dst.meta_system["merge"], "renamed_count": res.renamed_count,
        "metadata_conflict_count": res.metadata_conflict_count,
        "duplicate_annotations_skipped": res.duplicate_annotations_skipped}}
    session.flush()
    pause_point("merge", "end")
    rep.progress(res.items, res.items, f"merged {len(ids)} datasets into '{merge_name}'")
    return res


def _fill_keys(session: Session, ids: list[int], vsrc: Table, vkey: Table) -> None:
    """One row per input item (its key) and one row per merged item (its winner)."""
    i = ITEM_T
    k = func.coalesce(i.c.master_item_id, i.c.id)
    for pos, d in enumerate(ids):
        # occ separates several clones of one master inside ONE input: they stay separate items.
        occ = func.row_number().over(partition_by=k, order_by=i.c.id)
        session.execute(insert(vsrc).from_select(
            ["item_id", "pos", "k", "occ"], select(i.c.id, literal(pos), k, occ).where(i.c.dataset_id == d)))
    session.execute(text("CREATE INDEX vmerge_src_k ON vmerge_src (k, occ)"))
    first = func.row_number().over(partition_by=(vsrc.c.k, vsrc.c.occ),
                                   order_by=(vsrc.c.pos, vsrc.c.item_id)).label("r")
    ranked = select(vsrc.c.k, vsrc.c.occ, vsrc.c.item_id, vsrc.c.pos, first).subquery()
    seq = func.row_number().over(order_by=(ranked.c.pos, ranked.c.item_id))
    session.execute(insert(vkey).from_select(
        ["seq", "k", "occ", "winner", "pos", "dir", "name"],
        select(seq, ranked.c.k, ranked.c.occ, ranked.c.item_id, ranked.c.pos, i.c.dir, i.c.name)
        .select_from(ranked.join(i, i.c.id == ranked.c.item_id)).where(ranked.c.r == 1)))
    session.execute(text("CREATE UNIQUE INDEX vmerge_key_k ON vmerge_key (k, occ)"))
    session.execute(text("CREATE INDEX vmerge_key_path ON vmerge_key (dir, name)"))


def _rename_collisions(session: Session, vkey: Table, inputs: list[Dataset]) -> tuple[list[dict], int]:
    """Give every later item on a taken path a visible suffix; returns (listing, count)."""
    o = vkey.alias("o")
    clash = (select(vkey.c.seq, vkey.c.dir, vkey.c.name, vkey.c.pos)
             .where(exists().where(o.c.dir == vkey.c.dir, o.c.name == vkey.c.name, o.c.seq < vkey.c.seq))
             .order_by(vkey.c.seq))
    rows = session.execute(clash).all()
    if not rows:
        return [], 0
    taken: dict[str, set[str]] = {}
    for d in {r.dir for r in rows}:
        taken[d] = set(session.scalars(select(vkey.c.name).where(vkey.c.dir == d)))
    listing, updates = [], []
    for r in rows:
        stem, ext = posixpath.splitext(r.name)
        tag = inputs[r.pos].name
        new, n = f"{stem} ({tag}){ext}", 2
        while new in taken[r.dir]:
            new, n = f"{stem} ({tag} {n}){ext}", n + 1
        taken[r.dir].add(new)
        updates.append({"s": r.seq, "nm": new})
        if len(listing) < REPORT_LIMIT:
            full = (r.dir.rstrip("/") + "/" + r.name)
            listing.append({"filename": full, "renamed_to": r.dir.rstrip("/") + "/" + new, "dataset": tag})
    from sqlalchemy import bindparam

    session.execute(update(vkey).where(vkey.c.seq == bindparam("s")).values(name=bindparam("nm"))
                    .execution_options(synchronize_session=False), updates)
    return listing, len(rows)


def _insert_items(session, dst_id, vkey, off, n, with_metadata, now, rep, res) -> None:
    w = ITEM_T.alias("w")
    cols = ["id", "dataset_id", "dir", "name", "blob_id", "master_item_id", "parent_item_id", "meta_system",
            "meta_user", "annotated", "hidden", "description", "changed_at", "created_at", "updated_at",
            "row_version"]
    meta_user = w.c.meta_user if with_metadata else literal({}, JSON)
    for lo in range(1, n + 1, BATCH):
        rep.check_cancelled()
        hi = lo + BATCH - 1
        sel = (select(vkey.c.seq + off, literal(dst_id), vkey.c.dir, vkey.c.name, w.c.blob_id, vkey.c.k, w.c.id,
                      w.c.meta_system, meta_user, literal(False), w.c.hidden, w.c.description, w.c.changed_at,
                      literal(now), literal(now), literal(1))
               .select_from(vkey.join(w, w.c.id == vkey.c.winner))
               .where(vkey.c.seq >= lo, vkey.c.seq <= hi))
        session.execute(insert(ITEM_T).from_select(cols, sel))
        res.items = min(hi, n)
        rep.progress(res.items, n, f"merge: {res.items} items")
        pause_point("merge", f"items{(lo - 1) // BATCH}")


def _merge_annotations(session, dst_id, ids, vsrc, vkey, off, rep, res) -> None:
    """Copy every input's annotations onto the merged items, one copy per source annotation."""
    a = ANN_T.alias("a")
    m = ANN_T.alias("m")
    root = func.coalesce(a.c.src_annotation_id, a.c.id)
    target = vkey.c.seq + off
    cols = ["item_id", "dataset_id", "type", "label", "coordinates", "attributes", "meta", "object_id",
            "status", "src_annotation_id", "creator", "created_at", "updated_at"]
    total_seen = 0
    for d in ids:
        rep.check_cancelled()
        total_seen += session.execute(select(func.count()).select_from(ANN_T)
                                      .where(ANN_T.c.dataset_id == d)).scalar()
        dup = exists().where(m.c.src_annotation_id == root, m.c.item_id == target, m.c.dataset_id == dst_id)
        sel = (select(target, literal(dst_id), a.c.type, a.c.label, a.c.coordinates, a.c.attributes, a.c.meta,
                      a.c.object_id, a.c.status, root, a.c.creator, a.c.created_at, a.c.updated_at)
               .select_from(a.join(vsrc, vsrc.c.item_id == a.c.item_id)
                            .join(vkey, and_(vkey.c.k == vsrc.c.k, vkey.c.occ == vsrc.c.occ)))
               .where(a.c.dataset_id == d, ~dup))
        r = session.execute(insert(ANN_T).from_select(cols, sel))
        res.annotations += max(r.rowcount or 0, 0)
        pause_point("merge", f"annotations{d}")
    res.duplicate_annotations_skipped = total_seen - res.annotations
    has = select(ANN_T.c.id).where(ANN_T.c.item_id == ITEM_T.c.id).exists()
    session.execute(update(ITEM_T).where(ITEM_T.c.dataset_id == dst_id, has).values(annotated=True)
                    .execution_options(synchronize_session=False))


def _merge_tasks(session, ids, vsrc, vkey, off, res) -> None:
    t = TASK_T.alias("t")
    for pos in range(len(ids)):
        sel = (select(vkey.c.seq + off, t.c.task, t.c.status, t.c.creator, t.c.at)
               .select_from(t.join(vsrc, vsrc.c.item_id == t.c.item_id)
                            .join(vkey, and_(vkey.c.k == vsrc.c.k, vkey.c.occ == vsrc.c.occ)))
               .where(vsrc.c.pos == pos))
        r = session.execute(insert_ignore(session, TASK_T, ["item_id", "task"])
                            .from_select(["item_id", "task", "status", "creator", "at"], sel))
        res.task_statuses += max(r.rowcount or 0, 0)


def _merge_user_metadata(session, dialect, ids, inputs, vsrc, vkey, off, res) -> None:
    """Unite the user metadata of later inputs into the merged items; list conflicts.

    The merged item starts with its winner's metadata; each later input adds the keys the
    merged item does not have yet.  A key present with a different value is a conflict:
    the value already there (from an earlier input) stays, and the conflict is listed.
    """
    for pos in range(1, len(ids)):
        if dialect == "postgresql":
            update_sql = ("UPDATE item SET meta_user = (o.meta_user::jsonb || item.meta_user::jsonb)::json "
                          "FROM vmerge_src s JOIN vmerge_key k ON k.k = s.k AND k.occ = s.occ "
                          "JOIN item o ON o.id = s.item_id "
                          "WHERE item.id = k.seq + :off AND s.pos = :pos AND k.winner != s.item_id")
        else:
            conflicts_sql = ("SELECT m.id, m.dir, m.name, k.pos, jm.key, jm.value, jo.value "
                             "FROM vmerge_src s JOIN vmerge_key k ON k.k = s.k AND k.occ = s.occ "
                             "JOIN item o ON o.id = s.item_id JOIN item m ON m.id = k.seq + :off "
                             "JOIN json_each(m.meta_user) jm JOIN json_each(o.meta_user) jo ON jo.key = jm.key "
                             "WHERE s.pos = :pos AND k.winner != s.item_id "
                             "AND (jo.type != jm.type OR jo.value IS NOT jm.value)")
            # json_patch(target, patch): the patch's keys win, so the merged item is the patch.
            update_sql = ("UPDATE item SET meta_user = json_patch(o.meta_user, item.meta_user) "
                          "FROM vmerge_src s JOIN vmerge_key k ON k.k = s.k AND k.occ = s.occ "
                          "JOIN item o ON o.id = s.item_id "
                          "WHERE item.id = k.seq + :off AND s.pos = :pos AND k.winner != s.item_id")
        if dialect == "postgresql":
            conflicts_sql = ("SELECT m.id, m.dir, m.name, k.pos, jm.key, jm.value::text, jo.value::text "
                             "FROM vmerge_src s JOIN vmerge_key k ON k.k = s.k AND k.occ = s.occ "
                             "JOIN item o ON o.id = s.item_id JOIN item m ON m.id = k.seq + :off "
                             "CROSS JOIN LATERAL jsonb_each(m.meta_user::jsonb) jm "
                             "JOIN LATERAL jsonb_each(o.meta_user::jsonb) jo ON jo.key = jm.key "
                             "WHERE s.pos = :pos AND k.winner != s.item_id AND jo.value != jm.value")
        for r in session.execute(text(conflicts_sql), {"pos": pos, "off": off}):
            res.metadata_conflict_count += 1
            if len(res.metadata_conflicts) < REPORT_LIMIT:
                res.metadata_conflicts.append({
                    "id": r[0], "filename": r[1].rstrip("/") + "/" + r[2], "key": r[4],
                    "kept": r[5], "kept_from": inputs[r[3]].name, "dropped": r[6], "dropped_from": inputs[pos].name})
        session.execute(text(update_sql), {"pos": pos, "off": off})
