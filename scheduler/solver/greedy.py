"""A fast greedy schedule: the ``greedy`` solver, and the hint of the CP-SAT model.

Requests are taken most constrained first: loops (worth more, need three
interviewers and maybe a room) before screens, then by how few interviewers
qualify. Each goes to its earliest feasible day and start; a screen to the
free screener of the primary area with the lightest load so far; a loop to
the least-loaded team members with a hiring manager, in a standard room when
the candidate needs no accessible one (accessible rooms are kept for those who
do). A placement from the previous plan is kept first when it is still free, and
otherwise its time with other interviewers (or room) when those are free.
It books into a copy of the state, so it never breaks a hard constraint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from scheduler.solver.options import assign_sessions
from scheduler.solver.problem import Problem, Request
from scheduler.solver.state import Placement, State, block, run_starts


def request_order(problem: Problem, requests: Iterable[int]) -> list[int]:
    """Most constrained first: loops, then fewest qualified interviewers, earliest day, id."""

    def key(r: int) -> tuple[int, int, int, str]:
        req = problem.requests[r]
        return (req.stage != "loop", len(req.qualified), req.earliest_day, req.label)

    return sorted(requests, key=key)


def time_fits(problem: Problem, req: Request, day: int, start: int) -> bool:
    """Whether ``req`` may start at ``start`` on ``day``: in the horizon, after its earliest
    day, inside the working day and the candidate's hours."""
    if not (0 <= day < len(problem.horizon.days)) or day < req.earliest_day:
        return False
    if start < 0 or start + req.span > problem.horizon.slots:
        return False
    span = block(start, req.span)
    return req.allowed[day] & span == span


def fits(problem: Problem, state: State, placement: Placement) -> bool:
    """Whether ``placement`` can be booked into ``state`` (interviewers, caps, room, hours)."""
    req = problem.requests[placement.request]
    day, start = placement.day, placement.start
    if not time_fits(problem, req, day, start):
        return False
    span = block(start, req.span)
    if len(set(placement.interviewers)) != req.sessions:
        return False
    qualified = set(req.qualified)
    for i, off in zip(placement.interviewers, req.offsets, strict=True):
        if i not in qualified or not state.fits(i, day, start + off, req.session_length):
            return False
    if req.stage == "loop":
        if not req.preferred.intersection(placement.interviewers):
            return False
        if req.onsite:
            rooms = problem.usable_rooms(req.office, req.accessible)
            room = placement.room
            if room not in rooms or state.room_free[room][day] & span != span:
                return False
        elif placement.room >= 0:
            return False
    return True


def earliest_placement(
    problem: Problem, state: State, req: Request, days: Iterable[int]
) -> Placement | None:
    """The greedy rule's placement of ``req`` on the first of ``days`` it fits (None: none)."""
    return (_loop if req.stage == "loop" else _screen)(problem, state, req, days)


def _screen(problem: Problem, state: State, req: Request, days: Iterable[int]) -> Placement | None:
    for day in days:
        if day < req.earliest_day or not req.allowed[day]:
            continue
        best: tuple[int, bool, int, int] | None = None
        for i in req.qualified:
            if not state.has_capacity(i, day):
                continue
            runs = run_starts(state.free[i][day] & req.allowed[day], req.session_length)
            if runs:
                start = (runs & -runs).bit_length() - 1
                key = (start, i not in req.preferred, state.load[i], i)
                if best is None or key < best:
                    best = key
        if best is not None:
            return Placement(req.index, day, best[0], (best[3],))
    return None


def _loop(problem: Problem, state: State, req: Request, days: Iterable[int]) -> Placement | None:
    if len(req.qualified) < req.sessions or not req.preferred:
        return None
    rooms: list[int] = []
    if req.onsite:
        rooms = problem.usable_rooms(req.office, req.accessible)
        rooms.sort(key=lambda r: (problem.rooms[r].accessible, r))
        if not rooms:
            return None
    for day in days:
        if day < req.earliest_day:
            continue
        starts = run_starts(req.allowed[day], req.span)
        members = sorted(
            (i for i in req.qualified if state.has_capacity(i, day)),
            key=lambda i: (state.load[i], i),
        )
        if len(members) < req.sessions:
            continue
        managers = [i for i in members if i in req.preferred]
        while starts:
            start = (starts & -starts).bit_length() - 1
            starts &= starts - 1
            room = -1
            if rooms:
                span = block(start, req.span)
                room = next((r for r in rooms if state.room_free[r][day] & span == span), -1)
                if room < 0:
                    continue
            eligible = [
                [
                    i
                    for i in members
                    if state.free[i][day] & block(start + off, req.session_length)
                    == block(start + off, req.session_length)
                ]
                for off in req.offsets
            ]
            chosen = assign_sessions(eligible, managers)
            if chosen is not None:
                return Placement(req.index, day, start, chosen, room)
    return None


def at_same_time(problem: Problem, state: State, prev: Placement) -> Placement | None:
    """``prev``'s day and start with other interviewers or room, when its own no longer fit.

    The previous people keep their sessions where they still can; the rest are the
    least-loaded qualified interviewers free then (a loop keeps a hiring manager).
    """
    req = problem.requests[prev.request]
    day, start = prev.day, prev.start
    if not time_fits(problem, req, day, start):
        return None
    span = block(start, req.span)

    def order(k: int) -> list[int]:
        was = prev.interviewers[k] if k < len(prev.interviewers) else -1
        at = start + req.offsets[k]
        free = [i for i in req.qualified if state.fits(i, day, at, req.session_length)]
        return sorted(
            free,
            key=lambda i: (
                i != was,
                i not in prev.interviewers,
                i not in req.preferred,
                state.load[i],
                i,
            ),
        )

    eligible = [order(k) for k in range(req.sessions)]
    if req.stage == "screen":
        chosen: tuple[int, ...] | None = (eligible[0][0],) if eligible[0] else None
    else:
        managers = sorted(
            req.preferred, key=lambda i: (i not in prev.interviewers, state.load[i], i)
        )
        chosen = assign_sessions(eligible, managers)
    if chosen is None:
        return None
    room = -1
    if req.stage == "loop" and req.onsite:
        rooms = sorted(
            problem.usable_rooms(req.office, req.accessible),
            key=lambda r: (r != prev.room, problem.rooms[r].accessible, r),
        )
        room = next((r for r in rooms if state.room_free[r][day] & span == span), -1)
        if room < 0:
            return None
    found = Placement(req.index, day, start, chosen, room)
    return found if fits(problem, state, found) else None


def keep_previous(
    problem: Problem,
    state: State,
    requests: Sequence[int],
    days: Sequence[int],
    previous: Mapping[int, Placement],
) -> list[Placement]:
    """Book into ``state`` (mutated) each request's previous placement that still fits, in
    the order of ``requests``, then, for the others, the same time with other people or
    room where that fits (``at_same_time``); returns those placements. Requests whose
    confirmed row could not stay (``Request.was_confirmed``) come first, so that another
    panel keeps their time before a proposed interview keeps its own."""
    kept: list[Placement] = []
    moved: list[Placement] = []
    told = [r for r in requests if problem.requests[r].was_confirmed and r in previous]
    for r in told:
        was = previous[r]
        if was.day not in days:
            continue
        same = was if fits(problem, state, was) else at_same_time(problem, state, was)
        if same is not None:
            state.book(problem.requests[r], same)
            kept.append(same)
    done = set(told)
    for r in (r for r in requests if r not in done):
        keep = previous.get(r)
        if keep is not None and keep.day in days and fits(problem, state, keep):
            state.book(problem.requests[r], keep)
            kept.append(keep)
        elif keep is not None and keep.day in days:
            moved.append(keep)
    for keep in moved:
        found = at_same_time(problem, state, keep)
        if found is not None:
            state.book(problem.requests[keep.request], found)
            kept.append(found)
    return kept


def greedy(
    problem: Problem,
    state: State,
    requests: Sequence[int],
    days: Sequence[int] | None = None,
    preferred: Mapping[int, Placement] | None = None,
) -> list[Placement]:
    """Place ``requests`` one by one into ``state`` (mutated); returns the placements."""
    days = range(len(problem.horizon.days)) if days is None else days
    todo = request_order(problem, requests)
    placed = keep_previous(problem, state, todo, days, preferred or {})
    done = {p.request for p in placed}
    for r in todo:
        if r in done:
            continue
        req = problem.requests[r]
        found = earliest_placement(problem, state, req, days)
        if found is not None:
            state.book(req, found)
            placed.append(found)
    return placed
