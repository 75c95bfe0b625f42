"""The Dataset entity (its repositories: :mod:`dsdesk.api.dataset_repos`; its folders:
:mod:`dsdesk.api.directory_tree`; its snapshots: :mod:`dsdesk.api.snapshots`)."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from dsdesk.api.directory_tree import DirectoryTree, SingleDirectory
from dsdesk.api.entities_print import PrintableEntity
from dsdesk.api.projects import _check_name
from dsdesk.api.snapshots import Snapshots, _snapshot_ref
from dsdesk.catalog import tree
from dsdesk.catalog.guards import live_dataset, writable_dataset
from dsdesk.catalog.models import Dataset as DatasetRow
from dsdesk.catalog.models import utcnow
from dsdesk.errors import AlreadyExistsError, ConflictError, InvalidInputError, NotFoundError

if TYPE_CHECKING:
    from dsdesk.api.catalog import Catalog


@dataclass
class Dataset(PrintableEntity):
    """A dataset.  ``metadata`` is ``{"system": {...}, "user": {...}}``; change ``metadata["user"]``
    (or ``name``, to rename) and call :meth:`update`.  Counts are the cached statistics
    (refreshed by every operation)."""

    _cat: Catalog
    id: int
    name: str
    project_id: int
    kind: str
    driver_id: int
    recipe_id: int | None
    readonly: bool
    src_dataset_id: int | None
    metadata: dict[str, Any]
    description: str
    items_count: int
    annotated_count: int
    annotations_count: int
    folders_count: int
    bytes_total: int
    created_at: dt.datetime | None
    updated_at: dt.datetime | None
    deleted_at: dt.datetime | None
    row_version: int
    _base: dict = field(default_factory=dict, repr=False)  # the document as read (dsdesk.api.conflicts)

    @classmethod
    def _from_row(cls, cat: Catalog, r: DatasetRow) -> Dataset:
        system = copy.deepcopy(r.meta_system or {})
        system.setdefault("recipes", [r.recipe_id] if r.recipe_id else [])
        user = copy.deepcopy(r.meta_user or {})
        return cls(cat, r.id, r.name, r.project_id, r.kind, r.driver_id, r.recipe_id, bool(r.readonly),
                   r.src_dataset_id, {"system": system, "user": user}, r.description, r.item_count,
                   r.annotated_count, r.annotation_count, r.folder_count, r.bytes_total, r.created_at,
                   r.updated_at, r.deleted_at, r.row_version, _document(user, r.description, r.name))

    @property
    def annotated(self) -> int:
        """How many items have annotations (the SDK's ``dataset.annotated``)."""
        return self.annotated_count

    @property
    def driver(self) -> int:
        """The id of the dataset's storage driver (the SDK's ``dataset.driver``)."""
        return self.driver_id

    # ---- repositories -------------------------------------------------------------------
    @property
    def items(self):
        """This dataset's items repository."""
        from dsdesk.api.items import Items

        return Items(self._cat, self)

    @property
    def project(self):
        """The project this dataset belongs to."""
        return self._cat.projects.get(project_id=self.project_id)

    @property
    def recipe(self):
        """The dataset's recipe (label set), or None."""
        from dsdesk.api.recipes import Recipe

        if self.recipe_id is None:
            return None
        with self._cat.db.session() as s:
            return Recipe._load(self._cat, s, self.recipe_id)

    @property
    def annotations(self):
        """This dataset's annotations repository (bulk upload, paged lists, filtered deletes)."""
        from dsdesk.api.annotations import DatasetAnnotations

        return DatasetAnnotations(self._cat, self)

    # ---- labels (the recipe's; see dsdesk.api.recipes) -------------------------------------
    @property
    def recipes(self):
        """``dataset.recipes.list()``: the dataset's recipe; ``.create(...)`` makes a new one."""
        from dsdesk.api.recipes import DatasetRecipes

        return DatasetRecipes(self._cat, self)

    @property
    def labels(self) -> list:
        """The recipe's top-level labels (``dd.Label``, each with its ``children``).  A label
        compares equal to its tag, so ``ds.labels == ["car", "person"]`` holds."""
        return self._ontology().labels if self.recipe_id is not None else []

    @property
    def labels_flat_dict(self) -> dict:
        """``{dotted tag: dd.Label}`` of every label of the recipe (``vehicle.car`` too)."""
        return self._ontology().labels_flat_dict if self.recipe_id is not None else {}

    @property
    def label_names(self) -> list[str]:
        """Every label's dotted tag, in the recipe's order."""
        return list(self.labels_flat_dict)

    @property
    def instance_map(self) -> dict[str, int]:
        """``{dotted tag: instance id}`` (1, 2, ... in sorted tag order), as Dataloop's default."""
        return self._ontology().instance_map if self.recipe_id is not None else {}

    def _ontology(self):
        r = self.recipe
        if r is None:
            raise NotFoundError(f"dataset '{self.name}' has no recipe")
        return r.ontologies.list()[0]

    def _writable_recipe(self):
        with self._cat.db.session() as s:
            writable_dataset(s, self.id, "change the labels of")
        return self._ontology()

    def add_label(self, label_name=None, color=None, children=None, attributes=None, display_label=None,
                  label=None, recipe_id=None, ontology_id=None, icon_path=None):
        """Add a label (hex or RGB *color*, *children* as names, dicts or ``dd.Label`` objects,
        dotted names such as ``vehicle.car``) to the dataset's recipe; returns the ``dd.Label``."""
        return self._writable_recipe().add_label(label_name, color=color, children=children, attributes=attributes,
                                                 display_label=display_label, label=label)

    def add_labels(self, label_list, ontology_id=None, recipe_id=None):
        """Add labels (names, dicts with tag/color, ``dd.Label`` trees, or {tag: colour})."""
        return self._writable_recipe().add_labels(label_list)

    def update_label(self, label_name=None, color=None, children=None, attributes=None, display_label=None,
                     label=None, recipe_id=None, upsert: bool = False, icon_path=None):
        """Change a label (by dotted name): colour, display label, attributes; *children* are
        added.  NotFoundError for a label the recipe lacks unless *upsert*."""
        from dsdesk.api.labels import Label

        lab = label if label is not None else Label(tag=label_name, color=color, children=children,
                                                    attributes=attributes, display_label=display_label)
        return self._writable_recipe().update_labels([lab], upsert=upsert)[0]

    def update_labels(self, label_list, upsert: bool = False):
        """Change several labels (see :meth:`update_label`)."""
        return self._writable_recipe().update_labels(label_list, upsert=upsert)

    def delete_labels(self, label_names) -> bool:
        """Remove labels (by dotted name; their children go too) from the recipe.
        Annotations that carry them are kept, flagged as not in the recipe."""
        self._writable_recipe().delete_labels(label_names)
        return True

    @property
    def directory_tree(self) -> DirectoryTree:
        """Every folder with item counts, empty folders included."""
        with self._cat.db.session() as s:
            live_dataset(s, self.id)
            return DirectoryTree([SingleDirectory(**d) for d in tree.directory_tree(s, self.id)])

    @property
    def annotated_percent(self) -> float:
        """Annotated items as a percentage of all items (0 for an empty dataset)."""
        return 100.0 * self.annotated_count / self.items_count if self.items_count else 0.0

    # ---- changes ------------------------------------------------------------------------
    def refresh(self) -> Dataset:
        """Re-read this dataset from the catalog (in place) and return it."""
        fresh = self._cat.dataset_by_id(self.id)
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_cat"})
        return self

    def update(self, system_metadata: bool = False) -> Dataset:
        """Save ``metadata["user"]``, the description and a changed ``name`` (a rename; the
        name must be free in the project).  The system area is dsdesk's own.

        When someone else changed the dataset since it was read, the two edits are merged
        against what was read (see :mod:`dsdesk.api.metadata_merge`); a key both changed
        differently raises MetadataConflictError (a ConflictError) listing them, writing
        nothing: decide with :meth:`resolve_conflicts` and save again.  InvalidInputError,
        writing nothing, for metadata keys outside ``system`` / ``user``.
        """
        from dsdesk.api import conflicts
        from dsdesk.api.metadata_areas import check_metadata_areas
        from dsdesk.catalog import edit_authors

        if system_metadata:
            raise InvalidInputError("the system area of a dataset's metadata is read-only for users")
        check_metadata_areas(self.metadata, f"dataset '{self.name}'")
        user = self.metadata.get("user")
        if not isinstance(user, dict):
            raise InvalidInputError("metadata['user'] must be a dict")
        mine = _document(user, self.description, self.name)
        if self.name != self._base.get("name"):
            mine["name"] = _check_name(self.name, "dataset")
        with self._cat.db.session(write=True) as s:
            writable_dataset(s, self.id, "change the metadata of")
            row = s.execute(select(DatasetRow).where(DatasetRow.id == self.id).with_for_update()).scalar_one()
            doc = mine
            if row.row_version != self.row_version:
                who = edit_authors.author_of(s, "dataset", row.id, row.row_version, row.updated_at)
                theirs = conflicts.Theirs(row.row_version, row.updated_at, who,
                                          _document(row.meta_user or {}, row.description, row.name))
                doc = conflicts.merge_for_save(f"dataset '{self.name}'", "dataset", self.id, self._base, mine, theirs)
            values: dict[str, Any] = {"meta_user": doc["user"], "description": doc["description"],
                                      "updated_at": utcnow(), "row_version": row.row_version + 1}
            if doc["name"] != row.name:  # (snapshots were refused above: they are read-only)
                values["name"] = doc["name"]
                taken = s.execute(select(DatasetRow.id).where(
                    DatasetRow.project_id == self.project_id, DatasetRow.name == values["name"],
                    DatasetRow.deleted_at.is_(None), DatasetRow.id != self.id)).first()
                if taken:
                    raise AlreadyExistsError(f"a dataset named '{values['name']}' already exists in this project")
            try:
                r = s.execute(update(DatasetRow).where(DatasetRow.id == self.id,
                                                       DatasetRow.row_version == row.row_version)
                              .values(**values).execution_options(synchronize_session=False))
            except StaleDataError as e:  # pragma: no cover - defensive, Core update does not raise it
                raise ConflictError(str(e)) from e
            except IntegrityError as e:
                raise AlreadyExistsError(f"a dataset named '{doc['name']}' already exists in this project") from e
            if r.rowcount == 0:  # pragma: no cover - the row is locked above
                raise ConflictError(f"dataset '{self.name}' was changed by someone else; refresh() and try again")
            edit_authors.record(s, "dataset", self.id, values["row_version"], values["updated_at"],
                                conflicts.writer_name())
        self.metadata["user"] = copy.deepcopy(doc["user"])
        self.description, self.name = doc["description"], doc["name"]
        self.row_version, self.updated_at = values["row_version"], values["updated_at"]
        self._base = _document(doc["user"], doc["description"], doc["name"])
        return self

    def based_on(self, row_version: int, user: dict) -> Dataset:
        """Make this entity an edit of version *row_version* whose user metadata was *user*
        (what a caller showed, e.g. a table cell), keeping the name and description read:
        the next :meth:`update` merges the changes made to it from there against the row."""
        if not isinstance(user, dict):
            raise InvalidInputError(f"the user metadata of dataset '{self.name}' must be a dict, "
                                    f"not {type(user).__name__}")
        self.metadata["user"] = copy.deepcopy(user)
        self._base = _document(user, self.description, self.name)
        self.row_version = int(row_version)
        return self

    def resolve_conflicts(self, error, choices) -> Dataset:
        """Take the decision on a conflicting save: *error* is the MetadataConflictError
        :meth:`update` raised, *choices* ``"mine"``, ``"theirs"`` or one choice per path
        (see ``Item.resolve_conflicts``).  The dataset then holds the merged document,
        based on the version the conflict found; call :meth:`update` to save it."""
        from dsdesk.api import conflicts

        conflicts.check_error_for(error, "dataset", self.id, f"dataset '{self.name}'")
        doc = error.resolve(choices)
        self.metadata["user"], self.description, self.name = doc["user"], doc["description"], doc["name"]
        self._base, self.row_version = copy.deepcopy(error.theirs.document), error.theirs.row_version
        return self

    def set_readonly(self, state: bool) -> Dataset:
        """Make the dataset read-only (every mutation then refuses) or writable again."""
        with self._cat.db.session(write=True) as s:
            row = live_dataset(s, self.id)
            if row.kind == "snapshot":
                raise InvalidInputError("snapshots are always read-only")
            s.execute(update(DatasetRow).where(DatasetRow.id == self.id)
                      .values(readonly=bool(state), row_version=DatasetRow.row_version + 1))
        return self.refresh()

    def delete(self, sure: bool | None = None, really: bool | None = None) -> bool:
        """Move the dataset to the trash (see ``project.datasets.restore``); the SDK's
        ``sure`` / ``really`` as in :meth:`Datasets.delete`."""
        return self.project.datasets.delete(dataset_id=self.id, sure=sure, really=really)

    def download(self, local_path: str | None = None, filters=None, to_items_folder: bool = True,
                 annotation_options=None, overwrite: bool = False, on_event=None, file_types=None,
                 without_relative_path=None, **sdk_extras) -> str:
        """Download the dataset's binaries keeping the folder structure; returns the folder.

        Binaries go to ``<local_path>/items/<dir>/<name>`` (Dataloop's layout) or straight
        under *local_path* with ``to_items_folder=False``; with ``annotation_options="json"``
        each item's annotations go to ``<local_path>/json/<dir>/<name>.json``.  *file_types*
        and *without_relative_path* are those of ``dataset.items.download`` (which then
        does the work); the SDK's mask keywords (``thickness`` ...) are accepted and ignored.
        """
        from dsdesk.api import jobs
        from dsdesk.api.item_download import SDK_DOWNLOAD_EXTRAS, annotation_options_json, check_extras

        check_extras(sdk_extras, SDK_DOWNLOAD_EXTRAS, "dataset.download")
        annotation_options = "json" if annotation_options_json(annotation_options) else None
        if local_path is None or file_types is not None or without_relative_path is not None:
            from dsdesk.api.item_download import download_items

            download_items(self.items, filters=filters, local_path=local_path, file_types=file_types,
                           overwrite=overwrite, to_items_folder=to_items_folder,
                           without_relative_path=without_relative_path, annotation_options=annotation_options)
            return str(local_path) if local_path is not None else str(_default_download_folder(self.id))

        return self._cat.run(jobs.download(self.id, local_path, filters=filters, to_items_folder=to_items_folder,
                                           annotation_options=annotation_options, overwrite=overwrite),
                             on_event=on_event)

    def import_annotations(self, path, format: str = "coco", skip_bad: bool = False, with_images: bool = True,
                           on_event=None):
        """Import annotations from *path* (a file or a folder) in *format* (``coco``, ``yolo``,
        ``json`` for Dataloop JSON ... see ``dsdesk.formats.REGISTRY``); returns the
        ``ImportReport`` (items matched, annotations written, entries unmatched, labels
        added to the recipe).  A folder that ships its images uploads them first.  A bad
        file or entry raises an error naming both and writes nothing; with *skip_bad* the
        bad entries are skipped and listed in the report instead."""
        from dsdesk.api import jobs

        report = self._cat.run(jobs.import_annotations(self.id, path, format=format, skip_bad=skip_bad,
                                                       with_images=with_images), on_event=on_event)
        self.refresh()
        return report

    def export(self, local_path, format: str = "coco", filters=None, with_images: bool = False, link: bool = False,
               split_by_folder: bool = False, on_event=None):
        """Export the items (those *filters* selects) and their annotations as *format* under
        *local_path*; returns the ``ExportReport`` (files written, annotations the format
        cannot carry).  *with_images* copies the binaries where the format expects them
        (*link*: hard links when they are files on this disk)."""
        from dsdesk.api import jobs

        return self._cat.run(jobs.export(self.id, local_path, format=format, filters=filters,
                                         with_images=with_images, link=link, split_by_folder=split_by_folder),
                             on_event=on_event)

    def download_annotations(self, local_path=None, filters=None, annotation_options=None, overwrite: bool = False,
                             on_event=None, **sdk_extras) -> str:
        """Write each item's annotations as Dataloop JSON, ``<local_path>/json/<folders>/<name>.json``
        (``a/b.jpg`` -> ``json/a/b.json``, as dtlpy does); returns the folder.  The SDK's
        other keywords (``annotation_filters``, ``thickness`` ...) are accepted and ignored."""
        from pathlib import Path

        from dsdesk.api import jobs

        root = Path(local_path) if local_path is not None else _default_download_folder(self.id)
        self._cat.run(jobs.export(self.id, root, format="json", filters=filters), on_event=on_event)
        return str(root)

    def download_folder(self, folder_path: str, filters=None, local_path: str | None = None, **kwargs) -> str:
        """Download one folder with everything under it, as :meth:`download` does the dataset
        (*filters* narrows it further)."""
        from dsdesk.query.filters import Filters

        if filters is None:
            filters = Filters()
        elif not isinstance(filters, Filters):
            raise InvalidInputError("download_folder takes a dd.Filters as filters")
        else:
            filters = copy.deepcopy(filters)
        filters.add(field="filename", values=folder_path.rstrip("/") + "/**")
        return self.download(local_path=local_path, filters=filters, **kwargs)

    def sync(self, dry_run: bool = False, delete_missing: bool = False, restore_deleted: bool = False,
             on_event=None):
        """Reconcile the dataset with its external storage; returns a ``SyncReport``
        (``new``, ``changed``, ``renamed``, ``missing``, ``deleted``, ``skipped``, ``folders``,
        ``errors`` ...).

        Vanished objects mark their items missing; *delete_missing* deletes them instead.
        Items the user deleted while their object stayed in storage are not brought back
        (``skipped``) unless the object changed since; *restore_deleted* forgets those
        deletions first so they come back now (see :meth:`restore_deleted`).
        A dry run reports what would happen and changes nothing.  An interrupted sync
        resumes on the next call.  See :mod:`dsdesk.sync.engine`.
        """
        from dsdesk.api import jobs

        report = self._cat.run(jobs.sync(self.id, dry_run=dry_run, delete_missing=delete_missing,
                                         restore_deleted=restore_deleted), on_event=on_event)
        if not dry_run:
            self.refresh()
        return report

    def restore_deleted(self) -> int:
        """Forget which items the user deleted from this synced dataset while their objects
        stayed in storage, so the next sync brings them back as new items (annotations and
        metadata of the deleted items are not restored: that is what snapshots are for).

        Returns how many deletions were forgotten.  ``sync_status["deleted_keys"]`` counts
        them beforehand; ``sync(restore_deleted=True)`` does this and syncs in one go.
        """
        from dsdesk.catalog import tombstones
        from dsdesk.catalog.guards import live_dataset

        with self._cat.db.session(write=True) as s:
            live_dataset(s, self.id)
            return tombstones.clear(s, self.id)

    @property
    def sync_status(self) -> dict:
        """Last sync time and counts, the auto-sync interval, whether a sync is under way,
        and ``deleted_keys``: keys the user deleted that sync keeps out."""
        from dsdesk.sync.state import sync_state

        return sync_state(self._cat.db, self.id)

    def set_auto_sync(self, interval_seconds: int | None) -> None:
        """Re-sync every *interval_seconds* while dsdesk runs (None turns it off)."""
        from dsdesk.sync.state import set_interval

        set_interval(self._cat.db, self.id, interval_seconds)

    # ---- versioning (dsdesk.versioning) ---------------------------------------------------
    def clone(self, clone_name: str | None = None, filters=None, with_items_annotations: bool = True,
              with_metadata: bool = True, with_task_annotations_status: bool = True,
              dst_dataset_id: int | None = None, target_directory: str | None = None, on_event=None) -> Dataset:
        """Clone (all items, or those *filters* selects) into a new dataset or into
        *dst_dataset_id* below *target_directory*; zero-copy.  Returns the destination;
        its ``report`` attribute is the :class:`~dsdesk.versioning.CloneResult`."""
        from dsdesk.api import jobs

        res = self._cat.run(jobs.clone(self.id, clone_name=clone_name, filters=filters,
                                       with_items_annotations=with_items_annotations, with_metadata=with_metadata,
                                       with_task_annotations_status=with_task_annotations_status,
                                       dst_dataset_id=dst_dataset_id, target_directory=target_directory),
                            on_event=on_event)
        out = self._cat.dataset_by_id(res.dataset_id)
        out.report = res
        return out

    def switch_recipe(self, recipe=None, recipe_id: int | None = None) -> Dataset:
        """Make *recipe* (a Recipe or its id) this dataset's recipe, e.g. before a merge."""
        from dsdesk.versioning import switch_recipe

        rid = recipe_id if recipe_id is not None else getattr(recipe, "id", recipe)
        with self._cat.db.session(write=True) as s:
            switch_recipe(s, self.id, int(rid))
        return self.refresh()

    def snapshot(self, name: str, description: str = "", on_event=None):
        """Take a named, read-only snapshot of the dataset; returns its ``SnapshotInfo``."""
        from dsdesk.api import jobs

        return self._cat.run(jobs.snapshot(self.id, name, description), on_event=on_event)

    @property
    def snapshots(self):
        """This dataset's snapshots: ``.list()``, ``.get(name)``, ``.delete(name)``."""
        return Snapshots(self._cat, self)

    def rollback(self, snapshot, on_event=None):
        """Restore the dataset to *snapshot* (a name, an id or a ``SnapshotInfo``) after taking
        a safety snapshot; returns a ``RollbackResult``."""
        from dsdesk.api import jobs

        res = self._cat.run(jobs.rollback(self.id, _snapshot_ref(snapshot)), on_event=on_event)
        self.refresh()
        return res

    def diff(self, snapshot=None, other=None, limit: int = 10000, on_event=None):
        """Item-level differences from *snapshot* to *other* (None: the dataset as it is now);
        returns a ``DiffReport`` (added / removed / changed, and what changed)."""
        from dsdesk.api import jobs

        a = _snapshot_ref(snapshot) if snapshot is not None else None
        b = _snapshot_ref(other) if other is not None else None
        return self._cat.run(jobs.diff(self.id, a, b, limit=limit), on_event=on_event)

    def to_json(self) -> dict:
        """Dataloop-shaped JSON."""
        return {"id": self.id, "name": self.name, "projects": [self.project_id], "type": self.kind,
                "driver": self.driver_id, "readonly": self.readonly, "srcDataset": self.src_dataset_id,
                "metadata": copy.deepcopy(self.metadata), "itemsCount": self.items_count,
                "annotatedCount": self.annotated_count, "annotationsCount": self.annotations_count,
                "createdAt": _iso(self.created_at), "updatedAt": _iso(self.updated_at)}

    def __repr__(self) -> str:
        return f"<Dataset {self.id} {self.name!r} {self.kind}{' readonly' if self.readonly else ''}>"



def _default_download_folder(dataset_id: int):
    from dsdesk.api.item_download import default_folder

    return default_folder(dataset_id)


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat(timespec="milliseconds") + "Z" if t else None


def _document(user: dict, description: str | None, name: str) -> dict:
    """A dataset's editable state as one document for :mod:`dsdesk.api.metadata_merge`."""
    return {"user": copy.deepcopy(user), "description": description, "name": name}
