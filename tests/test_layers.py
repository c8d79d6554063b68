"""Imports point one way, down: scheduler < envs < policies < experiments < isched.

The imports of every module are parsed (``ast``), including those inside
functions, so a lazy import that reaches upward fails too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("scheduler", "envs", "policies", "experiments", "isched")
"""Bottom to top: a package may import only the packages below it (and itself)."""


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level project package, line) of every import in the module at ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in LAYERS:
                found.add((top, node.lineno))
    return found


def upward_imports(package: str) -> list[str]:
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for top, line in sorted(imported_packages(path)):
            if top not in allowed:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {top}")
    return bad


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_imports_a_layer_above_it(package: str) -> None:
    assert upward_imports(package) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from policies import make_policy\n    import envs.layout\n")
    assert imported_packages(module) == {("policies", 2), ("envs", 3)}


def test_scheduler_solver_loads_neither_the_env_nor_torch() -> None:
    code = (
        "import sys, scheduler.solver; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('envs', 'torch', 'policies')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
