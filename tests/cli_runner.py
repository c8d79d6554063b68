"""Run the ``isched`` command line for the CLI tests.

``isched`` runs the command in this interpreter (``isched.cli.main``, the console
script's own entry point): the same exit code, standard output and standard error a
user would see, without paying the imports again for every call. ``isched_process``
runs it in a fresh interpreter, for the tests of the program as a process.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path


def isched(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``isched ARGS`` in this interpreter, as a finished process: exit code, stdout and
    stderr. An exception that escapes ``main`` is printed and exits 1, as Python would."""
    from isched.cli import main

    argv = [str(a) for a in args]
    stdout, stderr = io.StringIO(), io.StringIO()
    here = os.getcwd()
    code: int
    try:
        if cwd is not None:
            os.chdir(cwd)
        with redirect_stdout(stdout), redirect_stderr(stderr), _warnings_to(stderr):
            try:
                main(argv)
                code = 0
            except SystemExit as done:
                code = _exit_code(done.code, stderr)
            except Exception:
                traceback.print_exc(file=stderr)
                code = 1
    finally:
        os.chdir(here)
    written = stdout.getvalue(), stderr.getvalue()
    return subprocess.CompletedProcess(["isched", *argv], code, *written)


def isched_process(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``isched ARGS`` in a fresh interpreter (``python -m isched.cli``)."""
    return subprocess.run(
        [sys.executable, "-m", "isched.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def _exit_code(code: object, stderr: io.StringIO) -> int:
    """``sys.exit``'s rule: None is 0, a whole number is itself, anything else is printed, 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1


@contextmanager
def _warnings_to(stream: io.StringIO) -> Iterator[None]:
    """Warnings printed to ``stream`` under Python's default filters, as a fresh process
    prints them (each once per place), not collected by the test runner."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: object = None, line: str | None = None) -> None:  # fmt: skip
        stream.write(warnings.formatwarning(message, category, filename, lineno, line))

    with warnings.catch_warnings():
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                         ResourceWarning):  # fmt: skip
            warnings.simplefilter("ignore", category)
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        warnings.showwarning = show
        yield
