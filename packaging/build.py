"""Build the self-contained Linux bundle: ``python packaging/build.py``.

Writes ``dist/dsdesk-<version>-linux-<arch>.tar.gz``: one folder ``dsdesk-<version>/`` holding
the PyInstaller one-folder app (the ``dsdesk`` executable is the GUI and the CLI), the
``.desktop`` file, the app icon and ``install.sh``.  A user unpacks it and runs
``dsdesk-<version>/install.sh``.

Why PyInstaller rather than briefcase: briefcase's Linux formats are system packages built
per distribution (deb, rpm) or AppImage/Flatpak, which download a Python build and a runtime
at build time; PyInstaller bundles the interpreter and the libraries of the venv it runs in,
offline, and has maintained hooks for PySide6 (Qt's platform, image-format and icon-engine
plugins) and for botocore, fsspec and keyring.

One-folder, not one-file: a one-file app unpacks itself to a temporary folder on every start
(seconds for Qt), and each job or thumbnail worker process would pay that again.

Options: ``--dist DIR`` (where the archive goes, default ``dist/``), ``--work DIR``
(PyInstaller's build folder, default ``build/pyinstaller``), ``--keep`` (keep the unpacked
folder next to the archive).  Prints the archive's path on the last line.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Imported by name at run time (fsspec's registry, lazy imports in the drivers and the
# CLI, keyring's backends), so PyInstaller's import scan cannot see them.
HIDDEN_PACKAGES = ["dsdesk", "s3fs", "gcsfs", "adlfs", "keyring.backends", "psycopg", "sqlalchemy.dialects"]
# Read through importlib.metadata by themselves or by their dependencies (versions, entry points).
METADATA = ["dsdesk", "fsspec", "s3fs", "gcsfs", "adlfs", "keyring", "aiobotocore", "botocore",
            "google-cloud-storage", "azure-storage-blob", "psycopg", "SQLAlchemy", "alembic", "Pillow"]
# Never used by dsdesk: left out so the bundle stays small.
EXCLUDES = ["tkinter", "pytest", "hypothesis", "moto", "IPython", "matplotlib", "PyInstaller", "setuptools",
            "pip", "numpy.tests", "pandas", "PySide6.QtNetwork", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtOpenGL"]


def version() -> str:
    """dsdesk's version (``dsdesk.__version__``, the one source of truth)."""
    sys.path.insert(0, str(REPO))
    import dsdesk

    return dsdesk.__version__


def archive_name(ver: str) -> str:
    """``dsdesk-<version>-linux-<arch>``: the archive's and its top folder's stem."""
    return f"dsdesk-{ver}-linux-{platform.machine()}"


def pyinstaller_args(dist: Path, work: Path) -> list[str]:
    """The PyInstaller command line of the bundle."""
    sep = ":"
    args = ["--noconfirm", "--clean", "--onedir", "--name", "dsdesk", "--log-level", "WARN",
            "--distpath", str(dist), "--workpath", str(work), "--specpath", str(work),
            # Alembic loads the migration scripts from files, not through imports.
            "--add-data", f"{REPO / 'dsdesk' / 'catalog' / 'migrations'}{sep}dsdesk/catalog/migrations",
            "--add-data", f"{REPO / 'dsdesk' / 'resources'}{sep}dsdesk/resources",
            "--icon", str(REPO / "dsdesk" / "resources" / "icons" / "app.svg")]
    for pkg in HIDDEN_PACKAGES:
        args += ["--collect-submodules", pkg]
    for dist_name in METADATA:
        args += ["--copy-metadata", dist_name]
    for mod in EXCLUDES:
        args += ["--exclude-module", mod]
    return args + [str(HERE / "dsdesk_launcher.py")]


def build(dist_dir: Path, work_dir: Path, keep: bool = False) -> Path:
    """Run PyInstaller and pack the archive; returns the archive's path."""
    try:
        import PyInstaller.__main__
    except ImportError:
        raise SystemExit("packaging/build.py: PyInstaller is not installed in this Python; run it with the "
                         "checkout's venv (.venv/bin/python packaging/build.py, after scripts/setup.sh test)") from None

    ver = version()
    stem = archive_name(ver)
    app_dist = work_dir / "app"
    PyInstaller.__main__.run(pyinstaller_args(app_dist, work_dir / "work"))
    top = work_dir / f"dsdesk-{ver}"
    if top.exists():
        shutil.rmtree(top)
    shutil.move(str(app_dist / "dsdesk"), top)
    shutil.copy(HERE / "install.sh", top / "install.sh")
    shutil.copy(REPO / "dsdesk" / "resources" / "dsdesk.desktop", top / "dsdesk.desktop")
    shutil.copy(REPO / "dsdesk" / "resources" / "icons" / "app.svg", top / "dsdesk.svg")
    (top / "install.sh").chmod(0o755)
    dist_dir.mkdir(parents=True, exist_ok=True)
    archive = dist_dir / f"{stem}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(top, arcname=top.name)
    if keep:
        kept = dist_dir / top.name
        if kept.exists():
            shutil.rmtree(kept)
        shutil.move(str(top), kept)
    else:
        shutil.rmtree(top)
    return archive


def main(argv: list[str] | None = None) -> int:
    """``python packaging/build.py [--dist DIR] [--work DIR] [--keep]``."""
    ap = argparse.ArgumentParser(description="Build dsdesk's Linux bundle (PyInstaller, one folder, tar.gz).")
    ap.add_argument("--dist", type=Path, default=REPO / "dist", help="where the archive goes (default dist/)")
    ap.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller", help="PyInstaller's build folder")
    ap.add_argument("--keep", action="store_true", help="keep the unpacked bundle folder next to the archive")
    a = ap.parse_args(argv)
    t0 = time.monotonic()
    archive = build(a.dist.resolve(), a.work.resolve(), keep=a.keep)
    size = archive.stat().st_size
    print(f"built in {time.monotonic() - t0:.0f} s, {size / 1e6:.1f} MB compressed")
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
