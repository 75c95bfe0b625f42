"""Items: ``ds.items.upload/list/get/make_dir/move_items/delete`` and the Item entity."""

from __future__ import annotations

import copy
import datetime as dt
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from dsdesk.api.entities_print import EntityList, PrintableEntity
from dsdesk.api.ids import as_id
from dsdesk.api.metadata_areas import check_metadata_areas, user_area
from dsdesk.api.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, PagedItems  # noqa: F401  (re-exported)
from dsdesk.api.pages import item_columns as _item_columns
from dsdesk.catalog import paths, stats, tree
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.models import Blob, TaskStatus, utcnow
from dsdesk.catalog.models import Item as ItemRow
from dsdesk.errors import ConflictError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog
    from dsdesk.api.datasets import Dataset


def _rows_to_items(cat: Catalog, rows) -> list[Item]:
    return [Item._from_row(cat, *r) for r in rows]


def _ids_of(items) -> list[int]:
    out = []
    for it in items:
        out.append(int(getattr(it, "id", it)))
    return out


class Items:
    """A dataset's items."""

    def __init__(self, catalog: Catalog, dataset: Dataset):
        self._cat, self._ds = catalog, dataset

    def __getattr__(self, name: str):
        # Only for names that do not exist: the SDK's that dsdesk lacks say what to do instead.
        if name.startswith("_"):
            raise AttributeError(name)
        from dsdesk.api.unsupported import entity_name

        raise entity_name("Items", name)

    # ---- reading ------------------------------------------------------------------------
    def list(self, filters=None, page_offset: int | None = None, page_size: int | None = None) -> PagedItems:
        """Items matching *filters* (a ``dd.Filters``, a DQL dict, a search-bar string or None).

        *page_offset* / *page_size* default to the filters' own (``Filters.page`` /
        ``page_size``), else page 0 of 1000; ``page_size=0`` only counts (see
        :mod:`dsdesk.api.pages`).
        """
        with self._cat.db.session() as s:
            live_dataset(s, self._ds.id)
        return PagedItems(self._cat, self._ds.id, filters, page_size, page_offset)

    def get(self, filepath: str | None = None, item_id: int | None = None, fetch=None, is_dir: bool = False) -> Item:
        """One item by its path (``/train/a.jpg``) or its id (the SDK's *fetch* is accepted and
        not used; folders are not items here: ``is_dir=True`` is refused, see ``folder_exists``)."""
        if is_dir:
            raise InvalidInputError("folders are not items in dsdesk: items.folder_exists(path), "
                                    "dataset.directory_tree")
        with self._cat.db.session() as s:
            q = select(*_item_columns()).join(Blob, Blob.id == ItemRow.blob_id).where(ItemRow.dataset_id == self._ds.id)
            if item_id is not None:
                q = q.where(ItemRow.id == as_id(item_id, "an item"))
            elif filepath is not None:
                d, n = paths.split_filepath(filepath)
                q = q.where(ItemRow.dir == d, ItemRow.name == n)
            else:
                raise InvalidInputError("give filepath or item_id")
            row = s.execute(q).first()
            if row is None:
                raise NotFoundError(f"item {filepath or item_id!r} not found in dataset '{self._ds.name}'")
            return Item._from_row(self._cat, *row)

    def get_all_items(self, filters=None) -> EntityList:
        """Every matching item as one list (for small datasets)."""
        return EntityList(self.list(filters=filters).all())

    def download(self, filters=None, items=None, local_path=None, file_types=None, save_locally: bool = True,
                 to_array: bool = False, overwrite: bool = False, to_items_folder: bool = True,
                 without_relative_path=None, annotation_options=None, **sdk_extras):
        """Download items (by *filters*, or the given *items* / ids), as the SDK's ``items.download``.

        Each binary goes to ``<local_path>/items/<path in the dataset>`` (``to_items_folder=False``:
        no ``items/``; *without_relative_path*: just the file name), skipped when there unless
        *overwrite*; *file_types* keeps only those extensions (``[".jpg"]``).  Returns the file
        path for one item, else the list of paths; with ``save_locally=False`` a ``BytesIO``
        (or with *to_array* a NumPy array) per item instead.  *annotation_options*
        ``"json"`` (or ``dd.ViewAnnotationOptions.JSON``, alone or in a list) also writes
        ``<local_path>/json/<path>.json`` per item; the SDK's other options (masks,
        instance maps) are refused by name.  Other SDK keywords (``thickness``, ``alpha``,
        ``export_version`` ...) only shape masks and are accepted and ignored.
        """
        from dsdesk.api.item_download import SDK_DOWNLOAD_EXTRAS, check_extras, download_items

        check_extras(sdk_extras, SDK_DOWNLOAD_EXTRAS, "items.download")
        return download_items(self, filters=filters, items=items, local_path=local_path, file_types=file_types,
                              save_locally=save_locally, to_array=to_array, overwrite=overwrite,
                              to_items_folder=to_items_folder, without_relative_path=without_relative_path,
                              annotation_options=annotation_options)

    # ---- writing ------------------------------------------------------------------------
    def upload(self, local_path, remote_path: str = "/", remote_name: str | None = None,
               item_metadata: dict | None = None, overwrite: bool = False, file_types=None,
               item_description: str | None = None, raise_on_error: bool = True, on_event=None,
               local_annotations_path=None, return_as_list: bool = False, export_version=None):
        """Upload a file, a folder (its sub-tree kept), ``folder/*`` or a list of paths.

        *local_path* may also be bytes, a buffer, a NumPy array or a pandas DataFrame (see
        :mod:`dsdesk.api.upload_sources`); *local_annotations_path* is a Dataloop annotations
        JSON file for the uploaded file; *return_as_list* always returns a list;
        *export_version* (of the annotation files) is accepted and ignored.

        Returns one Item for a single file, otherwise a list.  Existing paths are skipped
        unless *overwrite*.  *item_metadata* is ``{"user": {...}}`` (or a plain dict, taken
        as the user area).  A missing *local_path* raises NotFoundError before anything is
        written; files that fail (unreadable) are reported together at the end, after the
        others were uploaded.
        """
        from dsdesk.api.upload_sources import is_dataframe, needs_staging, staged, upload_annotations_file
        from dsdesk.transfer.upload import is_single_file

        with self._cat.db.session() as s:
            writable_dataset(s, self._ds.id, "upload to")
        staging = needs_staging(local_path)
        single = not isinstance(local_path, (list, tuple)) and not is_dataframe(local_path)
        if local_annotations_path is not None and not (single if staging else is_single_file(local_path)):
            raise InvalidInputError("local_annotations_path goes with the upload of one file (for many, a "
                                    "DataFrame with a local_annotations_path per row)")
        if staging:
            # bytes, buffers, arrays, a DataFrame: staged as files, then uploaded in one job
            with staged(local_path, remote_path, remote_name, item_metadata, item_description, file_types) as rows:
                if local_annotations_path is not None:
                    rows[0]["local_annotations_path"] = local_annotations_path
                out = self._upload_rows(rows, overwrite, raise_on_error, on_event)
            return out[0] if single and out and not return_as_list else out
        got = self._upload_paths(local_path, remote_path, remote_name, item_metadata, overwrite, file_types,
                                 item_description, raise_on_error, on_event)
        if local_annotations_path is not None:
            upload_annotations_file(got, local_annotations_path)
        return EntityList([got]) if return_as_list and isinstance(got, Item) else got

    def _upload_rows(self, rows, overwrite, raise_on_error, on_event) -> EntityList:
        """Upload staged rows (see :func:`dsdesk.api.upload_sources.staged`) as one job, then
        each row's ``local_annotations_path`` onto its item.  Every row is checked first."""
        from dsdesk.api import jobs
        from dsdesk.api.upload_sources import upload_annotations_file

        entries = []
        for r in rows:
            if r["local_annotations_path"] is not None and not os.path.isfile(os.fspath(r["local_path"])):
                raise InvalidInputError(f"local_annotations_path goes with a file, not {r['local_path']}")
            entries.append({"local_path": r["local_path"], "remote_path": r["remote_path"] or "/",
                            "remote_name": r["remote_name"], "file_types": r["file_types"],
                            "user_metadata": user_area(r["item_metadata"]), "description": r["item_description"]})
        ids = self._cat.run(jobs.upload_entries(self._ds.id, entries, overwrite=overwrite,
                                                raise_on_error=raise_on_error), on_event=on_event)
        for r, e in zip(rows, entries, strict=True):
            if r["local_annotations_path"] is not None:
                name = e["remote_name"] or os.path.basename(os.fspath(e["local_path"]))
                upload_annotations_file(self.get(filepath=paths.join(paths.normalize_dir(e["remote_path"]), name)),
                                         r["local_annotations_path"])
        return EntityList(self._get_many(ids))

    def _upload_paths(self, local_path, remote_path, remote_name, item_metadata, overwrite, file_types,
                      item_description, raise_on_error, on_event):
        from dsdesk.api import jobs
        from dsdesk.transfer.upload import is_single_file

        user = user_area(item_metadata)
        # The job plans the upload before it writes: a missing path fails with nothing written.
        ids = self._cat.run(jobs.upload(self._ds.id, local_path, remote_path, remote_name, file_types,
                                        user_metadata=user, overwrite=overwrite, description=item_description,
                                        raise_on_error=raise_on_error), on_event=on_event)
        items = self._get_many(ids)
        if is_single_file(local_path) and items:
            return items[0]
        return EntityList(items)

    def _get_many(self, ids: list[int]) -> list[Item]:
        out: list[Item] = []
        with self._cat.db.session() as s:
            for i in range(0, len(ids), 5000):
                q = (select(*_item_columns()).join(Blob, Blob.id == ItemRow.blob_id)
                     .where(ItemRow.id.in_(ids[i:i + 5000])).order_by(ItemRow.dir, ItemRow.name))
                out.extend(_rows_to_items(self._cat, s.execute(q)))
        return out

    def bulk_import(self, records, mode: str = "skip", on_event=None) -> int:
        """Register many binaries that are already in the dataset's storage, in one transaction.

        *records* is an iterable of ``dsdesk.catalog.ingest.Record`` (or dicts with its
        fields: ``filepath`` or dir/name, storage_key, size, etag, mimetype, width, height,
        meta_user ...).  This is the bulk path imports, sync and benchmarks use; paths are
        validated like every other path.  Returns the number of items created.
        """
        from dsdesk.api import jobs

        return self._cat.run(jobs.bulk_import(self._ds.id, self._ds.driver_id, records, mode), on_event=on_event)

    def folder_exists(self, path: str) -> bool:
        """True when *path* is the root or a folder of this dataset (empty or not)."""
        with self._cat.db.session() as s:
            return tree.folder_exists(s, self._ds.id, paths.normalize_dir(path))

    def make_dir(self, directory: str) -> str:
        """Create a folder (and its parents); empty folders are kept.  Returns its path."""
        with self._cat.db.session(write=True) as s:
            path = tree.make_dir(s, self._ds.id, directory)
            stats.refresh(s, self._ds.id)
        return path

    def _selection(self, filters=None, items=None, item_ids=None) -> Select | list[int]:
        if items is not None or item_ids is not None:
            return _ids_of(items or []) + _ids_of(item_ids or [])
        if filters is None:
            raise InvalidInputError("give items, item_ids or filters")
        from dsdesk.query import item_ids_select

        return item_ids_select(self._ds.id, filters)

    def move_items(self, destination: str, filters=None, items=None, item_ids=None) -> int:
        """Move items (by list or by filter) into the folder *destination*; returns the count."""
        sel = self._selection(filters, items, item_ids)
        with self._cat.db.session(write=True) as s:
            n = tree.move_items(s, self._ds.id, sel, destination)
            stats.refresh(s, self._ds.id)
        return n

    def move_folder(self, folder: str, destination: str) -> str:
        """Move a folder with everything under it into *destination*; returns its new path."""
        with self._cat.db.session(write=True) as s:
            new = tree.move_folder(s, self._ds.id, folder, destination)
            stats.refresh(s, self._ds.id)
        return new

    def rename_folder(self, folder: str, new_name: str) -> str:
        """Rename a folder; returns its new path."""
        with self._cat.db.session(write=True) as s:
            return tree.rename_folder(s, self._ds.id, folder, new_name)

    def delete(self, filename: str | None = None, item_id: int | None = None, filters=None,
               items=None, folder: str | None = None) -> int:
        """Delete items by path, id, list, filter, or a whole folder with everything under it.

        Returns the number of items deleted.  Binaries no other item or snapshot points at
        are released (internal store; external only where the driver allows external delete).
        In a dataset synced from external storage, an item whose object stays in storage
        stays deleted: sync skips its key until the object changes or the user calls
        ``dataset.restore_deleted()`` (see :mod:`dsdesk.catalog.tombstones`).
        """
        from dsdesk.transfer.release import delete_items

        with self._cat.db.session() as s:
            writable_dataset(s, self._ds.id, "delete items from")
            if folder is not None:
                f = paths.normalize_dir(folder)
                if not tree.folder_exists(s, self._ds.id, f):
                    raise NotFoundError(f"no folder {f} in dataset '{self._ds.name}'")
                sel: Select | list[int] = tree.items_under(self._ds.id, f)
            elif filename is not None:
                found = tree.item_at(s, self._ds.id, filename)
                if found is None:
                    raise NotFoundError(f"item {filename!r} not found in dataset '{self._ds.name}'")
                sel = [found]
            elif item_id is not None:
                sel = [int(item_id)]
            else:
                sel = self._selection(filters, items)
        n = delete_items(self._cat.db, self._ds.id, sel, folder=folder)
        return n

    def update(self, item: Item | None = None, filters=None, update_values: dict | None = None,
               system_update_values: dict | None = None, system_metadata: bool = False):
        """Save one item, or set user-metadata keys on every item matching *filters* (set-based)."""
        if item is not None:
            if filters is not None or update_values is not None:
                raise InvalidInputError("give either item, or filters with update_values")
            return item.update(system_metadata=system_metadata)
        if filters is None or not isinstance(update_values, dict) or not update_values:
            raise InvalidInputError("give filters and a non-empty dict of update_values")
        from dsdesk.query import bulk_update_user_metadata

        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self._ds.id, "change metadata in")
            return bulk_update_user_metadata(s, self._ds.id, filters, update_values)


@dataclass
class Item(PrintableEntity):
    """A file in a dataset.  ``metadata = {"system": {...}, "user": {...}}``: change the user
    area and call :meth:`update`."""

    _cat: Catalog
    id: int
    dataset_id: int
    dir: str
    name: str
    metadata: dict[str, Any]
    annotated: bool
    hidden: bool
    description: str | None
    blob_id: int
    storage_key: str
    driver_id: int
    master_item_id: int | None
    parent_item_id: int | None
    missing: bool
    changed: bool
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    row_version: int
    _loaded: dict = field(default_factory=dict, repr=False)
    type: str = "file"

    @classmethod
    def _from_row(cls, cat: Catalog, r: ItemRow, size, mimetype, width, height, storage_key, driver_id,
                  missing_since, etag=None) -> Item:
        system = copy.deepcopy(r.meta_system or {})
        system.update({"size": size, "mimetype": mimetype, "width": width, "height": height})
        if etag:
            system["etag"] = etag
        user = copy.deepcopy(r.meta_user or {})
        return cls(cat, r.id, r.dataset_id, r.dir, r.name, {"system": system, "user": user}, bool(r.annotated),
                   bool(r.hidden), r.description, r.blob_id, storage_key, driver_id, r.master_item_id,
                   r.parent_item_id, missing_since is not None, r.changed_at is not None, r.created_at,
                   r.updated_at, r.row_version,
                   _document(user, r.description, paths.join(r.dir, r.name), r.meta_system or {}))

    @property
    def filename(self) -> str:
        """The item's full path in the dataset (``/train/a.jpg``)."""
        return paths.join(self.dir, self.name)

    @filename.setter
    def filename(self, value: str) -> None:
        # As the SDK: ``item.filename = "/new/path.jpg"; item.update()`` moves the item.
        self.dir, self.name = paths.split_filepath(value)

    @property
    def system(self) -> dict:
        """``metadata["system"]``, as the SDK's ``item.system``."""
        return self.metadata["system"]

    @property
    def size(self) -> int:
        return self.metadata["system"].get("size") or 0

    @property
    def mimetype(self) -> str | None:
        return self.metadata["system"].get("mimetype")

    @property
    def width(self) -> int | None:
        return self.metadata["system"].get("width")

    @property
    def height(self) -> int | None:
        return self.metadata["system"].get("height")

    @property
    def annotations(self):
        """This item's annotations repository."""
        from dsdesk.api.annotations import ItemAnnotations

        return ItemAnnotations(self._cat, self)

    @property
    def dataset(self):
        """The dataset this item is in."""
        return self._cat.dataset_by_id(self.dataset_id)

    def refresh(self) -> Item:
        """Re-read the item from the catalog (in place) and return it."""
        fresh = self.dataset.items.get(item_id=self.id)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_cat"})
        return self

    def update(self, system_metadata: bool = False) -> Item:
        """Save ``metadata["user"]``, ``description`` and a changed ``filename`` (a move).

        With ``system_metadata=True`` the system area is saved too, except the keys that
        describe the binary (size, mimetype, width, height, etag), which follow the blob.
        When someone changed the item since it was read, the two edits are merged against
        what was read (keys changed on one side only are kept from that side, nested dicts
        key by key; see :mod:`dsdesk.api.metadata_merge`); a key both changed differently
        raises MetadataConflictError (a ConflictError) listing them, writing nothing: decide
        with :meth:`resolve_conflicts` and save again.
        """
        from dsdesk.api import conflicts
        from dsdesk.catalog import edit_authors

        check_metadata_areas(self.metadata, f"item {self.filename}")
        user = self.metadata.get("user")
        if not isinstance(user, dict):
            raise InvalidInputError("metadata['user'] must be a dict")
        mine = _document(user, self.description, self.filename, self.metadata.get("system") or {})
        base = copy.deepcopy(self._loaded)
        if not system_metadata:
            mine.pop("system")
            base.pop("system", None)
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self.dataset_id, "change item metadata in")
            # Optimistic: nobody changed the row since it was read, the usual case, is one UPDATE.
            doc, path_now, version = mine, base.get("filename", mine["filename"]), self.row_version
            saved_at = utcnow()
            if _write(s, self.id, version, doc, saved_at, system_metadata) == 0:
                # FOR UPDATE: on PostgreSQL the row stays as merged until this commits (SQLite
                # holds its write lock already).
                row = s.execute(select(ItemRow.meta_user, ItemRow.meta_system, ItemRow.description, ItemRow.dir,
                                       ItemRow.name, ItemRow.row_version, ItemRow.updated_at)
                                .where(ItemRow.id == self.id).with_for_update()).first()
                if row is None:
                    raise NotFoundError(f"item {self.filename} no longer exists")
                path_now, version = paths.join(row.dir, row.name), row.row_version
                theirs = _document(row.meta_user or {}, row.description, path_now, row.meta_system or {})
                if not system_metadata:
                    theirs.pop("system")
                who = edit_authors.author_of(s, "item", self.id, row.row_version, row.updated_at)
                doc = conflicts.merge_for_save(f"item {self.filename}", "item", self.id, base, mine,
                                               conflicts.Theirs(row.row_version, row.updated_at, who, theirs))
                if _write(s, self.id, version, doc, saved_at, system_metadata) == 0:  # pragma: no cover - locked
                    raise ConflictError(f"item {self.filename} was changed by someone else; refresh() and try again")
            version += 1
            if doc["filename"] != path_now:  # a move or a rename, in the same transaction
                tree.rename_item(s, self.dataset_id, self.id, doc["filename"])
                stats.refresh(s, self.dataset_id)
                version, saved_at = s.execute(select(ItemRow.row_version, ItemRow.updated_at)
                                              .where(ItemRow.id == self.id)).one()
            edit_authors.record(s, "item", self.id, version, saved_at, conflicts.writer_name())
        self.metadata["user"] = copy.deepcopy(doc["user"])
        self.description = doc["description"]
        self.filename = doc["filename"]
        if system_metadata:
            self.metadata["system"] = {**copy.deepcopy(doc["system"]), **self._blob_facts()}
        self.row_version, self.updated_at = version, saved_at
        self._loaded = _document(doc["user"], doc["description"], doc["filename"],
                                 doc["system"] if system_metadata else self._loaded.get("system") or {})
        return self

    def resolve_conflicts(self, error, choices) -> Item:
        """Take the decision on a conflicting save: *error* is the MetadataConflictError
        :meth:`update` raised, *choices* ``"mine"`` (keep all yours), ``"theirs"`` (take all
        theirs) or ``{path: "mine" | "theirs" | metadata_merge.Value(x)}`` per conflicting
        path (``"user.split"`` or its tuple).  The item then holds the merged document, based
        on the version the conflict found; call :meth:`update` to save it.  InvalidInputError
        for a conflict of another object or a missing or unknown choice."""
        from dsdesk.api import conflicts

        conflicts.check_error_for(error, "item", self.id, f"item {self.filename}")
        doc = error.resolve(choices)
        self.metadata["user"] = doc["user"]
        self.description = doc["description"]
        self.filename = doc["filename"]
        if "system" in doc:
            self.metadata["system"] = {**doc["system"], **self._blob_facts()}
        base = copy.deepcopy(error.theirs.document)
        base.setdefault("system", self._loaded.get("system") or {})
        self._loaded, self.row_version = base, error.theirs.row_version
        return self

    def _blob_facts(self) -> dict:
        system = self.metadata.get("system") or {}
        return {k: system[k] for k in _BLOB_KEYS if k in system}

    def set_description(self, text: str | None) -> Item:
        """Set (or with ``None``/"" clear) the description and save."""
        self.description = text or None
        return self.update()

    def move(self, new_path: str) -> Item:
        """Move or rename, like Dataloop: a path ending in ``/`` or naming an existing folder
        moves the item into it keeping its name; any other path renames it."""
        with self._cat.db.session(write=True) as s:
            if new_path.endswith("/") or tree.folder_exists(s, self.dataset_id, paths.normalize_dir(new_path)):
                tree.move_items(s, self.dataset_id, [self.id], new_path)
            else:
                tree.rename_item(s, self.dataset_id, self.id, new_path)
            stats.refresh(s, self.dataset_id)
        return self.refresh()

    def delete(self) -> bool:
        """Delete this item (see ``Items.delete``)."""
        return self.dataset.items.delete(item_id=self.id) == 1

    def open(self):
        """A readable binary stream of the item's bytes (from whichever storage holds them)."""
        from dsdesk.transfer.reader import open_blob

        return open_blob(self._cat.db, self.blob_id)

    def download(self, local_path: str | os.PathLike | None = None, save_locally: bool = True,
                 overwrite: bool = False, to_array: bool = False, file_types=None, **sdk_extras):
        """Save the binary to *local_path* (a folder or a file path); returns the file path.

        With ``save_locally=False`` returns an ``io.BytesIO`` whose ``.name`` is the file name
        (as the SDK), or with *to_array* the image as a NumPy array (numpy needed).  The SDK's
        annotation and mask keywords are accepted and ignored here (``dataset.items.download``
        writes annotation JSON).
        """
        from dsdesk.api.item_download import SDK_DOWNLOAD_EXTRAS, check_extras, item_array, item_buffer

        check_extras(sdk_extras, SDK_DOWNLOAD_EXTRAS | {"annotation_options", "to_items_folder"}, "item.download")
        if not save_locally:
            return item_array(self) if to_array else item_buffer(self)
        if to_array:
            raise InvalidInputError("to_array=True needs save_locally=False (an array is returned, not saved)")
        with self.open() as f:
            target = os.fspath(local_path or ".")
            if os.path.isdir(target) or target.endswith(os.sep):
                target = os.path.join(target, self.name)
            if os.path.exists(target) and not overwrite:
                return target
            os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
            tmp = target + ".part"
            with open(tmp, "wb") as out:
                while chunk := f.read(1 << 20):
                    out.write(chunk)
            os.replace(tmp, target)
            return target

    # ---- task statuses --------------------------------------------------------------------
    def update_status(self, status: str | None = None, task: str = "default", creator: str | None = None,
                      clear: bool = False, task_id: str | None = None, assignment_id: str | None = None) -> Item:
        """Set (or with *clear* remove) this item's status in *task* (completed, approved, discard, ...).

        DQL finds it as ``metadata.system.annotationStatus`` (the search bar: ``status:completed``);
        clone and merge carry it with ``with_task_annotations_status``.  *task_id* is Dataloop's
        name for *task*; *assignment_id* is accepted and not used (dsdesk has no assignments).
        """
        from dsdesk.catalog.sql import insert_ignore

        if task_id is not None:
            task = str(getattr(task_id, "id", task_id))
        if not isinstance(task, str) or not task:
            raise InvalidInputError(f"a task is named by a non-empty string, not {task!r}")
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self.dataset_id, "change task statuses in")
            s.execute(TaskStatus.__table__.delete().where(TaskStatus.item_id == self.id, TaskStatus.task == task))
            if not clear:
                if not isinstance(status, str) or not status:
                    raise InvalidInputError("a status must be a non-empty string")
                s.execute(insert_ignore(s, TaskStatus.__table__, ["item_id", "task"]),
                          [{"item_id": self.id, "task": task, "status": status, "creator": creator}])
        return self

    def statuses(self) -> list[dict]:
        """This item's task statuses."""
        with self._cat.db.session() as s:
            rows = s.execute(select(TaskStatus).where(TaskStatus.item_id == self.id).order_by(TaskStatus.task)).scalars()
            return [{"task": r.task, "status": r.status, "creator": r.creator, "at": r.at} for r in rows]

    @classmethod
    def from_json(cls, _json: dict, client_api=None, dataset=None, project=None, is_fetched: bool = True) -> Item:
        """The catalog's item that Dataloop-shaped item JSON describes: by its ``id``, else by
        its ``filename`` in *dataset* (an entity never exists outside the catalog, so this
        finds the item rather than building a detached one)."""
        if not isinstance(_json, dict):
            raise InvalidInputError(f"Item.from_json takes an item's JSON (a dict), not {type(_json).__name__}")
        if dataset is not None:
            if _json.get("id") is not None:
                return dataset.items.get(item_id=_json["id"])
            if _json.get("filename"):
                return dataset.items.get(filepath=_json["filename"])
        elif _json.get("id") is not None:
            from dsdesk.api.defaults import CatalogItems, default_catalog

            return CatalogItems(default_catalog()).get(item_id=_json["id"])
        raise InvalidInputError("Item.from_json needs the JSON's id, or its filename and dataset=...")

    def to_json(self) -> dict:
        """Dataloop-shaped item JSON."""
        return {"id": self.id, "datasetId": self.dataset_id, "dir": self.dir, "name": self.name,
                "filename": self.filename, "type": self.type, "hidden": self.hidden, "annotated": self.annotated,
                "metadata": copy.deepcopy(self.metadata), "description": self.description,
                "spec": {"type": "master" if self.master_item_id is None else "clone",
                         "masterDatasetItemId": self.master_item_id, "parentDatasetItemId": self.parent_item_id},
                "createdAt": _iso(self.created_at), "updatedAt": _iso(self.updated_at)}

    def __repr__(self) -> str:
        return f"<Item {self.id} {self.filename!r}>"


_BLOB_KEYS = ("size", "mimetype", "width", "height", "etag")  # follow the blob, never saved with the item


def _write(session: Session, item_id: int, row_version: int, doc: dict, at: dt.datetime, system: bool) -> int:
    """Write *doc*'s user metadata and description (and system keys when *system*) over
    version *row_version* of the item; returns 1, or 0 when the row is at another version."""
    values: dict[str, Any] = {"meta_user": doc["user"], "description": doc["description"], "updated_at": at,
                              "row_version": row_version + 1}
    if system:
        values["meta_system"] = doc["system"]
    return session.execute(update(ItemRow).where(ItemRow.id == item_id, ItemRow.row_version == row_version)
                           .values(**values).execution_options(synchronize_session=False)).rowcount


def _document(user: dict, description: str | None, filename: str, system: dict) -> dict:
    """An item's editable state as one document for :mod:`dsdesk.api.metadata_merge` (deep
    copies): user metadata, description, path, and the system keys the item owns."""
    return {"user": copy.deepcopy(user), "description": description, "filename": filename,
            "system": {k: copy.deepcopy(v) for k, v in system.items() if k not in _BLOB_KEYS}}


def _iso(t):
    return t.isoformat(timespec="milliseconds") + "Z" if t else None


def count_in_dataset(session: Session, dataset_id: int) -> int:
    """Number of items in a dataset (one COUNT over the dataset's index)."""
    return session.execute(select(func.count()).select_from(ItemRow).where(ItemRow.dataset_id == dataset_id)).scalar()
