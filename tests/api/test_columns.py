"""project.columns and the datasets table's data (Qt-free), on real SQLite catalogs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, update

from dsdesk.api.catalog import Catalog
from dsdesk.api.columns import STANDARD_COLUMNS, Column, check_field, validate_columns
from dsdesk.api.dataset_table import DatasetTable
from dsdesk.api.formatting import format_size
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import SyncState
from dsdesk.errors import AlreadyExistsError, InvalidInputError, NotFoundError


@pytest.fixture
def cat(tmp_path):
    c = Catalog.open(tmp_path / "cat.sqlite")
    yield c
    c.close()


@pytest.fixture
def project(cat):
    p = cat.projects.create("vision")
    specs = [
        ("cars", {"owner": "vision-team", "stats": {"f1": 0.91}, "wiki": "https://example.org/cars"}, 1200, 600),
        ("bikes", {"owner": "ml-ops", "stats": {"f1": 0.5}}, 40, 40),
        ("people", {"owner": "vision-team"}, 5000, 10),
        ("empty", {}, 0, 0),
        ("trucks", {"stats": {"f1": 10}}, 3, 0),
    ]
    for name, user, n, ann in specs:
        ds = p.datasets.create(name, metadata={"user": user})
        with cat.db.session() as s:
            s.execute(update(DatasetRow).where(DatasetRow.id == ds.id).values(
                item_count=n, annotated_count=ann, bytes_total=n * 150_000, folder_count=2))
    return p


# ---- columns -----------------------------------------------------------------------------


def test_default_layout_has_the_standard_columns(project):
    cols = project.columns.list()
    assert [c.name for c in cols] == [sc.name for sc in STANDARD_COLUMNS]
    assert cols[0].name == "name" and cols[0].visible
    assert not project.columns.get("source").visible  # hidden by default, shown on demand
    assert all(not c.custom and c.field is None for c in cols)


def test_add_list_update_remove_custom_columns(project):
    c = project.columns.add("owner", "Owner", "user.owner")
    assert (c.name, c.label, c.field, c.custom, c.link, c.resizable, c.sortable) == (
        "owner", "Owner", "user.owner", True, False, True, True)
    assert project.columns.list()[-1].name == "owner"
    project.columns.add("f1", "F1 score", "metadata.user.stats.f1", value_type="number", sortable=True)
    assert project.columns.get("f1").field == "user.stats.f1"  # the long form is shortened
    u = project.columns.update("owner", link=True, label="Team", resizable=False)
    assert (u.label, u.link, u.resizable) == ("Team", True, False)
    assert project.columns.get("owner").label == "Team"
    project.columns.update("owner", new_name="team")
    assert project.columns.get("team").field == "user.owner"
    assert project.columns.remove("team")
    with pytest.raises(NotFoundError):
        project.columns.get("team")


@pytest.mark.parametrize("name", ["", "   ", None, "has space", "1abc", "x" * 65, "a.b"])
def test_bad_names_are_refused(project, name):
    with pytest.raises(InvalidInputError):
        project.columns.add(name, "L", "user.owner")


def test_duplicate_names_are_refused(project):
    project.columns.add("owner", "Owner", "user.owner")
    with pytest.raises(AlreadyExistsError, match="already exists"):
        project.columns.add("owner", "Other", "user.other")
    with pytest.raises(AlreadyExistsError, match="already exists"):
        project.columns.add("OWNER", "Other", "user.other")  # names are compared case-insensitively
    with pytest.raises(AlreadyExistsError, match="standard column"):
        project.columns.add("items", "Items", "user.items")
    assert [c.name for c in project.columns.list() if c.custom] == ["owner"]


@pytest.mark.parametrize("field", ["", "owner", "user", "user.", "user..x", "meta.user.x", "user.a*b",
                                   'user.a"b', "user.a,b", "metadata", "system"])
def test_bad_field_paths_are_refused(project, field):
    with pytest.raises(InvalidInputError, match="field"):
        project.columns.add("c", "C", field)


def test_good_field_paths(project):
    assert check_field(" user.owner ") == "user.owner"
    assert check_field("metadata.system.clone.src_dataset_id") == "system.clone.src_dataset_id"
    assert check_field("user.stats.f1-macro") == "user.stats.f1-macro"


def test_bad_value_type_is_refused(project):
    with pytest.raises(InvalidInputError, match="type"):
        project.columns.add("c", "C", "user.c", value_type="float")


def test_standard_columns_cannot_be_removed_or_retyped(project):
    with pytest.raises(InvalidInputError, match="standard"):
        project.columns.remove("items")
    with pytest.raises(InvalidInputError, match="standard"):
        project.columns.update("items", field="user.x")
    assert project.columns.update("items", label="# items").label == "# items"
    with pytest.raises(InvalidInputError, match="standard columns cannot be removed"):
        validate_columns([c for c in project.columns.list() if c.name != "kind"])


def test_layout_is_saved_by_key_and_survives_reopening(cat, project, tmp_path):
    project.columns.add("owner", "Owner", "user.owner")
    project.columns.save_layout(["owner", {"name": "name", "width": 300}, {"name": "items", "visible": False}])
    cols = project.columns.list()
    assert [c.name for c in cols[:3]] == ["owner", "name", "items"]
    assert cols[1].width == 300 and not cols[2].visible
    assert all(not c.visible for c in cols[3:])  # unlisted columns are hidden
    cat.close()
    again = Catalog.open(tmp_path / "cat.sqlite")
    try:
        cols2 = again.projects.get("vision").columns.list()
        assert [(c.name, c.visible, c.width) for c in cols2] == [(c.name, c.visible, c.width) for c in cols]
    finally:
        again.close()


def test_save_layout_refuses_unknown_and_repeated_names(project):
    with pytest.raises(NotFoundError):
        project.columns.save_layout(["name", "nope"])
    with pytest.raises(InvalidInputError, match="twice"):
        project.columns.save_layout(["name", "name"])
    with pytest.raises(InvalidInputError, match="visible"):
        project.columns.save_layout([])


def test_restore_default_keeps_custom_columns(project):
    project.columns.add("owner", "Owner", "user.owner")
    project.columns.save_layout(["owner", {"name": "kind", "width": 500}])
    cols = project.columns.restore_default()
    assert [c.name for c in cols] == [sc.name for sc in STANDARD_COLUMNS] + ["owner"]
    assert project.columns.get("kind").width == 70 and project.columns.get("kind").visible


def test_apply_is_all_or_nothing(project):
    project.columns.add("owner", "Owner", "user.owner")
    before = project.columns.list()
    bad = before + [Column("x", "X", "user.x", custom=True), Column("x", "Y", "user.y", custom=True)]
    with pytest.raises(AlreadyExistsError):
        project.columns.apply(bad)
    assert project.columns.list() == before


def test_projects_have_their_own_columns(cat, project):
    other = cat.projects.create("other")
    project.columns.add("owner", "Owner", "user.owner")
    assert not any(c.custom for c in other.columns.list())
    other.columns.add("owner", "Owner", "user.owner")  # the same name in another project is fine


def test_field_suggestions_come_from_the_datasets(project):
    assert project.columns.field_suggestions() == ["user.owner", "user.stats", "user.stats.f1", "user.wiki"]


# ---- the table's data --------------------------------------------------------------------


def _table(cat, project) -> DatasetTable:
    return DatasetTable.load(cat, project.id)


def test_rows_come_from_one_query_and_use_the_cached_counts(cat, project):
    statements = []

    def count(conn, cursor, statement, *a):
        statements.append(statement)

    event.listen(cat.db.engine, "before_cursor_execute", count)
    try:
        t = _table(cat, project)
    finally:
        event.remove(cat.db.engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2  # the columns, then the datasets with their names
    assert not any(" item" in s.lower().replace("item_count", "") for s in selects)
    names = [r.name for r in t.records]
    assert names == sorted(names)
    cars = t.row_of(project.datasets.get("cars").id)
    assert t.value(cars, "items") == 1200 and t.text(cars, "items") == "1,200"
    assert t.text(cars, "annotated_percent") == "50.0 %"
    assert t.text(t.row_of(project.datasets.get("empty").id), "annotated_percent") == ""
    assert t.text(cars, "size") == "180.0 MB"
    assert t.text(cars, "driver") == "internal"
    assert t.text(cars, "recipe") == "cars recipe"


def test_custom_values_resolve_nested_paths_and_missing_ones_are_empty(cat, project):
    project.columns.add("owner", "Owner", "user.owner")
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    project.columns.add("ghost", "Ghost", "user.does.not.exist")
    t = _table(cat, project)
    by = {r.name: i for i, r in enumerate(t.records)}
    assert t.text(by["cars"], "owner") == "vision-team"
    assert t.value(by["cars"], "f1") == 0.91 and t.text(by["cars"], "f1") == "0.91"
    assert t.value(by["people"], "f1") is None and t.text(by["people"], "f1") == ""
    assert all(t.text(i, "ghost") == "" for i in range(len(t)))
    # A path that goes through a non-dict value is missing too, not an error.
    project.columns.add("deep", "Deep", "user.owner.name")
    assert _table(cat, project).text(by["cars"], "deep") == ""


def test_numeric_sort_puts_missing_last_both_ways(cat, project):
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    t = _table(cat, project)
    names = lambda rows: [t.records[i].name for i in rows]  # noqa: E731
    assert names(t.order("f1", True)) == ["bikes", "cars", "trucks", "empty", "people"]
    assert names(t.order("f1", False)) == ["trucks", "cars", "bikes", "empty", "people"]
    assert names(t.order("items", False)) == ["people", "cars", "bikes", "trucks", "empty"]
    assert names(t.order("annotated_percent", False))[-1] == "empty"


def test_text_sort_is_case_insensitive_and_numbers_numeric(cat, project):
    for name, v in [("cars", "b"), ("bikes", "A"), ("people", 10), ("trucks", 2)]:
        ds = project.datasets.get(name)
        ds.metadata["user"]["code"] = v
        ds.update()
    project.columns.add("code", "Code", "user.code")
    t = _table(cat, project)
    assert [t.records[i].name for i in t.order("code")] == ["trucks", "people", "bikes", "cars", "empty"]


def test_dates_sort_and_display(cat, project):
    for name, v in [("cars", "2024-03-01"), ("bikes", "2023-12-31T23:00:00Z"), ("people", "garbage")]:
        ds = project.datasets.get(name)
        ds.metadata["user"]["due"] = v
        ds.update()
    project.columns.add("due", "Due", "user.due", value_type="date")
    t = _table(cat, project)
    assert [t.records[i].name for i in t.order("due")][:2] == ["bikes", "cars"]
    assert t.text(t.row_of(project.datasets.get("cars").id), "due") == "2024-03-01"
    assert t.text(t.row_of(project.datasets.get("people").id), "due") == "garbage"


def test_search_plain_words_hit_visible_columns_including_custom(cat, project):
    project.columns.add("owner", "Owner", "user.owner")
    t = _table(cat, project)
    names = lambda res: sorted(t.records[i].name for i in res.rows)  # noqa: E731
    assert names(t.search("VISION-team")) == ["cars", "people"]
    assert names(t.search("vision cars")) == ["cars"]
    assert names(t.search("ops")) == ["bikes"]
    assert t.search("").rows is None
    project.columns.update("owner", visible=False)
    assert names(_table(cat, project).search("vision-team")) == []  # hidden columns are not searched


def test_search_query_syntax_on_dataset_fields(cat, project):
    project.columns.add("f1", "F1", "user.stats.f1", value_type="number")
    t = _table(cat, project)
    names = lambda res: sorted(t.records[i].name for i in res.rows)  # noqa: E731
    r = t.search("owner:vision-team items>1000")
    assert r.used_query and r.error is None
    assert names(r) == ["cars", "people"]
    assert names(t.search("owner:vision-team items>2000")) == ["people"]
    assert names(t.search("f1>0.6")) == ["cars", "trucks"]  # a custom column's name reads its field
    assert names(t.search("-owner:vision-team")) == ["bikes", "empty", "trucks"]
    assert names(t.search("owner:vision-team truc")) == []
    assert names(t.search("owner:vision-team or tru")) == ["cars", "people", "trucks"]
    assert names(t.search("recipe:bikes*")) == ["bikes"]
    assert names(t.search("user.stats.f1>=0.91")) == ["cars", "trucks"]  # a field path as a key
    assert names(t.search("size>100MB")) == []  # a bad number compares as text: no error, no match


def test_a_malformed_query_falls_back_to_words_and_reports(cat, project):
    t = _table(cat, project)
    r = t.search('owner:"vision')
    assert r.error and "quoted" in r.error
    assert r.rows is not None


def test_last_sync_and_source(cat, project):
    cars = project.datasets.get("cars")
    with cat.db.session() as s:
        s.add(SyncState(dataset_id=cars.id, last_sync_at=dt.datetime(2024, 5, 1, 12, 0)))
        s.execute(update(DatasetRow).where(DatasetRow.name == "bikes").values(kind="clone", src_dataset_id=cars.id))
    t = _table(cat, project)
    assert t.value(t.row_of(cars.id), "last_sync") == dt.datetime(2024, 5, 1, 12, 0)
    assert t.text(t.row_of(project.datasets.get("bikes").id), "source") == "cars"
    assert [t.records[i].name for i in t.order("last_sync")][0] == "cars"


def test_format_size():
    assert format_size(0) == "0 B" and format_size(999) == "999 B"
    assert format_size(1_500) == "1.5 kB" and format_size(2_000_000_000) == "2.0 GB"


def test_default_order_is_case_insensitive_by_name(cat, project):
    project.datasets.create("Zebra")
    project.datasets.create("apple")
    t = _table(cat, project)
    assert [r.name for r in t.records][:2] == ["apple", "bikes"] and t.records[-1].name == "Zebra"
    assert [t.records[i].name for i in t.order("name", False)][0] == "Zebra"


def test_parse_cell_text_by_type():
    from dsdesk.api.dataset_edits import parse_cell_text

    assert parse_cell_text("42", "number") == 42 and parse_cell_text(" 0.5 ", "number") == 0.5
    assert parse_cell_text("1,200.5", "number") == 1200.5
    assert parse_cell_text("", "number") is None
    assert parse_cell_text("Yes", "bool") is True and parse_cell_text("0", "bool") is False
    assert parse_cell_text("a, b,,c", "list") == ["a", "b", "c"]
    assert parse_cell_text("2025-03-01", "date") == "2025-03-01"
    assert parse_cell_text("42", "text") == "42"
    for text, t in [("abc", "number"), ("nan", "number"), ("maybe", "bool"), ("soon", "date")]:
        with pytest.raises(InvalidInputError):
            parse_cell_text(text, t)


def test_set_user_field_nested_conflicts_and_guards(cat, project):
    from dsdesk.api.dataset_edits import set_user_field
    from dsdesk.errors import ConflictError, ReadOnlyError

    cars = project.datasets.get("cars")
    set_user_field(cat, cars.id, "user.stats.recall", 0.8, cars.row_version)
    got = project.datasets.get("cars")
    assert got.metadata["user"]["stats"] == {"f1": 0.91, "recall": 0.8}
    with pytest.raises(ConflictError):
        set_user_field(cat, cars.id, "user.owner", "x", cars.row_version)  # the version shown is old
    set_user_field(cat, cars.id, "user.owner", None, got.row_version)  # None removes the key
    assert "owner" not in project.datasets.get("cars").metadata["user"]
    with pytest.raises(InvalidInputError, match="erase"):
        set_user_field(cat, cars.id, "user.wiki.url", "x")
    with pytest.raises(InvalidInputError, match="system"):
        set_user_field(cat, cars.id, "system.x", 1)
    set_user_field(cat, cars.id, "user.new.deep.key", "v")
    assert project.datasets.get("cars").metadata["user"]["new"] == {"deep": {"key": "v"}}
    ro = project.datasets.get("bikes").set_readonly(True)
    with pytest.raises(ReadOnlyError):
        set_user_field(cat, ro.id, "user.owner", "x")
