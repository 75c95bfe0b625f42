"""Exporting a dataset (or what a DQL filter selects) to a format, as a job body.

:func:`export_dataset` reads the items, their image sizes and annotations page by page in
item-id order (core selects, no ORM objects), hands them to the format's ``write``, and
with ``with_images`` copies (or links, for binaries already on this disk) each item's
binary beside the annotation files at the place the format expects.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
from sqlalchemy import Text, select, type_coerce

from dsdesk.catalog.gcpause import no_cyclic_gc
from dsdesk.catalog.models import Annotation, Blob, Driver, Item, Label
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.errors import NotFoundError
from dsdesk.formats.model import ExportItem, ExportReport

Progress = Callable[[int, int | None, str], None]


def _raw(col):
    """*col* read as the database's text, not through SQLAlchemy's per-row ``json.loads``:
    the export decodes it with orjson (a million annotations' JSON took 2 s the other way)."""
    return type_coerce(col, Text)


def _decoded(v):
    """A JSON column's value: text from SQLite (decoded here), already a value from PostgreSQL."""
    return orjson.loads(v) if isinstance(v, str) else v


_EMPTY = (None, "{}", "[]", "null")


def load_items(session, dataset_id: int, filters=None, with_metadata: bool = True) -> list[ExportItem]:
    """The items *filters* selects (all without), with their sizes, in id order, their
    annotation lists still empty (:func:`with_annotations` fills them as it goes)."""
    from dsdesk.query import item_ids_select

    ids = item_ids_select(dataset_id, filters)
    rows = session.connection().execute(
        select(Item.id, Item.dir, Item.name, Blob.width, Blob.height, _raw(Item.meta_user))
        .join(Blob, Blob.id == Item.blob_id).where(Item.id.in_(ids)).order_by(Item.id))
    return [ExportItem(item_id, d, name, w, h, [],
                       {"user": _decoded(user) or {}} if with_metadata and user not in _EMPTY else {})
            for item_id, d, name, w, h, user in rows]


def with_annotations(session, dataset_id: int, items: list[ExportItem], filters=None,
                     with_metadata: bool = True) -> Iterator[ExportItem]:
    """Yield *items* (as :func:`load_items` gives them) in order, each with its annotations
    filled in, and empty it again once the consumer asks for the next one: a writer never
    holds more than one item's annotations as read (a million boxes were 1 GB).

    Annotations are dicts of ``type``, ``label``, ``coordinates``, ``attributes`` (``{}``
    when empty) and, *with_metadata*, ``metadata`` (a format that writes none skips
    decoding a million of them).  Rows are read through the connection (Core, no ORM row
    objects), JSON decoded by orjson only where there is something to decode.
    """
    from dsdesk.query import item_ids_select

    ids = item_ids_select(dataset_id, filters)
    cols = [Annotation.item_id, Annotation.type, Annotation.label, _raw(Annotation.coordinates),
            _raw(Annotation.attributes)] + ([_raw(Annotation.meta)] if with_metadata else [])
    loads = orjson.loads
    # Through the items (their index, then each one's annotations by the item index): the
    # rows come in item order and only each item's few need sorting, where reading by the
    # dataset's annotation index sorted a million rows in a temporary B-tree (2x slower).
    result = session.connection().execute(
        select(*cols).select_from(Item).join(Annotation, Annotation.item_id == Item.id)
        .where(Item.dataset_id == dataset_id, Item.id.in_(ids)).order_by(Item.id, Annotation.id))
    rows = (row for part in result.partitions(20_000) for row in part)
    row = next(rows, None)
    for it in items:
        anns = it.annotations
        # Rows of an item the first read did not see (added meanwhile, under PostgreSQL's
        # read committed) are not this export's: step over them.
        while row is not None and row[0] < it.id:
            row = next(rows, None)
        while row is not None and row[0] == it.id:
            coords, attrs = row[3], row[4]
            a = {"type": row[1], "label": row[2], "coordinates": loads(coords) if type(coords) is str else coords,
                 "attributes": {} if attrs in _EMPTY else _decoded(attrs)}
            if with_metadata:
                a["metadata"] = _decoded(row[5]) or {"system": {}, "user": {}}
            anns.append(a)
            row = next(rows, None)
        yield it
        it.annotations = []


def dataset_labels(session, dataset_id: int) -> list[str]:
    """The labels the dataset's annotations carry (one indexed query)."""
    return [lab for lab in session.execute(select(Annotation.label).where(Annotation.dataset_id == dataset_id)
                                           .distinct()).scalars() if lab]


def recipe_labels(session, dataset_id: int) -> list[str]:
    """The dotted labels of the dataset's recipe, in the recipe's order."""
    recipe_id = session.execute(select(DatasetRow.recipe_id).where(DatasetRow.id == dataset_id)).scalar()
    if recipe_id is None:
        return []
    return list(session.execute(select(Label.tag).where(Label.recipe_id == recipe_id)
                                .order_by(Label.position, Label.id)).scalars())


def all_labels(recipe: list[str], used: list[str]) -> list[str]:
    """The recipe's labels, then the labels the annotations carry that the recipe lacks."""
    return list(dict.fromkeys([*recipe, *sorted(used)]))


def copy_images(db, dataset_id: int, targets: dict[int, Path], link: bool = False,
                check_cancelled: Callable[[], None] | None = None, progress: Progress | None = None) -> int:
    """Copy each item's binary to its target path (``{item id: path}``); with *link*, hard
    link binaries that are files on this machine (else copy).  Returns how many."""
    from dsdesk.storage.drivers import open_driver

    with db.session() as s:
        rows = s.execute(select(Item.id, Blob.storage_key, Blob.driver_id).join(Blob, Blob.id == Item.blob_id)
                         .where(Item.dataset_id == dataset_id)).all()
        wanted = [r for r in rows if r[0] in targets]
        drivers = {d: open_driver(db, s.get(Driver, d)) for d in {r[2] for r in wanted}}
    if missing := set(targets) - {r[0] for r in wanted}:
        raise NotFoundError(f"item {min(missing)} is not an item of dataset {dataset_id}")
    for n, (item_id, key, drv_id) in enumerate(wanted, start=1):
        if check_cancelled:
            check_cancelled()
        dst = targets[item_id]
        dst.parent.mkdir(parents=True, exist_ok=True)
        drv = drivers[drv_id]
        local = _local_file(drv, key)
        if link and local is not None:
            if dst.exists():
                dst.unlink()
            try:
                os.link(local, dst)
                continue
            except OSError:
                pass  # another file system: copy instead
        with drv.open(key) as src, open(dst, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        if progress and n % 100 == 0:
            progress(n, len(wanted), f"copied {n:,} images")
    return len(wanted)


def _local_file(driver, key: str) -> Path | None:
    """The file of *key* on this machine when the driver keeps binaries as local files."""
    store = getattr(driver, "store", None)
    path_of = getattr(store, "path_of", None)
    if path_of is None:
        return None
    p = Path(path_of(key))
    return p if p.is_file() else None


def _cancellable(items: Iterator[ExportItem], check_cancelled, progress: Progress | None,
                 total: int) -> Iterator[ExportItem]:
    """*items*, checking for a cancellation and reporting progress every thousand."""
    for n, it in enumerate(items, start=1):
        if n % 1000 == 0:
            if check_cancelled:
                check_cancelled()
            if progress:
                progress(n, total, f"wrote {n:,} of {total:,} items")
        yield it


def export_dataset(db, dataset_id: int, path: str | os.PathLike, fmt: str, filters=None, with_images: bool = False,
                   link: bool = False, split_by_folder: bool = False, progress: Progress | None = None,
                   check_cancelled: Callable[[], None] | None = None) -> ExportReport:
    """Write dataset *dataset_id* (the items *filters* selects) as format *fmt* under *path*;
    returns the :class:`ExportReport`.  *with_images* copies (*link*: hard-links where it
    can) the binaries where the format expects them."""
    from dsdesk.formats import get

    with no_cyclic_gc():
        return _export(db, dataset_id, get(fmt), Path(path).expanduser(), filters, with_images, link,
                       split_by_folder, progress, check_cancelled)


def _export(db, dataset_id: int, module, out: Path, filters, with_images: bool, link: bool, split_by_folder: bool,
            progress: Progress | None, check_cancelled) -> ExportReport:
    report = ExportReport(module.NAME, str(out))
    with_metadata = getattr(module, "WITH_METADATA", False)
    with db.session() as s:
        items = load_items(s, dataset_id, filters, with_metadata)
        labels = all_labels(recipe_labels(s, dataset_id), dataset_labels(s, dataset_id))
        report.items = len(items)
        if check_cancelled:
            check_cancelled()
        if progress:
            progress(0, len(items), f"writing {len(items):,} items as {module.NAME}")
        module.write(out, _cancellable(with_annotations(s, dataset_id, items, filters, with_metadata),
                                       check_cancelled, progress, len(items)),
                     labels, report, split_by_folder=split_by_folder)
    if with_images:
        root = out.parent if out.suffix else out
        targets = {it.id: root / module.image_path(it, split_by_folder) for it in items}
        report.images_copied = copy_images(db, dataset_id, targets, link, check_cancelled, progress)
    if progress:
        progress(len(items), len(items), "exported")
    return report
