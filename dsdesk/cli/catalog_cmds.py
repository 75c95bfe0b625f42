"""Catalog commands: ``dsdesk catalog copy SRC DST`` (SQLite <-> PostgreSQL, both ways).

Registered into the main parser by :func:`register`.
"""

from __future__ import annotations


def cmd_catalog(args) -> int:
    """Copy a whole catalog into a new one."""
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


def register(command) -> None:
    """Add the catalog commands to the parser (``command`` makes a sub-command)."""
    c = command("catalog", help="copy a whole catalog between SQLite and PostgreSQL")
    c.add_argument("action", choices=["copy"])
    c.add_argument("src", metavar="SRC", help="the catalog to copy: a file or a database URL")
    c.add_argument("dst", metavar="DST", help="a new catalog: a file that does not exist yet, or an empty database")
    c.set_defaults(func=cmd_catalog)
