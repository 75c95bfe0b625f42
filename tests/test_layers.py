"""The layers hold: only dsdesk.ui imports Qt, the domain imports without it, and the
import-linter contracts of pyproject.toml (Qt, layers, catalog/storage independence, the
front ends through the API) are kept, and would fail on a violation."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "dsdesk"
QT = ("PySide6", "shiboken6", "PyQt5", "PyQt6")


def _qt_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found += [f"{path.relative_to(ROOT.parent)}:{node.lineno} {n}" for n in names if n.split(".")[0] in QT]
    return found


def test_only_the_ui_package_imports_qt():
    offenders = []
    for path in ROOT.rglob("*.py"):
        if "ui" in path.relative_to(ROOT).parts[:1]:
            continue
        offenders += _qt_imports(path)
    assert offenders == [], "Qt imported outside dsdesk/ui:\n" + "\n".join(offenders)


def test_domain_and_cli_import_without_loading_qt():
    code = ("import sys, dsdesk, dsdesk.api.catalog, dsdesk.api.items, dsdesk.cli.main, dsdesk.demo, "
            "dsdesk.transfer.upload, dsdesk.query\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


REPO = ROOT.parent
# The console script of the environment running the tests (.venv/bin/lint-imports in a checkout).
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = [c["name"] for c in tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]]


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    # --no-cache: the tmp copy must be analysed as it is, and the checkout gains no cache files.
    # PYTHONPATH: grimp imports the package it analyses from the copy, not the installed checkout.
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": str(LINT_IMPORTS.parent), "PYTHONPATH": str(cwd)})


def test_import_linter_contracts_hold():
    """Every contract in pyproject.toml, checked by import-linter over the whole import graph."""
    r = _lint_imports(REPO)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in r.stdout, r.stdout
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in r.stdout, r.stdout


VIOLATIONS = {
    # each module breaks one contract: Qt below ui, an arrow up, catalog <-> storage, ui around the API
    "dsdesk/api/_violation_qt.py": "import PySide6.QtCore\n",
    "dsdesk/catalog/_violation_up.py": "import dsdesk.versioning.clone\n",
    "dsdesk/storage/_violation_sibling.py": "import dsdesk.catalog.models\n",
    "dsdesk/ui/_violation_around.py": "import dsdesk.catalog.engine\n",
}


def test_import_linter_catches_a_violation(tmp_path):
    """The same contracts on a copy of the tree with one deliberate violation each: all broken."""
    shutil.copytree(ROOT, tmp_path / "dsdesk", ignore=shutil.ignore_patterns("__pycache__", "resources"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    for rel, code in VIOLATIONS.items():
        (tmp_path / rel).write_text(code)
    r = _lint_imports(tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    for name in CONTRACTS:
        assert f"{name} BROKEN" in r.stdout, r.stdout
    for rel in VIOLATIONS:
        assert rel.removesuffix(".py").replace("/", ".") in r.stdout, r.stdout
