"""Shapes, the builder and Annotation objects: dtlpy's annotation API on dsdesk."""

from __future__ import annotations

import pytest

import dsdesk as dd


@pytest.fixture
def item(dataset, photos):
    return dataset.items.upload(local_path=str(photos / "a.jpg"))


def test_builder_add_and_upload_every_shape(item):
    builder = item.annotations.builder()
    builder.add(annotation_definition=dd.Box(left=10, top=20, right=50, bottom=60, label="car"), object_id=1)
    builder.add(annotation_definition=dd.Point(x=5, y=6, label="person"), metadata={"user": {"score": 0.5}})
    builder.add(annotation_definition=dd.Polygon(geo=[[0, 0], [10, 0], [10, 10]], label="car"))
    builder.add(annotation_definition=dd.Polyline(geo=[[0, 0], [10, 10]], label="person"))
    builder.add(annotation_definition=dd.Classification(label="car"))
    builder.add(annotation_definition=dd.Ellipse(x=20, y=20, rx=5, ry=3, angle=30, label="car"))
    builder.add(annotation_definition=dd.Segmentation(geo=[[0, 1], [1, 1]], label="person"))
    assert len(builder) == 7
    written = item.annotations.upload(builder)
    assert len(written) == 7 and all(a.id for a in written)

    got = item.annotations.list()
    assert [a.type for a in got] == ["box", "point", "segment", "polyline", "class", "ellipse", "binary"]
    box = got[0]
    assert (box.left, box.top, box.right, box.bottom) == (10, 20, 50, 60)
    assert box.object_id == "1" and isinstance(box.annotation_definition, dd.Box)
    assert got[1].metadata["user"] == {"score": 0.5}
    assert got[6].annotation_definition.geo == [[0, 1], [1, 1]]
    assert item.dataset.refresh().annotations_count == 7


def test_annotations_round_trip_through_json(item):
    item.annotations.upload([dd.Box(1, 2, 3, 4, label="car")])
    ann = item.annotations.list()[0]
    again = dd.Annotation.from_json(ann.to_json())
    assert again.to_json() == ann.to_json()
    assert (again.left, again.bottom, again.label, again.type) == (1, 4, "car", "box")


def test_update_and_delete_through_the_annotation(item):
    (ann,) = item.annotations.upload([dd.Box(1, 2, 30, 40, label="car")])
    ann.label = "person"
    ann.top = 5
    ann.update()
    stored = item.annotations.get(ann.id)
    assert stored.label == "person" and stored.top == 5
    assert stored.delete()
    assert item.annotations.list() == []
    assert not item.dataset.items.get(item_id=item.id).annotated


def test_another_items_annotations_upload_as_they_are(dataset, photos, item):
    item.annotations.upload([dd.Box(1, 2, 3, 4, label="car"), {"type": "class", "label": "person"}])
    other = dataset.items.upload(local_path=str(photos / "b.png"))
    copied = other.annotations.upload(item.annotations.list())
    assert [a.item_id for a in copied] == [other.id, other.id]
    assert [a.label for a in other.annotations.list()] == ["car", "person"]


def test_parent_id_and_object_id(item):
    builder = item.annotations.builder()
    parent = builder.add(annotation_definition=dd.Box(0, 0, 10, 10, label="car"), object_id="7")
    (p,) = item.annotations.upload(builder)
    child = item.annotations.builder()
    child.add(annotation_definition=dd.Point(1, 1, label="person"), parent_id=p.id)
    (c,) = item.annotations.upload(child)
    assert parent.object_id == "7" and item.annotations.get(c.id).parent_id == p.id


def test_a_label_not_in_the_recipe_is_kept_and_flagged(item):
    written = item.annotations.upload([dd.Box(0, 0, 5, 5, label="giraffe"), dd.Box(0, 0, 5, 5, label="car")])
    assert written.labels_not_in_recipe == ["giraffe"]
    giraffe, car = item.annotations.list()
    assert giraffe.label_not_in_recipe and not car.label_not_in_recipe
    assert giraffe.to_json()["metadata"]["system"]["labelNotInRecipe"] is True


@pytest.mark.parametrize("bad, msg", [
    (dd.Box(left=1, top=2, right=None, bottom=4, label="car"), "annotation 1: a box needs finite numbers"),
    ({"type": "box", "label": "car", "coordinates": [{"x": 1, "y": 2}]}, "annotation 1: a box needs two corner"),
    (dd.Polygon(geo=[[0, 0], [1, 1]], label="car"), "annotation 1: a segment needs at least 3 points"),
    (dd.Point(x=1, y=2, label=5), "annotation 1: the label must be a string"),
    (dd.Polyline(geo=[[0, 0]], label="car"), "annotation 1: a polyline needs at least 2 points"),
])
def test_bad_shapes_name_their_index_and_nothing_is_written(item, bad, msg):
    with pytest.raises(dd.InvalidInputError, match=msg):
        item.annotations.upload([dd.Box(0, 0, 1, 1, label="car"), bad])
    assert item.annotations.list() == []
    assert item.dataset.refresh().annotations_count == 0


def test_read_only_dataset_refuses_uploads(dataset, item):
    dataset.set_readonly(True)
    with pytest.raises(dd.ReadOnlyError, match="annotation 0: cannot annotate"):
        item.annotations.upload([dd.Box(0, 0, 1, 1, label="car")])
    dataset.set_readonly(False)
    assert item.annotations.list() == []


def test_any_real_number_is_accepted_and_stored_plain(item):
    from fractions import Fraction

    item.annotations.upload([dd.Box(Fraction(3, 2), 2, 3.0, 4, label="car")])
    ann = item.annotations.list()[0]
    assert (ann.left, ann.top, ann.right, ann.bottom) == (1.5, 2, 3.0, 4)


def test_attributes_that_are_not_json_name_their_annotation(item):
    with pytest.raises(dd.InvalidInputError, match="annotation 1: its attributes and metadata must be JSON"):
        item.annotations.upload([dd.Box(0, 0, 1, 1, label="car"), dd.Box(0, 0, 1, 1, label="car", attributes={1, 2})])
    assert item.annotations.list() == []
