"""Annotation format commands: ``dsdesk import`` and ``dsdesk export``.

Registered into the main parser by :func:`register`; both run the API's jobs with the
main module's progress bar and print the job's report (``--json`` for all of it).
"""

from __future__ import annotations

import json


def _names() -> list[str]:
    from dsdesk.api.format_jobs import formats

    return [name for name, _ in formats()]


def _print_report(report, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(report.to_json(), indent=2, default=str))
        return
    for line in lines:
        print(line)


def _listed(title: str, entries: list[str], limit: int = 20) -> list[str]:
    if not entries:
        return []
    more = [f"  ... and {len(entries) - limit} more (--json lists all)"] if len(entries) > limit else []
    return [f"{title} ({len(entries)}):"] + [f"  {e}" for e in entries[:limit]] + more


def cmd_import(args) -> int:
    """Import annotations (and, from a folder as it ships, its images) into a dataset."""
    from dsdesk.cli.main import _bar, _catalog, _dataset

    ds = _dataset(_catalog(args), args)
    r = ds.import_annotations(args.path, format=args.format, skip_bad=args.skip_bad,
                              with_images=not args.no_images, on_event=_bar(args))
    _print_report(r, args.json, [
        f"imported {r.annotations_written} annotation(s) onto {r.items_matched} item(s) of {ds.name}"
        + (f", {r.images_uploaded} image(s) uploaded" if r.images_uploaded else ""),
        *(_listed("labels added to the recipe", r.labels_added)),
        *(_listed("entries that matched no item", r.unmatched)),
        *(_listed("skipped", r.skipped)),
    ])
    return 0


def cmd_export(args) -> int:
    """Export a dataset's annotations (and with --images its binaries) in a format."""
    from dsdesk.cli.main import _bar, _catalog, _dataset
    from dsdesk.cli.versioning_cmds import _filters

    ds = _dataset(_catalog(args), args)
    r = ds.export(args.path, format=args.format, filters=_filters(args), with_images=args.images,
                  link=args.link, split_by_folder=args.split, on_event=_bar(args))
    _print_report(r, args.json, [
        f"exported {r.annotations} annotation(s) of {r.items} item(s) to {r.path}"
        + (f", {r.images_copied} image(s)" if r.images_copied else ""),
        *(_listed(f"not carried by {r.format}", r.not_carried)),
    ])
    return 0


def register(command) -> None:
    """Add the import and export commands through *command(name, help=...)*."""
    names = _names()
    i = command("import", help="import annotations (COCO, YOLO, Dataloop JSON ...) into a dataset")
    i.add_argument("dataset")
    i.add_argument("path", help="an annotation file, or a folder (with its images: they are uploaded too)")
    i.add_argument("-f", "--format", required=True, choices=names)
    i.add_argument("--skip-bad", action="store_true", help="write everything else and report what was skipped")
    i.add_argument("--no-images", action="store_true", help="do not upload the folder's images")
    i.add_argument("--json", action="store_true", help="print the whole report as JSON")
    i.set_defaults(func=cmd_import)

    e = command("export", help="export a dataset's annotations in a format")
    e.add_argument("dataset")
    e.add_argument("path", help="the folder to write (COCO: or a .json file)")
    e.add_argument("-f", "--format", required=True, choices=names)
    e.add_argument("--images", action="store_true", help="copy the images beside the annotations")
    e.add_argument("--link", action="store_true", help="with --images: hard-link local binaries instead of copying")
    e.add_argument("--split", action="store_true", help="each top folder is a split (train/val)")
    e.add_argument("--query", help="search-bar query selecting the items, e.g. 'split:train'")
    e.add_argument("--dql", help="a file with a DQL JSON query selecting the items")
    e.add_argument("--json", action="store_true", help="print the whole report as JSON")
    e.set_defaults(func=cmd_export)
