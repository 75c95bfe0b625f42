"""Dataloop's filter snippets on annotations and on items by their annotations and task
statuses, run as published (``import dsdesk as dl``; see conftest for the fixtures)."""
# The snippets are kept as published, str.format included.
# ruff: noqa: UP032

from __future__ import annotations

import dsdesk as dl

DOCS = "https://github.com/dataloop-ai/dtlpy-documentation/blob/main/tutorials/data_management/sort_and_filter/"
ANNOTATION_LEVEL = DOCS + "annotation_level/chapter.md"
ITEM_LEVEL = DOCS + "item_level/chapter.md"


def _annotate(dataset):
    a = dataset.items.get(filepath="/your-image-file-path.jpg")
    b = dataset.items.get(filepath="/dogs/black.jpg")
    c = dataset.items.get(filepath="/fighting/a.jpg")
    a.annotations.upload([dl.Box(1, 1, 9, 9, label="car"), dl.Point(4, 4, label="person")])
    b.annotations.upload([{"type": "box", "label": "dog", "attributes": ["black"],
                           "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]},
                          {"type": "note", "label": "zebra", "coordinates": [{"x": 1, "y": 1}, {"x": 5, "y": 5}]}])
    c.annotations.upload([dl.Box(2, 2, 8, 8, label="car"), {"type": "note", "label": "apple",
                                                           "coordinates": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}])
    return a, b, c


def test_filter_note_annotations_sorted_by_label(dataset, capsys):
    _annotate(dataset)
    # ANNOTATION_LEVEL, "Filter Annotations"
    # Create filters instance with annotation resource
    filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION)
    # Filter example - only note annotations
    filters.add(field='type', values='note')
    # optional - return results sorted by descending label
    filters.sort_by(field='label', value=dl.FiltersOrderByDirection.DESCENDING)
    pages = dataset.annotations.list(filters=filters)
    # Count the annotations
    print('Number of filtered annotations in dataset: {}'.format(pages.items_count))
    # Iterate through the annotations - Go over all annotations and print the properties
    for page in pages:
        for annotation in page:
            annotation.print()

    out = capsys.readouterr().out
    assert "Number of filtered annotations in dataset: 2" in out
    assert out.index("'zebra'") < out.index("'apple'")


def test_filter_box_and_car(dataset):
    _annotate(dataset)
    # ANNOTATION_LEVEL, "And"
    filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION)
    # set annotation resource
    filters.add(field='type', values='box', method=dl.FiltersMethod.AND)
    filters.add(field='label', values='car',
                method=dl.FiltersMethod.AND)  # optional - return results sorted by ascending creation date
    filters.sort_by(field='createdAt')
    # Get filtered annotations list
    pages = dataset.annotations.list(filters=filters)
    # Count the annotations
    print('Number of filtered annotations in dataset: {}'.format(pages.items_count))

    assert pages.items_count == 2 and {a.label for a in pages.all()} == {"car"}


def test_delete_annotations_by_creation_date(dataset):
    _annotate(dataset)
    # ANNOTATION_LEVEL, "Delete Filtered Items"
    filters = dl.Filters()
    # set annotation resource
    filters.resource = dl.FiltersResource.ANNOTATION
    # Example - created on 30/8/2020 at 8:17 AM
    filters.add(field='createdAt', values="2020-08-30T08:17:08.000Z")
    dataset.annotations.delete(filters=filters)

    assert dataset.refresh().annotations_count == 6  # none was made then


def test_filter_annotations_by_label(dataset):
    _annotate(dataset)
    # ANNOTATION_LEVEL, "How to filter annotations by their label?"
    filters = dl.Filters()
    # set resource
    filters.resource = dl.FiltersResource.ANNOTATION
    filters.add(field='label', values='your_label_value')
    pages = dataset.annotations.list(filters=filters)
    # Count the annotations
    print('Number of filtered annotations in dataset: {}'.format(pages.items_count))
    assert pages.items_count == 0

    cars = dl.Filters(resource=dl.FiltersResource.ANNOTATION, field='label', values='car')
    assert dataset.annotations.list(filters=cars).items_count == 2


def test_filter_annotated_items_sorted_by_filename(dataset):
    _annotate(dataset)
    # ITEM_LEVEL, "Filter Items"
    # Create filters instance
    filters = dl.Filters()
    # Filter only annotated items
    filters.add(field='annotated', values=True)
    # optional - return results sorted by ascending file name
    filters.sort_by(field="filename")
    # Get filtered items list in a page object
    pages = dataset.items.list(filters=filters)
    # Count the items
    print('Number of items in dataset: {}'.format(pages.items_count))

    # dsdesk sorts "filename" in folder-tree order (a folder's own items before its
    # sub-folders'), where Dataloop compares the path strings.
    assert [i.filename for i in pages.all()] == ["/your-image-file-path.jpg", "/dogs/black.jpg", "/fighting/a.jpg"]


def test_approved_items_with_box_annotations(dataset):
    a, b, c = _annotate(dataset)
    a.update_status("approved")
    dataset.items.get(filepath="/cats/c.jpg").update_status("approved")
    # ITEM_LEVEL, "Filter Items by the Items' Annotations"
    filters = dl.Filters()
    # Filter all approved items
    filters.add(field='metadata.system.annotationStatus', values="approved")
    # AND filter items by their annotation - only items with 'box' annotations
    # Meaning you will get approved items with 'box' annotations
    filters.add_join(field='type', values='box')
    # optional - return results sorted by descending creation date
    filters.sort_by(field='createdAt', value=dl.FILTERS_ORDERBY_DIRECTION_DESCENDING)
    # Get filtered items list in a page object
    pages = dataset.items.list(filters=filters)
    # Count the items
    print('Number of items in dataset: {}'.format(pages.items_count))

    assert [i.id for i in pages.all()] == [a.id]


def test_filter_items_by_annotation_label(dataset):
    a, b, c = _annotate(dataset)
    # ITEM_LEVEL, "How to filter items by their annotations label?"
    filters = dl.Filters()
    filters.add_join(field='label', values='your_label_value')
    pages = dataset.items.list(filters=filters)
    # Count the items
    print('Number of filtered items in dataset: {}'.format(pages.items_count))
    assert pages.items_count == 0

    cars = dl.Filters()
    cars.add_join(field='label', values='car')
    assert sorted(i.id for i in dataset.items.list(filters=cars).all()) == sorted([a.id, c.id])


def test_filter_items_by_completed_and_approved_status(dataset):
    a, b, c = _annotate(dataset)
    a.update_status("completed")
    b.update_status("approved", task="review")
    c.update_status("discard")
    # ITEM_LEVEL, "How to filter items by completed and approved status?"
    filters = dl.Filters()
    filters.add(field='metadata.system.annotationStatus', values=["completed", "approved"])
    pages = dataset.items.list(filters=filters)
    # Count the items
    print('Number of items in dataset: {}'.format(pages.items_count))

    assert sorted(i.id for i in pages.all()) == sorted([a.id, b.id])


def test_filter_items_by_completed_status(dataset):
    a, b, _ = _annotate(dataset)
    a.update_status("completed", task="first")
    a.update_status("approved", task="second")
    b.update_status("approved")
    # ITEM_LEVEL, "How to filter items by completed status (with items who are approved as well)?"
    filters = dl.Filters()
    # set resource
    filters.add(field='metadata.system.annotationStatus', values="completed")
    pages = dataset.items.list(filters=filters)
    # Count the items
    print('Number of items in dataset: {}'.format(pages.items_count))

    assert [i.id for i in pages.all()] == [a.id]


def test_sort_items_by_annotation_fields(dataset):
    a, b, c = _annotate(dataset)
    # ITEM_LEVEL, "Sort with multiple fields: Sort Items by labels ascending and createdAt descending"
    filters = dl.Filters()
    # set annotation resource
    filters.resource = dl.FiltersResource.ANNOTATION
    # return results sorted by descending label
    filters.sort_by(field='label', value=dl.FILTERS_ORDERBY_DIRECTION_ASCENDING)
    filters.sort_by(field='createdAt', value=dl.FILTERS_ORDERBY_DIRECTION_DESCENDING)
    # Get filtered item list in a page object
    pages = dataset.items.list(filters=filters)
    # Count the items
    print('Number of filtered items in dataset: {}'.format(pages.items_count))

    assert pages.items_count == 3  # the items that have an annotation (of the default types)


def test_update_user_metadata_of_items_with_black_annotations(dataset):
    _annotate(dataset)
    # ITEM_LEVEL, "Update User Metadata of Filtered Items"
    filters = dl.Filters()
    # For example -  filter only items in a specific folder - like 'dogs'
    filters.add(field='dir', values='/dogs')
    # For example - filter items by their annotation - only items with 'black' attribute
    filters.add_join(field='attributes', values='black')
    # to add filed BlackDogs to all filtered items and give value True
    # this field will be added to user metadata
    # create update order
    update_values = {'BlackDogs': True}
    # update
    pages = dataset.items.update(filters=filters, update_values=update_values)

    assert dataset.items.get(filepath="/dogs/black.jpg").metadata["user"] == {"BlackDogs": True}
    assert dataset.items.get(filepath="/fighting/a.jpg").metadata["user"] == {}
    assert pages == 1
