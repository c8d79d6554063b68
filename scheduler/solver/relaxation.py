"""A small relaxation of the model whose LP optimum still bounds it: for large jobs.

The LP relaxation of the full model stops being cheap at a few hundred thousand
variables (SOLVER-NOTES "Bounds": "the LP takes over 300 s" for L; measured here:
not solved in 200 s at 550k variables). This relaxation forgets *when* in a day
an interview happens and keeps only *which day* and *who*:

- ``u[r, d, i]``: screen ``r`` on day ``d`` with interviewer ``i``;
- ``v[r, d]``: loop ``r`` on day ``d``; ``w[r, d, i]``: interviewer ``i`` in it;
  ``sum_i w = sessions * v``, ``w <= v``, a hiring manager ``>= v``;

each worth the best value any of its start times has in the model. Rows: a
request at most once; per interviewer and day the daily cap left and the free
slots (each session needs its length in free slots); per ISO week the weekly
cap; per office and day the free room-slots (all, and accessible ones); the load
excess as in the model. Every solution of the model maps onto a solution of this
relaxation worth at least as much, so its LP optimum (floored) is a valid upper
bound of the model. It has about ten times fewer variables, so HiGHS solves it
in seconds where the full LP takes minutes.
"""

from __future__ import annotations

from collections.abc import Mapping

from scheduler.solver.config import SolveWeights
from scheduler.solver.linear import LinearModel
from scheduler.solver.model import Options, loop_value, screen_value, session_value
from scheduler.solver.options import LoopOption
from scheduler.solver.problem import Problem
from scheduler.solver.state import Placement, State, bits


def aggregated_model(
    problem: Problem,
    state: State,
    options: Options,
    w: SolveWeights,
    fair_share: int,
    previous: Mapping[int, Placement],
    booked_value: int,
) -> LinearModel:
    """The day-level relaxation of the model of ``options`` (see module docstring)."""
    model = LinearModel()
    per_request: dict[int, list[int]] = {}
    use: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (i, d) -> [(var, slots)]
    room_use: dict[tuple[str, int, bool], list[tuple[int, int]]] = {}
    for r, runs in options.screens.items():
        req, before = problem.requests[r], previous.get(r)
        for i, days in runs.items():
            for d, mask in days.items():
                best = max(screen_value(problem, w, r, d, s, i, before) for s in bits(mask))
                j = model.add_var(("u", r, d, i), best)
                per_request.setdefault(r, []).append(j)
                use.setdefault((i, d), []).append((j, req.session_length))
    for r, loop_options in options.loops.items():
        req, before = problem.requests[r], previous.get(r)
        by_day: dict[int, list[LoopOption]] = {}
        for o in loop_options:
            by_day.setdefault(o.day, []).append(o)
        for d, found in by_day.items():
            best = max(loop_value(problem, w, r, d, o.start, before) for o in found)
            v = model.add_var(("v", r, d), best)
            per_request.setdefault(r, []).append(v)
            people = sorted({i for o in found for who in o.sessions for i in who})
            cols, lead = [], []
            for i in people:
                bonus = max(session_value(w, k, i, before) for k in range(req.sessions))
                j = model.add_var(("w", r, d, i), bonus)
                cols.append(j)
                model.add_row([j, v], [1, -1], hi=0)
                use.setdefault((i, d), []).append((j, req.session_length))
                if i in req.preferred:
                    lead.append(j)
            model.add_row(cols + [v], [1] * len(cols) + [-req.sessions], lo=0, hi=0)
            model.add_row(lead + [v], [1] * len(lead) + [-1], lo=0)
            if req.onsite:
                room_use.setdefault((req.office, d, False), []).append((v, req.span))
                if req.accessible:
                    room_use.setdefault((req.office, d, True), []).append((v, req.span))
    for cols in per_request.values():
        if len(cols) > 1:
            model.add_row(cols, hi=1)
    _interviewer_rows(problem, state, model, use)
    _room_rows(problem, options, model, room_use)
    _balance_rows(problem, state, model, use, w, fair_share, booked_value)
    return model


def _interviewer_rows(
    problem: Problem, state: State, model: LinearModel, use: dict[tuple[int, int], list]
) -> None:
    weekly: dict[tuple[int, int], list[int]] = {}
    for (i, d), terms in use.items():
        cols = [j for j, _ in terms]
        model.add_row(cols, hi=state.day_left[i][d])
        model.add_row(cols, [n for _, n in terms], hi=bin(state.free[i][d]).count("1"))
        weekly.setdefault((i, problem.horizon.week[d]), []).extend(cols)
    for (i, week), cols in weekly.items():
        model.add_row(cols, hi=state.week_left[i][week])


def _room_rows(
    problem: Problem,
    options: Options,
    model: LinearModel,
    room_use: dict[tuple[str, int, bool], list[tuple[int, int]]],
) -> None:
    for (office, d, accessible), terms in room_use.items():
        capacity = sum(
            bin(pool.free).count("1") * len(pool.rooms)
            for pool in options.pools
            if pool.office == office and pool.day == d and (pool.accessible or not accessible)
        )
        model.add_row([j for j, _ in terms], [n for _, n in terms], hi=capacity)


def _balance_rows(
    problem: Problem,
    state: State,
    model: LinearModel,
    use: dict[tuple[int, int], list],
    w: SolveWeights,
    fair_share: int,
    booked_value: int,
) -> None:
    per: dict[int, list[int]] = {}
    for (i, _), terms in use.items():
        per.setdefault(i, []).extend(j for j, _ in terms)
    for i, cols in sorted(per.items()):
        most = state.load[i] + min(len(cols), sum(state.week_left[i]))
        if most <= fair_share or w.balance == 0:
            continue
        e = model.add_var(("e", i), -w.balance, upper=most - fair_share)
        model.add_row(cols + [e], [1] * len(cols) + [-1], hi=fair_share - state.load[i])
    fixed = sum(max(0, n - fair_share) for i, n in enumerate(state.load) if i not in per)
    model.constant = booked_value - w.balance * fixed
