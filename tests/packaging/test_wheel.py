"""The wheel works outside the checkout: resources ship inside it, the window opens with its
icons, and ``dsdesk --version`` tells the one version.

The wheel is built offline from a copy of the source (``--no-build-isolation``) and installed
``--no-deps`` into a fresh venv in ``tmp_path``; that venv sees the checkout venv's
site-packages through a ``.pth`` path line (the dependencies, no network), but not the
checkout's editable install of dsdesk: a path line does not run the editable finder's hook,
and the venv's own site-packages, holding the wheel, comes first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import dsdesk

REPO = Path(__file__).resolve().parents[2]


def _run(cmd, cwd, timeout=240, env=None):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with the wheel installed: (venv dir, wheel path)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    shutil.copy(REPO / "pyproject.toml", src)
    shutil.copy(REPO / "README.md", src)
    shutil.copytree(REPO / "dsdesk", src / "dsdesk", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--no-index", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("dsdesk-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    py = venv / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp).stdout.strip())
    (site / "_checkout_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], cwd=tmp)
    return venv, wheel


def _env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DSDESK_", "PYTHON"))}
    env.update(QT_QPA_PLATFORM="offscreen", DSDESK_DATA_DIR=str(tmp_path / "data"),
               DSDESK_CONFIG_DIR=str(tmp_path / "config"))
    return env


def test_the_wheel_ships_the_resources(installed):
    import zipfile

    _venv, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "dsdesk/resources/icons/app.svg" in names
    assert "dsdesk/resources/dsdesk.desktop" in names
    assert any(n.startswith("dsdesk/catalog/migrations/versions/0001") for n in names)


def test_version_comes_from_one_place(installed, tmp_path):
    venv, wheel = installed
    out = _run([str(venv / "bin" / "dsdesk"), "--version"], cwd=tmp_path, env=_env(tmp_path)).stdout
    assert out.strip() == f"dsdesk {dsdesk.__version__}"
    assert wheel.name.startswith(f"dsdesk-{dsdesk.__version__}-")
    meta = _run([str(venv / "bin" / "python"), "-c", "import importlib.metadata as m; print(m.version('dsdesk'))"],
                cwd=tmp_path, env=_env(tmp_path)).stdout
    assert meta.strip() == dsdesk.__version__


def test_installed_app_opens_the_window_with_its_icons(installed, tmp_path):
    venv, _wheel = installed
    probe = textwrap.dedent("""
        import sys
        from pathlib import Path
        import dsdesk
        from dsdesk.ui.app import make_application
        from dsdesk.ui.icons import icon, icons_dir
        app = make_application()
        assert Path(dsdesk.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), dsdesk.__file__
        assert icons_dir().resolve().is_relative_to(Path(sys.prefix).resolve()), icons_dir()
        for name in ("app", "folder", "dataset-master"):
            assert not icon(name).pixmap(32, 32).isNull(), name
        assert not app.windowIcon().isNull()
        print("icons from", icons_dir())
    """)
    env = _env(tmp_path)
    out = _run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, env=env).stdout
    assert "icons from" in out and str(REPO) not in out
    cat = tmp_path / "cat.sqlite"
    dsdesk_bin = str(venv / "bin" / "dsdesk")
    _run([dsdesk_bin, "--catalog", str(cat), "demo", "--no-gui", "--images", "6", "-q"], cwd=tmp_path, env=env)
    _run([dsdesk_bin, "--catalog", str(cat), "--quit-after", "2"], cwd=tmp_path, env=env)
