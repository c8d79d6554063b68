"""The season's booking calendar: who is free when, as slot bitmasks.

Each (interviewer, day) and (room, day) holds a Python ``int`` whose bit ``s``
is set when slot ``s`` is taken (calendar busy block or a booked session). A
run of ``L`` free slots starting at ``s`` is found with shifts and ands, so a
booking search costs a few hundred integer operations whatever the season size.

The booking rule (the env's, documented in ``SeasonEnv``): the earliest day in
the horizon, then the earliest start; screens take the qualified screener free
earliest that day (primary-area screeners first); loops take a hiring manager
first, then the other team members in order, and the first room of the office
that is free for the whole loop (an accessible one when needed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from scheduler.domain import InterviewFormat, WorkingHours


def run_starts(free: int, length: int) -> int:
    """Bitmask of slots ``s`` such that slots ``s .. s+length-1`` are all set in ``free``."""
    runs = free
    for k in range(1, length):
        runs &= free >> k
    return runs


def lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


@lru_cache(maxsize=65536)
def candidate_hours_mask(
    timezone: str, day: dt.date, hours: WorkingHours, fmt: InterviewFormat
) -> int:
    """Slots of ``day`` (Pacific) lying inside the candidate's local hours."""
    zone = ZoneInfo(timezone)
    mask = 0
    step = dt.timedelta(minutes=hours.slot_minutes)
    for s in range(hours.slots_per_day):
        local_start = hours.slot_start(day, s).astimezone(zone)
        midnight = local_start.replace(hour=0, minute=0, second=0, microsecond=0)
        lo = midnight + dt.timedelta(hours=fmt.candidate_local_start_hour)
        hi = midnight + dt.timedelta(hours=fmt.candidate_local_end_hour)
        if lo <= local_start and local_start + step <= hi:
            mask |= 1 << s
    return mask


@dataclass
class Booking:
    """One booked interview in the season."""

    candidate: int
    stage: str  # "screen" or "loop"
    day: int
    start: int
    end: int
    interviewers: tuple[int, ...]
    session_starts: tuple[int, ...]
    session_length: int
    office: str
    room: int  # -1 when virtual
    posting: int  # -1 for a screen
    status: str = "booked"  # booked, held, no_show, cancelled


class Calendar:
    """Occupancy of interviewers and rooms over the season, with caps."""

    def __init__(
        self,
        busy: list[list[int]],
        max_per_day: list[int],
        max_per_week: list[int],
        n_rooms: int,
        n_days: int,
        week_of_day: list[int],
        slots_per_day: int,
    ) -> None:
        self.occupied = busy
        self.max_per_day = max_per_day
        self.max_per_week = max_per_week
        self.day_count = [[0] * n_days for _ in busy]
        n_weeks = max(week_of_day) + 1 if week_of_day else 1
        self.week_count = [[0] * n_weeks for _ in busy]
        self.room_occupied = [[0] * n_days for _ in range(n_rooms)]
        self.week_of_day = week_of_day
        self.full = (1 << slots_per_day) - 1
        self.releases = 0
        """Count of cancellations: while it stands still, bookings only ever take slots
        and caps, so a search that found nothing still finds nothing."""

    def has_capacity(self, i: int, day: int) -> bool:
        return (
            self.day_count[i][day] < self.max_per_day[i]
            and self.week_count[i][self.week_of_day[day]] < self.max_per_week[i]
        )

    def free(self, i: int, day: int) -> int:
        return ~self.occupied[i][day] & self.full

    def take(self, i: int, day: int, start: int, length: int) -> None:
        self.occupied[i][day] |= ((1 << length) - 1) << start
        self.day_count[i][day] += 1
        self.week_count[i][self.week_of_day[day]] += 1

    def release(self, i: int, day: int, start: int, length: int) -> None:
        self.releases += 1
        self.occupied[i][day] &= ~(((1 << length) - 1) << start)
        self.day_count[i][day] -= 1
        self.week_count[i][self.week_of_day[day]] -= 1

    def find_screen(
        self, screeners: list[int], days: range, hours_mask: list[int], length: int
    ) -> tuple[int, int, int] | None:
        """(day, start, interviewer) of the earliest screen, or None within ``days``.

        The hot loop of the env's masks: ``has_capacity``, ``free``, ``run_starts``
        and ``lowest_bit`` are written out inline.
        """
        occupied, day_count, week_count = self.occupied, self.day_count, self.week_count
        max_per_day, max_per_week, full = self.max_per_day, self.max_per_week, self.full
        for pos, day in enumerate(days):
            allowed = hours_mask[pos] & full
            if not allowed:
                continue
            week = self.week_of_day[day]
            best_start, best_i = 1 << 30, -1
            for i in screeners:
                if day_count[i][day] >= max_per_day[i] or week_count[i][week] >= max_per_week[i]:
                    continue
                free = ~occupied[i][day] & allowed
                runs = free
                for k in range(1, length):
                    runs &= free >> k
                if runs:
                    s = (runs & -runs).bit_length() - 1
                    if s < best_start:
                        best_start, best_i = s, i
                        if s == 0:
                            break
            if best_i >= 0:
                return day, best_start, best_i
        return None

    def find_loop(
        self,
        managers: list[int],
        members: list[int],
        rooms: list[int],
        days: range,
        hours_mask: list[int],
        offsets: tuple[int, ...],
        session_length: int,
    ) -> tuple[int, int, tuple[int, ...], int] | None:
        """(day, start, interviewers per session, room or -1) of the earliest loop."""
        span = offsets[-1] + session_length
        block = (1 << session_length) - 1
        occupied, day_count, week_count = self.occupied, self.day_count, self.week_count
        max_per_day, max_per_week, full = self.max_per_day, self.max_per_week, self.full
        for pos, day in enumerate(days):
            starts = run_starts(hours_mask[pos], span)
            if not starts:
                continue
            week = self.week_of_day[day]
            free_of = {
                i: ~occupied[i][day] & full
                for i in members
                if day_count[i][day] < max_per_day[i] and week_count[i][week] < max_per_week[i]
            }
            if len(free_of) < len(offsets) or not any(m in free_of for m in managers):
                continue
            room_free = [(r, ~self.room_occupied[r][day] & self.full) for r in rooms]
            while starts:
                s = lowest_bit(starts)
                starts &= starts - 1
                room = -1
                if rooms:
                    span_bits = ((1 << span) - 1) << s
                    room = next((r for r, f in room_free if f & span_bits == span_bits), -1)
                    if room < 0:
                        continue
                chosen = self._assign_sessions(managers, free_of, s, offsets, block)
                if chosen is not None:
                    return day, s, chosen, room
        return None

    @staticmethod
    def _assign_sessions(
        managers: list[int],
        free_of: dict[int, int],
        start: int,
        offsets: tuple[int, ...],
        block: int,
    ) -> tuple[int, ...] | None:
        """Interviewers per session, a hiring manager placed first; None if none fits."""
        needs = [block << (start + off) for off in offsets]
        for manager in managers:
            if manager not in free_of:
                continue
            for j, need in enumerate(needs):
                if free_of[manager] & need != need:
                    continue
                chosen: list[int] = [-1] * len(needs)
                chosen[j] = manager
                used = {manager}
                for k, other_need in enumerate(needs):
                    if k == j:
                        continue
                    pick = next(
                        (
                            i
                            for i, f in free_of.items()
                            if i not in used and f & other_need == other_need
                        ),
                        -1,
                    )
                    if pick < 0:
                        break
                    chosen[k] = pick
                    used.add(pick)
                else:
                    return tuple(chosen)
        return None

    def book(self, booking: Booking) -> None:
        for i, s in zip(booking.interviewers, booking.session_starts, strict=True):
            self.take(i, booking.day, s, booking.session_length)
        if booking.room >= 0:
            self.room_occupied[booking.room][booking.day] |= (
                (1 << (booking.end - booking.start)) - 1
            ) << booking.start

    def screen_still_free(self, found: tuple[int, int, int], length: int) -> bool:
        """Whether the screen ``find_screen`` found, (day, start, interviewer), can still
        be booked: the interviewer has capacity that day and the slots are free."""
        day, start, i = found
        need = ((1 << length) - 1) << start
        return self.has_capacity(i, day) and self.free(i, day) & need == need

    def cancel(self, booking: Booking) -> None:
        self.releases += 1
        for i, s in zip(booking.interviewers, booking.session_starts, strict=True):
            self.release(i, booking.day, s, booking.session_length)
        if booking.room >= 0:
            self.room_occupied[booking.room][booking.day] &= ~(
                ((1 << (booking.end - booking.start)) - 1) << booking.start
            )
