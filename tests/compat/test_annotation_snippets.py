"""Dataloop's annotation snippets, run as published (``import dsdesk as dl``; the project,
dataset and item come from the fixtures that stand for the snippets' login lines).

Each test carries the snippet's source; lines before it only make the variables the
snippet expects (as the page defines them earlier), lines after it check the result.
Placeholder ids in a snippet (``item_id='first-id-number'``) are the fixture's real ones.
"""

from __future__ import annotations

import dsdesk as dl

DOCS = "https://github.com/dataloop-ai/dtlpy-documentation/blob/main/tutorials/"
IMAGE = DOCS + "annotations/image/chapter.md"
INTRO = DOCS + "data_management/items_and_annotations/introduction/chapter.md"
MORE = DOCS + "data_management/items_and_annotations/more_examples/chapter.md"


def test_single_item_classification(dataset):
    # IMAGE, "Single Item Classification"
    label = "car"
    # Get item from the platform
    item = dataset.items.get(filepath='/your-image-file-path.jpg')
    # Create a builder instance
    builder = item.annotations.builder()
    # Add classification label
    builder.add(annotation_definition=dl.Classification(label=label))
    # Save to platform
    item.annotations.upload(builder)

    (ann,) = item.annotations.list()
    assert (ann.type, ann.label) == ("class", "car")


def test_batch_classification(dataset):
    # IMAGE, "Batch Classification"
    # Create a filter for batch processing
    filters = dl.Filters()
    # Add filter - only files
    filters.add(field='type', values='file')
    # Get filtered items
    pages = dataset.items.list(filters=filters)
    # Process each item
    for page in pages:
        for item in page:
            builder = item.annotations.builder()
            builder.add(annotation_definition=dl.Classification(label='your-label'))
            item.annotations.upload(builder)

    ds = dataset.refresh()
    assert ds.annotations_count == ds.items_count == 5 and ds.annotated_count == 5
    assert all(a.label_not_in_recipe for a in dataset.annotations.list().all())


def test_point_with_attributes(dataset):
    # IMAGE, "Point Annotations"
    # Get your canvas ready
    item = dataset.items.get(filepath='/your-image-file-path.jpg')
    builder = item.annotations.builder()
    # Add a point with attributes
    builder.add(annotation_definition=dl.Point(x=100,
                                               y=100,
                                               label='my-label',
                                               attributes={'color': 'red'}))
    # Save your work
    item.annotations.upload(builder)

    (ann,) = item.annotations.list()
    assert (ann.x, ann.y, ann.attributes) == (100, 100, {'color': 'red'})


def test_bounding_box(item):
    builder = item.annotations.builder()
    # IMAGE, "Bounding Box"
    # Create a simple box
    builder.add(annotation_definition=dl.Box(top=10,
                                             left=10,
                                             bottom=100,
                                             right=100,
                                             label='my-label'))
    item.annotations.upload(builder)

    (box,) = item.annotations.list()
    assert box.coordinates == [{"x": 10, "y": 10, "z": 0}, {"x": 100, "y": 100, "z": 0}]


def test_ellipse(item):
    builder = item.annotations.builder()
    center_x, center_y, radius_x, radius_y, rotation_angle, label = 200, 150, 40, 20, 30, "car"
    # IMAGE, "Ellipse Annotations"
    builder.add(annotation_definition=dl.Ellipse(
        x=center_x,
        y=center_y,
        rx=radius_x,
        ry=radius_y,
        angle=rotation_angle,
        label=label
    ))
    item.annotations.upload(builder)

    (e,) = item.annotations.list()
    assert e.coordinates == {"angle": 30, "center": {"x": 200, "y": 150, "z": 0}, "rx": 40, "ry": 20}


def test_polygon_and_polyline(item):
    builder = item.annotations.builder()
    # IMAGE, "Polygons & Polylines"
    # Create a polygon
    builder.add(annotation_definition=dl.Polygon(
        geo=[[100, 50], [80, 120], [110, 130]],
        label='my-label'
    ))

    # Create a polyline
    builder.add(annotation_definition=dl.Polyline(
        geo=[[100, 50], [80, 120], [110, 130]],
        label='my-label'
    ))
    item.annotations.upload(builder)

    polygon, polyline = item.annotations.list()
    assert (polygon.type, polyline.type) == ("segment", "polyline")
    assert polygon.geo == [[100, 50], [80, 120], [110, 130]]


def test_polygon_to_mask(item):
    from PIL import Image

    builder = item.annotations.builder()
    img = Image.open(item.open())
    polygon_annotation = annotation = dl.Polygon(geo=[[10, 10], [60, 10], [60, 40]], label="car")
    # IMAGE, "Polygon to Mask"
    # Convert polygon to segmentation
    builder.add(dl.Segmentation.from_polygon(
        geo=polygon_annotation.geo,
        label=annotation.label,
        shape=img.size[::-1]  # (height, width)
    ))
    item.annotations.upload(builder)

    (mask,) = item.annotations.list()
    assert mask.type == "binary" and len(mask.geo) == 480 and len(mask.geo[0]) == 640
    assert mask.geo[20][50] == 1 and mask.geo[300][300] == 0


def test_copying_annotations_between_items(dataset):
    first = dataset.items.get(filepath="/dogs/black.jpg")
    first.annotations.upload([dl.Box(1, 2, 3, 4, label="dog"), dl.Classification(label="dog")])
    # IMAGE, "Copying Annotations Between Items"
    item = dataset.items.get(item_id=first.id)
    annotations = item.annotations.list()

    # Set the target item where we want to copy to
    item = dataset.items.get(item_id=dataset.items.get(filepath="/cats/c.jpg").id)
    item.annotations.upload(annotations=annotations)

    # Want to copy to multiple items? Use filters!
    filters = dl.Filters()
    filters.add(field='filename', values='/fighting/**')  # Get files from directory (recursive)
    filters.add(field='type', values='file')             # Only files
    pages = dataset.items.list(filters=filters)

    # Copy annotations to all filtered items
    for page in pages:
        for item in page:
            item.annotations.upload(annotations=annotations)

    for path in ("/cats/c.jpg", "/fighting/a.jpg", "/fighting/b.jpg"):
        assert [a.type for a in dataset.items.get(filepath=path).annotations.list()] == ["box", "class"]
    assert dataset.refresh().annotations_count == 8


def test_counting_annotations(dataset, item):
    item.annotations.upload([dl.Box(1, 2, 3, 4, label="car")] * 3)
    # IMAGE, "Counting Annotations"
    # Create annotation filters
    filters = dl.Filters(resource=dl.FiltersResource.ANNOTATION)
    filters.page_size = 0

    # Get the total count
    annotations_count = dataset.annotations.list(filters=filters).items_count

    assert annotations_count == 3


def test_parent_child_while_uploading(item):
    # IMAGE, "Creating Parent-Child While Uploading"
    # Create parent box
    builder = item.annotations.builder()
    builder.add(annotation_definition=dl.Box(
        top=10, left=10, bottom=100, right=100,
        label='my-parent-label'
    ))
    # Upload parent and get its ID
    annotations = item.annotations.upload(annotations=builder)

    # Create child box linked to parent
    builder = item.annotations.builder()
    builder.add(
        annotation_definition=dl.Box(
            top=10, left=10, bottom=100, right=100,
            label='my-child-label'
        ),
        parent_id=annotations[0].id
    )
    # Upload the complete family
    item.annotations.upload(annotations=builder)

    parent, child = item.annotations.list()
    assert child.parent_id == parent.id and parent.parent_id is None


def test_linking_existing_annotations(item):
    # IMAGE, "Linking Existing Annotations"
    # Create and upload parent
    builder = item.annotations.builder()
    builder.add(annotation_definition=dl.Box(
        top=10, left=10, bottom=100, right=100,
        label='my-parent-label'
    ))
    parent_annotation = item.annotations.upload(annotations=builder)[0]

    # Create and upload child
    builder = item.annotations.builder()
    builder.add(annotation_definition=dl.Box(
        top=10, left=10, bottom=100, right=100,
        label='my-child-label'
    ))
    child_annotation = item.annotations.upload(annotations=builder)[0]

    # Link child to parent
    child_annotation.parent_id = parent_annotation.id
    child_annotation.update(system_metadata=True)

    assert item.annotations.get(child_annotation.id).parent_id == parent_annotation.id


def test_bulk_label_updates(dataset, item):
    item.annotations.upload([dl.Box(1, 1, 5, 5, label="oldLabel"), dl.Point(3, 3, label="oldLabel"),
                             dl.Box(1, 1, 5, 5, label="car")])
    # IMAGE, "Bulk Label Updates"
    # Create a new label (optional)
    dataset.add_label(label_name='newLabel', color=(2, 43, 123))

    # Find all annotations with the old label
    filters = dl.Filters()
    filters.resource = dl.FiltersResource.ANNOTATION
    filters.add(field='label', values='oldLabel')
    pages = dataset.annotations.list(filters=filters)

    # Update each annotation's label
    for annotation in pages.all():
        annotation.label = 'newLabel'
        annotation.update()

    assert [a.label for a in item.annotations.list()] == ["newLabel", "newLabel", "car"]
    assert dataset.labels_flat_dict["newLabel"].rgb == (2, 43, 123)
    assert not any(a.label_not_in_recipe for a in item.annotations.list())


def test_adding_simple_annotations(item):
    # INTRO, "Adding Simple Annotations"
    # Create an annotation collection
    collection = item.annotations.builder()

    # Add a classification
    collection.add(
        annotation_definition=dl.Classification(label="Komodo Dragon"),
        metadata={"type": "reptile"}
    )

    # Upload the annotations
    item.annotations.upload(annotations=collection)

    (ann,) = item.annotations.list()
    assert ann.label == "Komodo Dragon" and ann.metadata["type"] == "reptile"


def test_annotation_metadata_update(item):
    item.annotations.upload([dl.Box(1, 1, 5, 5, label="car")])
    annotation_id = item.annotations.list()[0].id
    # INTRO, "Working with Metadata"
    # Get an existing annotation
    annotation = item.annotations.get(annotation_id=annotation_id)

    # Update metadata
    annotation.metadata["user"] = True
    annotation.update()

    assert item.annotations.get(annotation_id).metadata["user"] is True


def test_metadata_types(item):
    (annotation,) = item.annotations.upload([dl.Box(1, 1, 5, 5, label="car")])
    # INTRO, "Metadata Types" (numbers)
    annotation.metadata['user'] = {'confidence_score': 0.95}
    annotation.update()
    assert item.annotations.get(annotation.id).metadata["user"] == {"confidence_score": 0.95}


def test_free_text_attribute(item):
    (annotation,) = item.annotations.upload([dl.Box(1, 1, 5, 5, label="car")])
    # INTRO, "Free Text Attribute"
    annotation.attributes.update({"ID of the attribute": "value of the attribute"})
    annotation = annotation.update(True)

    assert item.annotations.get(annotation.id).attributes == {"ID of the attribute": "value of the attribute"}


def test_checkbox_attribute(item):
    (annotation,) = item.annotations.upload([dl.Box(1, 1, 5, 5, label="car")])
    # INTRO, "CheckBox Attribute (Multiple Choice)"
    annotation.attributes.update({"<attribute-id>": ["selection1", "selection2"]})
    annotation = annotation.update(system_metadata=True)

    assert annotation.attributes == {"<attribute-id>": ["selection1", "selection2"]}


def test_copy_all_annotations(dataset):
    dataset.items.get(filepath="/fighting/a.jpg").annotations.upload([dl.Point(1, 2, label="person")])
    source_id = dataset.items.get(filepath="/fighting/a.jpg").id
    target_id = dataset.items.get(filepath="/fighting/b.jpg").id
    # MORE, "Copy Annotations Between Items"
    # Get source and target items
    source_item = dataset.items.get(item_id=source_id)
    target_item = dataset.items.get(item_id=target_id)

    # Copy all annotations
    target_item.annotations.upload(source_item.annotations.list())

    assert [(a.type, a.label) for a in target_item.annotations.list()] == [("point", "person")]
