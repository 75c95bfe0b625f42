"""Import and export of annotations: one module per format, and the registry that names them.

A format module has ``NAME``, ``LABEL`` (what the dialog shows), ``read(path, skip_bad)``
-> :class:`~dsdesk.formats.model.Parsed`, ``write(out, items, labels, report,
split_by_folder)`` (*items* is an iterator, read once: each item's annotations are
there only until the next one is asked for) and
``image_path(item, split_by_folder)`` (where an exported binary goes).  The API's import and export jobs (:mod:`dsdesk.api.format_jobs`), the CLI and the
window find formats here, as drivers are found in ``storage.kinds.REGISTRY``.
"""

from __future__ import annotations

from types import ModuleType

from dsdesk.errors import InvalidInputError
from dsdesk.formats import coco, cvat, dataloop_json, voc, yolo

#: Format name -> module.
REGISTRY: dict[str, ModuleType] = {m.NAME: m for m in (dataloop_json, coco, yolo, voc, cvat)}
#: Other names users type for a format.
ALIASES = {"dataloop": "json", "ultralytics": "yolo", "pascal_voc": "voc", "pascal-voc": "voc"}


def get(name: str) -> ModuleType:
    """The module of format *name* (case-insensitive; aliases accepted); InvalidInputError
    naming the known formats otherwise."""
    key = str(name).lower()
    key = ALIASES.get(key, key)
    if key not in REGISTRY:
        raise InvalidInputError(f"unknown annotation format {name!r}; known: {', '.join(REGISTRY)}")
    return REGISTRY[key]
