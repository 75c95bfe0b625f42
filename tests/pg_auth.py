"""A throw-away PostgreSQL server that checks passwords (scram-sha-256 over TCP on 127.0.0.1),
for the tests of opening a team catalog: the suite's usual server (tests/versioning/
test_postgres.py) trusts everyone, so a wrong password would pass there.

``pg_auth_server`` (module scope) yields a :class:`PasswordServer` with one user,
:data:`USER`, whose password is :data:`PASSWORD`, owning the database :data:`DATABASE`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass

import pytest

from tests.conftest import unavailable

USER = "alice"
PASSWORD = "Tr0ub4dor-and-3-horses"
DATABASE = "team"


@dataclass
class PasswordServer:
    """Where the server listens, and how to make more databases on it."""

    host: str
    port: int
    socket_dir: str
    run_as: list[str]

    def createdb(self, name: str) -> str:
        """A new empty database owned by :data:`USER`; returns its name."""
        subprocess.run([*self.run_as, "createdb", "-h", self.socket_dir, "-p", str(self.port), "-U", "postgres",
                        "-O", USER, name], check=True, capture_output=True)
        return name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_auth_server():
    if not shutil.which("pg_ctl") or not shutil.which("initdb"):
        unavailable("PostgreSQL is not installed")
    run_as = []
    if os.geteuid() == 0:
        if not shutil.which("runuser"):
            unavailable("cannot run PostgreSQL as root")
        run_as = ["runuser", "-u", "postgres", "--"]
    base = tempfile.mkdtemp(prefix="dsdesk-pgauth-")
    os.chmod(base, 0o777)
    data, port = os.path.join(base, "data"), _free_port()
    pwfile = os.path.join(base, "pw")
    with open(pwfile, "w") as f:
        f.write("postgres-superuser-pw\n")
    os.chmod(pwfile, 0o644)
    try:
        subprocess.run([*run_as, "initdb", "-D", data, "--auth-local=trust", "--auth-host=scram-sha-256",
                        "-U", "postgres", f"--pwfile={pwfile}", "--no-sync"], check=True, capture_output=True)
        subprocess.run([*run_as, "pg_ctl", "-D", data, "-w", "-l", os.path.join(base, "log"), "-o",
                        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as e:
        unavailable(f"cannot start PostgreSQL: {e.stderr}")
    psql = [*run_as, "psql", "-h", base, "-p", str(port), "-U", "postgres", "-q", "-c"]
    subprocess.run([*psql, f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"], check=True, capture_output=True)
    server = PasswordServer("127.0.0.1", port, base, run_as)
    server.createdb(DATABASE)
    yield server
    subprocess.run([*run_as, "pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(base, ignore_errors=True)
