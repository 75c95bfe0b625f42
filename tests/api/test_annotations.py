"""Annotations in Dataloop's JSON shape."""

from __future__ import annotations

import pytest

import dsdesk

BOX = {"type": "box", "label": "car", "coordinates": [{"x": 1, "y": 2}, {"x": 30, "y": 40}]}


def test_upload_list_get_update_delete(dataset, photos):
    item = dataset.items.upload(local_path=str(photos / "a.jpg"))
    anns = item.annotations.upload([BOX, {"type": "point", "label": "person", "coordinates": {"x": 5, "y": 6}},
                                    {"type": "segment", "label": "car",
                                     "coordinates": [[{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 5, "y": 5}]]},
                                    {"type": "class", "label": "car", "metadata": {"user": {"conf": 0.9}}}])
    assert [a.type for a in item.annotations.list()] == ["box", "point", "segment", "class"]
    j = anns[0].to_json()
    assert j["itemId"] == item.id and j["datasetId"] == dataset.id and j["label"] == "car"
    assert j["coordinates"] == BOX["coordinates"] and set(j["metadata"]) == {"system", "user"}
    assert dataset.items.get(item_id=item.id).annotated
    ds = dataset.refresh()
    assert (ds.annotated_count, ds.annotations_count) == (1, 4)

    got = item.annotations.get(anns[1].id)
    got.label = "car"
    item.annotations.update(got)
    assert item.annotations.get(anns[1].id).label == "car"

    assert item.annotations.delete(annotation_id=anns[0].id) == 1
    assert len(item.annotations.list()) == 3
    assert item.annotations.delete(annotation="all") == 3
    assert not dataset.items.get(item_id=item.id).annotated
    assert dataset.refresh().annotated_count == 0


@pytest.mark.parametrize("bad, msg", [
    ({"type": "blob", "label": "car"}, "unknown type"),
    ({"type": "box", "label": "car", "coordinates": [{"x": 1}]}, "box needs"),
    ({"type": "point", "label": "car", "coordinates": [1, 2]}, "point needs"),
    ({"type": "segment", "label": "car", "coordinates": [[{"x": 1, "y": 1}]]}, "segment needs"),
    ({"type": "box", "label": 5, "coordinates": BOX["coordinates"]}, "label must be"),
    ("not a dict", "must be a dict"),
])
def test_invalid_annotations_are_refused_and_nothing_is_written(dataset, photos, bad, msg):
    item = dataset.items.upload(local_path=str(photos / "a.jpg"))
    with pytest.raises(dsdesk.InvalidInputError, match=msg):
        item.annotations.upload([BOX, bad])
    assert item.annotations.list() == []


def test_deleting_an_item_deletes_its_annotations(dataset, photos):
    item = dataset.items.upload(local_path=str(photos / "a.jpg"))
    item.annotations.upload([BOX])
    item.delete()
    assert dataset.refresh().annotations_count == 0
