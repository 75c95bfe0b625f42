"""A throwaway PostgreSQL server: ``initdb`` in a temporary folder, removed on exit.  The
one way the tests' fixtures and the benchmarks start a server.

    with temporary_server() as pg:
        url = pg.create("bench")                      # a new database, its SQLAlchemy URL
        url2 = pg.create("copy", template="bench")    # a file-level copy of another one

The C locale (``--no-locale``), so text sorts as Python sorts it.  Unix socket only unless
*listen* names an address.  ``fsync`` stays on unless asked off (the tests turn it off for
speed; benchmarks keep it, with ``synchronous_commit=off``, so a commit costs what it costs
on a server less the flush wait, as SQLite's WAL with ``synchronous=NORMAL`` does).
Missing binaries, root without ``runuser`` or a server that will not start raise
:class:`PgUnavailable` (the tests turn that into ``tests.conftest.unavailable``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (and why)."""


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for root, _, files in os.walk("/usr/lib/postgresql"):
        if name in files:
            return os.path.join(root, name)
    raise PgUnavailable(f"PostgreSQL's {name} is not installed (bash scripts/setup.sh test installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running temporary server."""

    socket_dir: str
    port: int
    run_as: list[str]

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of *database* as the superuser over the Unix socket."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create(self, database: str, template: str | None = None, owner: str | None = None) -> str:
        """Create *database* (a copy of *template*, owned by *owner*, when given); its URL."""
        args = (["-T", template] if template else []) + (["-O", owner] if owner else [])
        subprocess.run([*self.run_as, _binary("createdb"), "-h", self.socket_dir, "-p", str(self.port),
                        "-U", "postgres", *args, database], check=True, capture_output=True)
        return self.url(database)

    def psql(self, sql: str, database: str = "postgres") -> None:
        """Run *sql* as the superuser."""
        subprocess.run([*self.run_as, _binary("psql"), "-h", self.socket_dir, "-p", str(self.port), "-U",
                        "postgres", "-d", database, "-q", "-c", sql], check=True, capture_output=True)


@contextlib.contextmanager
def temporary_server(*, fsync: bool = True, listen: str = "", initdb_args: Sequence[str] = ("-A", "trust"),
                     settings: Sequence[str] = ()) -> Iterator[Server]:
    """Start a server for the duration of the block.

    *initdb_args* replace the default trust authentication (a test of passwords passes
    ``--auth-host=scram-sha-256 --pwfile=...``); *settings* are extra ``-c name=value``.
    """
    run_as: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        if not shutil.which("runuser"):
            raise PgUnavailable("cannot run PostgreSQL as root without runuser")
        run_as = ["runuser", "-u", "postgres", "--"]
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    base = tempfile.mkdtemp(prefix="dsdesk-pg-")
    os.chmod(base, 0o777)
    data, port = os.path.join(base, "data"), _free_port()
    opts = [f"-p {port}", f"-k {base}", f"-c listen_addresses='{listen}'", *(f"-c {s}" for s in settings)]
    opts += ["-c fsync=off"] if not fsync else ["-c synchronous_commit=off"]
    try:
        subprocess.run([*run_as, initdb, "-D", data, "-U", "postgres", "--no-locale", "-E", "UTF8",
                        *initdb_args, *([] if fsync else ["--no-sync"])], check=True, capture_output=True)
        subprocess.run([*run_as, pg_ctl, "-D", data, "-w", "-l", os.path.join(base, "log"), "-o", " ".join(opts),
                        "start"], check=True, capture_output=True)
    except subprocess.CalledProcessError as e:
        shutil.rmtree(base, ignore_errors=True)
        raise PgUnavailable(f"cannot start PostgreSQL: {e.stderr.decode(errors='replace').strip()}") from e
    try:
        yield Server(base, port, run_as)
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
