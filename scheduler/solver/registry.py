"""Solvers by name, for ``isched solve --solver NAME``.

A solver is a function ``Job -> Outcome`` (``scheduler.solver.engine``). Names
of the form ``PREFIX:ARG`` (``rl:MODEL_DIR``) go to the solver registered as
``PREFIX``, which finds ``ARG`` in ``Job.arg``. Another package adds one with::

    from scheduler.solver.registry import register_solver

    @register_solver("rl")
    def solve_rl(job: Job) -> Outcome: ...
"""

from __future__ import annotations

from collections.abc import Callable

from scheduler.solver.engine import Job, Outcome, solve_cpsat, solve_greedy

Solver = Callable[[Job], Outcome]
_SOLVERS: dict[str, Solver] = {"cpsat": solve_cpsat, "greedy": solve_greedy}
BUILT_IN = tuple(_SOLVERS)
"""The solvers of this package; any other name needs the package that registers it."""


def built_in(name: str) -> bool:
    """Whether ``name`` is a solver of this package, so no other package need be imported
    (``cpsat:X`` is not: the message that refuses it lists every registered solver)."""
    return name in BUILT_IN


def register_solver(prefix: str) -> Callable[[Solver], Solver]:
    def wrap(solver: Solver) -> Solver:
        _SOLVERS[prefix] = solver
        return solver

    return wrap


def solver_names() -> list[str]:
    return sorted(_SOLVERS)


def get_solver(name: str) -> tuple[Solver, str]:
    """The solver for ``name`` and its argument (after ``:``); ValueError if unknown."""
    prefix, _, arg = name.partition(":")
    solver = _SOLVERS.get(prefix)
    if solver is None or (arg and prefix in BUILT_IN):
        raise ValueError(f"unknown solver '{name}': choose from {', '.join(solver_names())}")
    return solver, arg
