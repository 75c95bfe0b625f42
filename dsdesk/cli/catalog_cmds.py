"""Catalog commands: ``dsdesk catalog copy SRC DST`` (SQLite <-> PostgreSQL, both ways) and
``dsdesk catalog create TARGET [--internal-store s3://BUCKET/PREFIX ...]`` (a new catalog,
its internal binaries in a folder beside it or in a bucket every client of a team reaches).

Registered into the main parser by :func:`register`.
"""

from __future__ import annotations


def cmd_catalog(args) -> int:
    """Copy a whole catalog into a new one, or create one."""
    if args.action == "create":
        return cmd_create(args)
    if not args.dst:
        from dsdesk.errors import InvalidInputError

        raise InvalidInputError("catalog copy needs SRC and DST")
    from dsdesk.api.catalog_copy import copy_catalog

    shown = {"table": None}

    def progress(table: str, rows: int) -> None:
        if args.quiet:
            return
        if table != shown["table"]:
            if shown["table"] is not None:
                print()
            shown["table"] = table
        print(f"\r  {table}: {rows:,} rows", end="", flush=True)

    report = copy_catalog(args.src, args.dst, on_progress=progress)
    if shown["table"] is not None:
        print()
    print(f"copied {report.summary()} into {args.dst}")
    return 0


def cmd_create(args) -> int:
    """Create the catalog SRC (a new file, or an empty PostgreSQL database), with its internal
    store in the bucket ``--internal-store`` names when given."""
    import dsdesk
    from dsdesk.api import catalog_locations, first_start
    from dsdesk.api import internal_store as stores
    from dsdesk.errors import InvalidInputError

    target = args.src
    if catalog_locations.is_server(target):
        found = catalog_locations.check_connection(catalog_locations.with_keyring_password(target))
        if found.catalog != "empty database":
            raise InvalidInputError(f"{catalog_locations.location(target)} is not an empty database "
                                    f"({found.summary()}); open it instead of creating it")
    else:
        target = first_start.new_catalog_path(target)
    spec = None
    if args.internal_store:
        spec = stores.location(args.internal_store, endpoint=args.store_endpoint,
                                       credentials=args.store_credentials, region=args.store_region)
    with dsdesk.open_catalog(target, internal_store=spec) as cat:
        print(f"created {cat.url}; internal store: {stores.describe(cat)}")
    return 0


def register(command) -> None:
    """Add the catalog commands to the parser (``command`` makes a sub-command)."""
    c = command("catalog", help="create a catalog, or copy a whole catalog between SQLite and PostgreSQL")
    c.add_argument("action", choices=["copy", "create"])
    c.add_argument("src", metavar="SRC", help="copy: the catalog to copy; create: the new catalog (a file that "
                                              "does not exist yet, or an empty database)")
    c.add_argument("dst", metavar="DST", nargs="?",
                   help="copy: a new catalog: a file that does not exist yet, or an empty database")
    c.add_argument("--internal-store", metavar="URL",
                   help="create: keep internal binaries in this bucket prefix (s3://B/P, gs://B/P, az://C/P) "
                        "instead of a folder beside the catalog; recorded in the catalog for every client")
    c.add_argument("--store-endpoint", metavar="URL", help="the bucket's endpoint (S3-compatible servers, emulators)")
    c.add_argument("--store-credentials", metavar="REF",
                   help="where the bucket's credentials are: env:NAME, file:PATH, profile:NAME, "
                        "keyring:SERVICE/USER, anonymous or default (never the secret itself)")
    c.add_argument("--store-region", metavar="REGION", help="the bucket's region (S3)")
    c.set_defaults(func=cmd_catalog)
