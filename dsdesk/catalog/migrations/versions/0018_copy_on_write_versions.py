"""copy-on-write versions: version points, row history and the triggers that keep it

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

A snapshot no longer copies a dataset's rows: it is a *version point* (a version number
and id watermarks, ``version_point``), and a write to a row whose current state a point
still sees first archives that state in ``item_history`` / ``annotation_history`` /
``task_status_history``.  The database does the archiving (triggers), so none of the
forty-odd write paths can forget it.  See ``docs/VERSIONING.md`` for the design and its
figures.

- ``v`` on ``item``, ``annotation`` and ``task_status``: the dataset version at which the
  row's current state was written; NULL means "as inserted" (its id dates it against a
  point's watermark).
- ``dataset.cow_version`` (the version writes happen at now), ``cow_point`` and the
  ``cow_*_hwm`` watermarks of the newest point (NULL: no point, the triggers do nothing).
- SQLite: ``item``, ``annotation`` and ``task_status`` become ``AUTOINCREMENT`` tables (a
  rebuild, once), so an id is never handed out twice: without it SQLite gives
  ``max(rowid) + 1``, and a point would take a new row that reused a deleted top id for
  one it saw.  PostgreSQL's sequences never reuse ids; there a statement-level trigger
  takes a shared advisory lock that taking a point takes exclusively, so a point waits
  for writes in flight and is an exact cut under READ COMMITTED too.

Existing snapshots (frozen copies) are turned into points by the next migration, 0019.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | Sequence[str] | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The advisory lock key writers hold shared and point-taking holds exclusively (PostgreSQL).
POINT_LOCK = 0x64736476  # "dsdv"
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
VERSIONED = ("item", "annotation", "task_status")


def _cols(bind, table: str) -> list[str]:
    return [c["name"] for c in sa.inspect(bind).get_columns(table)]


def _autoincrement(table: str) -> None:
    """Rebuild SQLite *table* as an AUTOINCREMENT table, keeping its rows, indexes and
    triggers (the metadata expression indexes and the name-search triggers included).
    Foreign keys are off during migrations (env.py), so dropping the old table cascades nothing."""
    bind = op.get_bind()
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                               (table,)).scalar()
    if "AUTOINCREMENT" in sql.upper():
        return
    extras = [r[0] for r in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,))]
    new = sql.replace(f"CREATE TABLE {table} (", f"CREATE TABLE {table}__cow (", 1)
    new = new.replace("id INTEGER NOT NULL, ", "id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, ", 1)
    new = new.replace(f"CONSTRAINT pk_{table} PRIMARY KEY (id), ", "", 1)
    if new.count("PRIMARY KEY") != 1 or "AUTOINCREMENT" not in new:
        raise RuntimeError(f"unexpected schema of {table}: {sql}")
    cols = ", ".join(_cols(bind, table))
    op.execute(new)
    op.execute(f"INSERT INTO {table}__cow ({cols}) SELECT {cols} FROM {table}")
    op.execute(f"DROP TABLE {table}")
    op.execute(f"ALTER TABLE {table}__cow RENAME TO {table}")
    for stmt in extras:
        op.execute(stmt)


def _history_table(table: str, columns: list[sa.Column]) -> None:
    op.create_table(
        f"{table}_history",
        sa.Column("hid", ID, primary_key=True, autoincrement=True),
        *columns,
        sa.Column("v_from", sa.Integer(), nullable=False),
        sa.Column("v_to", sa.Integer(), nullable=False),
    )
    op.create_index(f"ix_{table}_history_ds", f"{table}_history", ["dataset_id", "v_to", "v_from"])
    op.create_index(f"ix_{table}_history_id", f"{table}_history", ["id", "v_to"])


def _history_tables() -> None:
    ts = sa.DateTime()
    _history_table("item", [
        sa.Column("id", ID, nullable=False), sa.Column("dataset_id", ID, nullable=False),
        sa.Column("dir", sa.String(2048), nullable=False), sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("blob_id", ID, nullable=False), sa.Column("master_item_id", ID),
        sa.Column("parent_item_id", ID), sa.Column("meta_system", sa.JSON(), nullable=False),
        sa.Column("meta_user", sa.JSON(), nullable=False), sa.Column("annotated", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False), sa.Column("description", sa.Text()),
        sa.Column("changed_at", ts), sa.Column("created_at", ts, nullable=False),
        sa.Column("updated_at", ts, nullable=False), sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("v", sa.Integer()),
    ])
    op.create_index("ix_item_history_blob", "item_history", ["blob_id"])  # GC's references
    _history_table("annotation", [
        sa.Column("id", ID, nullable=False), sa.Column("item_id", ID, nullable=False),
        sa.Column("dataset_id", ID, nullable=False), sa.Column("type", sa.String(32), nullable=False),
        sa.Column("label", sa.String(512)), sa.Column("coordinates", sa.JSON()),
        sa.Column("attributes", sa.JSON()), sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("object_id", sa.String(64)), sa.Column("status", sa.String(32)),
        sa.Column("src_annotation_id", ID), sa.Column("creator", sa.String(255)),
        sa.Column("created_at", ts, nullable=False), sa.Column("updated_at", ts, nullable=False),
        sa.Column("v", sa.Integer()),
    ])
    _history_table("task_status", [
        sa.Column("id", ID, nullable=False), sa.Column("item_id", ID, nullable=False),
        sa.Column("task", sa.String(255), nullable=False), sa.Column("status", sa.String(64), nullable=False),
        sa.Column("creator", sa.String(255)), sa.Column("at", ts, nullable=False),
        sa.Column("v", sa.Integer()), sa.Column("dataset_id", ID, nullable=False),
    ])


def _archive_sql(table: str, live: list[str], row: str, extra: str, version: str) -> str:
    """INSERT of the state *row* (OLD) of *table* into its history, valid from its own v."""
    cols = ", ".join(live)
    vals = ", ".join(f"{row}.{c}" for c in live)
    names = f"{cols}{', dataset_id' if extra else ''}, v_from, v_to"
    return (f"INSERT INTO {table}_history ({names}) "
            f"VALUES ({vals}{', ' + extra if extra else ''}, coalesce({row}.v, 0), {version})")


def _sqlite_triggers(bind) -> None:
    """One trigger per table and kind of write, each with one dataset look-up in its WHEN:
    a trigger is a sub-program run per written row, so in a dataset without a point (the
    common case) every extra trigger or look-up is paid by every bulk write (two triggers
    with two look-ups each doubled a 100k-row metadata update here)."""
    ds_of = {"item": "FROM dataset d WHERE d.id = {row}.dataset_id",
             "annotation": "FROM dataset d WHERE d.id = {row}.dataset_id",
             "task_status": "FROM item i JOIN dataset d ON d.id = i.dataset_id WHERE i.id = {row}.item_id"}
    hwm_of = {"item": "cow_item_hwm", "annotation": "cow_ann_hwm", "task_status": "cow_task_hwm"}
    tcols = _cols(bind, "task_status")
    for table in VERSIONED:
        live = _cols(bind, table)
        names = ", ".join(live) + (", dataset_id" if table == "task_status" else "") + ", v_from, v_to"
        vals = ", ".join(f"OLD.{c}" for c in live) + (", d.id" if table == "task_status" else "")
        # the old state, when the dataset's newest point sees it
        archive = (f"INSERT INTO {table}_history ({names}) SELECT {vals}, coalesce(OLD.v, 0), d.cow_version "
                   f"{ds_of[table].format(row='OLD')} AND OLD.id <= d.{hwm_of[table]} "
                   f"AND coalesce(OLD.v, 0) <= d.cow_point;")
        has_point = f"(SELECT d.cow_point {ds_of[table].format(row='{row}')}) IS NOT NULL"
        stamp = (f"UPDATE {table} SET v = (SELECT d.cow_version {ds_of[table].format(row='NEW')}) "
                 f"WHERE id = NEW.id;")
        # After the update, OLD is still the old state; the stamp's own UPDATE does not fire
        # this trigger again (no recursive triggers), and a write that sets v itself (a
        # restore's insert) is not a change of state to archive.
        op.execute(f"CREATE TRIGGER {table}_cow_update AFTER UPDATE ON {table} "
                   f"WHEN NEW.v IS OLD.v AND {has_point.format(row='NEW')} BEGIN {archive} {stamp} END")
        tasks = ""
        if table == "item":
            # An item's task statuses are deleted by cascade after the item row is gone, when
            # their own trigger can no longer find the dataset: the item's delete archives them.
            tasks = (f"INSERT INTO task_status_history ({', '.join(tcols)}, dataset_id, v_from, v_to) "
                     f"SELECT {', '.join('t.' + c for c in tcols)}, d.id, coalesce(t.v, 0), d.cow_version "
                     "FROM task_status t JOIN dataset d ON d.id = OLD.dataset_id WHERE t.item_id = OLD.id "
                     "AND t.id <= d.cow_task_hwm AND coalesce(t.v, 0) <= d.cow_point;")
        op.execute(f"CREATE TRIGGER {table}_cow_delete BEFORE DELETE ON {table} "
                   f"WHEN {has_point.format(row='OLD')} BEGIN {archive} {tasks} END")


def _pg_triggers(bind) -> None:
    op.execute(f"CREATE FUNCTION cow_point_lock() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"PERFORM pg_advisory_xact_lock_shared({POINT_LOCK}); RETURN NULL; END $$")
    for table, hwm in (("item", "cow_item_hwm"), ("annotation", "cow_ann_hwm"), ("task_status", "cow_task_hwm")):
        live = _cols(bind, table)
        if table == "task_status":
            find = ("SELECT d.id, d.cow_point, d.cow_version, d.cow_task_hwm AS hwm INTO ds FROM item i "
                    "JOIN dataset d ON d.id = i.dataset_id WHERE i.id = OLD.item_id")
            extra = "ds.id"
        else:
            find = f"SELECT cow_point, cow_version, {hwm} AS hwm INTO ds FROM dataset WHERE id = OLD.dataset_id"
            extra = ""
        tasks = ""
        if table == "item":  # see the SQLite form: cascaded task statuses find no item
            tcols = _cols(bind, "task_status")
            tasks = (f"IF TG_OP = 'DELETE' AND ds.cow_point IS NOT NULL THEN "
                     f"INSERT INTO task_status_history ({', '.join(tcols)}, dataset_id, v_from, v_to) "
                     f"SELECT {', '.join('t.' + c for c in tcols)}, OLD.dataset_id, coalesce(t.v, 0), ds.cow_version "
                     f"FROM task_status t WHERE t.item_id = OLD.id AND t.id <= "
                     f"(SELECT cow_task_hwm FROM dataset WHERE id = OLD.dataset_id) "
                     f"AND coalesce(t.v, 0) <= ds.cow_point; END IF;")
        archive = _archive_sql(table, live, "OLD", extra, "ds.cow_version")
        op.execute(f"""
CREATE FUNCTION {table}_cow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE ds record;
BEGIN
  {find};
  IF ds.cow_point IS NOT NULL AND OLD.id <= ds.hwm AND coalesce(OLD.v, 0) <= ds.cow_point
     AND (TG_OP = 'DELETE' OR NEW.v IS NOT DISTINCT FROM OLD.v) THEN
    {archive};
  END IF;
  {tasks}
  IF TG_OP = 'UPDATE' THEN
    IF ds.cow_point IS NOT NULL THEN NEW.v := ds.cow_version; END IF;
    RETURN NEW;
  END IF;
  RETURN OLD;
END $$""")
        op.execute(f"CREATE TRIGGER {table}_cow BEFORE UPDATE OR DELETE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION {table}_cow()")
        op.execute(f"CREATE TRIGGER {table}_cow_lock BEFORE INSERT OR UPDATE OR DELETE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION cow_point_lock()")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        for table in VERSIONED:
            _autoincrement(table)
    for table in VERSIONED:
        op.add_column(table, sa.Column("v", sa.Integer(), nullable=True))
    with op.batch_alter_table("dataset") as b:
        b.add_column(sa.Column("cow_version", sa.Integer(), nullable=False, server_default="1"))
        b.add_column(sa.Column("cow_point", sa.Integer(), nullable=True))
        b.add_column(sa.Column("cow_item_hwm", ID, nullable=True))
        b.add_column(sa.Column("cow_ann_hwm", ID, nullable=True))
        b.add_column(sa.Column("cow_task_hwm", ID, nullable=True))
    op.create_table(
        "version_point",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("dataset_id", ID, sa.ForeignKey("dataset.id", ondelete="CASCADE"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("item_hwm", ID, nullable=False),
        sa.Column("ann_hwm", ID, nullable=False),
        sa.Column("task_hwm", ID, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False, server_default=sa.func.current_timestamp()),
    )
    op.create_index("ix_version_point_dataset", "version_point", ["dataset_id", "version"])
    with op.batch_alter_table("snapshot") as b:
        b.add_column(sa.Column("point_id", ID, nullable=True))
    _history_tables()
    # The live rows changed since a point, found without reading the others.
    for table in ("item", "annotation"):
        op.create_index(f"ix_{table}_changed", table, ["dataset_id", "v"],
                        sqlite_where=sa.text("v IS NOT NULL"), postgresql_where=sa.text("v IS NOT NULL"))
    op.create_index("ix_task_status_changed", "task_status", ["v"],
                    sqlite_where=sa.text("v IS NOT NULL"), postgresql_where=sa.text("v IS NOT NULL"))
    if sqlite:
        _sqlite_triggers(bind)
    else:
        _pg_triggers(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for table in VERSIONED:
            for t in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_cow_{t}")
    else:
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_cow ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_cow_lock ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_cow()")
        op.execute("DROP FUNCTION IF EXISTS cow_point_lock()")
    for table in ("item", "annotation"):
        op.drop_index(f"ix_{table}_changed", table_name=table)
    op.drop_index("ix_task_status_changed", table_name="task_status")
    for table in VERSIONED:
        op.drop_table(f"{table}_history")
    with op.batch_alter_table("snapshot") as b:
        b.drop_column("point_id")
    op.drop_table("version_point")
    with op.batch_alter_table("dataset") as b:
        for c in ("cow_task_hwm", "cow_ann_hwm", "cow_item_hwm", "cow_point", "cow_version"):
            b.drop_column(c)
    for table in VERSIONED:
        with op.batch_alter_table(table) as b:
            b.drop_column("v")
