"""Feasible options per request, the screener trim, room pools and the blocking-reason probe.

Options are built only where everything a request needs alone is free: the
candidate's allowed slots, an interviewer free for the whole session with caps
left, and (onsite loops) a room free for the whole loop.

- **Screens**: per (interviewer, day) the bitmask of feasible starts.
  ``trim_screeners`` keeps ``k`` interviewers per screen: primary-area screeners
  first, then those least asked for so far relative to their weekly caps (so the
  kept sets spread over all screeners instead of piling onto the same few), plus
  any interviewer a hint or the previous plan uses. Only interviewers with a
  feasible start are ranked, so trimming never empties a request's options.
- **Loops**: per (day, start) the interviewers free for each session, kept only
  when distinct interviewers with a hiring manager can cover all sessions, and
  the room modes: ``VIRTUAL_MODE`` or a **room pool**.
- **Room pools**: the usable rooms (capacity >= 2) of one office on one day,
  grouped by (accessible, free slots). Rooms in a pool are interchangeable, so a
  per-slot count (``<= len(pool.rooms)``) is exact: intervals that never exceed
  the count at any slot can be given concrete rooms afterwards by sweeping them
  in start order (interval graphs are perfect). Plain per-office counts (all
  rooms, accessible rooms) are not exact when some rooms are accessible and some
  are not; pools are that count, split just enough to be exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scheduler.solver.problem import Problem, Request
from scheduler.solver.state import State, block, run_starts

VIRTUAL_MODE = -1


@dataclass(frozen=True)
class Pool:
    """Interchangeable rooms of one office on one day."""

    index: int
    office: str
    day: int
    accessible: bool
    free: int
    rooms: tuple[int, ...]


@dataclass(frozen=True)
class LoopOption:
    """A loop at (day, start): who can run each session, and the room modes."""

    day: int
    start: int
    sessions: tuple[tuple[int, ...], ...]
    modes: tuple[int, ...]


ScreenRuns = dict[int, dict[int, int]]
"""interviewer -> day -> bitmask of feasible starts."""


def make_pools(problem: Problem, state: State) -> list[Pool]:
    """Room pools per office and day from the rooms' free slots in ``state``."""
    pools: list[Pool] = []
    offices = {room.office for room in problem.rooms}
    usable = {r for office in offices for r in problem.usable_rooms(office, False)}
    for day in range(len(problem.horizon.days)):
        groups: dict[tuple[str, bool, int], list[int]] = {}
        for r, room in enumerate(problem.rooms):
            if r not in usable:
                continue
            key = (room.office, room.accessible, state.room_free[r][day])
            groups.setdefault(key, []).append(r)
        for (office, accessible, free), rooms in groups.items():
            if free:
                pools.append(Pool(len(pools), office, day, accessible, free, tuple(rooms)))
    return pools


def screen_runs(request: Request, state: State, days: Iterable[int]) -> ScreenRuns:
    """Feasible screen starts per qualified interviewer and day.

    Interviewers without caps left in ``state`` get none: a state with some caps
    set to 0 restricts a sub-problem to the others (``scheduler.solver.engine``).
    """
    found: ScreenRuns = {}
    length = request.session_length
    for day in days:
        if day < request.earliest_day:
            continue
        allowed = request.allowed[day]
        if not allowed:
            continue
        for i in request.qualified:
            if not state.has_capacity(i, day):
                continue
            runs = run_starts(state.free[i][day] & allowed, length)
            if runs:
                found.setdefault(i, {})[day] = runs
    return found


def assign_sessions(
    eligible: Sequence[Sequence[int]], managers: Iterable[int]
) -> tuple[int, ...] | None:
    """Distinct interviewers, one per session, at least one a manager; None if impossible.

    ``eligible[k]`` lists who can run session ``k`` in preference order; managers
    are tried in the order given, each in every session they can run.
    """
    for manager in managers:
        for k, who in enumerate(eligible):
            if manager not in who:
                continue
            chosen: list[int] = [-1] * len(eligible)
            chosen[k] = manager
            if _match(eligible, chosen, {manager}):
                return tuple(chosen)
    return None


def _match(eligible: Sequence[Sequence[int]], chosen: list[int], used: set[int]) -> bool:
    """Fill the -1 entries of ``chosen`` with distinct unused interviewers (augmenting paths)."""
    owner: dict[int, int] = {}

    def augment(k: int, seen: set[int]) -> bool:
        for i in eligible[k]:
            if i in used or i in seen:
                continue
            seen.add(i)
            if i not in owner or augment(owner[i], seen):
                owner[i] = k
                return True
        return False

    for k in range(len(eligible)):
        if chosen[k] < 0 and not augment(k, set()):
            return False
    for i, k in owner.items():
        chosen[k] = i
    return True


def loop_options(
    request: Request,
    state: State,
    days: Iterable[int],
    pools: Sequence[Pool],
    problem: Problem,
) -> list[LoopOption]:
    """Every (day, start) at which the loop can be held alone, with its room modes."""
    options: list[LoopOption] = []
    managers = sorted(request.preferred)
    if not managers or len(request.qualified) < request.sessions:
        return options
    by_day: dict[int, list[Pool]] = {}
    if request.onsite:
        usable = set(problem.usable_rooms(request.office, request.accessible))
        for pool in pools:
            if pool.office == request.office and usable.issuperset(pool.rooms):
                by_day.setdefault(pool.day, []).append(pool)
    for day in days:
        if day < request.earliest_day:
            continue
        starts = run_starts(request.allowed[day], request.span)
        if not starts:
            continue
        members = [i for i in request.qualified if state.has_capacity(i, day)]
        if len(members) < request.sessions or not request.preferred.intersection(members):
            continue
        for start in range(problem.horizon.slots):
            if not starts >> start & 1:
                continue
            if request.onsite:
                span = block(start, request.span)
                modes = tuple(p.index for p in by_day.get(day, []) if p.free & span == span)
                if not modes:
                    continue
            else:
                modes = (VIRTUAL_MODE,)
            sessions = tuple(
                tuple(
                    i
                    for i in members
                    if state.free[i][day] & (need := block(start + off, request.session_length))
                    == need
                )
                for off in request.offsets
            )
            if assign_sessions(sessions, managers) is not None:
                options.append(LoopOption(day, start, sessions, modes))
    return options


def trim_screeners(
    problem: Problem,
    state: State,
    runs: dict[int, ScreenRuns],
    k: int,
    keep: dict[int, set[int]],
) -> dict[int, list[int]]:
    """The interviewers kept per screen request (see module docstring)."""
    capacity = {
        i: max(1, min(sum(state.week_left[i]), who.max_per_day * len(problem.horizon.days)))
        for i, who in enumerate(problem.interviewers)
    }
    asked = dict.fromkeys(range(len(problem.interviewers)), 0)
    kept: dict[int, list[int]] = {}
    order = sorted(runs, key=lambda r: (len(runs[r]), r))
    for r in order:
        request = problem.requests[r]
        pool = sorted(
            runs[r],
            key=lambda i: (i not in request.preferred, asked[i] / capacity[i], i),
        )
        chosen = pool[:k]
        for i in sorted(keep.get(r, set())):
            if i in runs[r] and i not in chosen:
                chosen.append(i)
        for i in chosen:
            asked[i] += 1
        kept[r] = sorted(chosen)
    return kept


def blocking_reason(problem: Problem, state: State, request: Request, pools: Sequence[Pool]) -> str:
    """Why ``request`` cannot be placed even alone, or ``capacity_taken`` if it can.

    Checked in this order: qualification, candidate hours, stage gap, room,
    interviewer calendars (busy blocks and caps), else capacity taken by others.
    """
    days = range(len(problem.horizon.days))
    length = request.span if request.stage == "loop" else request.session_length
    if request.stage == "screen":
        if not request.qualified:
            return "no_qualified_interviewer"
    elif len(request.qualified) < request.sessions or not request.preferred:
        return "no_qualified_interviewer"
    fits = [d for d in days if run_starts(request.allowed[d], length)]
    if not fits:
        return "candidate_hours"
    if not [d for d in fits if d >= request.earliest_day]:
        return "stage_gap"
    if request.stage == "loop":
        if request.onsite:
            rooms = problem.usable_rooms(request.office, request.accessible)
            free = any(
                run_starts(request.allowed[d] & state.room_free[r][d], request.span)
                for r in rooms
                for d in fits
                if d >= request.earliest_day
            )
            if not free:
                return "no_room"
        if not loop_options(request, state, days, pools, problem):
            return "interviewer_calendars"
    elif not screen_runs(request, state, days):
        return "interviewer_calendars"
    return "capacity_taken"
