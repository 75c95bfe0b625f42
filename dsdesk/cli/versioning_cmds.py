"""Versioning commands: ``dsdesk clone|merge|snapshot|rollback|diff|gc``.

Registered into the main parser by :func:`register`; the helpers (catalog, dataset
resolution, progress bar) are the main module's.
"""

from __future__ import annotations

import json
import sys


def _filters(args):
    """A DQL dict from --dql, a search-bar string from --query, or None."""
    from dsdesk.errors import InvalidInputError

    if getattr(args, "dql", None):
        try:
            with open(args.dql) as f:
                return json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise InvalidInputError(f"cannot read the DQL file {args.dql}: {e}") from e
    return getattr(args, "query", None) or None


def _dump(obj) -> None:
    from dsdesk.jobs.runner import _jsonable

    print(json.dumps(_jsonable(obj), indent=2, default=str))


def cmd_clone(args) -> int:
    """Clone a dataset (or a filtered part of it) into a new or an existing dataset."""
    from dsdesk.cli.main import _bar, _catalog, _dataset
    from dsdesk.errors import InvalidInputError

    cat = _catalog(args)
    src = _dataset(cat, args)
    dst_id = _dataset(cat, args, args.into).id if args.into else None
    if not args.name and dst_id is None:
        raise InvalidInputError("name the clone (dsdesk clone DATASET NAME) or give --into DATASET")
    out = src.clone(clone_name=args.name, filters=_filters(args), with_items_annotations=not args.no_annotations,
                    with_metadata=not args.no_metadata, with_task_annotations_status=not args.no_status,
                    dst_dataset_id=dst_id, target_directory=args.target_dir, on_event=_bar(args))
    r = out.report
    print(f"cloned {r.items} items, {r.annotations} annotations, {r.task_statuses} task statuses "
          f"from '{src.name}' into '{out.name}' (id {out.id}) below {r.target_directory}")
    return 0


def cmd_merge(args) -> int:
    """Merge datasets (PROJECT/DATASET names work across projects) into a new dataset."""
    from dsdesk.cli.main import _bar, _catalog, _dataset

    cat = _catalog(args)
    inputs = [_dataset(cat, args, spec) for spec in args.datasets]
    project_ids = [cat.projects.get(project_name=args.project).id] if args.project else None
    out = cat.datasets.merge(merge_name=args.name, dataset_ids=[d.id for d in inputs], project_ids=project_ids,
                             with_items_annotations=not args.no_annotations, with_metadata=args.with_metadata,
                             with_task_annotations_status=args.with_status, on_event=_bar(args))
    r = out.report
    if args.json:
        _dump(r)
        return 0
    print(f"merged {len(inputs)} datasets into '{out.name}' (id {out.id}): {r.items} items, {r.annotations} "
          f"annotations ({r.duplicate_annotations_skipped} duplicate copies skipped)")
    print(f"rule: {r.rule}")
    for c in r.renamed[:20]:
        print(f"  renamed {c['filename']} from '{c['dataset']}' -> {c['renamed_to']}")
    if r.renamed_count > 20:
        print(f"  ... {r.renamed_count - 20} more renames (--json lists up to 1000)")
    for c in r.metadata_conflicts[:20]:
        print(f"  conflict {c['filename']} [{c['key']}]: kept {c['kept']} ({c['kept_from']}), "
              f"dropped {c['dropped']} ({c['dropped_from']})")
    if r.metadata_conflict_count > 20:
        print(f"  ... {r.metadata_conflict_count - 20} more metadata conflicts (--json lists up to 1000)")
    return 0


def cmd_snapshot(args) -> int:
    """Take, list or delete snapshots of a dataset."""
    from dsdesk.cli.main import _bar, _catalog, _dataset
    from dsdesk.errors import InvalidInputError

    cat = _catalog(args)
    ds = _dataset(cat, args)
    if args.delete:
        ds.snapshots.delete(args.delete)
        print(f"deleted snapshot '{args.delete}' of '{ds.name}'")
        return 0
    if args.list or not args.name:
        for sn in ds.snapshots.list():
            auto = " (auto)" if sn.auto else ""
            print(f"{sn.id}\t{sn.name}{auto}\t{sn.created_at:%Y-%m-%d %H:%M:%S}\t{sn.item_count} items\t"
                  f"{sn.annotation_count} annotations")
        return 0
    if args.name.startswith("-"):
        raise InvalidInputError(f"not a snapshot name: {args.name!r}")
    sn = ds.snapshot(args.name, args.description or "", on_event=_bar(args))
    print(f"snapshot '{sn.name}' of '{ds.name}': {sn.item_count} items, {sn.annotation_count} annotations")
    return 0


def cmd_rollback(args) -> int:
    """Restore a dataset to a snapshot (a safety snapshot is taken first)."""
    from dsdesk.cli.main import _bar, _catalog, _dataset

    cat = _catalog(args)
    ds = _dataset(cat, args)
    r = ds.rollback(args.snapshot, on_event=_bar(args))
    print(f"'{ds.name}' rolled back to '{r.snapshot}': {r.items} items, {r.annotations} annotations; "
          f"the state before is kept as snapshot '{r.safety_snapshot.name}'")
    return 0


def cmd_diff(args) -> int:
    """Added / removed / changed items between a snapshot and the dataset (or two snapshots)."""
    from dsdesk.cli.main import _catalog, _dataset

    cat = _catalog(args)
    ds = _dataset(cat, args)
    d = ds.diff(args.snapshot, args.other, limit=args.limit)
    if args.json:
        _dump(d.to_json())
        return 0
    print(f"{d.a} -> {d.b}: {d.counts['added']} added, {d.counts['removed']} removed, "
          f"{d.counts['changed']} changed")
    for e in d.added:
        print(f"+ {e['filename']}")
    for e in d.removed:
        print(f"- {e['filename']}")
    for e in d.changed:
        print(f"~ {e['filename']}  ({', '.join(e['changes'])})")
    if d.truncated:
        print(f"(lists stop at {args.limit} entries; --limit to see more)", file=sys.stderr)
    return 0


def cmd_gc(args) -> int:
    """List (default) or delete binaries that no item anywhere points at."""
    from dsdesk.cli.main import _bar, _catalog

    cat = _catalog(args)
    r = cat.gc(dry_run=not args.delete, on_event=_bar(args))
    if args.json:
        _dump(r)
        return 0
    for c in r.candidates[:50]:
        print(f"{c['size']:>12}  {c['driver']}:{c['key']}")
    verb = "would free" if r.dry_run else "freed"
    done = r.candidate_count if r.dry_run else r.deleted_count
    size = r.candidate_bytes if r.dry_run else r.deleted_bytes
    print(f"{done} unreferenced binaries, {verb} {size} bytes" + (" (dry run: --delete to remove)" if r.dry_run else ""))
    for k in r.kept[:20]:
        print(f"  kept {k['key']}: {k['reason']}")
    if r.orphan_files:
        print(f"{len(r.orphan_files)} orphan files in the internal store" + (" removed" if not r.dry_run else ""))
    if r.shared_store:
        print(f"  note: {r.shared_store}")
    for e in r.errors[:20]:
        print(f"  error: {e}", file=sys.stderr)
    return 0


def register(command) -> None:
    """Add the versioning commands through *command(name, help=...)*, the main parser's sub-command factory."""

    c = command("clone", help="clone a dataset (zero-copy) into a new or an existing dataset")
    c.add_argument("dataset")
    c.add_argument("name", nargs="?", help="name of the new dataset (not with --into)")
    c.add_argument("--into", metavar="DATASET", help="clone into this existing dataset")
    c.add_argument("--target-dir", default=None, help="folder of the destination to clone into (default /)")
    c.add_argument("--query", help="search-bar query selecting the items, e.g. 'split:train'")
    c.add_argument("--dql", help="a file with a DQL JSON query selecting the items")
    c.add_argument("--no-annotations", action="store_true")
    c.add_argument("--no-metadata", action="store_true", help="empty user metadata on the clones")
    c.add_argument("--no-status", action="store_true", help="do not copy task statuses")
    c.set_defaults(func=cmd_clone)

    m = command("merge", help="merge datasets into a new dataset")
    m.add_argument("name", help="name of the merged dataset")
    m.add_argument("datasets", nargs="+", help="DATASET or PROJECT/DATASET, at least two")
    m.add_argument("--with-metadata", action="store_true", help="unite user metadata (first dataset wins)")
    m.add_argument("--no-annotations", action="store_true")
    m.add_argument("--with-status", action="store_true", help="unite task statuses")
    m.add_argument("--json", action="store_true", help="print the merge report as JSON")
    m.set_defaults(func=cmd_merge)

    s = command("snapshot", help="take (NAME), list (--list) or delete (--delete NAME) snapshots")
    s.add_argument("dataset")
    s.add_argument("name", nargs="?")
    s.add_argument("--description")
    s.add_argument("--list", action="store_true")
    s.add_argument("--delete", metavar="NAME")
    s.set_defaults(func=cmd_snapshot)

    r = command("rollback", help="restore a dataset to a snapshot (takes a safety snapshot first)")
    r.add_argument("dataset")
    r.add_argument("snapshot")
    r.set_defaults(func=cmd_rollback)

    d = command("diff", help="items added / removed / changed since a snapshot (or between two)")
    d.add_argument("dataset")
    d.add_argument("snapshot")
    d.add_argument("other", nargs="?", help="a second snapshot (default: the dataset as it is now)")
    d.add_argument("--limit", type=int, default=1000, help="longest list printed (default 1000)")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_diff)

    g = command("gc", help="list (or --delete) binaries no item anywhere points at")
    g.add_argument("--delete", action="store_true", help="delete them (default: dry run)")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_gc)
