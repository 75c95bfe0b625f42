"""The dtlpy names a ported script spells, with the SDK's values (read in dtlpy 1.124's
``dtlpy/__init__.py`` and ``dtlpy/entities/{filters,annotation,dataset,driver,item}.py``), and
the default catalog behind ``dd.projects`` ... (issue 16)."""

from __future__ import annotations

import logging

import pytest

import dsdesk as dl


def test_enums_carry_the_sdks_values():
    assert [m.value for m in dl.ViewAnnotationOptions] == ["json", "mask", "instance", "img_mask", "vtt", "object_id"]
    assert dl.VIEW_ANNOTATION_OPTIONS_ANNOTATION_ON_IMAGE == "img_mask"
    assert (dl.ExportType.JSON, dl.ExportType.ZIP) == ("json", "zip")
    assert (dl.ExternalStorage.S3, dl.ExternalStorage.GCS, dl.ExternalStorage.AZUREBLOB) == ("s3", "gcs", "azureblob")
    assert dl.ITEM_STATUS_DISCARDED == dl.ItemStatus.DISCARDED == "discard"
    assert dl.LOGGING_LEVEL_DEBUG == "debug" and dl.ANNOTATION_TYPE_POLYGON == "segment"
    ops = {m.name: m.value for m in dl.FiltersOperations}
    assert ops == {"OR": "or", "AND": "and", "EQUAL": "eq", "NOT_EQUAL": "ne", "GREATER_THAN": "gt",
                   "GREATER_THAN_OR_EQUAL": "gte", "LESS_THAN": "lt", "LESS_THAN_OR_EQUAL": "lte", "IN": "in",
                   "NIN": "nin", "EXISTS": "exists", "MATCH": "match"}
    assert (dl.FILTERS_OPERATIONS_IN, dl.FILTERS_METHOD_OR, dl.FILTERS_RESOURCE_ANNOTATION) == ("in", "or",
                                                                                                "annotations")
    assert dl.FILTERS_KNOWN_FIELDS_CREATED_AT == dl.FiltersKnownFields.CREATED_AT == "createdAt"


def test_filters_operations_and_as_method_works():
    # dtlpy's own code passes FiltersOperations.AND as a method
    f = dl.Filters()
    f.add(field="dir", values="/a", method=dl.FiltersOperations.AND)
    assert {"dir": "/a"} in f.prepare()["filter"]["$and"]
    with pytest.raises(dl.DsdeskError, match="method"):
        f.add(field="dir", values="/a", operator=dl.FiltersOperations.OR)


def test_verbose_logging_level_sets_dsdesk_loggers():
    before = logging.getLogger("dsdesk").level
    try:
        dl.verbose.logging_level = dl.LOGGING_LEVEL_WARNING
        assert logging.getLogger("dsdesk").level == logging.WARNING and dl.verbose.logging_level == "warning"
        with pytest.raises(dl.DsdeskError, match="unknown logging level"):
            dl.verbose.logging_level = "loud"
    finally:
        logging.getLogger("dsdesk").setLevel(before)


def test_unknown_names_stay_attribute_errors():
    assert not hasattr(dl, "no_such_name")
    assert getattr(dl, "tasks", "fallback") == "fallback"  # NotSupportedError is an AttributeError too


def test_the_default_catalog_is_the_last_opened_until_closed(tmp_path):
    first = dl.open_catalog(tmp_path / "one.sqlite")
    first.projects.create("in-one")
    second = dl.open_catalog(tmp_path / "two.sqlite")
    assert [p.name for p in dl.projects.list()] == []
    dl.use_catalog(first)
    assert [p.name for p in dl.projects.list()] == ["in-one"]
    first.close()
    # closed: the default location opens (the tests' isolated data dir), never the closed one
    assert [p.name for p in dl.projects.list()] == []
    second.close()
    with pytest.raises(dl.DsdeskError, match="open_catalog"):
        dl.use_catalog("/a/path")


def test_items_and_drivers_outside_a_dataset_say_where_to_go(catalog):
    with pytest.raises(dl.DsdeskError, match="dataset.items.upload"):
        dl.items.upload(local_path="/x.jpg")
    with pytest.raises(dl.DsdeskError, match="needs item_id"):
        dl.items.get(filepath="/x.jpg")
    with pytest.raises(dl.DsdeskError, match="project.drivers.create"):
        dl.drivers.create(name="x")
    with pytest.raises(dl.exceptions.NotFound):
        dl.items.get(item_id=12345)


def test_sdk_ids_and_keywords_are_taken_or_refused_by_name(project, dataset, item):
    # dtlpy's ids are strings; its get/create take checkout/fetch (no effect here)
    assert dl.projects.get(project_id=str(project.id), checkout=True, fetch=None).id == project.id
    assert project.datasets.get(dataset_id=str(dataset.id), fetch=None).id == dataset.id
    assert dataset.items.get(item_id=str(item.id), fetch=None).id == item.id
    with pytest.raises(dl.DsdeskError, match="not an item id"):
        dataset.items.get(item_id="your-item-id")
    with pytest.raises(dl.DsdeskError, match="folders are not items"):
        dataset.items.get(filepath="/fighting", is_dir=True)
    with pytest.raises(dl.DsdeskError, match="items never expire"):
        project.datasets.create(dataset_name="x", expiration_options=object())
    assert project.datasets.create(dataset_name="y", checkout=True, index_driver="v2").name == "y"
