"""One job in its own process: ``python -m isched.web.worker JOB_DIR SOLVER TIME_LIMIT WORKERS``.

The job runner starts this process per job, so a solve can be cancelled or
timed out (the process is killed) without harming the server. It reads
``JOB_DIR/tables``, solves (re-planning from ``previous.csv`` when present),
writes ``out/`` atomically (and ``out/diff.json`` for a re-plan) and exits 0;
on bad input it writes the one-line reason to ``error.txt`` and exits 2. It
exits at once when the server that started it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

from isched.web import jobfiles

EXIT_BAD_INPUT = 2
PR_SET_PDEATHSIG = 1
NICENESS = 10
SERVER_PID = "ISCHED_SERVER_PID"
"""The environment variable naming the server process that started the worker."""


def _watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def die_with_parent(parent: int) -> None:
    """Exit when the server process ``parent`` is gone, even in the middle of a solve.

    On Linux the kernel sends SIGKILL (``PR_SET_PDEATHSIG``: no Python code needs
    to run, so a solver holding the interpreter cannot delay it); elsewhere a
    thread watches the parent id.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the line above
        os._exit(3)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _phase(job_dir: Path, phase: str) -> None:
    jobfiles.write_json(job_dir / jobfiles.PROGRESS, {"phase": phase, "at": time.time()})


def run(job_dir: Path, solver: str, time_limit: float, workers: int) -> None:
    """Solve the job in ``job_dir`` and write its outputs (raises on failure)."""
    import pandas as pd

    from isched.web.diff import replan_diff
    from scheduler.solver import SolveOptions, solve_snapshot
    from scheduler.solver.registry import built_in

    if not built_in(solver):
        import policies.learned_solver  # noqa: F401  (registers rl:MODEL_DIR)

    previous = job_dir / jobfiles.PREVIOUS
    _phase(job_dir, f"solving ({solver}, up to {time_limit:g} s)")
    options = SolveOptions(solver=solver, time_limit=time_limit, workers=workers, seed=0)
    result = solve_snapshot(
        job_dir / jobfiles.TABLES, options, previous if previous.exists() else None
    )
    _phase(job_dir, "writing the results")
    out = job_dir / jobfiles.OUT
    result.write(out)
    if result.previous is not None:
        before, edited = result.previous, None  # a job from before parent.csv was kept
        parent = job_dir / jobfiles.PARENT_PLAN
        if parent.is_file():  # the diff is against the plan as sent
            before, edited = pd.read_csv(parent, dtype=str, keep_default_na=False), before
        diff = replan_diff(before, result.schedule, result.report, result.problem.snapshot, edited)
        jobfiles.write_json(out / "diff.json", diff)


def main(argv: list[str]) -> int:
    job_dir, solver, time_limit, workers = Path(argv[0]), argv[1], float(argv[2]), int(argv[3])
    die_with_parent(int(os.environ.get(SERVER_PID, os.getppid())))
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)  # the server answers first; a solve takes what is left
    from scheduler.table_schema import TableError

    try:
        run(job_dir, solver, time_limit, workers)
    except (TableError, ValueError) as problem:
        line = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        jobfiles.write_atomic(job_dir / jobfiles.ERROR, line + "\n")
        return EXIT_BAD_INPUT
    except Exception as problem:  # reported as the job's failure, never the server's
        traceback.print_exc()
        first = str(problem).splitlines()[0] if str(problem) else ""
        jobfiles.write_atomic(job_dir / jobfiles.ERROR, f"{type(problem).__name__}: {first}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
