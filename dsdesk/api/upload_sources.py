"""What ``dataset.items.upload(local_path=...)`` takes besides paths, as the SDK does.

* ``bytes`` and file-like buffers (``io.BytesIO``, an open file): named by *remote_name*,
  else by the buffer's ``.name``;
* a NumPy image array: *remote_name* is required and says the format (``.jpg``/``.jpeg``/``.png``);
* a pandas DataFrame: one row per item with the columns ``local_path`` (required),
  ``remote_path``, ``remote_name``, ``item_metadata``, ``item_description``, ``file_types``,
  ``local_annotations_path`` (a Dataloop annotations JSON file for that row's item);
* a list of any of these (and of paths), *remote_name* then a list of the same length.

Each buffer or array is written to a temporary file named as the item will be, and all the
files go through one upload job (``jobs.upload_entries``: probing, storage and the catalog
write are those of paths); the temporary files are removed afterwards.  What cannot be
uploaded - links (``dd.UrlLink``, ``http(s)://`` addresses) and ``external://`` keys - is
refused with an error that names the alternative, before anything is written.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from dsdesk.api.optional import is_instance_of
from dsdesk.errors import InvalidInputError

_LINK_ALTERNATIVE = ("dsdesk stores the binaries it catalogs: download the file and upload it, or register "
                     "a driver on the bucket (project.drivers.create) and create the dataset on it "
                     "(dataset.sync() then catalogs its objects)")


class UrlLink:
    """Dataloop's link item.  Not supported: dsdesk items are binaries it can read."""

    def __init__(self, *args, **kwargs):
        raise InvalidInputError(f"link items (dd.UrlLink) are not supported; {_LINK_ALTERNATIVE}")


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike))


def needs_staging(local_path) -> bool:
    """True when *local_path* holds something other than file and folder paths."""
    if is_dataframe(local_path):
        return True
    values = local_path if isinstance(local_path, (list, tuple)) else [local_path]
    return any(not _is_path(v) or _is_link(v) for v in values)


def _is_link(value) -> bool:
    return isinstance(value, str) and "://" in value and not value.startswith("file://")


def _refuse_links(value) -> None:
    if isinstance(value, str) and value.startswith("external://"):
        raise InvalidInputError(f"external:// keys are not registered one by one ({value!r}): register a driver on "
                                "the bucket and create the dataset on it, then dataset.sync() catalogs its objects")
    if _is_link(value):
        raise InvalidInputError(f"uploading from an address is not supported ({value!r}); {_LINK_ALTERNATIVE}")


def _missing(value) -> bool:
    # A DataFrame cell left empty reads as None or NaN.
    return value is None or (isinstance(value, float) and math.isnan(value))


def _write(folder: str, n: int, name: str, data: bytes) -> str:
    sub = os.path.join(folder, str(n))
    os.makedirs(sub)
    path = os.path.join(sub, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def _stage_one(folder: str, n: int, value, remote_name: str | None) -> tuple[str, str | None, str]:
    """``(path to upload, remote_name to use, sub-folder of remote_path)`` for one element.

    A buffer named by a relative path (``buffer.name = "sub/a.jpg"``, the SDK's way to copy
    a folder's items) lands in that sub-folder; an absolute name (an open local file's)
    gives only its file name."""
    if _is_path(value):
        _refuse_links(value)
        return os.fspath(value), remote_name, ""
    if is_instance_of(value, "numpy", "ndarray"):
        ext = os.path.splitext(remote_name or "")[1].lower()
        if ext not in (".jpg", ".jpeg", ".png"):
            raise InvalidInputError("uploading a NumPy array needs remote_name ending in .jpg, .jpeg or .png "
                                    f"(the format to write), not {remote_name!r}")
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(value).save(buf, format="PNG" if ext == ".png" else "JPEG")
        return _write(folder, n, os.path.basename(remote_name), buf.getvalue()), None, ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        name = remote_name
    elif hasattr(value, "read"):
        data = value.read()
        if isinstance(data, str):
            data = data.encode()
        name = remote_name or str(getattr(value, "name", "") or "")
    else:
        raise InvalidInputError(f"cannot upload a {type(value).__name__}: local_path takes file or folder paths, "
                                "bytes, a file-like buffer (io.BytesIO), a NumPy image array, a pandas "
                                "DataFrame, or a list of them")
    sub = "" if os.path.isabs(name or "/") else posixpath.dirname(name.replace(os.sep, "/"))
    if not os.path.basename(name or ""):
        raise InvalidInputError("uploading bytes or a buffer without a name needs remote_name (the item's file name)")
    return _write(folder, n, os.path.basename(name), data), None, sub


def _row_batches(df) -> list[dict[str, Any]]:
    if "local_path" not in df.columns:
        raise InvalidInputError("an upload DataFrame needs a local_path column (one row per item; optional "
                                "remote_path, remote_name, item_metadata, item_description, file_types)")
    known = {"local_path", "remote_path", "remote_name", "item_metadata", "item_description", "file_types",
             "local_annotations_path"}
    unknown = sorted(set(map(str, df.columns)) - known)
    if unknown:
        raise InvalidInputError(f"unknown upload DataFrame column(s) {', '.join(unknown)}; expected "
                                + ", ".join(sorted(known)))
    rows = []
    for row in df.to_dict("records"):
        row = {k: (None if _missing(v) else v) for k, v in row.items()}
        if row.get("local_path") is None:
            raise InvalidInputError("every row of an upload DataFrame needs a local_path")
        meta = row.get("item_metadata")
        if meta is not None and not isinstance(meta, dict):
            raise InvalidInputError(f"item_metadata in an upload DataFrame must be a dict, not {meta!r}")
        rows.append({"local_path": row["local_path"], "remote_path": row.get("remote_path") or "/",
                     "remote_name": row.get("remote_name"), "item_metadata": meta,
                     "item_description": row.get("item_description"), "file_types": row.get("file_types"),
                     "local_annotations_path": row.get("local_annotations_path")})
    return rows


@contextlib.contextmanager
def staged(local_path, remote_path: str, remote_name, item_metadata, item_description,
           file_types) -> Iterator[list[dict[str, Any]]]:
    """The uploads *local_path* stands for, one per element or row (``local_path`` a path,
    ``remote_path``, ``remote_name``, ``item_metadata``, ``item_description``, ``file_types``,
    ``local_annotations_path``), with buffers and arrays written to temporary files that
    live until the block ends."""
    if is_instance_of(local_path, "pandas", "DataFrame"):
        wanted = _row_batches(local_path)
    else:
        values = list(local_path) if isinstance(local_path, (list, tuple)) else [local_path]
        if isinstance(remote_name, (list, tuple)):
            if len(remote_name) != len(values):
                raise InvalidInputError(f"remote_name has {len(remote_name)} names for {len(values)} uploads")
            names = list(remote_name)
        elif remote_name is not None and len(values) > 1:
            raise InvalidInputError("one remote_name for several uploads: give a list of names, one each")
        else:
            names = [remote_name] * len(values)
        wanted = [{"local_path": v, "remote_path": remote_path, "remote_name": nm, "item_metadata": item_metadata,
                   "item_description": item_description, "file_types": file_types, "local_annotations_path": None}
                  for v, nm in zip(values, names, strict=True)]
    folder = tempfile.mkdtemp(prefix="dsdesk-upload-")
    try:
        for n, w in enumerate(wanted):
            w["local_path"], w["remote_name"], sub = _stage_one(folder, n, w["local_path"], w["remote_name"])
            if sub:
                w["remote_path"] = posixpath.join(w["remote_path"] or "/", sub)
        yield wanted
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def is_dataframe(value) -> bool:
    """True when *value* is a pandas DataFrame (without importing pandas)."""
    return is_instance_of(value, "pandas", "DataFrame")


def upload_annotations_file(item, path) -> None:
    """Add the annotations of a Dataloop JSON file (an item's JSON with ``annotations``, or
    their list) to *item*."""
    try:
        with open(os.fspath(path), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"cannot read the annotations file {path}: {e}") from e
    annotations = data.get("annotations", []) if isinstance(data, dict) else data
    if not isinstance(annotations, list):
        raise InvalidInputError(f"{path} has no list of annotations")
    if annotations:
        item.annotations.upload(annotations)
