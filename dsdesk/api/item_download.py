"""``dataset.items.download(...)`` and ``item.download(save_locally=False)``, as the SDK has them.

Where a binary lands follows the SDK's downloader: *local_path* naming a file (it has the
item's extension) is that file, for a single item; otherwise it is a folder, and the item
goes to ``<folder>/items/<path in the dataset>`` (``to_items_folder=False``: without
``items/``; *without_relative_path*: only the file name).  Existing files are kept unless
*overwrite*.  Nothing is written outside *local_path*.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsdesk.api.optional import optional_module
from dsdesk.errors import InvalidInputError

if TYPE_CHECKING:
    from dsdesk.api.items import Item, Items


#: The SDK's download keywords that only shape masks, locks and reports: accepted, no effect.
SDK_DOWNLOAD_EXTRAS = frozenset({
    "annotation_filters", "thickness", "with_text", "avoid_unnecessary_annotation_download",
    "include_annotations_in_output", "export_png_files", "filter_output_annotations", "alpha", "export_version",
    "dataset_lock", "lock_timeout_sec", "export_summary", "raise_on_error"})


def check_extras(kwargs: dict, accepted: frozenset, call: str) -> None:
    """Refuse keywords *call* does not know (InvalidInputError naming them, not a TypeError)."""
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise InvalidInputError(f"{call}() got unknown keyword(s) {', '.join(unknown)}")


def item_buffer(item: Item) -> io.BytesIO:
    """The item's bytes as a ``BytesIO`` named like the item (``.name``), at position 0."""
    with item.open() as f:
        buf = io.BytesIO(f.read())
    buf.name = item.name
    return buf


def item_array(item: Item):
    """The item's image as a NumPy array (H x W [x channels])."""
    numpy = optional_module("numpy", "download(to_array=True)")
    if not (item.mimetype or "").startswith("image/"):
        raise InvalidInputError(f"to_array=True is for images; {item.filename} is {item.mimetype or 'not an image'}")
    from PIL import Image

    with Image.open(item_buffer(item)) as im:
        return numpy.array(im)


def annotation_options_json(options) -> bool:
    """True when annotation JSON is wanted; refuses the SDK's options dsdesk does not write."""
    if options is None:
        return False
    values = options if isinstance(options, (list, tuple, set)) else [options]
    names = {str(getattr(v, "value", v)) for v in values}
    other = sorted(names - {"json"})
    if other:
        raise InvalidInputError(f"annotation_options {', '.join(other)} not supported: downloads write the "
                                "annotations as JSON ('json'); export masks with dsdesk.formats")
    return bool(names)


def _wanted(item: Item, file_types) -> bool:
    if not file_types:
        return True
    types = [file_types] if isinstance(file_types, str) else list(file_types)
    ext = os.path.splitext(item.name)[1].lower()
    return ext in {(t if t.startswith(".") else "." + t).lower() for t in types}


def _resolve(repo: Items, filters, items) -> list[Item]:
    from dsdesk.api.items import Item

    if isinstance(items, list) and not items:
        items = None
    if items is None:
        return list(repo.list(filters=filters).all())
    if filters is not None:
        raise InvalidInputError("download either items or filters, not both")
    out = []
    for it in items if isinstance(items, (list, tuple)) else [items]:
        if isinstance(it, Item):
            out.append(it)
        elif isinstance(it, (int, str)) and not isinstance(it, bool):
            out.append(repo.get(item_id=it))
        else:
            raise InvalidInputError(f"items to download are Item entities or ids, not {type(it).__name__}")
    return out


def _save(item: Item, target: Path, overwrite: bool) -> str:
    if target.exists() and not overwrite:
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    with item.open() as src, open(tmp, "wb") as out:
        while chunk := src.read(1 << 20):
            out.write(chunk)
    os.replace(tmp, target)
    return str(target)


def default_folder(dataset_id: int) -> Path:
    """Where a download with no *local_path* goes: ``<user data dir>/downloads/<dataset id>``."""
    from dsdesk.catalog.engine import user_data_dir

    return user_data_dir() / "downloads" / str(dataset_id)


def download_items(repo: Items, filters=None, items=None, local_path=None, file_types=None,
                   save_locally: bool = True, to_array: bool = False, overwrite: bool = False,
                   to_items_folder: bool = True, without_relative_path=None, annotation_options=None) -> Any:
    """See :meth:`dsdesk.api.items.Items.download`."""
    from dsdesk.transfer.download import annotations_json, local_target

    want_json = annotation_options_json(annotation_options)
    chosen = [it for it in _resolve(repo, filters, items) if _wanted(it, file_types)]
    if not save_locally:
        got = [item_array(it) if to_array else item_buffer(it) for it in chosen]
        return got[0] if len(got) == 1 else got
    if to_array:
        raise InvalidInputError("to_array=True needs save_locally=False (arrays are returned, not saved)")
    root = Path(os.fspath(local_path)).expanduser() if local_path is not None else default_folder(repo._ds.id)
    single_file = (len(chosen) == 1 and not root.is_dir()
                   and root.suffix.lower() == os.path.splitext(chosen[0].name)[1].lower() != "")
    results = []
    if single_file:
        results.append(_save(chosen[0], root, overwrite))
        root = root.parent
    else:
        folder = root / "items" if to_items_folder else root
        for it in chosen:
            rel_dir = "/" if without_relative_path else it.dir
            results.append(_save(it, local_target(folder, rel_dir, it.name), overwrite))
    if want_json and chosen:
        with repo._cat.db.session() as s:
            anns = annotations_json(s, [it.id for it in chosen])
        for it in chosen:
            jt = local_target(root / "json", it.dir, it.name + ".json")
            jt.parent.mkdir(parents=True, exist_ok=True)
            jt.write_text(json.dumps({"id": it.id, "filename": it.filename, "annotations": anns.get(it.id, [])},
                                     indent=1))
    return results[0] if len(results) == 1 else results
