"""A throwaway PostgreSQL server for benchmarks: ``initdb`` in a temporary folder, a Unix
socket only, the C locale (so text sorts as Python sorts it), removed on exit.

    with temporary_server() as pg:
        url = pg.create("bench")            # a new database, its SQLAlchemy URL
        url2 = pg.create("copy", template="bench")   # a file-level copy of another one

Unlike the tests' fixture this keeps ``fsync`` on and sets ``synchronous_commit=off``:
commits cost what they cost on a server, less the flush wait, much as SQLite's WAL with
``synchronous=NORMAL`` does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for root, _, files in os.walk("/usr/lib/postgresql"):
        if name in files:
            return os.path.join(root, name)
    raise RuntimeError(f"PostgreSQL's {name} is not installed (bash scripts/setup.sh test installs it)")


@dataclass
class Server:
    """A running temporary server."""

    socket_dir: str
    port: int
    run_as: list[str]

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of *database* on this server."""
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create(self, database: str, template: str | None = None) -> str:
        """Create *database* (a copy of *template* when given) and return its URL."""
        args = ["-T", template] if template else []
        subprocess.run([*self.run_as, _binary("createdb"), "-h", self.socket_dir, "-p", str(self.port),
                        "-U", "postgres", *args, database], check=True, capture_output=True)
        return self.url(database)


@contextlib.contextmanager
def temporary_server(port: int = 54329) -> Iterator[Server]:
    """Start a server for the duration of the block."""
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = tempfile.mkdtemp(prefix="dsdesk-bench-pg-")
    os.chmod(base, 0o777)
    data = os.path.join(base, "data")
    subprocess.run([*run_as, _binary("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-locale",
                    "-E", "UTF8"], check=True, capture_output=True)
    opts = (f"-p {port} -k {base} -c listen_addresses='' -c synchronous_commit=off -c shared_buffers=1GB "
            "-c max_wal_size=8GB -c work_mem=64MB -c maintenance_work_mem=512MB")
    subprocess.run([*run_as, _binary("pg_ctl"), "-D", data, "-w", "-l", os.path.join(base, "log"), "-o", opts,
                    "start"], check=True, capture_output=True)
    try:
        yield Server(base, port, run_as)
    finally:
        subprocess.run([*run_as, _binary("pg_ctl"), "-D", data, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
