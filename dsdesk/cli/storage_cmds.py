"""Storage commands: ``dsdesk driver create|list|test|delete`` and ``dsdesk sync DATASET``.

Registered into the main parser by :func:`register`; the helpers (catalog, dataset
resolution, progress bar) are the main module's.
"""

from __future__ import annotations

import json
import sys


def cmd_sync(args) -> int:
    """Sync a dataset with its storage and print the report (JSON with --json)."""
    from dsdesk.cli.main import _bar, _catalog, _dataset

    cat = _catalog(args)
    ds = _dataset(cat, args)
    report = ds.sync(dry_run=args.dry_run, delete_missing=args.delete_missing,
                     restore_deleted=args.restore_deleted, on_event=_bar(args))
    if args.json:
        print(json.dumps(report.to_json(), indent=2, default=str))
        return 0
    print(f"{ds.name}: {report.summary()} in {report.seconds:.1f}s" + (" (resumed)" if report.resumed else ""))
    for e in report.errors[:20]:
        print(f"  {e['key']!r}: {e['error']}", file=sys.stderr)
    if report.error_count > 20:
        print(f"  ... and {report.error_count - 20} more", file=sys.stderr)
    return 0


def cmd_driver(args) -> int:
    """Create, list, test or delete storage drivers of a project."""
    from dsdesk.cli.main import _catalog, _print_json, _project
    from dsdesk.errors import InvalidInputError

    cat = _catalog(args)
    project = _project(cat, args)
    if args.action == "list":
        for d in project.drivers.list():
            print(f"{d.id}\t{d.name}\t{d.type}\t{d.bucket_name}/{d.path}\t{d.endpoint or ''}")
        return 0
    if not args.name:
        raise InvalidInputError(f"driver {args.action} needs a driver NAME")
    if args.action == "create":
        d = project.drivers.create(args.name, driver_type=args.type, bucket_name=args.bucket or "",
                                   path=args.path or "", endpoint=args.endpoint, region=args.region,
                                   credentials=args.credentials, allow_external_delete=args.allow_external_delete,
                                   write_generated=args.write_generated, test=args.test)
        _print_json(d.to_json())
    elif args.action == "test":
        _print_json(project.drivers.get(driver_name=args.name).test(write=args.write))
    elif args.action == "delete":
        project.drivers.delete(driver_name=args.name)
        print(f"deleted driver {args.name}")
    return 0


def register(command) -> None:
    """Add the storage commands through *command(name, help=...)*, the main parser's sub-command factory."""
    sy = command("sync", help="sync a dataset with its bucket or folder")
    sy.add_argument("dataset")
    sy.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    sy.add_argument("--delete-missing", action="store_true",
                    help="delete items whose object vanished (default: mark them missing)")
    sy.add_argument("--restore-deleted", action="store_true",
                    help="bring back items deleted in dsdesk whose objects are still in storage "
                         "(by default sync keeps them out)")
    sy.add_argument("--json", action="store_true", help="print the report as JSON")
    sy.set_defaults(func=cmd_sync)

    from dsdesk.api.drivers import storage_kinds

    dr = command("driver", help="create, list, test or delete storage drivers")
    dr.add_argument("action", choices=["create", "list", "test", "delete"])
    dr.add_argument("name", nargs="?")
    dr.add_argument("--type", default="s3", choices=[k.kind for k in storage_kinds()],
                    help="; ".join(f"{k.kind}: {k.label}" for k in storage_kinds()))
    dr.add_argument("--bucket", help="bucket, container, or (local) folder")
    dr.add_argument("--path", help="prefix inside the bucket")
    dr.add_argument("--endpoint", help="S3-compatible / emulator endpoint, http(s)://host:port")
    dr.add_argument("--region")
    dr.add_argument("--credentials", default=None,
                    help="where the secrets are: env:NAME, file:PATH, profile:NAME, keyring:SERVICE/USER, anonymous")
    dr.add_argument("--allow-external-delete", action="store_true")
    dr.add_argument("--write-generated", action="store_true", help="share thumbnails under <prefix>/.dsdesk/")
    dr.add_argument("--test", action="store_true", help="with create: list the bucket first")
    dr.add_argument("--write", action="store_true", help="with test: also write and delete a test file")
    dr.set_defaults(func=cmd_driver)
