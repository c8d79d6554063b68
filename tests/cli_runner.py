"""Run the ``isched`` command line in a fresh interpreter, for the CLI tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def isched(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``isched ARGS`` in a fresh interpreter (the console script's own entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "isched.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
