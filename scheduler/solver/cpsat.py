"""Solve a ``LinearModel`` with OR-Tools CP-SAT.

Parameters follow SOLVER-NOTES: always a time limit; ``num_workers`` and
``random_seed`` as asked; tuned with ``subsolvers=["max_lp"]`` (with two
workers the default full subsolver's LP omits the at-most-one rows and its bound
is useless), ``cp_model_probing_level=0`` and ``max_presolve_iterations=1``;
and a complete hint (the greedy schedule). With one worker the search is
sequential and reproducible for a given seed: then the limit is also set in
deterministic time (``DETERMINISTIC_PER_SECOND``), so where it stops does not
depend on the machine's load; the wall clock still holds the job's time limit,
and a search it ends is reported (``stopped_by_clock``).

A known bound (the LP relaxation, ``stop_at``) stops the search as soon as a
solution reaches it: that solution is proven optimal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from scheduler import interruptible
from scheduler.solver.linear import INF, LinearModel

STATUS = {
    cp_model.OPTIMAL: "OPTIMAL",
    cp_model.FEASIBLE: "FEASIBLE",
    cp_model.INFEASIBLE: "INFEASIBLE",
    cp_model.MODEL_INVALID: "MODEL_INVALID",
    cp_model.UNKNOWN: "UNKNOWN",
}


@dataclass
class CpResult:
    status: str
    values: list[int] | None
    objective: int | None
    bound: float | None
    seconds: float
    stopped_at_bound: bool = False
    stopped_by_clock: bool = False
    """One worker: the wall clock (the job's deadline), not deterministic time, ended the
    search, so the result may differ on a less loaded machine."""


def to_cp_model(model: LinearModel) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The CP-SAT model of ``model`` (maximisation; all-ones ``<= 1`` rows as at-most-one)."""
    cp = cp_model.CpModel()
    xs = [cp.new_bool_var("") if up == 1 else cp.new_int_var(0, up, "") for up in model.upper]
    for cols, coefs, lo, hi in zip(
        model.row_cols, model.row_coefs, model.row_lo, model.row_hi, strict=True
    ):
        terms = [xs[j] for j in cols]
        if coefs is None and hi == 1 and lo == -INF and all(model.upper[j] == 1 for j in cols):
            cp.add_at_most_one(terms)
            continue
        expr = (
            cp_model.LinearExpr.sum(terms)
            if coefs is None
            else cp_model.LinearExpr.weighted_sum(terms, coefs)
        )
        low = cp_model.INT_MIN if lo == -INF else int(math.ceil(lo))
        high = cp_model.INT_MAX if hi == INF else int(math.floor(hi))
        cp.add_linear_constraint(expr, low, high)
    cp.maximize(cp_model.LinearExpr.weighted_sum(xs, model.obj) + model.constant)
    return cp, xs


class _StopAtBound(cp_model.CpSolverSolutionCallback):
    def __init__(self, target: float) -> None:
        super().__init__()
        self.target = target
        self.reached = False

    def on_solution_callback(self) -> None:
        if self.objective_value >= self.target - 1e-6:
            self.reached = True
            self.stop_search()


DETERMINISTIC_PER_SECOND = 0.3
"""Deterministic time a one-worker search gets per second of its limit: CP-SAT did about
0.45-0.63 units a second on the 2-core machine (0.52 on ``large``: 60 units in 116 s),
and building the model takes part of the limit first, so the deterministic limit, which
makes the search reproducible, ends it before the wall clock (at 0.4 a ``default``
snapshot with a 3 s limit ran out of wall clock on a slow day)."""


def parameters(
    solver: cp_model.CpSolver,
    time_limit: float,
    workers: int,
    seed: int,
    tuned: bool,
    wall_limit: float | None = None,
) -> None:
    """``time_limit`` in seconds; with one worker ``DETERMINISTIC_PER_SECOND`` units of
    deterministic time per second, the wall clock capped at ``wall_limit`` (default the
    limit)."""
    p = solver.parameters
    p.max_time_in_seconds = max(0.01, time_limit)
    p.num_workers = max(1, workers)
    p.random_seed = seed
    p.log_search_progress = False
    if workers == 1:
        p.max_deterministic_time = max(0.01, DETERMINISTIC_PER_SECOND * time_limit)
        p.max_time_in_seconds = max(0.01, time_limit if wall_limit is None else wall_limit)
    if tuned:
        if workers >= 2:
            p.subsolvers.append("max_lp")
        else:
            p.linearization_level = 2
        p.cp_model_probing_level = 0
        p.max_presolve_iterations = 1


def solve(
    model: LinearModel,
    *,
    time_limit: float,
    workers: int,
    seed: int,
    hint: Sequence[int] | None = None,
    stop_at: float | None = None,
    tuned: bool = True,
    deadline: float | None = None,
) -> CpResult:
    """Maximise ``model``; ``stop_at``: an upper bound at which to stop (proven optimal);
    ``deadline``: with one worker, the ``time.perf_counter()`` by which the wall clock
    ends the search, counted after the model's conversion (``parameters``)."""
    began = time.perf_counter()
    if model.n_vars == 0:
        return CpResult("OPTIMAL", [], model.constant, float(model.constant), 0.0)
    cp, xs = to_cp_model(model)
    if hint is not None:
        for x, v in zip(xs, hint, strict=True):
            cp.add_hint(x, int(v))
    solver = cp_model.CpSolver()
    left = time_limit if workers == 1 else time_limit - (time.perf_counter() - began)
    wall_limit = None if deadline is None else max(0.05, deadline - time.perf_counter())
    parameters(solver, left, workers, seed, tuned, wall_limit)
    callback = _StopAtBound(stop_at) if stop_at is not None else None
    code = interruptible.solve(solver, cp, callback)
    cap = solver.parameters.max_time_in_seconds
    by_clock = (
        workers == 1
        and code != cp_model.OPTIMAL
        and solver.wall_time >= 0.98 * cap
        and solver.deterministic_time < 0.98 * solver.parameters.max_deterministic_time
    )
    status = STATUS.get(code, "UNKNOWN")
    values = None
    objective = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = list(solver.response_proto.solution)[: len(xs)]
        objective = int(round(solver.objective_value))
    return CpResult(
        status=status,
        values=values,
        objective=objective,
        bound=float(solver.best_objective_bound) if values is not None else None,
        seconds=time.perf_counter() - began,
        stopped_at_bound=bool(callback and callback.reached),
        stopped_by_clock=by_clock,
    )
