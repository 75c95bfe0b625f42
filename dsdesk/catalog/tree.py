"""Folders and moves: make, rename, move and delete folders; move and rename items.

Moves are catalog-only for every driver (an item's virtual path is not its storage key),
so items synced from a bucket move like any other.  Every function takes item ids as a
list or as a SELECT of ids (what the query engine produces), and runs set-based SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, and_, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session

from dsdesk.catalog import paths
from dsdesk.catalog.guards import writable_dataset
from dsdesk.catalog.idset import id_set
from dsdesk.catalog.ingest import ensure_folders
from dsdesk.catalog.models import Folder, Item
from dsdesk.errors import AlreadyExistsError, InvalidPathError, NotFoundError

IdSet = Sequence[int] | Select


def folder_exists(session: Session, dataset_id: int, path: str) -> bool:
    """True when *path* is the root or an existing folder of the dataset."""
    if path == paths.ROOT:
        return True
    return session.execute(select(Folder.id).where(Folder.dataset_id == dataset_id, Folder.path == path)).first() is not None


def make_dir(session: Session, dataset_id: int, directory: str) -> str:
    """Create the folder (and its parents); returns its normalised path.  Idempotent."""
    writable_dataset(session, dataset_id, "create folders in")
    d = paths.normalize_dir(directory)
    if d == paths.ROOT:
        return d
    if item_at(session, dataset_id, d) is not None:
        raise AlreadyExistsError(f"an item already exists at {d}")
    ensure_folders(session, dataset_id, [d])
    return d


def item_at(session: Session, dataset_id: int, filepath: str) -> int | None:
    """The id of the item at *filepath*, or None."""
    d, n = paths.split_filepath(filepath)
    return session.execute(select(Item.id).where(Item.dataset_id == dataset_id, Item.dir == d, Item.name == n)).scalar()


def move_items(session: Session, dataset_id: int, ids: IdSet, destination: str) -> int:
    """Move items into the folder *destination* (created if missing), keeping their names.

    Refuses, before changing anything, when a moved item would land on an existing name.
    Returns the number of items moved.
    """
    writable_dataset(session, dataset_id, "move items in")
    dest = paths.normalize_dir(destination)
    with id_set(session, ids) as sel:
        moving = select(Item.id).where(Item.dataset_id == dataset_id, Item.id.in_(sel))
        other = Item.__table__.alias("other")
        clash = session.execute(
            select(other.c.name).select_from(Item).join(other, and_(other.c.dataset_id == dataset_id,
                                                                      other.c.dir == dest, other.c.name == Item.name,
                                                                      other.c.id != Item.id))
            .where(Item.id.in_(moving)).limit(3)).scalars().all()
        if clash:
            raise AlreadyExistsError(f"cannot move into {dest}: it already has {', '.join(map(repr, clash))}")
        dup = session.execute(select(Item.name).where(Item.id.in_(moving)).group_by(Item.name)
                              .having(func.count() > 1).limit(3)).scalars().all()
        if dup:
            raise AlreadyExistsError(f"cannot move into {dest}: several selected items are named {dup[0]!r}")
        ensure_folders(session, dataset_id, [dest])
        r = session.execute(update(Item).where(Item.id.in_(moving), Item.dir != dest)
                            .values(dir=dest, updated_at=func.current_timestamp(), row_version=Item.row_version + 1)
                            .execution_options(synchronize_session=False))
        return r.rowcount


def rename_item(session: Session, dataset_id: int, item_id: int, new_path: str) -> tuple[str, str]:
    """Move one item to the full path *new_path* (a rename when only the name changes)."""
    writable_dataset(session, dataset_id, "rename items in")
    d, n = paths.split_filepath(new_path)
    if folder_exists(session, dataset_id, paths.join(d, n)):
        raise AlreadyExistsError(f"a folder already exists at {paths.join(d, n)}")
    existing = item_at(session, dataset_id, paths.join(d, n))
    if existing is not None and existing != item_id:
        raise AlreadyExistsError(f"an item already exists at {paths.join(d, n)}")
    ensure_folders(session, dataset_id, [d])
    session.execute(update(Item).where(Item.id == item_id, Item.dataset_id == dataset_id)
                    .values(dir=d, name=n, updated_at=func.current_timestamp(), row_version=Item.row_version + 1)
                    .execution_options(synchronize_session=False))
    return d, n


def _under(col, folder: str):
    return or_(col == folder, col.like(paths.like_prefix(folder), escape="\\"))


def move_folder(session: Session, dataset_id: int, folder: str, destination: str) -> str:
    """Move *folder* with everything under it into *destination*; returns its new path."""
    writable_dataset(session, dataset_id, "move folders in")
    src = paths.normalize_dir(folder)
    dest_parent = paths.normalize_dir(destination)
    if src == paths.ROOT:
        raise InvalidPathError("the root folder cannot be moved")
    new = paths.join(dest_parent, src.rsplit("/", 1)[1])
    return _relocate_folder(session, dataset_id, src, new)


def rename_folder(session: Session, dataset_id: int, folder: str, new_name: str) -> str:
    """Rename *folder* in place; returns its new path."""
    writable_dataset(session, dataset_id, "rename folders in")
    src = paths.normalize_dir(folder)
    if src == paths.ROOT:
        raise InvalidPathError("the root folder cannot be renamed")
    parent = src.rsplit("/", 1)[0] or paths.ROOT
    return _relocate_folder(session, dataset_id, src, paths.join(parent, paths.check_name(new_name)))


def _relocate_folder(session: Session, dataset_id: int, src: str, new: str) -> str:
    if not folder_exists(session, dataset_id, src):
        raise NotFoundError(f"no folder {src}")
    if new == src:
        return new
    if paths.is_under(new, src):
        raise InvalidPathError(f"cannot move {src} into itself ({new})")
    if folder_exists(session, dataset_id, new) or item_at(session, dataset_id, new) is not None:
        raise AlreadyExistsError(f"{new} already exists")
    ensure_folders(session, dataset_id, [new.rsplit("/", 1)[0] or paths.ROOT])
    n = len(src)
    # new || substr(path, len(src)+1) rewrites the prefix for the folder and all below it.
    session.execute(update(Folder).where(Folder.dataset_id == dataset_id, _under(Folder.path, src))
                    .values(path=literal(new) + func.substr(Folder.path, n + 1))
                    .execution_options(synchronize_session=False))
    session.execute(update(Item).where(Item.dataset_id == dataset_id, _under(Item.dir, src))
                    .values(dir=literal(new) + func.substr(Item.dir, n + 1), updated_at=func.current_timestamp(),
                            row_version=Item.row_version + 1)
                    .execution_options(synchronize_session=False))
    return new


def items_under(dataset_id: int, folder: str) -> Select:
    """SELECT of the ids of every item in *folder* or below it."""
    f = paths.normalize_dir(folder)
    q = select(Item.id).where(Item.dataset_id == dataset_id)
    return q if f == paths.ROOT else q.where(_under(Item.dir, f))


def delete_folder_rows(session: Session, dataset_id: int, folder: str) -> int:
    """Remove the folder rows of *folder* and below (items are removed by the caller)."""
    f = paths.normalize_dir(folder)
    q = delete(Folder).where(Folder.dataset_id == dataset_id)
    if f != paths.ROOT:
        q = q.where(_under(Folder.path, f))
    return session.execute(q.execution_options(synchronize_session=False)).rowcount


def directory_tree(session: Session, dataset_id: int) -> list[dict]:
    """Every folder (empty ones included) with its direct and total item counts, sorted by path."""
    direct = {d: c for d, c in session.execute(select(Item.dir, func.count()).where(Item.dataset_id == dataset_id)
                                               .group_by(Item.dir))}
    folders = [paths.ROOT] + list(session.execute(select(Folder.path).where(Folder.dataset_id == dataset_id)
                                                  .order_by(Folder.path)).scalars())
    total = dict.fromkeys(folders, 0)
    for d, c in direct.items():
        total.setdefault(d, 0)
        for a in [paths.ROOT, *paths.ancestors(d)]:
            if a in total:
                total[a] += c
    return [{"path": p, "name": p.rsplit("/", 1)[-1] or "/", "parent": None if p == paths.ROOT else (p.rsplit("/", 1)[0] or "/"),
             "items": direct.get(p, 0), "total": total.get(p, 0)} for p in folders]
