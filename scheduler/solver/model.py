"""The scheduling model as a ``LinearModel`` (SOLVER-NOTES "Formulation that worked").

Variables (all Boolean but the load excess):

- ``x[r, d, s, i]``: screen ``r`` on day ``d`` from slot ``s`` with interviewer ``i``,
  only where the option is feasible alone, for the trimmed screeners;
- ``z[r, d, s, m]``: loop ``r`` on day ``d`` from slot ``s`` in room mode ``m``
  (virtual, or a room pool, see ``scheduler.solver.options``);
- ``y[r, d, s, k, i]``: interviewer ``i`` runs session ``k`` of that loop option;
- ``e[i]``: sessions interviewer ``i`` carries above the fair share.

Constraints, one function each: a request is placed at most once; a chosen loop
option has each session covered by exactly one interviewer, no interviewer twice
and a hiring manager among them; an interviewer runs at most one session per slot;
daily and weekly caps; per pool and slot at most as many loops as rooms; the
load excess. Objective (maximised, ``SolveWeights``): the value of each placed
request minus its lateness, secondary-only screeners and the load excess, plus
the office-preference bonus and, in a re-plan, the bonuses for keeping the
previous start and interviewers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scheduler.solver.config import SolveWeights
from scheduler.solver.linear import LinearModel
from scheduler.solver.options import (
    VIRTUAL_MODE,
    LoopOption,
    Pool,
    ScreenRuns,
    loop_options,
    make_pools,
    screen_runs,
    trim_screeners,
)
from scheduler.solver.problem import Problem
from scheduler.solver.state import Placement, State, bits


@dataclass
class Options:
    """The feasible options of a set of requests over a set of days."""

    requests: list[int]
    days: list[int]
    pools: list[Pool]
    screens: dict[int, ScreenRuns] = field(default_factory=dict)
    """Trimmed: request -> interviewer -> day -> starts."""
    loops: dict[int, list[LoopOption]] = field(default_factory=dict)

    def n_vars(self) -> int:
        n = 0
        for runs in self.screens.values():
            n += sum(bin(mask).count("1") for days in runs.values() for mask in days.values())
        for options in self.loops.values():
            for o in options:
                n += len(o.modes) + sum(len(who) for who in o.sessions)
        return n


def collect_options(
    problem: Problem,
    state: State,
    requests: Sequence[int],
    days: Sequence[int],
    screeners: int,
    keep: Mapping[int, set[int]],
) -> Options:
    """Options of ``requests`` within ``days`` given ``state``; screens trimmed to ``screeners``."""
    pools = make_pools(problem, state)
    found = Options(list(requests), list(days), pools)
    runs: dict[int, ScreenRuns] = {}
    for r in requests:
        req = problem.requests[r]
        if req.stage == "screen":
            found_runs = screen_runs(req, state, days)
            if found_runs:
                runs[r] = found_runs
        else:
            options = loop_options(req, state, days, pools, problem)
            if options:
                found.loops[r] = options
    kept = trim_screeners(problem, state, runs, screeners, dict(keep))
    found.screens = {r: {i: runs[r][i] for i in kept[r]} for r in runs}
    return found


@dataclass
class Built:
    """A ``LinearModel`` and where each of its variables came from."""

    model: LinearModel
    options: Options
    screen: dict[tuple[int, int, int, int], int] = field(default_factory=dict)
    loop: dict[tuple[int, int, int, int], int] = field(default_factory=dict)
    session: dict[tuple[int, int, int, int, int], int] = field(default_factory=dict)
    excess: dict[int, int] = field(default_factory=dict)
    occupancy: dict[tuple[int, int, int], list[int]] = field(default_factory=dict)
    """(interviewer, day, slot) -> variables occupying it."""
    by_day: dict[tuple[int, int], dict[int, list[int]]] = field(default_factory=dict)
    """(interviewer, day) -> request -> its variables using the interviewer that day."""


def build_model(
    problem: Problem,
    state: State,
    options: Options,
    weights: SolveWeights,
    fair_share: int,
    previous: Mapping[int, Placement] | None = None,
    booked_value: int = 0,
) -> Built:
    """The model of ``options`` on top of ``state`` (what is already booked stays booked).

    ``booked_value``: the value of the placements ``state`` holds; with the load excess
    of interviewers the model cannot change it forms the objective's constant, so the
    model's objective is the value of the whole schedule (``score``).
    """
    built = Built(LinearModel(), options)
    _screen_vars(problem, built, weights, previous or {})
    _loop_vars(problem, built, weights, previous or {})
    _one_per_request(built)
    _loop_links(problem, built)
    _interviewer_slots(built)
    _caps(problem, state, built)
    _pools(problem, built)
    _balance(problem, state, built, weights, fair_share)
    movable = {i for i, _ in built.by_day}
    fixed_excess = sum(
        max(0, load - fair_share) for i, load in enumerate(state.load) if i not in movable
    )
    built.model.constant = booked_value - weights.balance * fixed_excess
    return built


# Variables ----------------------------------------------------------------------------


def _use(built: Built, i: int, day: int, request: int, first: int, length: int, j: int) -> None:
    for t in range(first, first + length):
        built.occupancy.setdefault((i, day, t), []).append(j)
    built.by_day.setdefault((i, day), {}).setdefault(request, []).append(j)


def screen_value(
    problem: Problem,
    w: SolveWeights,
    r: int,
    day: int,
    start: int,
    i: int,
    before: Placement | None,
) -> int:
    """Objective value of screen ``r`` at (day, start) with interviewer ``i``."""
    value = w.screen - w.day_cost * day
    if i not in problem.requests[r].preferred:
        value -= w.secondary_only
    if before is not None:
        value += _keep_start(problem, w, r) * ((before.day, before.start) == (day, start))
        value += w.keep_interviewer * (before.interviewers == (i,))
    return value


def _keep_start(problem: Problem, w: SolveWeights, r: int) -> int:
    """The bonus for keeping request ``r``'s previous day and start."""
    return w.keep_confirmed_start if problem.requests[r].was_confirmed else w.keep_start


def loop_value(
    problem: Problem, w: SolveWeights, r: int, day: int, start: int, before: Placement | None
) -> int:
    """Objective value of loop ``r`` at (day, start), interviewers aside (see ``session_value``)."""
    req = problem.requests[r]
    value = w.loop - w.day_cost * day
    if req.onsite and req.candidate.office_preference == req.office:
        value += w.office_match
    if before is not None:
        value += _keep_start(problem, w, r) * ((before.day, before.start) == (day, start))
    return value


def session_value(w: SolveWeights, k: int, i: int, before: Placement | None) -> int:
    """Re-plan bonus of interviewer ``i`` keeping session ``k`` of a loop."""
    return w.keep_interviewer if before is not None and before.interviewers[k] == i else 0


def placement_value(
    problem: Problem, w: SolveWeights, p: Placement, before: Placement | None
) -> int:
    """Objective value of one placement (what its variables contribute)."""
    if problem.requests[p.request].stage == "screen":
        return screen_value(problem, w, p.request, p.day, p.start, p.interviewers[0], before)
    value = loop_value(problem, w, p.request, p.day, p.start, before)
    return value + sum(session_value(w, k, i, before) for k, i in enumerate(p.interviewers))


def _screen_vars(
    problem: Problem, built: Built, w: SolveWeights, previous: Mapping[int, Placement]
) -> None:
    model = built.model
    for r, runs in built.options.screens.items():
        req = problem.requests[r]
        before = previous.get(r)
        for i, days in runs.items():
            for day, mask in days.items():
                for s in bits(mask):
                    value = screen_value(problem, w, r, day, s, i, before)
                    j = model.add_var(("x", r, day, s, i), value)
                    built.screen[r, day, s, i] = j
                    _use(built, i, day, r, s, req.session_length, j)


def _loop_vars(
    problem: Problem, built: Built, w: SolveWeights, previous: Mapping[int, Placement]
) -> None:
    model = built.model
    for r, options in built.options.loops.items():
        req = problem.requests[r]
        before = previous.get(r)
        for o in options:
            value = loop_value(problem, w, r, o.day, o.start, before)
            for m in o.modes:
                built.loop[r, o.day, o.start, m] = model.add_var(("z", r, o.day, o.start, m), value)
            for k, who in enumerate(o.sessions):
                for i in who:
                    j = model.add_var(
                        ("y", r, o.day, o.start, k, i), session_value(w, k, i, before)
                    )
                    built.session[r, o.day, o.start, k, i] = j
                    _use(built, i, o.day, r, o.start + req.offsets[k], req.session_length, j)


# Constraints ----------------------------------------------------------------------------


def _one_per_request(built: Built) -> None:
    per: dict[int, list[int]] = {}
    for (r, *_), j in built.screen.items():
        per.setdefault(r, []).append(j)
    for (r, *_), j in built.loop.items():
        per.setdefault(r, []).append(j)
    for cols in per.values():
        if len(cols) > 1:
            built.model.add_row(cols, hi=1)


def _loop_links(problem: Problem, built: Built) -> None:
    """Sessions covered exactly when the option is chosen; distinct people; a manager."""
    model = built.model
    for r, options in built.options.loops.items():
        managers = problem.requests[r].preferred
        for o in options:
            chosen = [built.loop[r, o.day, o.start, m] for m in o.modes]
            per_person: dict[int, list[int]] = {}
            lead: list[int] = []
            for k, who in enumerate(o.sessions):
                cols = [built.session[r, o.day, o.start, k, i] for i in who]
                model.add_row(cols + chosen, [1] * len(cols) + [-1] * len(chosen), lo=0, hi=0)
                for i, j in zip(who, cols, strict=True):
                    per_person.setdefault(i, []).append(j)
                    if i in managers:
                        lead.append(j)
            for cols in per_person.values():
                if len(cols) > 1:
                    model.add_row(cols + chosen, [1] * len(cols) + [-1] * len(chosen), hi=0)
            model.add_row(lead + chosen, [1] * len(lead) + [-1] * len(chosen), lo=0)


def _interviewer_slots(built: Built) -> None:
    for cols in built.occupancy.values():
        if len(cols) > 1:
            built.model.add_row(cols, hi=1)


def _caps(problem: Problem, state: State, built: Built) -> None:
    """Daily and weekly caps: each placed request counts once per interviewer."""
    weekly: dict[tuple[int, int], dict[int, list[int]]] = {}
    for (i, day), per_request in built.by_day.items():
        cols = [j for js in per_request.values() for j in js]
        if len(per_request) > state.day_left[i][day]:
            built.model.add_row(cols, hi=state.day_left[i][day])
        week = weekly.setdefault((i, problem.horizon.week[day]), {})
        for r, js in per_request.items():
            week.setdefault(r, []).extend(js)
    for (i, week_index), per_request in weekly.items():
        if len(per_request) > state.week_left[i][week_index]:
            cols = [j for js in per_request.values() for j in js]
            built.model.add_row(cols, hi=state.week_left[i][week_index])


def _pools(problem: Problem, built: Built) -> None:
    per_slot: dict[tuple[int, int], list[int]] = {}
    for (r, _, start, mode), j in built.loop.items():
        if mode == VIRTUAL_MODE:
            continue
        for t in range(start, start + problem.requests[r].span):
            per_slot.setdefault((mode, t), []).append(j)
    for (mode, _), cols in per_slot.items():
        capacity = len(built.options.pools[mode].rooms)
        if len(cols) > capacity:
            built.model.add_row(cols, hi=capacity)


def _balance(
    problem: Problem, state: State, built: Built, w: SolveWeights, fair_share: int
) -> None:
    """``e[i] >= load[i] - fair_share``, load counting what ``state`` already holds."""
    per: dict[int, list[int]] = {}
    reach: dict[int, int] = {}
    for (i, _), per_request in built.by_day.items():
        per.setdefault(i, []).extend(j for js in per_request.values() for j in js)
        reach[i] = reach.get(i, 0) + len(per_request)
    for i in sorted(per):
        most = state.load[i] + min(reach[i], sum(state.week_left[i]))
        if most <= fair_share or w.balance == 0:
            continue
        e = built.model.add_var(("e", i), -w.balance, upper=most - fair_share)
        built.excess[i] = e
        built.model.add_row(per[i] + [e], [1] * len(per[i]) + [-1], hi=fair_share - state.load[i])


def score(
    problem: Problem,
    w: SolveWeights,
    placements: Sequence[Placement],
    previous: Mapping[int, Placement],
    fair_share: int,
) -> int:
    """Objective value of a whole schedule (the model's objective, recomputed)."""
    load = [0] * len(problem.interviewers)
    for p in placements:
        for i in p.interviewers:
            load[i] += 1
    excess = sum(max(0, n - fair_share) for n in load)
    return placements_value(problem, w, placements, previous) - w.balance * excess


def placements_value(
    problem: Problem,
    w: SolveWeights,
    placements: Sequence[Placement],
    previous: Mapping[int, Placement],
) -> int:
    """Sum of ``placement_value`` (no load balance term)."""
    return sum(placement_value(problem, w, p, previous.get(p.request)) for p in placements)


# Solutions <-> values ---------------------------------------------------------------------


def values_of(
    problem: Problem, state: State, built: Built, placements: Sequence[Placement], fair_share: int
) -> list[int] | None:
    """The variable values of ``placements`` (a hint), or None if one is not in the model."""
    values = [0] * built.model.n_vars
    load = dict(enumerate(state.load))
    for p in placements:
        req = problem.requests[p.request]
        if req.stage == "screen":
            j = built.screen.get((p.request, p.day, p.start, p.interviewers[0]))
            if j is None:
                return None
            values[j] = 1
        else:
            mode = pool_of(built.options.pools, p) if req.onsite else VIRTUAL_MODE
            j = built.loop.get((p.request, p.day, p.start, mode))
            if j is None:
                return None
            values[j] = 1
            for k, i in enumerate(p.interviewers):
                js = built.session.get((p.request, p.day, p.start, k, i))
                if js is None:
                    return None
                values[js] = 1
        for i in p.interviewers:
            load[i] += 1
    for i, e in built.excess.items():
        values[e] = min(max(0, load[i] - fair_share), built.model.upper[e])
    return values


def pool_of(pools: Sequence[Pool], placement: Placement) -> int:
    """The pool holding the placement's room on its day (-2 if none)."""
    for pool in pools:
        if pool.day == placement.day and placement.room in pool.rooms:
            return pool.index
    return -2


def placements_of(problem: Problem, built: Built, values: Sequence[int]) -> list[Placement]:
    """Placements of a solution; an onsite loop gets ``room = -(2 + pool)`` until rooms are
    assigned (``scheduler.solver.rooms``)."""
    chosen: list[Placement] = []
    for (r, day, start, i), j in built.screen.items():
        if values[j] > 0.5:
            chosen.append(Placement(r, day, start, (i,)))
    for (r, day, start, mode), j in built.loop.items():
        if values[j] < 0.5:
            continue
        req = problem.requests[r]
        people = tuple(
            _session_people(built, values, r, day, start, k) for k in range(req.sessions)
        )
        room = VIRTUAL_MODE if mode == VIRTUAL_MODE else -(2 + mode)
        chosen.append(Placement(r, day, start, people, room))
    return chosen


def _session_people(
    built: Built, values: Sequence[int], r: int, day: int, start: int, k: int
) -> int:
    options = built.options.loops[r]
    option = next(o for o in options if (o.day, o.start) == (day, start))
    for i in option.sessions[k]:
        if values[built.session[r, day, start, k, i]] > 0.5:
            return i
    raise RuntimeError(f"loop {r}: session {k} has no interviewer in the solution")
