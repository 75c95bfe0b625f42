"""What every format reads into and writes from: plain records, no catalog rows.

A reader turns files into :class:`Entry` objects (one per image: its path as the file
names it, its size when the file says it, and its annotations as Dataloop annotation JSON
dicts); the import job matches entries to items and hands the annotations to the bulk
upload.  A writer gets :class:`ExportItem` objects (an item, its size and its annotations
as the catalog stores them) and writes files.  :class:`ImportReport` and
:class:`ExportReport` account for every entry: matched, written, unmatched or skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dsdesk.errors import InvalidInputError


class FormatError(InvalidInputError):
    """A file of an import is malformed, or one of its entries is: the message names the
    file and the entry (or line); nothing of the import is written."""

    def __init__(self, file: Any, entry: str, problem: str):
        self.file, self.entry, self.problem = str(file), entry, problem
        where = f"{self.file}: {entry}" if entry else self.file
        super().__init__(f"{where}: {problem}")


@dataclass
class Entry:
    """One image of an annotation file.

    *path* is the image's path as the file gives it (``a/b.jpg``; for YOLO the label file's
    path without extension); *folder* is the dataset folder the file's split maps to
    (``/train`` for ``instances_train.json``), tried first when matching.  *normalized*
    says the coordinates are fractions of the image size (YOLO), scaled once the item's
    size is known.  *source* names the file (and entry) for messages.
    """

    path: str
    annotations: list[dict]
    width: int | None = None
    height: int | None = None
    folder: str = "/"
    normalized: bool = False
    source: str = ""


@dataclass
class Parsed:
    """What a reader found: the entries, the labels the files declare (dotted names, in
    their order), the files read (for the formats of one file per image, the folders
    holding them: a hundred thousand paths would only bloat the report), and entries
    skipped with ``skip_bad`` (with why)."""

    entries: list[Entry]
    labels: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def skip(self, error: FormatError, skip_bad: bool) -> None:
        """List *error* as a skipped entry when *skip_bad*; raise it otherwise."""
        if not skip_bad:
            raise error
        self.skipped.append(str(error))


@dataclass
class ExportItem:
    """An item to export: its id, folder, name, size and annotations (Dataloop JSON dicts
    with ``type``, ``label``, ``coordinates``, ``attributes``, ``metadata``)."""

    id: int
    dir: str
    name: str
    width: int | None
    height: int | None
    annotations: list[dict]
    metadata: dict = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The item's path inside the dataset, without the leading slash (``a/b.jpg``)."""
        return (self.dir.rstrip("/") + "/" + self.name).lstrip("/")


@dataclass
class ImportReport:
    """The account of an import: every entry is matched or listed as unmatched or skipped."""

    format: str
    files: list[str] = field(default_factory=list)
    entries: int = 0
    items_matched: int = 0
    annotations_written: int = 0
    unmatched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    labels_added: list[str] = field(default_factory=list)
    images_uploaded: int = 0

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-safe dict (the job row keeps it)."""
        return asdict(self)


@dataclass
class ExportReport:
    """The account of an export: what was written where, and the annotations the format
    cannot carry (listed by item and type, never silently dropped)."""

    format: str
    path: str
    files: list[str] = field(default_factory=list)
    items: int = 0
    annotations: int = 0
    images_copied: int = 0
    not_carried: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON-safe dict (the job row keeps it)."""
        return asdict(self)
