"""Ctrl-C ends a CP-SAT search at once with ``KeyboardInterrupt`` (CP-SAT's own handler
would end only the search and let the caller go on), and ``isched solve`` then writes
nothing and exits 130 with one line; ``isched bound`` says how many seasons it had
bounded and writes no row."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import isched
from ortools.sat.python import cp_model

from scheduler import interruptible

SEARCH = """
import sys, time
from ortools.sat.python import cp_model
from scheduler import interruptible
sys.path.insert(0, "tests")
from test_interruptible import hard_model
model, _ = hard_model()
solver = cp_model.CpSolver()
solver.parameters.max_time_in_seconds = 60
solver.parameters.num_workers = int(sys.argv[1])
print("searching", flush=True)
began = time.monotonic()
try:
    interruptible.solve(solver, model)
except KeyboardInterrupt:
    print(f"interrupted {time.monotonic() - began:.1f}", flush=True)
    sys.exit(130)
print(f"finished {time.monotonic() - began:.1f}", flush=True)
"""


def hard_model(n: int = 60) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """A model CP-SAT does not prove optimal within a minute."""
    model = cp_model.CpModel()
    xs = [model.new_int_var(0, 100, f"x{i}") for i in range(n)]
    for i in range(n - 1):
        model.add(xs[i] + xs[i + 1] <= 100 - i % 7)
    model.add_all_different(xs)
    model.maximize(sum((i % 13 + 1) * x for i, x in enumerate(xs)))
    return model, xs


def test_a_search_gives_what_the_solver_gives() -> None:
    model, xs = hard_model(8)
    found = []
    for solve in (lambda s: s.solve(model), lambda s: interruptible.solve(s, model)):
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.max_time_in_seconds = 10
        status = solve(solver)
        found.append((status, solver.objective_value, [solver.value(x) for x in xs]))
    assert found[0] == found[1] and found[0][0] == cp_model.OPTIMAL


def test_a_problem_in_the_search_is_raised_in_the_caller() -> None:
    class Broken(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            raise RuntimeError("callback failed")

    model, _ = hard_model(8)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10
    with pytest.raises(RuntimeError, match="callback failed"):
        interruptible.solve(solver, model, Broken())


def test_ctrl_c_ends_the_search_at_once_with_keyboard_interrupt() -> None:
    root = Path(__file__).resolve().parents[1]
    for workers in ("1", "2"):
        run = subprocess.Popen(
            [sys.executable, "-c", SEARCH, workers],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root,
        )  # fmt: skip
        assert run.stdout is not None
        assert run.stdout.readline().strip() == "searching"
        time.sleep(1.5)  # the search is under way
        sent = time.monotonic()
        run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=30)
        assert run.returncode == 130, (stdout, stderr)  # not a search that merely ended early
        assert stdout.startswith("interrupted"), stdout
        assert time.monotonic() - sent < 10
        assert "terminate called" not in stderr, stderr  # the search thread had stopped


def test_ctrl_c_during_solve_writes_nothing_and_says_so(tmp_path: Path) -> None:
    snapshot, out = tmp_path / "snap", tmp_path / "plan"
    made = isched("generate", "--scenario", "default", "--seed", "7", "--out", snapshot)
    assert made.returncode == 0, made.stderr
    args = [sys.executable, "-m", "isched.cli", "solve", str(snapshot), "--out", str(out),
            "--time-limit", "120"]  # fmt: skip
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(12)  # reading and building take a few seconds; then CP-SAT searches
    assert run.poll() is None  # still solving: the limit is 120 s
    sent = time.monotonic()
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, (stdout, stderr)
    assert stderr.strip().splitlines() == [f"interrupted: {out} is as it was (nothing written)"]
    assert stdout == "" and not out.exists()
    assert time.monotonic() - sent < 15
    assert not list(tmp_path.glob(".plan.*"))  # no temporary folder left beside it


def test_ctrl_c_during_bound_says_how_far_it_got_and_writes_no_row(tmp_path: Path) -> None:
    out = tmp_path / "bounds.csv"
    args = [sys.executable, "-m", "isched.cli", "bound", "--scenario", "default", "--kind",
            "information", "--episodes", "40", "--seed", "0", "--out", str(out)]  # fmt: skip
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(8)  # a season takes about a second; 40 take far longer
    assert run.poll() is None
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, (stdout, stderr)
    (line,) = stderr.strip().splitlines()
    kept = re.escape(f"; {out} is as it was")
    said = re.fullmatch(rf"interrupted: (\d+) of 40 seasons bounded, no row written{kept}", line)
    assert said is not None, line
    assert int(said.group(1)) < 40
    assert not out.exists() and stdout == ""
