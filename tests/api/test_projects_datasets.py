"""Projects and datasets through the public API, on a real SQLite catalog."""

from __future__ import annotations

import pytest

import dsdesk


def test_projects_create_get_list_delete(catalog):
    p = catalog.projects.create("demo")
    assert catalog.projects.get("demo").id == p.id
    assert catalog.projects.get(project_id=p.id).name == "demo"
    assert [x.name for x in catalog.projects.list()] == ["demo"]
    with pytest.raises(dsdesk.AlreadyExistsError, match="'demo' already exists"):
        catalog.projects.create("demo")
    catalog.projects.delete("demo")
    assert catalog.projects.list() == []
    with pytest.raises(dsdesk.NotFoundError):
        catalog.projects.get("demo")


@pytest.mark.parametrize("bad", ["", "   ", None, "x" * 300, "tab\tname"])
def test_bad_project_names_are_refused(catalog, bad):
    with pytest.raises(dsdesk.InvalidInputError):
        catalog.projects.create(bad)
    assert catalog.projects.list() == []


def test_dataset_create_with_recipe_and_duplicate_name(project):
    ds = project.datasets.create("cars", labels=["car", "person"])
    assert ds.kind == "master" and ds.labels == ["car", "person"]
    assert ds.metadata["system"]["recipes"] == [ds.recipe_id]
    with pytest.raises(dsdesk.AlreadyExistsError, match="'cars' already exists in project 'demo'"):
        project.datasets.create("cars")
    assert [d.name for d in project.datasets.list()] == ["cars"]
    assert project.datasets.get(dataset_name="cars").id == ds.id
    assert project.datasets.get(dataset_id=ds.id).name == "cars"


def test_dataset_user_metadata_roundtrip_and_conflict(project):
    ds = project.datasets.create("cars")
    ds.metadata["user"]["owner"] = "vision-team"
    ds.metadata["user"]["stats"] = {"f1": 0.8, "tags": ["a", "b"], "ok": True}
    ds.update()
    again = project.datasets.get(dataset_name="cars")
    assert again.metadata["user"] == {"owner": "vision-team", "stats": {"f1": 0.8, "tags": ["a", "b"], "ok": True}}
    # A second client's stale copy cannot overwrite the first one's edit.
    stale = project.datasets.get(dataset_name="cars")
    again.metadata["user"]["owner"] = "someone"
    again.update()
    stale.metadata["user"]["owner"] = "me"
    with pytest.raises(dsdesk.ConflictError, match="changed by someone else"):
        stale.update()
    assert project.datasets.get(dataset_name="cars").metadata["user"]["owner"] == "someone"
    with pytest.raises(dsdesk.InvalidInputError, match="system area"):
        again.update(system_metadata=True)


def test_trash_restore_purge(project, photos):
    ds = project.datasets.create("cars")
    ds.items.upload(local_path=str(photos))
    ds.delete()
    assert project.datasets.list() == []
    with pytest.raises(dsdesk.NotFoundError):
        project.datasets.get(dataset_name="cars")
    assert [d.id for d in project.datasets.trash()] == [ds.id]
    # The name is free again while the old one sits in the trash ...
    other = project.datasets.create("cars")
    # ... so restoring would collide, and says so.
    with pytest.raises(dsdesk.AlreadyExistsError, match="cannot restore 'cars'"):
        project.datasets.restore(ds.id)
    other.delete()
    project.datasets.purge(other.id)
    restored = project.datasets.restore(ds.id)
    assert restored.items_count == 4
    restored.delete()
    assert project.datasets.purge() == 1
    assert project.datasets.trash() == []
    # Purged binaries nobody references are gone from the internal store.
    blobs = [p for p in (project._cat.db.blob_root).rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert blobs == []


def test_readonly_dataset_refuses_every_mutation(project, photos, tmp_path):
    ds = project.datasets.create("cars")
    item = ds.items.upload(local_path=str(photos / "a.jpg"))
    ds.set_readonly(True)
    assert ds.readonly
    before = [i.filename for i in ds.items.list().all()]
    attempts = [
        lambda: ds.items.upload(local_path=str(photos / "b.png")),
        lambda: ds.items.make_dir("/x"),
        lambda: item.move("/y/"),
        lambda: ds.items.delete(item_id=item.id),
        lambda: (item.metadata["user"].update(k=1), item.update()),
        lambda: item.annotations.upload([{"type": "class", "label": "car"}]),
        lambda: (ds.metadata["user"].update(k=1), ds.update()),
        lambda: item.update_status("completed"),
    ]
    for attempt in attempts:
        with pytest.raises(dsdesk.ReadOnlyError, match="read-only"):
            attempt()
    assert [i.filename for i in ds.items.list().all()] == before
    ds.set_readonly(False)
    ds.items.make_dir("/x")
