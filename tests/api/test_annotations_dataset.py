"""Dataset-level annotations: the bulk upload, annotation filters and paging, filtered
deletes, and task statuses found by DQL; on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

import dsdesk as dd
from tests.versioning.test_postgres import pg_url  # noqa: F401  (the module's PostgreSQL server)


@pytest.fixture
def cat(catalog_on_both):
    return catalog_on_both


@pytest.fixture
def ds(cat, photos, request):
    project = cat.projects.create(f"p-{request.node.name}"[:60])
    d = project.datasets.create("cars", labels=["car", "person"])
    d.items.upload(local_path=str(photos))
    return d


def _items(ds):
    return sorted(ds.items.list().all(), key=lambda i: i.filename)


def test_bulk_upload_over_many_items_in_one_call(ds):
    items = _items(ds)
    builders = []
    for k, item in enumerate(items):
        b = item.annotations.builder()
        for j in range(k + 1):
            b.add(annotation_definition=dd.Box(left=j, top=j, right=j + 10, bottom=j + 10, label="car"))
        builders.append(b)
    dicts = [{"type": "point", "label": "person", "coordinates": {"x": 1, "y": 2}, "itemId": items[0].id}]
    written = ds.annotations.upload(builders + [dicts[0]])
    assert len(written) == 1 + 2 + 3 + 4 + 1
    assert [a.item_id for a in written[:3]] == [items[0].id, items[1].id, items[1].id]
    ds = ds.refresh()
    assert (ds.annotations_count, ds.annotated_count) == (11, 4)
    assert all(i.annotated for i in ds.items.list().all())
    assert [a.type for a in items[0].annotations.list()] == ["box", "point"]


def test_an_annotation_for_an_item_of_another_dataset_writes_nothing(ds, photos):
    other = ds.project.datasets.create("other")
    stranger = other.items.upload(local_path=str(photos / "a.jpg"))
    mine = _items(ds)[0]
    batch = [{"type": "class", "label": "car", "itemId": mine.id},
             {"type": "class", "label": "car", "itemId": stranger.id}]
    with pytest.raises(dd.InvalidInputError, match="annotation 1: item .* is an item of dataset 'other'"):
        ds.annotations.upload(batch)
    with pytest.raises(dd.InvalidInputError, match="annotation 0: which item"):
        ds.annotations.upload([{"type": "class", "label": "car"}])
    assert ds.refresh().annotations_count == 0 and mine.annotations.list() == []


def test_annotation_filters_on_items_and_annotations_lists(ds):
    a, b, c, d = _items(ds)
    a.annotations.upload([dd.Box(0, 0, 5, 5, label="car"), dd.Point(1, 1, label="person")])
    b.annotations.upload([dd.Box(0, 0, 5, 5, label="person")])
    c.annotations.upload([{"type": "class", "label": "car", "creator": "joe@x.com"}])

    f = dd.Filters(resource=dd.FiltersResource.ANNOTATION)
    f.add(field="label", values="car")
    assert sorted(i.filename for i in ds.items.list(filters=f).all()) == [a.filename, c.filename]

    f.add(field="type", values="box")
    assert [i.filename for i in ds.items.list(filters=f).all()] == [a.filename]
    assert [(x.label, x.type) for x in ds.annotations.list(filters=f).all()] == [("car", "box")]

    by_creator = dd.Filters(resource="annotations", field="creator", values="joe@x.com")
    assert [x.item_id for x in ds.annotations.list(filters=by_creator).all()] == [c.id]
    assert [x.label for x in a.annotations.list(filters=dd.Filters(resource="annotations", field="label",
                                                                   values="person"))] == ["person"]

    joined = dd.Filters()
    joined.add_join(field="label", values="person")
    assert sorted(i.filename for i in ds.items.list(filters=joined).all()) == [a.filename, b.filename]


def test_annotations_list_pages(ds):
    item = _items(ds)[0]
    item.annotations.upload([dd.Box(k, 0, k + 1, 1, label="car") for k in range(7)])
    pages = ds.annotations.list(page_size=3)
    assert (pages.items_count, pages.total_pages_count) == (7, 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [a.left for a in pages.all()] == list(range(7))
    assert [a.left for a in ds.annotations.list(page_size=3, page_offset=2).all()] == [6]
    assert ds.annotations.get(pages.all().__next__().id).label == "car"


def test_delete_by_filter_keeps_the_flags_and_counts_true(ds):
    a, b, *_ = _items(ds)
    a.annotations.upload([dd.Box(0, 0, 5, 5, label="car"), dd.Box(0, 0, 5, 5, label="person")])
    b.annotations.upload([dd.Box(0, 0, 5, 5, label="car")])
    f = dd.Filters(resource=dd.FiltersResource.ANNOTATION, field="label", values="car")
    assert ds.annotations.delete(filters=f) == 2
    ds = ds.refresh()
    assert (ds.annotations_count, ds.annotated_count) == (1, 1)
    assert [x.label for x in a.annotations.list()] == ["person"]
    assert not ds.items.get(item_id=b.id).annotated


def test_annotation_status_is_filtered_by_its_metadata_name(ds):
    item = _items(ds)[0]
    (ann,) = item.annotations.upload([dd.Box(0, 0, 5, 5, label="car")])
    item.annotations.update_status(annotation=ann, status=dd.AnnotationStatus.APPROVED)
    f = dd.Filters(resource="annotations", field="metadata.system.status", values="approved")
    assert [x.id for x in ds.annotations.list(filters=f).all()] == [ann.id]


def test_task_status_is_found_by_dql_and_the_search_bar(ds):
    # Matched nothing before: DQL read metadata.system.annotationStatus from the item's JSON.
    a, b, *_ = _items(ds)
    a.update_status("completed", task_id="t1")
    b.update_status("approved", task="t2")
    f = dd.Filters(field="metadata.system.annotationStatus", values="completed")
    assert [i.id for i in ds.items.list(filters=f).all()] == [a.id]
    assert {i.id for i in ds.items.list(filters="status:completed,approved").all()} == {a.id, b.id}
    none = dd.Filters(field="metadata.system.annotationStatus", values=False, operator=dd.FiltersOperations.EXISTS)
    assert ds.items.list(filters=none).items_count == 2

    clone = ds.clone("with-status", with_task_annotations_status=True)
    assert [i.filename for i in clone.items.list(filters=f).all()] == [a.filename]
    bare = ds.clone("without-status", with_task_annotations_status=False)
    assert bare.items.list(filters=f).items_count == 0
    merged = ds.project.datasets.merge("merged", [clone.id, bare.id], with_task_annotations_status=True)
    assert [i.filename for i in merged.items.list(filters=f).all()] == [a.filename]


def test_a_bad_annotation_after_written_chunks_rolls_the_whole_upload_back(ds, monkeypatch):
    import dsdesk.api.annotation_upload as upload_module

    monkeypatch.setattr(upload_module, "CHUNK", 2)  # the rows before the bad one are written first
    item = _items(ds)[0]
    batch = [dd.Box(0, 0, k + 1, k + 1, label="car") for k in range(5)] + [dd.Polygon(geo=[[0, 0], [1, 1]])]
    with pytest.raises(dd.InvalidInputError, match="annotation 5: a segment needs at least 3 points"):
        item.annotations.upload(batch)
    ds = ds.refresh()
    assert (ds.annotations_count, ds.annotated_count) == (0, 0) and item.annotations.list() == []
    assert len(item.annotations.upload(batch[:5])) == 5  # and the catalog takes the next upload


def test_annotation_pages_have_the_items_pages_surface(ds):
    _items(ds)[0].annotations.upload([dd.Box(k, 0, k + 1, 1, label="car") for k in range(5)])
    pages = ds.annotations.list(page_size=2)
    assert len(pages) == 5 and pages.has_next_page
    assert [a.left for a in pages.items] == [0, 1]
    pages.next_page()
    assert [a.left for a in pages.items] == [2, 3]
    assert [a.left for a in pages[2]] == [4] and not pages.has_next_page
    pages.prev_page()
    assert pages.page_offset == 1
    counted = ds.annotations.list(page_size=0)
    assert counted.items_count == 5 and counted.items == [] and counted.total_pages_count == 0


def test_a_consumed_upload_lets_the_input_go_and_returns_the_ids(cat, ds):
    """An importer gives its list up (upload(consume=True)): emptied, ids back, rows written;
    a bad annotation still writes nothing."""
    import gc
    import weakref

    from dsdesk.api.annotation_upload import upload

    items = _items(ds)

    class Box(dict):  # a dict a weak reference can follow, to see it let go
        pass

    anns = [Box(type="box", label="car", itemId=it.id, coordinates=[{"x": 1, "y": 2}, {"x": 30, "y": 40}])
            for it in items for _ in range(3)]
    watch = weakref.ref(anns[0])
    ids = upload(cat, ds.id, anns, consume=True)
    gc.collect()
    assert anns == [] and watch() is None
    assert isinstance(ids, list) and len(ids) == 3 * len(items) and len(set(ids)) == len(ids)
    assert sum(len(it.annotations.list()) for it in items) == 3 * len(items)
    bad = [{"type": "box", "label": "car", "itemId": items[0].id, "coordinates": [{"x": 1, "y": 2}]}]
    with pytest.raises(dd.InvalidInputError, match="annotation 0"):
        upload(cat, ds.id, bad, consume=True)
    assert len(items[0].annotations.list()) == 3
