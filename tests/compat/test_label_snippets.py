"""Dataloop's recipe, ontology and label snippets, run as published (``import dsdesk as dl``;
see conftest for the fixtures)."""

from __future__ import annotations

import pytest

import dsdesk as dl

DOCS = "https://github.com/dataloop-ai/dtlpy-documentation/blob/main/tutorials/recipe_and_ontology/"
RECIPE = DOCS + "recipe/chapter.md"
ONTOLOGY = DOCS + "ontology/chapter.md"


def test_view_dataset_labels(dataset):
    # RECIPE, "View Dataset Labels"
    # as objects
    labels = dataset.labels
    assert [lab.tag for lab in labels] == ["car", "person", "dog"] and all(lab.color for lab in labels)
    # as instance map
    labels = dataset.instance_map
    assert labels == {"car": 1, "dog": 2, "person": 3}


def test_add_labels_by_dataset(dataset):
    # RECIPE, "Add Labels by Dataset"
    # Add multiple labels
    dataset.add_labels(label_list=['person', 'animal', 'object'])
    # Add single label with specific color and attributes
    dataset.add_label(label_name='person', color=(34, 6, 231))
    # Add single label with a thumbnail/icon
    dataset.add_label(label_name='person', icon_path='/home/project/images/icon.jpg')

    assert dataset.label_names == ["car", "person", "dog", "animal", "object"]


def test_add_labels_using_label_objects(dataset):
    # RECIPE, "Add Labels Using Label Object"
    # Create Labels list using Label object
    labels = [
        dl.Label(tag='Donkey', color=(255, 100, 0)),
        dl.Label(tag='Mammoth', color=(34, 56, 7)),
        dl.Label(tag='Bird', color=(100, 14, 150))
    ]
    # Add Labels to Dataset
    dataset.add_labels(label_list=labels)
    # or you can also create a recipe from the label list
    recipe = dataset.recipes.create(recipe_name='My-Recipe-name', labels=labels)

    assert dataset.labels_flat_dict["Mammoth"].color == "#223807"
    assert recipe.label_names == ["Donkey", "Mammoth", "Bird"]


def test_add_a_label_and_sub_labels(dataset):
    labels = [dl.Label(tag='Donkey', color=(255, 100, 0))]  # the page's previous snippet
    # RECIPE, "Add a Label and Sub-Labels"
    label = dl.Label(tag='Fish',
                     color=(34, 6, 231),
                     children=[dl.Label(tag='Shark',
                                        color=(34, 6, 231)),
                               dl.Label(tag='Salmon',
                                        color=(34, 6, 231))]
                     )
    dataset.add_labels(label_list=label)
    # or you can also create a recipe from the label list
    recipe = dataset.recipes.create(recipe_name='My-Recipe-name', labels=labels)

    fish = next(lab for lab in dataset.labels if lab.tag == "Fish")
    assert [c.tag for c in fish.children] == ["Shark", "Salmon"]
    assert {"Fish.Shark", "Fish.Salmon"} <= set(dataset.labels_flat_dict)
    assert recipe.label_names == ["Donkey"]


def test_hierarchy_labels(dataset):
    # RECIPE, "Add Hierarchy Labels with Nested"
    # Option A
    # add father label
    labels = dataset.add_label(label_name="animal", color=(123, 134, 64))
    # add child label
    labels = dataset.add_label(label_name="animal.Dog", color=(45, 34, 164))
    # add grandchild label
    labels = dataset.add_label(label_name="animal.Dog.poodle")
    # Option B: only if you dont have attributes
    # parent and grandparent (animal and dog) will be generated automatically
    labels = dataset.add_label(label_name="animal.Dog.poodle")
    # Option C: with the Big Dict
    nested_labels = [
        {'label_name': 'animal.Dog',
         'color': '#220605',
         'children': [{'label_name': 'poodle',
                       'color': '#298345'},
                      {'label_name': 'labrador',
                       'color': '#298651'}]},
        {'label_name': 'animal.cat',
         'color': '#287605',
         'children': [{'label_name': 'Persian',
                       'color': '#298345'},
                      {'label_name': 'Balinese',
                       'color': '#298651'}]}
    ]
    # Add Labels to the dataset:
    labels = dataset.add_labels(label_list=nested_labels)

    flat = dataset.labels_flat_dict
    assert {"animal", "animal.Dog", "animal.Dog.poodle", "animal.Dog.labrador", "animal.cat",
            "animal.cat.Persian", "animal.cat.Balinese"} <= set(flat)
    assert flat["animal"].rgb == (123, 134, 64)  # kept: a label already there is not overwritten
    animal = next(lab for lab in dataset.labels if lab.tag == "animal")
    assert [c.tag for c in animal.children] == ["Dog", "cat"]
    assert [lab.tag for lab in labels] == ["animal.Dog", "animal.cat"]


def test_only_a_grandchild_brings_its_parents(project):
    dataset = project.datasets.create("fresh")
    # RECIPE, "Add Hierarchy Labels with Nested", Option B on its own
    labels = dataset.add_label(label_name="animal.Dog.poodle")

    assert dataset.label_names == ["animal", "animal.Dog", "animal.Dog.poodle"]
    assert labels.tag == "animal.Dog.poodle"


def test_delete_labels_by_dataset(dataset):
    dataset.add_labels(["Cat", "Dog", "Cat.Persian"])
    # RECIPE, "Delete Labels by Dataset"
    dataset.delete_labels(label_names=['Cat', 'Dog'])

    assert dataset.label_names == ["car", "person", "dog"]


def test_update_label_features(dataset):
    with pytest.raises(dl.NotFoundError):
        dataset.update_label(label_name='Cat', color="#000080")  # "if not exist fails"
    dataset.add_label("Cat")
    # RECIPE, "Update Label Features"
    # update existing label , if not exist fails
    dataset.update_label(label_name='Cat', color="#000080")
    # update label, if not exist add it
    dataset.update_label(label_name='Cat', color="#fcba03", upsert=True)

    assert dataset.labels_flat_dict["Cat"].color == "#fcba03"


def test_recipe_from_list_and_ontology(dataset, capsys):
    # ONTOLOGY, "Preparing - Entities setup" (the list lookups)
    # Get recipe from list
    recipe = dataset.recipes.list()[0]
    # Get ontology from list or create it using the "Create Ontology" script
    ontology = recipe.ontologies.list()[0]
    # Print entities:
    recipe.print()
    ontology.print()

    out = capsys.readouterr().out
    assert "car" in out and "person" in out and recipe.id == dataset.recipe_id


def test_ontology_labels_with_children(dataset, capsys):
    ontology = dataset.recipes.list()[0].ontologies.list()[0]
    # ONTOLOGY, "Labels"
    ontology.add_labels(label_list=['Shark', 'Whale', 'Animal.Donkey'], update_ontology=True)
    child_label = ontology.labels[-1].children[0]
    print(child_label.tag, child_label.rgb)

    assert capsys.readouterr().out.startswith("Donkey (")
    # ONTOLOGY, "Getting all labels is (including children)"
    print(ontology.labels_flat_dict)
    assert "'Animal.Donkey'" in capsys.readouterr().out


def test_recipe_clone_keeps_the_labels(dataset):
    recipe_id = dataset.recipe_id
    # RECIPE, "Cloning Recipes" (the placeholder id is the dataset's recipe)
    recipe = dataset.recipes.get(recipe_id=recipe_id)
    recipe2 = recipe.clone(shallow=False)

    assert recipe2.id != recipe.id and recipe2.label_names == recipe.label_names
