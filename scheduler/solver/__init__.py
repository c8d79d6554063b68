"""The OR-Tools CP-SAT optimizer of the coordinator's scheduling job (``isched solve``).

Modules, in the order a solve runs through them:

- ``problem``: snapshot -> horizon, requests, calendars (bitmasks);
- ``state``: what is still free while placing; ``Placement``;
- ``replan``: a previous ``schedule.csv`` -> kept confirmed rows and previous placements;
- ``greedy``: the fast greedy schedule (solver ``greedy``, and the CP-SAT hint);
- ``options``: feasible options per request, screener trim, room pools, blocking reasons;
- ``model``: the model as a solver-neutral ``linear.LinearModel``;
- ``cpsat`` / ``mip``: CP-SAT, and the HiGHS twin (MIP and LP bound);
- ``relaxation``: a day-level relaxation whose LP bounds large models in seconds;
- ``rooms``: concrete rooms after the solve;
- ``engine``: hint + bound + search, and the decomposition of large models;
- ``registry``: solvers by name (``cpsat``, ``greedy``, ``rl:MODEL_DIR``);
- ``output`` / ``api``: schedule rows, report, atomic write; ``solve_snapshot``.
"""

from scheduler.solver.api import SolveResult, solve_snapshot
from scheduler.solver.config import SolveOptions, SolveWeights
from scheduler.solver.output import SCHEDULE_COLUMNS, write_outputs
from scheduler.solver.registry import get_solver, register_solver, solver_names

__all__ = [
    "SCHEDULE_COLUMNS",
    "SolveOptions",
    "SolveResult",
    "SolveWeights",
    "get_solver",
    "register_solver",
    "solve_snapshot",
    "solver_names",
    "write_outputs",
]
