"""Concrete rooms after the solve: each loop keeps one room for its whole span.

The model only counts loops per room pool and slot (``scheduler.solver.options``).
Rooms of a pool are interchangeable and free at the same slots, so sweeping a
pool's loops in start order and giving each the room that fell free first never
fails when the count holds at every slot (interval graphs are perfect).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from scheduler.solver.options import Pool
from scheduler.solver.problem import Problem
from scheduler.solver.state import Placement


def pool_index(room: int) -> int | None:
    """The pool index encoded in ``Placement.room`` before assignment, or None."""
    return -room - 2 if room <= -2 else None


def assign_rooms(
    problem: Problem, pools: Sequence[Pool], placements: Sequence[Placement]
) -> list[Placement]:
    """``placements`` with pool-encoded rooms replaced by concrete room indices."""
    out = list(placements)
    by_pool: dict[int, list[int]] = {}
    for n, p in enumerate(out):
        pool = pool_index(p.room)
        if pool is not None:
            by_pool.setdefault(pool, []).append(n)
    for pool, members in sorted(by_pool.items()):
        rooms = pools[pool].rooms
        free_at = dict.fromkeys(rooms, 0)
        members.sort(key=lambda n: (out[n].start, out[n].request))
        for n in members:
            p = out[n]
            span = problem.requests[p.request].span
            room = min(
                (r for r in rooms if free_at[r] <= p.start),
                key=lambda r: (free_at[r], r),
                default=-1,
            )
            if room < 0:
                raise RuntimeError(f"room pool {pool} over its count at slot {p.start}")
            free_at[room] = p.start + span
            out[n] = replace(p, room=room)
    return out
