"""The layers hold: only dsdesk.ui imports Qt, and the domain imports without it."""

from __future__ import annotations

import ast
import subprocess
import sys
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


def test_import_linter_contract_holds():
    """The contract in pyproject.toml, checked by import-linter over the whole import graph."""
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                        "sys.exit(lint_imports_command())"], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 kept, 0 broken" in r.stdout
