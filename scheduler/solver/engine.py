"""Solve orchestration: greedy hint, LP bound, CP-SAT, and the decomposition of large models.

One model (``solve_cpsat``) when it has at most ``SolveOptions.max_variables``
variables: the greedy schedule is its hint; the LP relaxation (HiGHS) runs
first, with at most ``lp_time_share`` of the time, and CP-SAT stops as soon as
a solution reaches the LP bound (proven optimal); otherwise it runs to the
time limit and reports its own bound beside the LP's.

**Decomposition** (SOLVER-NOTES "Size"), when the model is bigger:

1. *By ISO week*, in order. Weekly caps are per ISO week and daily caps per day,
   so weeks share nothing but the requests: each week is solved for the requests
   still open, what it places is booked, and the rest roll forward to the next
   week (earlier weeks are better in the objective anyway).
2. *By office within a week*, when a week alone is still too big. Loops and
   their rooms belong to the posting's office and its team; each screen goes to
   the office with more qualified screeners (a sub-problem sees only its office's
   interviewers). Screens left over by both office parts get a greedy pass over
   the whole week before rolling on.

Each part gets a share of the remaining time proportional to its days, and its
own greedy hint built on what earlier parts booked. The CP-SAT bounds of parts
do not add up to a bound of the whole and are not reported; the bound is the LP
of the day-level relaxation of the whole model (``scheduler.solver.relaxation``),
whose LP solves in seconds where the full model's takes minutes. A single model
uses its own LP relaxation up to ``full_lp_max_variables`` variables and the
relaxation's above (measured: on ``default`` with 3,000 candidates, 93k
variables, the full LP takes 6.6 s and the relaxation's 0.5 s, 0.013% weaker).
``report.json`` says which (``lp_model``).

Bounds are bounds of the model as built, i.e. with each screen's screeners
trimmed (``scheduler.solver.options``). The trim costs little: on ``default``
with 3,000 candidates the LP bound rises by 0.01% from 6 to 12 screeners per
screen and not at all from 12 to 40.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.solver import cpsat, mip
from scheduler.solver.config import SolveOptions
from scheduler.solver.greedy import greedy
from scheduler.solver.model import (
    Built,
    Options,
    build_model,
    collect_options,
    placements_of,
    placements_value,
    score,
    values_of,
)
from scheduler.solver.problem import Problem
from scheduler.solver.relaxation import aggregated_model
from scheduler.solver.rooms import assign_rooms
from scheduler.solver.state import Placement, State


@dataclass
class Job:
    """One scheduling job as the solvers see it."""

    problem: Problem
    state: State
    """Calendars after the fixed (confirmed) interviews."""
    todo: list[int]
    """Requests to place."""
    booked: list[Placement]
    """Fixed placements (kept confirmed interviews)."""
    previous: dict[int, Placement]
    """The previous plan's placement of each request (re-plan)."""
    options: SolveOptions
    deadline: float
    """``time.perf_counter()`` by which to be done."""
    arg: str = ""
    """Argument of a ``PREFIX:ARG`` solver name."""

    @property
    def fair_share(self) -> int:
        """Mean sessions per interviewer if every request were placed (at least 1)."""
        problem = self.problem
        demand = sum(problem.requests[r].sessions for r in self.todo) + sum(self.state.load)
        people = {i for r in self.todo for i in problem.requests[r].qualified}
        return max(1, math.ceil(demand / max(1, len(people))))

    def left(self) -> float:
        return max(0.0, self.deadline - time.perf_counter())


@dataclass
class Outcome:
    """What a solver returns: the new placements (concrete rooms) and how good they are."""

    placements: list[Placement]
    status: str
    objective: int
    cpsat_bound: float | None = None
    lp_bound: float | None = None
    variables: int = 0
    constraints: int = 0
    lp_model: str | None = None
    """``full`` (LP relaxation of the model) or ``aggregated`` (of its day-level relaxation)."""
    parts: list[dict[str, object]] = field(default_factory=list)
    undecomposed_variables: int | None = None
    """Decomposed solves: variables the single model would have had."""
    source: str = "cpsat"
    """Which solver produced the placements (``greedy`` when CP-SAT found nothing)."""


# Building blocks --------------------------------------------------------------------------


def _keep_screeners(job: Job, placements: Sequence[Placement]) -> dict[int, set[int]]:
    """Screeners the trim must keep: those of a hint and of the previous plan."""
    keep: dict[int, set[int]] = {}
    for p in [*placements, *job.previous.values()]:
        if job.problem.requests[p.request].stage == "screen":
            keep.setdefault(p.request, set()).add(p.interviewers[0])
    return keep


def _options(
    job: Job,
    state: State,
    requests: Sequence[int],
    days: Sequence[int],
    hint: Sequence[Placement] = (),
) -> Options:
    keep = _keep_screeners(job, hint)
    screeners = job.options.screeners_per_screen
    return collect_options(job.problem, state, requests, days, screeners, keep)


def _all_days(job: Job) -> list[int]:
    return list(range(len(job.problem.horizon.days)))


def _build(job: Job, state: State, options: Options) -> Built:
    value = placements_value(job.problem, job.options.weights, job.booked, job.previous)
    weights, share = job.options.weights, job.fair_share
    return build_model(job.problem, state, options, weights, share, job.previous, value)


def schedule_score(job: Job, placed: Sequence[Placement]) -> int:
    """Objective value of the whole schedule: the fixed rows plus ``placed``."""
    everything = [*job.booked, *placed]
    return score(job.problem, job.options.weights, everything, job.previous, job.fair_share)


def _lp(
    job: Job, state: State, options: Options, built: Built | None, budget: float
) -> tuple[float | None, str | None]:
    """LP bound and which LP gave it: the full model's (``built``) when it is small enough
    and solves within ``budget``, else the day-level relaxation's."""
    if not job.options.lp_bound or budget <= 0.05:
        return None, None
    if built is not None and built.model.n_vars <= job.options.full_lp_max_variables:
        bound = mip.lp_bound(built.model, budget).bound
        if bound is not None:
            return bound, "full"
    w = job.options.weights
    value = placements_value(job.problem, w, job.booked, job.previous)
    small = aggregated_model(job.problem, state, options, w, job.fair_share, job.previous, value)
    bound = mip.lp_bound(small, max(1.0, budget)).bound
    return bound, "aggregated" if bound is not None else None


def _final_status(result: cpsat.CpResult, lp: float | None) -> str:
    """CP-SAT's status, OPTIMAL as well when a solution reaches the LP bound."""
    reached = lp is not None and result.objective is not None and result.objective >= lp - 1e-6
    return "OPTIMAL" if result.status == "FEASIBLE" and reached else result.status


def model_for(
    job: Job,
    state: State | None = None,
    requests: Sequence[int] | None = None,
    days: Sequence[int] | None = None,
) -> tuple[Built, list[Placement], list[int] | None]:
    """The model of ``requests`` x ``days`` over ``state`` (default: the whole job), the
    greedy schedule and its variable values (the hint)."""
    state = job.state if state is None else state
    requests = job.todo if requests is None else requests
    days = _all_days(job) if days is None else days
    hint = greedy(job.problem, state.copy(), requests, days, job.previous)
    built = _build(job, state, _options(job, state, requests, days, hint))
    return built, hint, values_of(job.problem, state, built, hint, job.fair_share)


@dataclass
class _Part:
    chosen: list[Placement]
    report: dict[str, object]
    built: Built
    result: cpsat.CpResult
    lp: float | None
    lp_model: str | None


def _solve_part(
    job: Job,
    state: State,
    requests: Sequence[int],
    days: Sequence[int],
    budget: float,
    lp_budget: float,
) -> _Part:
    """Greedy hint, (LP bound), CP-SAT on ``requests`` x ``days`` over ``state``."""
    began = time.perf_counter()
    built, hint, values = model_for(job, state, requests, days)
    lp, lp_model = _lp(job, state, built.options, built, lp_budget)
    result = cpsat.solve(
        built.model,
        # One worker: a fixed deterministic budget, so the result does not depend on load,
        # and the job's deadline on the wall clock, so --time-limit holds all the same.
        time_limit=budget
        if job.options.workers == 1
        else max(0.05, budget - (time.perf_counter() - began)),
        deadline=job.deadline,
        workers=job.options.workers,
        seed=job.options.seed,
        hint=values,
        stop_at=lp,
        tuned=job.options.tuned,
    )
    chosen = hint
    if result.values is not None:
        solution = placements_of(job.problem, built, result.values)
        chosen = assign_rooms(job.problem, built.options.pools, solution)
    horizon = job.problem.horizon
    report: dict[str, object] = {
        "days": [horizon.days[days[0]].isoformat(), horizon.days[days[-1]].isoformat()],
        "requests": len(requests),
        "variables": built.model.n_vars,
        "constraints": built.model.n_rows,
        "status": result.status,
        "seconds": round(time.perf_counter() - began, 3),
        "stopped_by_clock": result.stopped_by_clock,
    }
    return _Part(chosen, report, built, result, lp, lp_model)


# Solvers ------------------------------------------------------------------------------------


def solve_greedy(job: Job) -> Outcome:
    """The greedy schedule, with the LP bound of the model when it is small enough."""
    placed = greedy(job.problem, job.state.copy(), job.todo, None, job.previous)
    outcome = Outcome(placed, "FEASIBLE", schedule_score(job, placed), source="greedy")
    return with_lp_bound(job, outcome)


def with_lp_bound(job: Job, outcome: Outcome) -> Outcome:
    """``outcome`` with the LP bound of the job's model (the full LP when it is small
    enough, else the day-level relaxation), for a solver that proves none itself."""
    if not job.options.lp_bound:
        return outcome
    placed = outcome.placements
    options = _options(job, job.state, job.todo, _all_days(job), placed)
    built = None
    if options.n_vars() <= job.options.max_variables:
        built = _build(job, job.state, options)
        outcome.variables, outcome.constraints = built.model.n_vars, built.model.n_rows
    budget = job.options.time_limit * job.options.lp_time_share
    outcome.lp_bound, outcome.lp_model = _lp(job, job.state, options, built, budget)
    return outcome


def solve_cpsat(job: Job) -> Outcome:
    """CP-SAT on one model, or decomposed when the model is too big."""
    if not job.problem.horizon.days:
        nothing = schedule_score(job, [])
        return Outcome([], "OPTIMAL", nothing, cpsat_bound=float(nothing))
    size = _options(job, job.state, job.todo, _all_days(job)).n_vars()
    if size > job.options.max_variables:
        return _decomposed(job, size)
    lp_budget = job.options.time_limit * job.options.lp_time_share
    budget = job.options.time_limit if job.options.workers == 1 else job.left()
    part = _solve_part(job, job.state, job.todo, _all_days(job), budget, lp_budget)
    found = part.result.values is not None
    return Outcome(
        placements=part.chosen,
        status=_final_status(part.result, part.lp) if found else "FEASIBLE",
        objective=schedule_score(job, part.chosen),
        cpsat_bound=part.result.bound,
        lp_bound=part.lp,
        lp_model=part.lp_model,
        variables=part.built.model.n_vars,
        constraints=part.built.model.n_rows,
        parts=[part.report],
        source="cpsat" if found else "greedy",
    )


# Decomposition ------------------------------------------------------------------------------


def _request_office(job: Job, r: int, state: State) -> str:
    """A loop's posting office; for a screen, the office with more qualified screeners."""
    problem = job.problem
    req = problem.requests[r]
    if req.posting is not None:
        return req.posting.office
    count: dict[str, int] = {}
    for i in req.qualified:
        if sum(state.week_left[i]) > 0:
            office = problem.interviewers[i].office
            count[office] = count.get(office, 0) + 1
    return max(sorted(count), key=lambda o: count[o]) if count else ""


def _masked(state: State, problem: Problem, office: str) -> State:
    """A copy of ``state`` in which only ``office``'s interviewers have caps left."""
    part = state.copy()
    for i, who in enumerate(problem.interviewers):
        if who.office != office:
            part.day_left[i] = [0] * len(part.day_left[i])
    return part


def _decomposed(job: Job, size: int) -> Outcome:
    problem, state = job.problem, job.state.copy()
    week_of = problem.horizon.week
    budget = job.options.time_limit * job.options.lp_time_share
    whole = _options(job, job.state, job.todo, _all_days(job))
    lp, lp_model = _lp(job, job.state, whole, None, budget)
    del whole
    todo = list(job.todo)
    placed: list[Placement] = []
    parts: list[dict[str, object]] = []
    for w in sorted(set(week_of)):
        days = [d for d, week in enumerate(week_of) if week == w]
        share = job.left() * len(days) / sum(1 for week in week_of if week >= w)
        groups: list[tuple[str, list[int]]] = [("", todo)]
        if _options(job, state, todo, days).n_vars() > job.options.max_variables:
            offices = sorted({who.office for who in problem.interviewers})
            mine = {r: _request_office(job, r, state) for r in todo}
            groups = [(office, [r for r in todo if mine[r] == office]) for office in offices]
        for office, requests in groups:
            if not requests:
                continue
            part_state = _masked(state, problem, office) if office else state
            part = _solve_part(job, part_state, requests, days, share / len(groups), 0.0)
            part.report["office"] = office or "all"
            parts.append(part.report)
            for p in part.chosen:
                state.book(problem.requests[p.request], p)
            placed.extend(part.chosen)
        done = {p.request for p in placed}
        todo = [r for r in todo if r not in done]
        if len(groups) > 1:  # leftovers of the office parts: a greedy pass over the week
            placed.extend(greedy(problem, state, todo, days, job.previous))
            done = {p.request for p in placed}
            todo = [r for r in todo if r not in done]
    total = schedule_score(job, placed)
    return Outcome(
        placements=placed,
        status="OPTIMAL" if lp is not None and total >= lp - 1e-6 else "FEASIBLE",
        objective=total,
        lp_bound=lp,
        lp_model=lp_model,
        variables=sum(_int(p["variables"]) for p in parts),
        constraints=sum(_int(p["constraints"]) for p in parts),
        parts=parts,
        undecomposed_variables=size,
    )


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0
