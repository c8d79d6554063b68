"""The MIP twin of the CP-SAT model, solved by HiGHS (highspy).

``to_highs`` passes the very same ``LinearModel`` to HiGHS: same variables,
rows and objective. Solved as a MIP it must prove the optimum CP-SAT proves
(the evidence that the model is what we think: tests/test_solver_mip.py);
relaxed to an LP it gives the bound reported beside CP-SAT's own
(SOLVER-NOTES "Bounds"). All objective coefficients are integers, so the
floor of the LP optimum is a valid bound too.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import highspy
import numpy as np

from scheduler.solver.linear import LinearModel

_banner_shown = False


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """HiGHS prints a banner on the C level when the first instance is made: hide it."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _new_highs() -> highspy.Highs:
    global _banner_shown
    if _banner_shown:
        highs = highspy.Highs()
    else:
        with _quiet_stdout():
            highs = highspy.Highs()
        _banner_shown = True
    highs.setOptionValue("output_flag", False)
    return highs


@dataclass
class MipResult:
    status: str
    """OPTIMAL, FEASIBLE (time limit with a solution), INFEASIBLE or UNKNOWN."""
    objective: float | None
    bound: float | None
    seconds: float
    values: list[float] | None = None


def to_highs(model: LinearModel, integral: bool, time_limit: float, seed: int = 0) -> highspy.Highs:
    """A HiGHS instance holding ``model`` (as a MIP, or its LP relaxation)."""
    lp = highspy.HighsLp()
    lp.num_col_ = model.n_vars
    lp.num_row_ = model.n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.offset_ = float(model.constant)
    lp.col_cost_ = np.asarray(model.obj, dtype=np.float64)
    lp.col_lower_ = np.zeros(model.n_vars)
    lp.col_upper_ = np.asarray(model.upper, dtype=np.float64)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.array([max(-inf, v) for v in model.row_lo], dtype=np.float64)
    lp.row_upper_ = np.array([min(inf, v) for v in model.row_hi], dtype=np.float64)
    starts, indices, values = model.csr()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = model.n_vars
    lp.a_matrix_.num_row_ = model.n_rows
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = indices
    lp.a_matrix_.value_ = values
    if integral:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * model.n_vars
    highs = _new_highs()
    highs.setOptionValue("time_limit", max(0.01, float(time_limit)))
    highs.setOptionValue("random_seed", int(seed))
    highs.setOptionValue("threads", 1)
    highs.passModel(lp)
    return highs


def _status(highs: highspy.Highs) -> str:
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "OPTIMAL"
    if status == highspy.HighsModelStatus.kInfeasible:
        return "INFEASIBLE"
    if highs.getInfo().primal_solution_status == highspy.kSolutionStatusFeasible:
        return "FEASIBLE"
    return "UNKNOWN"


def lp_bound(model: LinearModel, time_limit: float) -> MipResult:
    """The LP relaxation's optimum, floored (a valid bound); None when not solved in time."""
    began = time.perf_counter()
    if model.n_vars == 0:
        return MipResult("OPTIMAL", model.constant, model.constant, 0.0)
    highs = to_highs(model, integral=False, time_limit=time_limit)
    highs.run()
    status = _status(highs)
    bound = None
    if status == "OPTIMAL":
        bound = float(math.floor(highs.getInfo().objective_function_value + 1e-6))
    return MipResult(status, bound, bound, time.perf_counter() - began)


def solve_mip(model: LinearModel, time_limit: float, seed: int = 0) -> MipResult:
    """Solve the MIP twin; ``bound`` is HiGHS's dual bound."""
    began = time.perf_counter()
    if model.n_vars == 0:
        return MipResult("OPTIMAL", model.constant, model.constant, 0.0, [])
    highs = to_highs(model, integral=True, time_limit=time_limit, seed=seed)
    highs.run()
    status = _status(highs)
    info = highs.getInfo()
    objective = info.objective_function_value if status in ("OPTIMAL", "FEASIBLE") else None
    values = list(highs.getSolution().col_value) if objective is not None else None
    return MipResult(status, objective, info.mip_dual_bound, time.perf_counter() - began, values)
