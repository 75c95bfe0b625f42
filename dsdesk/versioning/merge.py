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

Everything is set-based: each input is a handful of ``INSERT ... SELECT`` statements; a
merged item's id is its key plus a fixed offset, so no mapping table is needed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    bindparam,
    case,
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
from dsdesk.catalog.engine import bulk_cache
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.ingest import ensure_folders
from dsdesk.catalog.models import Dataset, Driver, Folder, Label, Recipe, utcnow
from dsdesk.catalog.namesearch import deferred_name_index
from dsdesk.catalog.sql import insert_ignore, written
from dsdesk.errors import AlreadyExistsError, InvalidInputError
from dsdesk.storage.kinds import is_external
from dsdesk.versioning._common import Reporter, checkpoint, dialect_of, reserve_ids
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
    if not any(is_external(drv.kind) for drv in drivers.values()):
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

    How: every merged item gets the id ``key + offset`` where ``key`` is the master item
    id the inputs share, so each input is one ``INSERT ... SELECT`` of the items whose key
    is not there yet (a primary-key probe), and its annotations, metadata and statuses
    find their merged item by arithmetic too.
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
    session.flush()
    res = MergeResult(dataset_id=dst.id)
    checkpoint("merge", "start")

    bulk_cache(session)
    md, dups = _dup_table(dialect)
    md.create_all(session.connection())
    try:
        m = _Merger(session, dialect, dst.id, ids, inputs, dups, now, rep, res)
        m.prepare()
        total = m.total
        with deferred_name_index(session):  # name search indexed in one statement at the end
            for pos in range(len(ids)):
                m.items(pos, with_metadata, with_items_annotations)
                if with_metadata and pos:
                    m.user_metadata(pos)
                if with_items_annotations:
                    m.annotations(pos)
                if with_task_annotations_status:
                    m.tasks(pos)
                rep.progress(res.items, total, f"merge: {pos + 1}/{len(ids)} datasets")
                checkpoint("merge", f"input{pos}")
        if with_items_annotations:
            has = select(ANN_T.c.id).where(ANN_T.c.item_id == ITEM_T.c.id).exists()
            session.execute(update(ITEM_T).where(ITEM_T.c.dataset_id == dst.id, ITEM_T.c.annotated.is_(False), has)
                            .values(annotated=True).execution_options(synchronize_session=False))
        session.execute(insert_ignore(session, FOLDER_T, ["dataset_id", "path"]).from_select(
            ["dataset_id", "path"],
            select(literal(dst.id), FOLDER_T.c.path).where(FOLDER_T.c.dataset_id.in_(ids)).distinct()))
        ensure_folders(session, dst.id, [d for (d,) in session.execute(
            select(ITEM_T.c.dir).where(ITEM_T.c.dataset_id.in_(ids)).distinct())])
    finally:
        md.drop_all(session.connection())
    stats.refresh(session, dst.id)
    session.refresh(dst)
    res.folders = dst.folder_count
    res.duplicate_annotations_skipped = m.annotations_seen - res.annotations
    dst.meta_system = {**dst.meta_system, "merge": {
        **dst.meta_system["merge"], "renamed_count": res.renamed_count,
        "metadata_conflict_count": res.metadata_conflict_count,
        "duplicate_annotations_skipped": res.duplicate_annotations_skipped}}
    session.flush()
    checkpoint("merge", "end")
    rep.progress(res.items, res.items, f"merged {len(ids)} datasets into '{merge_name}'")
    return res


def _dup_table(dialect: str):
    """A temporary table of the input items that do NOT stand for their master: the second
    and later clones of one master inside ONE input (they stay separate items)."""
    md = MetaData()
    kw = {"prefixes": ["TEMPORARY"]}
    if dialect == "postgresql":
        kw["postgresql_on_commit"] = "DROP"
    t = Table("vmerge_dup", md, Column("item_id", BigInteger, primary_key=True, autoincrement=False), **kw)
    return md, t


class _Merger:
    """The per-input statements of one merge (state shared between them)."""

    def __init__(self, session, dialect, dst_id, ids, inputs, dups, now, rep, res):
        self.s, self.dialect, self.dst, self.ids, self.inputs = session, dialect, dst_id, ids, inputs
        self.dups, self.now, self.rep, self.res = dups, now, rep, res
        self.off = 0
        self.total = 0
        self.has_dups = False
        self.annotations_seen = 0

    def key(self, i):
        """SQL: the identity of input item alias *i* (its master, or itself)."""
        k = func.coalesce(i.c.master_item_id, i.c.id)
        if self.has_dups:
            k = case((i.c.id.in_(select(self.dups.c.item_id)), i.c.id), else_=k)
        return k

    def prepare(self) -> None:
        """Find duplicate clones inside inputs, the key range, and reserve the merged ids."""
        i = ITEM_T
        k = func.coalesce(i.c.master_item_id, i.c.id)
        lo = hi = None
        for d in self.ids:
            n, nk, klo, khi = self.s.execute(select(func.count(), func.count(k.distinct()), func.min(i.c.id),
                                                    func.max(i.c.id)).where(i.c.dataset_id == d)).one()
            self.total += n
            if n and nk < n:
                # rare: keep the first clone of each master, record the others
                first = select(func.min(i.c.id)).where(i.c.dataset_id == d).group_by(k)
                self.s.execute(insert(self.dups).from_select(
                    ["item_id"], select(i.c.id).where(i.c.dataset_id == d, i.c.id.not_in(first))))
                self.has_dups = True
            if n:
                kmin, kmax = self.s.execute(select(func.min(k), func.max(k)).where(i.c.dataset_id == d)).one()
                lo = min(kmin, klo) if lo is None else min(lo, kmin, klo)
                hi = max(kmax, khi) if hi is None else max(hi, kmax, khi)
        if lo is not None:
            self.off = reserve_ids(self.s, ITEM_T, hi - lo + 1) - lo

    def items(self, pos: int, with_metadata: bool, with_annotations: bool) -> None:
        """Insert the items of input *pos* whose key no earlier input brought; rename collisions."""
        d = self.ids[pos]
        i = ITEM_T.alias("i")
        m = ITEM_T.alias("m")
        x = ITEM_T.alias("x")
        new_id = self.key(i) + self.off
        is_new = ~exists().where(m.c.id == new_id)
        taken = exists().where(x.c.dataset_id == self.dst, x.c.dir == i.c.dir, x.c.name == i.c.name)
        cols = ["id", "dataset_id", "dir", "name", "blob_id", "master_item_id", "parent_item_id", "meta_system",
                "meta_user", "annotated", "hidden", "description", "changed_at", "created_at", "updated_at",
                "row_version"]

        def sel(name_expr):
            return select(new_id, literal(self.dst), i.c.dir, name_expr, i.c.blob_id, self.key(i), i.c.id,
                          i.c.meta_system, i.c.meta_user if with_metadata else literal({}, JSON),
                          i.c.annotated if with_annotations else literal(False), i.c.hidden, i.c.description,
                          i.c.changed_at, literal(self.now), literal(self.now), literal(1))

        clashes = []
        if pos:
            clashes = self.s.execute(select(i.c.id, i.c.dir, i.c.name).where(i.c.dataset_id == d, is_new, taken)
                                     .order_by(i.c.id)).all()
            wanted = sel(i.c.name).where(i.c.dataset_id == d, is_new, ~taken)
        else:
            # The first input goes into an empty dataset: its keys are distinct (duplicate
            # clones got their own key in prepare) and its paths are unique, so neither
            # probe can fire; skipping them saves two index lookups per item.
            wanted = sel(i.c.name).where(i.c.dataset_id == d)
        self.res.items += written(self.s, insert(ITEM_T).from_select(cols, wanted))
        if clashes:
            self._insert_renamed(pos, clashes, sel, i, cols)
        checkpoint("merge", f"items{pos}")

    def _insert_renamed(self, pos, clashes, sel, i, cols) -> None:
        tag = self.inputs[pos].name
        dirs = {c.dir for c in clashes}
        taken: dict[str, set[str]] = {dd: set() for dd in dirs}
        for dd in dirs:
            taken[dd] = set(self.s.scalars(select(ITEM_T.c.name).where(ITEM_T.c.dataset_id == self.dst,
                                                                      ITEM_T.c.dir == dd)))
            taken[dd] |= set(self.s.scalars(select(ITEM_T.c.name).where(ITEM_T.c.dataset_id.in_(self.ids[pos + 1:]),
                                                                      ITEM_T.c.dir == dd)))
        params = []
        for c in clashes:
            stem, ext = posixpath.splitext(c.name)
            new, n = f"{stem} ({tag}){ext}", 2
            while new in taken[c.dir]:
                new, n = f"{stem} ({tag} {n}){ext}", n + 1
            taken[c.dir].add(new)
            params.append({"iid": c.id, "nm": new})
            self.res.renamed_count += 1
            if len(self.res.renamed) < REPORT_LIMIT:
                base = c.dir.rstrip("/") + "/"
                self.res.renamed.append({"filename": base + c.name, "renamed_to": base + new, "dataset": tag})
        stmt = insert(ITEM_T).from_select(cols, sel(bindparam("nm", type_=String)).where(i.c.id == bindparam("iid")))
        for part in range(0, len(params), 5000):
            self.s.execute(stmt, params[part:part + 5000])
        self.res.items += len(params)

    def annotations(self, pos: int) -> None:
        """Copy input *pos*'s annotations to the merged items, skipping copies already there."""
        d = self.ids[pos]
        a = ANN_T.alias("a")
        i = ITEM_T.alias("i")
        mm = ANN_T.alias("mm")
        root = func.coalesce(a.c.src_annotation_id, a.c.id)
        target = self.key(i) + self.off
        cols = ["item_id", "dataset_id", "type", "label", "coordinates", "attributes", "meta", "object_id",
                "status", "src_annotation_id", "creator", "created_at", "updated_at"]
        q = (select(target, literal(self.dst), a.c.type, a.c.label, a.c.coordinates, a.c.attributes, a.c.meta,
                    a.c.object_id, a.c.status, root, a.c.creator, a.c.created_at, a.c.updated_at)
             .select_from(a.join(i, i.c.id == a.c.item_id)).where(a.c.dataset_id == d))
        self.annotations_seen += self.s.execute(select(func.count()).select_from(ANN_T)
                                                .where(ANN_T.c.dataset_id == d)).scalar()
        if pos:  # the first input cannot meet a copy already merged
            q = q.where(~exists().where(mm.c.src_annotation_id == root, mm.c.item_id == target))
        self.res.annotations += written(self.s, insert(ANN_T).from_select(cols, q))
        self.rep.check_cancelled()

    def tasks(self, pos: int) -> None:
        """Unite task statuses; a task an earlier input already set keeps its status."""
        d = self.ids[pos]
        t = TASK_T.alias("t")
        i = ITEM_T.alias("i")
        q = (select(self.key(i) + self.off, t.c.task, t.c.status, t.c.creator, t.c.at)
             .select_from(t.join(i, i.c.id == t.c.item_id)).where(i.c.dataset_id == d))
        self.res.task_statuses += written(self.s, insert_ignore(self.s, TASK_T, ["item_id", "task"])
                                          .from_select(["item_id", "task", "status", "creator", "at"], q))

    def user_metadata(self, pos: int) -> None:
        """Unite input *pos*'s user metadata into merged items an earlier input brought.

        Only rows whose stored metadata differs are looked at (clones usually agree); a key
        with a different value keeps the merged item's value and is listed as a conflict.
        """
        d = self.ids[pos]
        key_sql = "COALESCE(o.master_item_id, o.id)"
        if self.has_dups:
            key_sql = f"CASE WHEN o.id IN (SELECT item_id FROM vmerge_dup) THEN o.id ELSE {key_sql} END"
        if self.dialect == "postgresql":
            differs = "o.meta_user::text != m.meta_user::text"
            conflicts = ("SELECT m.id, m.dir, m.name, m.parent_item_id, jm.key, jm.value::text, jo.value::text "
                         f"FROM item o JOIN item m ON m.id = {key_sql} + :off "
                         "CROSS JOIN LATERAL jsonb_each(m.meta_user::jsonb) jm "
                         "JOIN LATERAL jsonb_each(o.meta_user::jsonb) jo ON jo.key = jm.key "
                         f"WHERE o.dataset_id = :d AND m.parent_item_id != o.id AND {differs} "
                         "AND jo.value != jm.value")
            patch = ("UPDATE item AS m SET meta_user = (o.meta_user::jsonb || m.meta_user::jsonb)::json "
                     f"FROM item o WHERE o.dataset_id = :d AND m.id = {key_sql} + :off "
                     f"AND m.parent_item_id != o.id AND {differs}")
        else:
            differs = "o.meta_user != m.meta_user"
            conflicts = ("SELECT m.id, m.dir, m.name, m.parent_item_id, jm.key, jm.value, jo.value "
                         f"FROM item o JOIN item m ON m.id = {key_sql} + :off "
                         "JOIN json_each(m.meta_user) jm JOIN json_each(o.meta_user) jo ON jo.key = jm.key "
                         f"WHERE o.dataset_id = :d AND m.parent_item_id != o.id AND {differs} "
                         "AND (jo.type != jm.type OR jo.value IS NOT jm.value)")
            # json_patch(target, patch): the patch's keys win, so the merged item is the patch.
            patch = ("UPDATE item AS m SET meta_user = json_patch(o.meta_user, m.meta_user) "
                     f"FROM item o WHERE o.dataset_id = :d AND m.id = {key_sql} + :off "
                     f"AND m.parent_item_id != o.id AND {differs}")
        params = {"d": d, "off": self.off}
        parents: dict[int, str] = {}
        for r in self.s.execute(text(conflicts), params):
            self.res.metadata_conflict_count += 1
            if len(self.res.metadata_conflicts) < REPORT_LIMIT:
                parents[r[3]] = ""
                self.res.metadata_conflicts.append({
                    "id": r[0], "filename": r[1].rstrip("/") + "/" + r[2], "key": r[4], "kept": r[5],
                    "kept_from": r[3], "dropped": r[6], "dropped_from": self.inputs[pos].name})
        if parents:
            names = dict(self.s.execute(select(ITEM_T.c.id, Dataset.name).join(Dataset, Dataset.id == ITEM_T.c.dataset_id)
                                        .where(ITEM_T.c.id.in_(list(parents)))).all())
            for c in self.res.metadata_conflicts:
                if isinstance(c["kept_from"], int):
                    c["kept_from"] = names.get(c["kept_from"], c["kept_from"])
        self.s.execute(text(patch), params)
