"""What a merge of some datasets would do, read before running it (Qt-free): which inputs
are clones of one master (their items unite), which are independent (their items add
up), and why the merge would be refused (different recipes or storages).  The checks are
the merge's own (:mod:`dsdesk.versioning.merge`), so the plan cannot promise what the
merge then refuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dsdesk.catalog.guards import live_dataset
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.errors import DsdeskError
from dsdesk.versioning.merge import check_drivers, check_recipes

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog


@dataclass
class MergePlan:
    """What a merge of some datasets would do."""

    names: dict[int, str]
    clone_groups: list[list[str]] = field(default_factory=list)  # clones of one master: items unite
    summed: list[str] = field(default_factory=list)  # independent datasets: items add up
    refusal: str | None = None  # why the merge is refused (different recipes or storages)


def plan_merge(cat: Catalog, dataset_ids: list[int]) -> MergePlan:
    """Group the datasets *dataset_ids* by their master and check recipes and storages
    (NotFoundError when one is gone; a refusal is reported in the plan, not raised)."""
    with cat.db.session() as s:
        rows = [live_dataset(s, int(i)) for i in dataset_ids]
        plan = MergePlan({r.id: r.name for r in rows})

        def root(d: DatasetRow) -> int:
            seen = set()
            while d.src_dataset_id is not None and d.kind != "master" and d.id not in seen:
                seen.add(d.id)
                nxt = s.get(DatasetRow, d.src_dataset_id)
                if nxt is None:
                    break
                d = nxt
            return d.id

        groups: dict[int, list[str]] = {}
        for r in rows:
            groups.setdefault(root(r), []).append(r.name)
        for members in groups.values():
            (plan.clone_groups.append(members) if len(members) > 1 else plan.summed.extend(members))
        if len(rows) >= 2:
            try:
                check_recipes(s, rows)
                check_drivers(s, rows)
            except DsdeskError as e:
                plan.refusal = str(e)
    return plan
