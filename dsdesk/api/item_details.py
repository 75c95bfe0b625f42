"""The inspector's read model (Qt-free): everything the window shows about one item, read
in one call on a worker thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import Driver as DriverRow
from dsdesk.catalog.models import Item as ItemRow
from dsdesk.storage.kinds import EXTERNAL_KINDS

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.items import Item


@dataclass
class ItemDetails:
    """One item with its dataset's name and read-only flag, where its binary is stored,
    its annotations and task statuses, its lineage (``dataset:path`` of its master and
    parent) and the colours of its recipe's labels."""

    item: Item
    dataset_name: str
    readonly: bool
    storage: str
    annotations: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    master: str | None = None
    parent: str | None = None
    label_colors: dict = field(default_factory=dict)


def _describe_item(cat: Catalog, item_id: int | None) -> str | None:
    """``dataset:path`` of an item, ``item N (deleted)`` for one that is gone."""
    if item_id is None:
        return None
    with cat.db.session() as s:
        it = s.get(ItemRow, item_id)
        if it is None:
            return f"item {item_id} (deleted)"
        ds = s.get(DatasetRow, it.dataset_id)
        path = (it.dir.rstrip("/") + "/" + it.name) if it.dir != "/" else "/" + it.name
        return f"{ds.name if ds else '?'}:{path}"


def _storage(cat: Catalog, item: Item) -> str:
    """Where the item's binary lives: ``name (kind)``, and the bucket and key when external."""
    with cat.db.session() as s:
        drv = s.get(DriverRow, item.driver_id)
        if drv is None:
            return "?"
        text = f"{drv.name} ({drv.kind})"
        if drv.kind in EXTERNAL_KINDS:
            text += f" {drv.bucket}/{item.storage_key}" if drv.bucket else f" {item.storage_key}"
        return text


def _label_colors(recipe) -> dict[str, str]:
    colors = {}
    for lab in getattr(recipe, "labels", []) or []:
        tag = getattr(lab, "tag", None) or (lab.get("tag") if isinstance(lab, dict) else None)
        color = getattr(lab, "color", None) or (lab.get("color") if isinstance(lab, dict) else None)
        if tag and color:
            colors[tag] = color
    return colors


def read_item_details(cat: Catalog, dataset_id: int, item_id: int) -> ItemDetails:
    """The inspector's facts about item *item_id* of dataset *dataset_id* (NotFoundError
    when either is gone)."""
    ds = cat.dataset_by_id(dataset_id)
    item = ds.items.get(item_id=item_id)
    recipe = ds.recipe
    return ItemDetails(item, ds.name, ds.readonly, _storage(cat, item), item.annotations.list(), item.statuses(),
                       _describe_item(cat, item.master_item_id), _describe_item(cat, item.parent_item_id),
                       _label_colors(recipe) if recipe is not None else {})


def read_item_binary(cat: Catalog, dataset_id: int, item_id: int) -> tuple[ItemDetails, bytes]:
    """The item's details and its binary's bytes, read from its storage (a viewer's
    load: NotFoundError when the item is gone, StorageError when its storage fails)."""
    details = read_item_details(cat, dataset_id, item_id)
    with details.item.open() as f:
        return details, f.read()
