"""The MIP twin: HiGHS and CP-SAT prove the same optimum of the same model.

Small instances (tiny seasons, and the default one on a 3-day horizon where
interviewer capacity binds and the greedy falls short) are solved to
optimality by both. The CP-SAT solution must satisfy every row of the model,
and ``score`` of its placements must equal the objective (the objective the
model optimises is the one the report shows). The bounds must be bounds: LP of
the day-level relaxation >= LP relaxation >= optimum.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from isched.cli import generate
from scheduler.solver import cpsat, mip
from scheduler.solver.config import SolveOptions
from scheduler.solver.engine import Job, model_for
from scheduler.solver.model import placements_of, score
from scheduler.solver.problem import build_problem
from scheduler.solver.relaxation import aggregated_model
from scheduler.solver.state import State
from scheduler.tables import read_snapshot

INSTANCES = [("tiny", 0, None, 10), ("tiny", 2, 8, 3), ("tiny", 3, 8, 10), ("default", 0, None, 3)]


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int, int | None], Path]:
    root = tmp_path_factory.mktemp("mip")
    found = {}
    for scenario, seed, day, _ in INSTANCES:
        out = root / f"{scenario}-{seed}-{day}"
        generate(out_dir=out, scenario=scenario, seed=seed, day=day, fmt="csv")
        found[scenario, seed, day] = out
    return found


def job_of(root: Path, horizon_days: int) -> Job:
    snapshot, config, meta = read_snapshot(root)
    config = dataclasses.replace(config, horizon_days=horizon_days)
    problem = build_problem(snapshot, config, meta)
    todo = [r.index for r in problem.requests]
    return Job(problem, State(problem), todo, [], {}, SolveOptions(), time.perf_counter() + 60)


@pytest.mark.parametrize("instance", INSTANCES, ids=lambda i: f"{i[0]}-{i[1]}-d{i[2]}-h{i[3]}")
def test_cpsat_and_highs_prove_the_same_optimum(roots, instance) -> None:  # noqa: ANN001
    scenario, seed, day, horizon = instance
    job = job_of(roots[scenario, seed, day], horizon)
    built, hint, values = model_for(job)
    model = built.model
    assert values is not None and model.violated(values) == []  # the greedy hint is feasible

    found = cpsat.solve(model, time_limit=20, workers=2, seed=0, hint=values)
    twin = mip.solve_mip(model, time_limit=30)
    assert found.status == "OPTIMAL" and twin.status == "OPTIMAL"
    assert found.objective == pytest.approx(twin.objective, abs=1e-6)
    assert found.objective >= model.objective(values)

    assert found.values is not None and model.violated(found.values) == []
    placements = placements_of(job.problem, built, found.values)
    assert score(job.problem, job.options.weights, placements, {}, job.fair_share) == (
        found.objective
    )
    bound = mip.lp_bound(model, time_limit=10).bound
    assert bound is not None and bound >= found.objective
    weights, share = job.options.weights, job.fair_share
    small = aggregated_model(job.problem, job.state, built.options, weights, share, {}, 0)
    relaxed = mip.lp_bound(small, time_limit=10).bound
    assert relaxed is not None and relaxed >= bound  # a relaxation of the LP relaxation


def test_capacity_binds_on_the_tight_instance(roots) -> None:  # noqa: ANN001
    """On the 3-day default horizon the optimum places more than the greedy: something to
    optimise (SOLVER-NOTES "Scarcity")."""
    job = job_of(roots["default", 0, None], 3)
    built, hint, values = model_for(job)
    found = cpsat.solve(built.model, time_limit=20, workers=2, seed=0, hint=values)
    placed = placements_of(job.problem, built, found.values or [])
    assert len(placed) > len(hint)
