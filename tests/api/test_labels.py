"""Recipes and labels: dd.Label trees, colours, dataset.add_label & co, ontologies."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dsdesk as dd


def test_rgb_tuple_colours_in_datasets_create_and_recipes_create(project):
    # Failed with a raw SQLAlchemy ProgrammingError before (a tuple bound as a colour).
    ds = project.datasets.create("rgb", labels=[{"tag": "car", "color": (255, 0, 0)}, {"tag": "bus", "color": "#00F"}])
    assert [(lab.tag, lab.color, lab.rgb) for lab in ds.labels] == [("car", "#ff0000", (255, 0, 0)),
                                                                     ("bus", "#0000ff", (0, 0, 255))]
    recipe = project.recipes.create("r", labels=[{"tag": "dog", "color": (0, 128, 0)}])
    assert recipe.labels[0].color == "#008000"


def test_a_bad_colour_is_a_clear_error_and_creates_nothing(project):
    with pytest.raises(dd.InvalidInputError, match="colour of label 'car'"):
        project.datasets.create("bad", labels=[{"tag": "car", "color": (300, 0, 0)}])
    assert project.datasets.list() == []


def test_add_update_delete_labels_with_children(dataset):
    dataset.add_label(label_name="vehicle", color=(10, 20, 30), children=["car", dd.Label(tag="bus", color="#123456")])
    assert "vehicle" in dataset.labels
    vehicle = next(lab for lab in dataset.labels if lab.tag == "vehicle")
    assert [c.tag for c in vehicle.children] == ["car", "bus"] and vehicle.children[1].color == "#123456"
    assert {"vehicle", "vehicle.car", "vehicle.bus"} <= set(dataset.labels_flat_dict)

    dataset.add_labels(label_list=[{"tag": "tree", "color": (0, 255, 0)}, "sky"])
    dataset.update_label(label_name="tree", color="#ff00ff")
    assert dataset.labels_flat_dict["tree"].color == "#ff00ff"
    with pytest.raises(dd.NotFoundError, match="not in the recipe"):
        dataset.update_label(label_name="cloud", color="#ffffff")
    dataset.update_label(label_name="cloud", color="#ffffff", upsert=True)

    dataset.delete_labels(label_names=["vehicle"])
    assert not any(t.startswith("vehicle") for t in dataset.labels_flat_dict)
    assert dataset.label_names == ["car", "person", "tree", "sky", "cloud"]


def test_recipes_ontologies_and_instance_map(dataset):
    (recipe,) = dataset.recipes.list()
    (ontology,) = recipe.ontologies.list()
    ontology.add_labels(["zebra"])
    assert dataset.instance_map == {"car": 1, "person": 2, "zebra": 3}
    assert recipe.ontologies.get(ontology.id).labels_flat_dict.keys() == {"car", "person", "zebra"}


def test_label_colours_without_a_colour_are_stable_across_processes(project):
    ds = project.datasets.create("stable", labels=["car", "person", "tree"])
    here = [lab.color for lab in ds.labels]
    code = "from dsdesk.api.labels import label_color; print([label_color(t) for t in ('car', 'person', 'tree')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "12345"}).stdout
    assert out.strip() == str(here)


def test_label_edits_refuse_a_read_only_dataset(dataset):
    dataset.set_readonly(True)
    with pytest.raises(dd.ReadOnlyError):
        dataset.add_label("tree")
    assert "tree" not in dataset.labels


def test_switch_recipe_then_merge(project, photos):
    a = project.datasets.create("a", labels=["car"])
    b = project.datasets.create("b", labels=["person"])
    a.items.upload(local_path=str(photos / "a.jpg"))
    b.items.upload(local_path=str(photos / "b.png"))
    with pytest.raises(dd.DsdeskError, match="recipe"):
        project.datasets.merge("m", [a.id, b.id])
    b.switch_recipe(recipe_id=a.recipe_id)
    merged = project.datasets.merge("m", [a.id, b.id])
    assert merged.labels == ["car"] and merged.items_count == 2
