"""A throw-away PostgreSQL server that checks passwords (scram-sha-256 over TCP on 127.0.0.1),
for the tests of opening a team catalog: the suite's usual server trusts everyone, so a
wrong password would pass there.  Started by the one server helper
(``tests.conftest.postgres_server``, i.e. ``benchmarks.pgserver``).

``pg_auth_server`` (module scope) yields a :class:`PasswordServer` with one user,
:data:`USER`, whose password is :data:`PASSWORD`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import pytest

from tests.conftest import postgres_server

USER = "alice"
PASSWORD = "Tr0ub4dor-and-3-horses"
HOST = "127.0.0.1"


@dataclass
class PasswordServer:
    """Where the server listens, and how to make databases on it."""

    host: str
    port: int
    server: object  # benchmarks.pgserver.Server

    def createdb(self, name: str) -> str:
        """A new empty database owned by :data:`USER`; returns its name."""
        self.server.create(name, owner=USER)
        return name


@pytest.fixture(scope="module")
def pg_auth_server():
    fd, pwfile = tempfile.mkstemp(prefix="dsdesk-pgpw-")
    with os.fdopen(fd, "w") as f:
        f.write("postgres-superuser-pw\n")  # the superuser's, over TCP; the socket trusts it
    os.chmod(pwfile, 0o644)  # initdb runs as the postgres user
    try:
        yield from _started(pwfile)
    finally:
        os.unlink(pwfile)


def _started(pwfile: str):
    with postgres_server(listen=HOST, initdb_args=("--auth-local=trust", "--auth-host=scram-sha-256",
                                                    f"--pwfile={pwfile}")) as server:
        server.psql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'")
        yield PasswordServer(HOST, server.port, server)
