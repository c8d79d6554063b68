"""Booking state: who and which room is still free, and the caps left.

Bitmask calendars as in the problem (bit ``s`` = slot ``s`` of a horizon day).
A ``Placement`` is one placed request; ``State.book`` takes its interviewers'
slots, their daily and weekly counts and (onsite) its room's slots.
"""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.solver.problem import Problem, Request


@dataclass(frozen=True)
class Placement:
    """A request placed: day, first slot, interviewer per session, room (-1: none yet/virtual)."""

    request: int
    day: int
    start: int
    interviewers: tuple[int, ...]
    room: int = -1


def run_starts(free: int, length: int) -> int:
    """Bitmask of slots ``s`` such that slots ``s .. s+length-1`` are all set in ``free``."""
    runs = free
    for k in range(1, length):
        runs &= free >> k
    return runs


def bits(mask: int) -> list[int]:
    """Positions of the set bits, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def block(start: int, length: int) -> int:
    return ((1 << length) - 1) << start


class State:
    """Free slots, caps left and room occupancy over the horizon."""

    def __init__(self, problem: Problem) -> None:
        horizon = problem.horizon
        full = (1 << horizon.slots) - 1
        n_days, n_weeks = len(horizon.days), horizon.n_weeks
        self.problem = problem
        self.week = horizon.week
        self.free = [
            [~problem.busy[i][d] & full for d in range(n_days)]
            for i in range(len(problem.interviewers))
        ]
        self.day_left = [[who.max_per_day] * n_days for who in problem.interviewers]
        self.week_left = [[who.max_per_week] * n_weeks for who in problem.interviewers]
        self.room_free = [[full] * n_days for _ in problem.rooms]
        self.load = [0] * len(problem.interviewers)

    def copy(self) -> State:
        other = State.__new__(State)
        other.problem = self.problem
        other.week = self.week
        other.free = [row[:] for row in self.free]
        other.day_left = [row[:] for row in self.day_left]
        other.week_left = [row[:] for row in self.week_left]
        other.room_free = [row[:] for row in self.room_free]
        other.load = self.load[:]
        return other

    def has_capacity(self, i: int, day: int) -> bool:
        return self.day_left[i][day] > 0 and self.week_left[i][self.week[day]] > 0

    def fits(self, i: int, day: int, start: int, length: int) -> bool:
        """Interviewer ``i`` is free for ``length`` slots from ``start`` and under the caps."""
        need = block(start, length)
        return self.has_capacity(i, day) and self.free[i][day] & need == need

    def book(self, request: Request, placement: Placement) -> None:
        day = placement.day
        for i, offset in zip(placement.interviewers, request.offsets, strict=True):
            self.free[i][day] &= ~block(placement.start + offset, request.session_length)
            self.day_left[i][day] -= 1
            self.week_left[i][self.week[day]] -= 1
            self.load[i] += 1
        if placement.room >= 0:
            self.room_free[placement.room][day] &= ~block(placement.start, request.span)
