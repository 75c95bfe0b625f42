"""Which item of a dataset an annotation file's entry is for.

An entry names its image by a path relative to somewhere (``file_name`` in COCO, a label
file's path in YOLO, ``filename`` in Dataloop JSON).  It matches, in this order: the path
below the entry's split folder (``/train/a.jpg`` for ``a.jpg`` of ``instances_train.json``),
the path from the dataset's root, and then the file name alone when exactly one item of
the dataset has it.  Paths without an extension (YOLO label files) match items by path
without extension the same way.  Whatever matches nothing is returned, to be reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from posixpath import basename

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsdesk.catalog.models import Blob, Item
from dsdesk.formats.model import Entry
from dsdesk.formats.paths import stem

_AMBIGUOUS = -1


@dataclass
class Match:
    """An entry and the item it is for, with the item's image size from the catalog."""

    entry: Entry
    item_id: int
    width: int | None
    height: int | None


@dataclass
class Matching:
    """The matches of an import and the entries that matched no item."""

    matched: list[Match] = field(default_factory=list)
    unmatched: list[Entry] = field(default_factory=list)


class ItemIndex:
    """The dataset's items by full path, by path without extension and by (unique) name."""

    def __init__(self, session: Session, dataset_id: int):
        self.size: dict[int, tuple[int | None, int | None]] = {}
        self.by_path: dict[str, int] = {}
        self.by_name: dict[str, int] = {}
        self._stems: tuple[dict[str, int], dict[str, int]] | None = None
        rows = session.execute(select(Item.id, Item.dir, Item.name, Blob.width, Blob.height)
                               .join(Blob, Blob.id == Item.blob_id).where(Item.dataset_id == dataset_id))
        by_name, size, by_path = self.by_name, self.size, self.by_path
        for item_id, dir_, name, w, h in rows:
            size[item_id] = (w, h)
            by_path[(dir_ if dir_ == "/" else dir_ + "/") + name] = item_id
            by_name[name] = item_id if name not in by_name else _AMBIGUOUS

    def stems(self) -> tuple[dict[str, int], dict[str, int]]:
        """The items by path and by name without extension (built when first needed:
        only YOLO label files and Dataloop JSON without ``filename`` name items so)."""
        if self._stems is None:
            by_stem: dict[str, int] = {}
            by_name_stem: dict[str, int] = {}
            for full, item_id in self.by_path.items():
                _add(by_stem, stem(full), item_id)
                _add(by_name_stem, stem(full.rpartition("/")[2]), item_id)
            self._stems = by_stem, by_name_stem
        return self._stems

    def find(self, entry: Entry) -> int | None:
        """The id of the item *entry* is for, or None."""
        rel = entry.path
        folder = entry.folder.rstrip("/")
        tries = [f"{folder}/{rel}"] if folder else []
        tries.append("/" + rel)
        for p in tries:
            if p in self.by_path:
                return self.by_path[p]
        by_name = self.by_name.get(basename(rel))
        if by_name is not None and by_name != _AMBIGUOUS:
            return by_name
        if "." not in basename(rel):  # a path without extension: YOLO label files, Dataloop JSON names
            by_stem, by_name_stem = self.stems()
            for p in tries:
                hit = by_stem.get(p)
                if hit is not None and hit != _AMBIGUOUS:
                    return hit
            hit = by_name_stem.get(basename(rel))
            if hit is not None and hit != _AMBIGUOUS:
                return hit
        return None


def _add(index: dict[str, int], key: str, item_id: int) -> None:
    index[key] = item_id if key not in index else _AMBIGUOUS


def match(session: Session, dataset_id: int, entries: list[Entry]) -> Matching:
    """Match *entries* to the items of dataset *dataset_id* (see the module's rules)."""
    index = ItemIndex(session, dataset_id)
    out = Matching()
    for e in entries:
        item_id = index.find(e)
        if item_id is None:
            out.unmatched.append(e)
        else:
            w, h = index.size[item_id]
            out.matched.append(Match(e, item_id, w, h))
    return out
