"""The ``dsdesk`` command: the GUI launcher and headless commands.

``dsdesk`` with no arguments opens the GUI on the default catalog.  Every other command
works without a screen.  Datasets are named ``DATASET`` (when the catalog has one
project, or with ``-p PROJECT``) or ``PROJECT/DATASET``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from dsdesk.cli.progress import ProgressBar
from dsdesk.errors import DsdeskError, InvalidInputError, NotFoundError


def _catalog(args):
    import dsdesk

    return dsdesk.open_catalog(args.catalog, read_only=bool(getattr(args, "read_only", False)))


def _project(cat, args, spec: str | None = None):
    name = getattr(args, "project", None)
    if spec and "/" in spec:
        name = spec.split("/", 1)[0]
    if name:
        return cat.projects.get(project_name=name)
    projects = cat.projects.list()
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise NotFoundError("the catalog has no project yet: `dsdesk project create NAME` or `dsdesk demo`")
    raise InvalidInputError("the catalog has several projects: name one with -p PROJECT or PROJECT/DATASET "
                            f"({', '.join(p.name for p in projects)})")


def _dataset(cat, args, spec: str | None = None):
    spec = spec if spec is not None else args.dataset
    project = _project(cat, args, spec)
    name = spec.split("/", 1)[1] if "/" in spec else spec
    return project.datasets.get(dataset_name=name)


def _bar(args) -> ProgressBar:
    return ProgressBar(enabled=not getattr(args, "quiet", False))


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, default=str))


# ---- commands ---------------------------------------------------------------------------

def cmd_gui(args) -> int:
    from dsdesk.ui.app import run_app

    return run_app(args.catalog, getattr(args, "quit_after", None))


def cmd_demo(args) -> int:
    from dsdesk.demo import build_demo

    cat = _catalog(args)
    project = build_demo(cat, n_images=args.images, on_event=_bar(args))
    print(f"demo project '{project.name}' ready in {cat.url}")
    if args.no_gui:
        return 0
    target = cat.raw_url  # the demo's catalog, not the one the window would remember
    cat.close()
    from dsdesk.ui.app import run_app

    return run_app(target, getattr(args, "quit_after", None))


def cmd_project(args) -> int:
    cat = _catalog(args)
    if args.action == "create":
        p = cat.projects.create(args.name)
        print(f"created project {p.name} ({p.id})")
    elif args.action == "delete":
        cat.projects.delete(project_name=args.name)
        print(f"deleted project {args.name}")
    else:
        for p in cat.projects.list():
            print(p.name)
    return 0


def cmd_dataset(args) -> int:
    cat = _catalog(args)
    if args.action == "create":
        project = _project(cat, args, args.name)
        name = args.name.split("/", 1)[-1]
        labels = [s for s in (args.labels or "").split(",") if s]
        ds = project.datasets.create(name, labels=labels or None)
        print(f"created dataset {ds.name} ({ds.id})")
    elif args.action == "delete":
        ds = _dataset(cat, args, args.name)
        ds.delete()
        print(f"moved dataset {ds.name} to the trash (restore with: dsdesk dataset restore {ds.id})")
    elif args.action == "restore":
        project = _project(cat, args)
        ds = project.datasets.restore(int(args.name))
        print(f"restored dataset {ds.name}")
    elif args.action == "purge":
        project = _project(cat, args)
        n = project.datasets.purge(int(args.name) if args.name else None, on_event=_bar(args))
        print(f"purged {n} dataset(s)")
    else:
        project = _project(cat, args)
        rows = project.datasets.list()
        trash = project.datasets.trash() if args.trash else []
        for d in rows:
            print(f"{d.name:<30} {d.kind:<8} {d.items_count:>9} items {d.annotated_percent:5.1f}% annotated"
                  f"{'  read-only' if d.readonly else ''}")
        for d in trash:
            print(f"{d.name:<30} (trash, id {d.id}, deleted {d.deleted_at:%Y-%m-%d %H:%M})")
    return 0


def cmd_upload(args) -> int:
    cat = _catalog(args)
    ds = _dataset(cat, args)
    meta = json.loads(args.metadata) if args.metadata else None
    items = ds.items.upload(local_path=args.local_path if len(args.local_path) > 1 else args.local_path[0],
                            remote_path=args.remote_path, item_metadata=meta, overwrite=args.overwrite,
                            on_event=_bar(args))
    items = items if isinstance(items, list) else [items]
    print(f"uploaded {len(items)} item(s) to {ds.name}:{args.remote_path}")
    return 0


def _ls_filters(args):
    """The listing's filter: a DQL dict from --dql, else the folder view of PATH with --query."""
    if args.dql:
        try:
            with open(args.dql) as f:
                return json.load(f)
        except json.JSONDecodeError as e:
            raise InvalidInputError(f"{args.dql} is not valid JSON: {e}") from e
    from dsdesk.api.queries import folder_path, scoped_filter

    folder = folder_path(args.path)
    if folder == "/" and args.query and not args.recursive:
        # A search with no folder searches the whole dataset, as the GUI's search bar does.
        folder = None
    return scoped_filter(folder, args.query or "", recursive=args.recursive)


def cmd_ls(args) -> int:
    cat = _catalog(args)
    ds = _dataset(cat, args)
    filters = _ls_filters(args)
    if not args.query and not args.dql and not args.json:
        # Folders first, like a file manager.
        from dsdesk.api.queries import folder_path

        for d in ds.directory_tree.children(folder_path(args.path)):
            print(f"{d.name}/{'':<{max(1, 40 - len(d.name))}} {d.total:>9} items")
    pages = ds.items.list(filters=filters, page_size=args.limit if args.limit and args.limit <= 1000 else 1000)
    shown = 0
    for item in pages.all():
        if args.json:
            print(json.dumps(item.to_json(), default=str))
        else:
            flags = ("A" if item.annotated else "-") + ("M" if item.missing else "-") + ("C" if item.changed else "-")
            print(f"{flags} {item.filename:<60} {item.size:>10} {item.mimetype or ''}")
        shown += 1
        if args.limit and shown >= args.limit:
            break
    return 0


def cmd_info(args) -> int:
    cat = _catalog(args)
    if not args.target:
        from dsdesk.api.internal_store import describe

        print(f"catalog: {cat.url}")
        print(f"internal store: {describe(cat)}")
        for p in cat.projects.list():
            ds = p.datasets.list()
            print(f"project {p.name}: {len(ds)} dataset(s), {sum(d.items_count for d in ds)} items")
        return 0
    spec, _, path = args.target.partition(":")
    ds = _dataset(cat, args, spec)
    if path:
        _print_json(ds.items.get(filepath=path).to_json())
    else:
        j = ds.to_json()
        j["foldersCount"], j["bytes"], j["labels"] = ds.folders_count, ds.bytes_total, ds.label_names
        _print_json(j)
    return 0


def cmd_mkdir(args) -> int:
    cat = _catalog(args)
    ds = _dataset(cat, args)
    print(ds.items.make_dir(args.path))
    return 0


def cmd_mv(args) -> int:
    ds = _dataset(_catalog(args), args)
    if ds.items.folder_exists(args.src):
        print(ds.items.move_folder(args.src, args.dest))
    else:
        print(ds.items.get(filepath=args.src).move(args.dest).filename)
    return 0


def cmd_rm(args) -> int:
    ds = _dataset(_catalog(args), args)
    if ds.items.folder_exists(args.path):
        if not args.recursive:
            raise InvalidInputError(f"{args.path} is a folder: use -r to delete it with everything under it")
        n = ds.items.delete(folder=args.path)
    else:
        n = ds.items.delete(filename=args.path)
    print(f"deleted {n} item(s)")
    return 0


def cmd_download(args) -> int:
    cat = _catalog(args)
    ds = _dataset(cat, args)
    out = ds.download(args.local_path, to_items_folder=not args.flat,
                      annotation_options="json" if args.annotations else None, on_event=_bar(args))
    print(f"downloaded {ds.name} to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and for extension by other commands)."""
    from dsdesk import __version__

    p = argparse.ArgumentParser(prog="dsdesk", description="Dataset curation: catalog, cloud sync, versioning.")
    p.add_argument("--version", action="version", version=f"dsdesk {__version__}")
    # The common options work before or after the command (`dsdesk -p demo ls cars` or `dsdesk ls cars -p demo`).
    common = argparse.ArgumentParser(add_help=False)
    for parser, default in ((p, None), (common, argparse.SUPPRESS)):
        parser.add_argument("--catalog", default=default, metavar="PATH_OR_URL",
                            help="catalog file or database URL (default: $DSDESK_CATALOG or the user data directory)")
        parser.add_argument("-p", "--project", default=default, help="project name (default: the only project)")
        parser.add_argument("-q", "--quiet", action="store_true", default=default if default else False,
                            help="no progress bars")
        parser.add_argument("--read-only", action="store_true", default=default if default else False,
                            help="open the catalog without writing to it (also one a newer dsdesk upgraded)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, **kw) -> argparse.ArgumentParser:
        """A sub-command that also takes the common options."""
        return sub.add_parser(name, parents=[common], **kw)

    # --quit-after: the window starts for real and the app exits with status 0 (smoke tests
    # of the wheel and the bundle).  On the top level too, since `dsdesk` alone opens the window.
    p.add_argument("--quit-after", type=float, default=None, metavar="SECONDS", help=argparse.SUPPRESS)
    g = command("gui", help="open the main window (the default)")
    g.set_defaults(func=cmd_gui)

    d = command("demo", help="build a demo project and open it")
    for gui_parser in (g, d):
        gui_parser.add_argument("--quit-after", type=float, default=argparse.SUPPRESS, metavar="SECONDS",
                                help="close the window after SECONDS (smoke tests)")
    d.add_argument("--no-gui", action="store_true", help="only build the demo")
    d.add_argument("--images", type=int, default=240, help="how many images to make (default 240)")
    d.set_defaults(func=cmd_demo)

    pr = command("project", help="create, list or delete projects")
    pr.add_argument("action", choices=["create", "list", "delete"])
    pr.add_argument("name", nargs="?")
    pr.set_defaults(func=cmd_project)

    ds = command("dataset", help="create, list, delete, restore or purge datasets")
    ds.add_argument("action", choices=["create", "list", "delete", "restore", "purge"])
    ds.add_argument("name", nargs="?", help="dataset name (create/delete) or id (restore/purge)")
    ds.add_argument("--labels", help="comma-separated labels for create")
    ds.add_argument("--trash", action="store_true", help="with list: show the trash too")
    ds.set_defaults(func=cmd_dataset)

    u = command("upload", help="upload files or folders into a dataset")
    u.add_argument("dataset")
    u.add_argument("local_path", nargs="+")
    u.add_argument("--remote-path", default="/", help="target folder (default /)")
    u.add_argument("--metadata", help='JSON of item metadata, e.g. \'{"user": {"src": "cam1"}}\'')
    u.add_argument("--overwrite", action="store_true")
    u.set_defaults(func=cmd_upload)

    ls = command("ls", help="list folders and items")
    ls.add_argument("dataset")
    ls.add_argument("path", nargs="?", default="/")
    ls.add_argument("-r", "--recursive", action="store_true", help="items below the folder too")
    ls.add_argument("--query", help="search-bar query, e.g. 'split:train label:car'")
    ls.add_argument("--dql", help="a file with a DQL JSON query")
    ls.add_argument("--json", action="store_true", help="one item JSON per line")
    ls.add_argument("--limit", type=int, default=0)
    ls.set_defaults(func=cmd_ls)

    i = command("info", help="catalog, dataset (DATASET) or item (DATASET:/path) details")
    i.add_argument("target", nargs="?")
    i.set_defaults(func=cmd_info)

    m = command("mkdir", help="create a folder (parents too)")
    m.add_argument("dataset")
    m.add_argument("path")
    m.set_defaults(func=cmd_mkdir)

    mv = command("mv", help="move or rename an item or a folder")
    mv.add_argument("dataset")
    mv.add_argument("src")
    mv.add_argument("dest", help="a folder ending in / (or an existing folder) to move into, else a new path")
    mv.set_defaults(func=cmd_mv)

    rm = command("rm", help="delete an item, or a folder with -r")
    rm.add_argument("dataset")
    rm.add_argument("path")
    rm.add_argument("-r", "--recursive", action="store_true")
    rm.set_defaults(func=cmd_rm)

    dl = command("download", help="download a dataset keeping its folders")
    dl.add_argument("dataset")
    dl.add_argument("local_path")
    dl.add_argument("--flat", action="store_true", help="no items/ sub-folder")
    dl.add_argument("--annotations", action="store_true", help="also write json/<path>.json annotation files")
    dl.set_defaults(func=cmd_download)

    from dsdesk.cli import storage_cmds  # sync and driver commands

    storage_cmds.register(command)
    from dsdesk.cli import versioning_cmds  # clone, merge, snapshot, rollback, diff, gc

    versioning_cmds.register(command)
    from dsdesk.cli import format_cmds  # import, export

    format_cmds.register(command)
    from dsdesk.cli import catalog_cmds  # catalog copy

    catalog_cmds.register(command)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dsdesk`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", cmd_gui)
    try:
        return func(args) or 0
    except DsdeskError as e:
        print(f"dsdesk: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dsdesk: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dsdesk ls | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
