"""The API and the CLI run with PySide6 absent (issue 13): PySide6 stays the default install, but
a server, a notebook or a headless CI job must not need it.

The API and CLI tests run again in a subprocess whose ``sitecustomize`` installs a meta-path
finder that makes every import of PySide6 or shiboken6 fail as if the wheel were not
installed, so a lazy Qt import anywhere on those paths fails a test there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BLOCK_QT = '''\
import sys


class _NoQt:
    """Pretend PySide6 and shiboken6 are not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6"):
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by tests/test_no_pyside.py)", name=name)
        return None


sys.meta_path.insert(0, _NoQt())
'''


def _env(tmp_path: Path) -> dict[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "sitecustomize.py").write_text(BLOCK_QT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(REPO)])
    env.pop("PYTEST_ADDOPTS", None)
    return env


def test_the_blocker_blocks_pyside6(tmp_path):
    """Guard for the test below: in its environment PySide6 cannot be imported."""
    r = subprocess.run([sys.executable, "-c", "import PySide6.QtCore"], env=_env(tmp_path),
                       capture_output=True, text=True)
    assert r.returncode != 0
    assert "blocked by tests/test_no_pyside.py" in r.stderr


def test_api_and_cli_tests_pass_without_pyside6(tmp_path):
    # -p no:pytest-qt: the pytest-qt plugin itself imports Qt; the API and CLI tests never use it.
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:pytest-qt",
           "-W", "ignore::pytest.PytestConfigWarning", "--basetemp", str(tmp_path / "run"),
           "tests/api", "tests/cli"]
    r = subprocess.run(cmd, cwd=REPO, env=_env(tmp_path / "site"), capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and "skipped" not in summary, summary
