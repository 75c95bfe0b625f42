"""The library panel's read model (Qt-free): every project with its live datasets, and a
dataset's folder tree.  Meant for worker threads; each call opens short sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from dsdesk.catalog.models import Driver as DriverRow

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.directory_tree import DirectoryTree


@dataclass
class DatasetRow:
    """What the library shows about one dataset."""

    id: int
    project_id: int
    name: str
    kind: str
    readonly: bool
    driver_kind: str
    driver_name: str
    items_count: int
    description: str = ""


@dataclass
class ProjectRow:
    """One project and its datasets."""

    id: int
    name: str
    datasets: list[DatasetRow] = field(default_factory=list)


def read_library(cat: Catalog) -> list[ProjectRow]:
    """Every project with its live datasets, each with the kind and name of its storage."""
    with cat.db.session() as s:
        drivers = {i: (kind, name) for i, kind, name in s.execute(select(DriverRow.id, DriverRow.kind,
                                                                         DriverRow.name))}
    out = []
    for p in cat.projects.list():
        row = ProjectRow(p.id, p.name)
        for d in p.datasets.list():
            kind, name = drivers.get(d.driver_id, ("internal", "internal"))
            row.datasets.append(DatasetRow(d.id, p.id, d.name, d.kind, d.readonly, kind, name, d.items_count,
                                           d.description))
        out.append(row)
    return out


def read_folders(cat: Catalog, dataset_id: int) -> DirectoryTree:
    """The dataset's folder tree with item counts, empty folders included (NotFoundError
    when the dataset is gone)."""
    return cat.dataset_by_id(dataset_id).directory_tree
