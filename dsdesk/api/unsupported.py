"""dtlpy names dsdesk does not have, each with the reason and what to do instead.

A ported script that reaches one gets :class:`NotSupportedError` - a DsdeskError that is also
an ``AttributeError``, so ``hasattr`` and ``getattr(x, name, default)`` behave as for any
missing attribute - instead of a bare ``AttributeError`` that says nothing.  The table is
the "not supported" column of ``docs/DTLPY.md``.
"""

from __future__ import annotations

from dsdesk.errors import DsdeskError


class NotSupportedError(DsdeskError, AttributeError):
    """A dtlpy name that dsdesk does not support (the message says why and the alternative)."""


_NO_SERVER = "dsdesk has no server or account: open a catalog with dd.open_catalog(path) instead"
_NO_PLATFORM = "dsdesk curates datasets; it has no {what} (Dataloop's platform services)"
_FORMATS = ("conversion is dataset.export(local_path, format=...) and dataset.import_annotations(path, format=...) "
            "with format 'json' (Dataloop), 'coco', 'yolo', 'voc' or 'cvat'")
_LINKS = ("dsdesk stores the binaries it catalogs: download the file and upload it, or register a driver on "
          "the bucket and dataset.sync()")

#: Module-level names: ``dd.<name>``.
MODULE = {
    "login": _NO_SERVER, "login_token": _NO_SERVER, "login_secret": _NO_SERVER, "login_api_key": _NO_SERVER,
    "login_m2m": _NO_SERVER, "logout": _NO_SERVER, "setenv": _NO_SERVER, "add_environment": _NO_SERVER,
    "client_api": _NO_SERVER, "organizations": _NO_SERVER,
    **{n: _NO_PLATFORM.format(what="tasks, assignments or pipelines")
       for n in ("tasks", "assignments", "pipelines", "pipeline_executions")},
    **{n: _NO_PLATFORM.format(what="FaaS (packages, services, executions, triggers, apps)")
       for n in ("packages", "services", "executions", "triggers", "webhooks", "apps", "dpks", "computes")},
    **{n: _NO_PLATFORM.format(what="models or feature vectors")
       for n in ("models", "feature_sets", "features", "BaseModelAdapter")},
    "integrations": ("integrations hold secrets, which dsdesk never stores: give a driver a credentials reference "
                     "(project.drivers.create(..., credentials='env:NAME' / 'profile:NAME' / 'keyring:...'))"),
    "ontologies": "labels live in the dataset's recipe: dataset.recipe, dataset.add_label(...), dd.recipes",
    "Converter": _FORMATS,
    "AnnotationFormat": _FORMATS,
    "LinkItem": "link items are not supported; " + _LINKS,
    "ModalityTypeEnum": "modalities (linked views of an item) are not supported",
    **{n: ("video, audio, text and 3D annotation types are not supported (dsdesk curates images): use dd.Box, "
           "dd.Point, dd.Polygon, dd.Polyline, dd.Segmentation, dd.Classification or dd.Ellipse")
       for n in ("Subtitle", "Note", "Cube", "Cube3d", "Pose", "Text", "FreeText", "Gis", "RefImage", "Comparison")},
    "ExpirationOptions": "items never expire in dsdesk: delete them with dataset.items.delete(filters=...)",
    "IntegrationType": "integrations hold secrets, which dsdesk never stores: pass a credentials reference",
    "Integration": "integrations hold secrets, which dsdesk never stores: pass a credentials reference",
}

ENTITY_CLONE = ("cloning single items is not supported: dataset.clone(filters=dd.Filters(field='id', "
                "values=[...], operator='in'), target_directory=...) clones the ones a filter selects")

#: Entity attributes: ``(class name, attribute) -> message``.
ENTITY = {
    ("Datasets", "export"): "export through the repository is not supported: dataset.export(local_path, format=...) "
                            "writes a format (json, coco, yolo, voc, cvat); dataset.download(local_path, "
                            "annotation_options='json') writes the binaries and Dataloop-shaped annotation JSON",
    ("Dataset", "collections"): "collections are not supported: tag items in metadata['user'] "
                                "(items.update(filters, update_values={'collection': 'name'})) and filter on it",
    ("Dataset", "schema"): "the metadata schema is not exposed: every metadata['user'] key is searchable",
    ("Dataset", "split_ml_subsets"): "ML subsets are not supported: set metadata['user']['split'] with items.update",
    ("Dataset", "unlock"): "datasets are never locked by exports in dsdesk",
    ("Dataset", "open_in_web"): "dsdesk has no web view: open the dataset in the dsdesk window (dsdesk gui)",
    ("Item", "open_in_web"): "dsdesk has no web view: open the item in the dsdesk window (dsdesk gui)",
    ("Item", "modalities"): "modalities (linked views of an item) are not supported",
    ("Item", "clone"): ENTITY_CLONE,
    ("Item", "assign_collection"): "collections are not supported: tag items in metadata['user']",
    ("Item", "resolved_stream"): "items have no URL: item.open() or item.download(save_locally=False)",
    ("Item", "stream"): "items have no URL: item.open() or item.download(save_locally=False)",
    ("Dataset", "upload_annotations"): "dataset.import_annotations(path, format='json') reads Dataloop JSON (and "
                                       "coco, yolo, voc, cvat)",
    ("Items", "clone"): ENTITY_CLONE,
    ("Items", "update_status"): "set statuses per item: item.update_status(status, task=...)",
    ("Items", "open_in_web"): "dsdesk has no web view",
    ("Project", "integrations"): MODULE["integrations"],
    ("Project", "tasks"): MODULE["tasks"],
    ("Project", "open_in_web"): "dsdesk has no web view",
}


def module_name(name: str) -> NotSupportedError | None:
    """The error for ``dd.<name>`` when it is a known unsupported dtlpy name, else None."""
    why = MODULE.get(name)
    return NotSupportedError(f"dd.{name} is not supported: {why}") if why else None


def entity_name(cls_name: str, name: str) -> AttributeError:
    """The error for a missing entity attribute: NotSupportedError for a known dtlpy name."""
    why = ENTITY.get((cls_name, name))
    if why:
        return NotSupportedError(f"{cls_name.lower()}.{name} is not supported: {why}")
    return AttributeError(f"{cls_name!r} object has no attribute {name!r}")
