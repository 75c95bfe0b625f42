"""Two clients (two catalog objects on one database, SQLite file and PostgreSQL) save the same
item's or dataset's metadata: keys changed by one side are both kept; the same key changed by
both is a MetadataConflictError with both values and who/when, writing nothing, until the
second client decides and saves again."""

from __future__ import annotations

import pytest

from dsdesk.api.conflicts import MetadataConflictError
from dsdesk.api.metadata_merge import ABSENT, Value
from dsdesk.errors import ConflictError, InvalidInputError
from tests.conftest import make_image
from tests.versioning.test_postgres import pg_url  # noqa: F401  (the module's PostgreSQL server)


@pytest.fixture
def ds_a(cats, tmp_path, request):
    a, _ = cats
    project = a.projects.create(f"p-{request.node.name}"[:60])
    ds = project.datasets.create("shared", labels=["car"])
    ds.items.upload(local_path=str(make_image(tmp_path / "img" / "a.jpg")), remote_path="/train")
    ds.items.make_dir("/val")
    return ds


def _as(monkeypatch, who: str) -> None:
    monkeypatch.setenv("DSDESK_USER", who)


def _both_read(cats, ds_a):
    a, b = cats
    ia = a.dataset_by_id(ds_a.id).items.get(filepath="/train/a.jpg")
    ib = b.dataset_by_id(ds_a.id).items.get(filepath="/train/a.jpg")
    return ia, ib


def _fresh(cats, ds_a):
    return cats[0].dataset_by_id(ds_a.id).items.get(filepath="/train/a.jpg")


def test_disjoint_keys_are_both_kept(cats, ds_a, monkeypatch):
    ia, ib = _both_read(cats, ds_a)
    _as(monkeypatch, "alice")
    ia.metadata["user"]["split"] = "train"
    ia.update()
    _as(monkeypatch, "bob")
    ib.metadata["user"]["score"] = 0.9
    ib.update()  # no ConflictError: A's key and B's key merge
    assert _fresh(cats, ds_a).metadata["user"] == {"split": "train", "score": 0.9}
    assert ib.metadata["user"] == {"split": "train", "score": 0.9}  # B's entity holds the merge
    ib.metadata["user"]["score"] = 1.0  # and B's next save needs no refresh
    ib.update()
    assert _fresh(cats, ds_a).metadata["user"] == {"split": "train", "score": 1.0}


def test_same_key_is_a_conflict_with_both_values_and_who_when(cats, ds_a, monkeypatch):
    ia, ib = _both_read(cats, ds_a)
    _as(monkeypatch, "alice")
    ia.metadata["user"].update(split="train", note="from alice")
    ia.update()
    _as(monkeypatch, "bob")
    ib.metadata["user"].update(split="val", tags=["x"])
    with pytest.raises(MetadataConflictError) as got:
        ib.update()
    e = got.value
    assert isinstance(e, ConflictError) and "alice" in str(e) and "user.split" in str(e)
    [c] = e.conflicts
    assert (c.key, c.base, c.mine, c.theirs) == ("user.split", ABSENT, "val", "train")
    assert c.theirs_by == "alice" and c.theirs_at == ia.updated_at
    # nothing was written: the row is alice's
    now = _fresh(cats, ds_a)
    assert now.metadata["user"] == {"split": "train", "note": "from alice"} and now.row_version == ia.row_version
    # keep mine: the merge (alice's note, my tags) with my split
    ib.resolve_conflicts(e, "mine").update()
    assert _fresh(cats, ds_a).metadata["user"] == {"split": "val", "note": "from alice", "tags": ["x"]}


def test_take_theirs_and_a_value_per_path(cats, ds_a, monkeypatch):
    ia, ib = _both_read(cats, ds_a)
    ia.metadata["user"].update(a=1, b=1, c={"deep": 1})
    ia.update()
    ib.metadata["user"].update(a=2, b=2, c={"deep": 2})
    with pytest.raises(MetadataConflictError) as got:
        ib.update()
    assert [c.key for c in got.value.conflicts] == ["user.a", "user.b", "user.c.deep"]
    with pytest.raises(InvalidInputError, match="user.c.deep"):  # every path needs a choice
        ib.resolve_conflicts(got.value, {"user.a": "mine", "user.b": "theirs"})
    ib.resolve_conflicts(got.value, {"user.a": "mine", "user.b": "theirs", "user.c.deep": Value(3)}).update()
    assert _fresh(cats, ds_a).metadata["user"] == {"a": 2, "b": 1, "c": {"deep": 3}}
    ia2, ib2 = _both_read(cats, ds_a)
    ia2.metadata["user"]["a"] = 10
    ia2.update()
    ib2.metadata["user"]["a"] = 20
    with pytest.raises(MetadataConflictError) as got:
        ib2.update()
    ib2.resolve_conflicts(got.value, "theirs").update()
    assert _fresh(cats, ds_a).metadata["user"]["a"] == 10


def test_nested_dicts_merge_per_key_path(cats, ds_a):
    ia, ib = _both_read(cats, ds_a)
    ia.metadata["user"]["review"] = {"state": "ok", "by": {"name": "ann"}}
    ia.update()
    ia2, ib2 = _both_read(cats, ds_a)
    ia2.metadata["user"]["review"]["by"]["team"] = "qa"
    ia2.update()
    ib2.metadata["user"]["review"]["state"] = "redo"
    ib2.update()
    assert _fresh(cats, ds_a).metadata["user"] == {"review": {"state": "redo", "by": {"name": "ann", "team": "qa"}}}


def test_a_change_made_while_deciding_is_merged_or_reported_again(cats, ds_a):
    ia, ib = _both_read(cats, ds_a)
    ia.metadata["user"]["k"] = "a"
    ia.update()
    ib.metadata["user"]["k"] = "b"
    with pytest.raises(MetadataConflictError) as got:
        ib.update()
    ib.resolve_conflicts(got.value, "mine")
    ia.metadata["user"]["other"] = 1  # A saves again while B decides: another key
    ia.update()
    ib.update()
    assert _fresh(cats, ds_a).metadata["user"] == {"k": "b", "other": 1}
    ia.refresh()
    ib.metadata["user"]["k"] = "b2"
    ib.update()
    ia.metadata["user"]["k"] = "a2"
    with pytest.raises(MetadataConflictError) as got:
        ia.update()
    ia.resolve_conflicts(got.value, "mine")
    ib.metadata["user"]["k"] = "b3"  # and the same key again: reported again, not overwritten
    ib.update()
    with pytest.raises(MetadataConflictError) as again:
        ia.update()
    [c] = again.value.conflicts
    assert (c.base, c.mine, c.theirs) == ("b2", "a2", "b3")
    assert _fresh(cats, ds_a).metadata["user"]["k"] == "b3"


def test_description_and_a_move_merge_and_conflict(cats, ds_a):
    ia, ib = _both_read(cats, ds_a)
    ia.filename = "/val/a.jpg"  # A moves the item
    ia.update()
    ib.description = "a red car"  # B describes it
    ib.update()
    now = cats[0].dataset_by_id(ds_a.id).items.get(filepath="/val/a.jpg")
    assert now.description == "a red car" and ib.filename == "/val/a.jpg"
    ia.refresh()
    ia.filename, ib.filename = "/val/one.jpg", "/val/two.jpg"
    ia.update()
    with pytest.raises(MetadataConflictError) as got:
        ib.update()
    [c] = got.value.conflicts
    assert (c.key, c.base, c.mine, c.theirs) == ("filename", "/val/a.jpg", "/val/two.jpg", "/val/one.jpg")
    ib.resolve_conflicts(got.value, "mine").update()
    d = cats[0].dataset_by_id(ds_a.id)
    assert [i.filename for i in d.items.list().all()] == ["/val/two.jpg"]
    assert d.items_count == 1


def test_a_folder_move_and_a_bulk_edit_meanwhile_merge(cats, ds_a):
    a, b = cats
    ib = b.dataset_by_id(ds_a.id).items.get(filepath="/train/a.jpg")
    da = a.dataset_by_id(ds_a.id)
    da.items.move_folder("/train", "/val")  # another client moves the folder
    da.items.update(filters={"filter": {}}, update_values={"batch": 7})  # and bulk-edits every item
    ib.metadata["user"]["mine"] = True
    ib.update()
    now = a.dataset_by_id(ds_a.id).items.get(filepath="/val/train/a.jpg")
    assert now.metadata["user"] == {"batch": 7, "mine": True}
    ib.metadata["user"]["batch"] = 8
    ib.update()
    da.items.update(filters={"filter": {}}, update_values={"batch": 9})
    ib.metadata["user"]["batch"] = 10
    with pytest.raises(MetadataConflictError, match="another operation") as got:
        ib.update()
    assert got.value.conflicts[0].theirs_by is None  # a bulk edit records no author


def test_system_metadata_merges_too(cats, ds_a):
    ia, ib = _both_read(cats, ds_a)
    ia.metadata["system"]["reviewed"] = True
    ia.update(system_metadata=True)
    ib.metadata["system"]["source"] = "camera"
    ib.update(system_metadata=True)
    now = _fresh(cats, ds_a)
    assert now.metadata["system"]["reviewed"] is True and now.metadata["system"]["source"] == "camera"
    assert now.metadata["system"]["width"] == 64  # binary facts follow the blob
    ia.refresh()
    ib.refresh()
    ia.metadata["system"]["source"] = "scan"
    ia.update(system_metadata=True)
    ib.metadata["system"]["source"] = "phone"
    with pytest.raises(MetadataConflictError) as got:
        ib.update(system_metadata=True)
    assert got.value.conflicts[0].key == "system.source"


def test_a_conflict_resolves_only_its_own_object(cats, ds_a):
    ia, ib = _both_read(cats, ds_a)
    ia.metadata["user"]["k"] = 1
    ia.update()
    ib.metadata["user"]["k"] = 2
    with pytest.raises(MetadataConflictError) as got:
        ib.update()
    ds = cats[1].dataset_by_id(ds_a.id)
    with pytest.raises(InvalidInputError, match="not dataset"):
        ds.resolve_conflicts(got.value, "mine")
    with pytest.raises(InvalidInputError, match="MetadataConflictError"):
        ib.resolve_conflicts(ValueError("x"), "mine")


def test_datasets_merge_name_description_and_metadata(cats, ds_a, monkeypatch):
    a, b = cats
    da, db = a.dataset_by_id(ds_a.id), b.dataset_by_id(ds_a.id)
    _as(monkeypatch, "carol")
    da.name = "renamed"
    da.metadata["user"]["owner"] = "carol"
    da.update()
    _as(monkeypatch, "dave")
    db.description = "street scenes"
    db.metadata["user"]["license"] = "cc-by"
    db.update()
    now = a.dataset_by_id(ds_a.id)
    assert (now.name, now.description, now.metadata["user"]) == (
        "renamed", "street scenes", {"owner": "carol", "license": "cc-by"})
    da.refresh()
    da.description, db.description = "mine", "yours"
    da.update()
    with pytest.raises(MetadataConflictError) as got:
        db.update()
    [c] = got.value.conflicts
    assert (c.key, c.mine, c.theirs, c.theirs_by) == ("description", "yours", "mine", "dave")
    assert a.dataset_by_id(ds_a.id).description == "mine"  # nothing written
    db.resolve_conflicts(got.value, "mine").update()
    assert a.dataset_by_id(ds_a.id).description == "yours"


def test_a_table_cell_edit_merges_with_a_newer_save(cats, ds_a):
    from dsdesk.api.dataset_edits import set_user_field

    a, b = cats
    shown = b.dataset_by_id(ds_a.id)  # what client B's table shows
    theirs = a.dataset_by_id(ds_a.id)
    theirs.metadata["user"].update(owner="ann", stage="raw")
    theirs.update()
    got = set_user_field(b, ds_a.id, "user.reviewed", True, shown.row_version, base_user=shown.metadata["user"])
    assert got.metadata["user"] == {"owner": "ann", "stage": "raw", "reviewed": True}
    with pytest.raises(MetadataConflictError) as e:  # the same field: a conflict, nothing written
        set_user_field(b, ds_a.id, "user.owner", "bob", shown.row_version, base_user=shown.metadata["user"])
    assert e.value.conflicts[0].key == "user.owner" and e.value.conflicts[0].theirs == "ann"
    assert a.dataset_by_id(ds_a.id).metadata["user"]["owner"] == "ann"
    with pytest.raises(ConflictError):  # no base shown: nothing to merge against
        set_user_field(b, ds_a.id, "user.x", 1, shown.row_version)
