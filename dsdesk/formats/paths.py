"""Paths inside annotation files: checked before anything is matched or written."""

from __future__ import annotations

from pathlib import Path

from dsdesk.formats.model import FormatError


def existing(path) -> Path:
    """*path* as a Path; FormatError when there is nothing there."""
    root = Path(path)
    if not root.exists():
        raise FormatError(root, "", "no such file or folder")
    return root


def load_json(f: Path):
    """The JSON document in file *f*; FormatError naming the file when it is not JSON."""
    import orjson

    try:
        return orjson.loads(f.read_bytes())
    except orjson.JSONDecodeError as e:
        raise FormatError(f, "", f"not valid JSON ({e})") from None


def found(root: Path, files, what: str):
    """*files* when some were found under *root*; FormatError saying none of *what* were."""
    if not files:
        raise FormatError(root, "", f"no {what} here")
    return files


def check_relative(name: str, file, where: str) -> str:
    """*name* (an image path an annotation file gives) as a clean relative POSIX path.

    Backslashes are folder separators (files written on Windows), a leading ``/`` or
    ``./`` is dropped; a ``..`` part is a FormatError naming the file and the entry, since
    it would reach outside the dataset (or the export folder).
    """
    p = name.replace("\\", "/").strip()
    parts = [s for s in p.split("/") if s not in ("", ".")]
    if not parts:
        raise FormatError(file, where, f"the file name {name!r} is empty")
    if ".." in parts:
        raise FormatError(file, where, f"the file name {name!r} reaches outside the dataset ('..')")
    return "/".join(parts)


def stem(path: str) -> str:
    """*path* without its last extension (``a/b.jpg`` -> ``a/b``; ``a/.hidden`` stays)."""
    head, slash, name = path.rpartition("/")
    base, dot, _ = name.rpartition(".")
    return head + slash + base if dot and base else path
