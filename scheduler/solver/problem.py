"""Problem building: a snapshot -> the interview requests of one planning horizon.

The horizon is ``config.horizon_days`` working days (Monday to Friday) after the
snapshot date, each cut into ``config.hours`` slots (Pacific time). When
``scenario.yaml`` names no ``snapshot_date``, the snapshot is taken to be as old
as the newest date in its own data (the latest form, screen, application or
posting-open date): the horizon starts the next working day. That is the earliest
day the data can describe, and the same input always gives the same horizon.

Requests, one per candidate still to schedule:

- stage ``new`` with a completed form -> a **screen**: one interviewer with role
  ``screen`` qualified in the candidate's primary or secondary area, virtual;
- stage ``screened`` with a target posting (``posting_id`` in candidates.csv)
  -> a **loop** for that posting: ``loop_sessions`` sessions on one day, each
  with a different member of the posting's team holding role ``loop``, at least
  one ``hiring_manager``; onsite at the posting's office with a room (an
  accessible one for ``accessible_room``) when the candidate is ``onsite`` and
  not ``virtual_only``, else virtual; at least ``min_gap_days`` working days
  after the screen (``last_interview_date``; the snapshot date when missing).

``applied`` candidates (form incomplete), ``screened`` ones whose form date is
empty and ``screened`` ones without a target get no request; they are reported as
``form_incomplete`` / ``no_open_posting``.
Calendars become bitmasks: bit ``s`` of ``busy[i][d]`` is set when interviewer
``i`` is busy in slot ``s`` of horizon day ``d``; ``Request.allowed[d]`` holds
the slots inside the candidate's local hours and outside their busy blocks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.domain import (
    OFFICE_TZ,
    VIRTUAL,
    BusyBlock,
    Candidate,
    Interviewer,
    InterviewFormat,
    Posting,
    Room,
    Snapshot,
    WorkingHours,
)
from scheduler.rules import week_of_day
from scheduler.scenario import ScenarioConfig

MIN_ROOM_CAPACITY = 2
"""A loop room holds the candidate and an interviewer."""


@dataclass(frozen=True)
class Horizon:
    """The working days planned, their ISO-week index and the slot grid."""

    days: tuple[dt.date, ...]
    week: tuple[int, ...]
    """Index (0, 1, ...) of each day's ISO week within the horizon."""
    hours: WorkingHours

    @property
    def slots(self) -> int:
        return self.hours.slots_per_day

    @property
    def n_weeks(self) -> int:
        return (self.week[-1] + 1) if self.week else 0

    def time(self, day: int, slot: int) -> dt.datetime:
        """Aware (Pacific) start of ``slot`` on horizon day ``day``."""
        return self.hours.slot_start(self.days[day], slot)


@dataclass(frozen=True)
class Request:
    """One interview to place: a screen or a loop of one candidate."""

    index: int
    candidate: Candidate
    stage: str
    """``screen`` or ``loop``."""
    posting: Posting | None
    session_length: int
    """Slots per session (a screen is one session)."""
    offsets: tuple[int, ...]
    """Start offset of each session from the first slot."""
    office: str
    """The posting's office for an onsite loop, else ``virtual``."""
    accessible: bool
    earliest_day: int
    """First horizon day allowed (form date / stage gap); may be past the horizon."""
    allowed: tuple[int, ...]
    """Per horizon day: bitmask of slots the candidate can be interviewed in."""
    qualified: tuple[int, ...]
    """Interviewer indices: screeners in the candidate's areas, or the team's loop members."""
    preferred: frozenset[int]
    """Screens: screeners of the primary area. Loops: the team's hiring managers."""
    screen_day_known: bool = True
    """Loops: the screen's day is in the tables (``last_interview_date``); otherwise the
    gap is counted from the snapshot day, which is the latest it can have been."""
    was_confirmed: bool = False
    """Re-plan: its previous row was confirmed but cannot stay as it was; keeping its time
    weighs more than keeping a proposed one's (``SolveWeights.keep_confirmed_start``)."""

    @property
    def span(self) -> int:
        return self.offsets[-1] + self.session_length

    @property
    def sessions(self) -> int:
        return len(self.offsets)

    @property
    def onsite(self) -> bool:
        return self.office != VIRTUAL

    @property
    def label(self) -> str:
        return f"{self.candidate.candidate_id}/{self.stage}"


@dataclass(frozen=True)
class Skipped:
    """A candidate that gets no request, with the reason."""

    candidate_id: str
    stage: str
    reason: str


@dataclass
class Problem:
    """Everything the solvers need, indexed by position."""

    snapshot: Snapshot
    config: ScenarioConfig
    horizon: Horizon
    interviewers: list[Interviewer]
    rooms: list[Room]
    busy: list[list[int]]
    """[interviewer][day] calendar busy slots."""
    requests: list[Request]
    skipped: list[Skipped]
    busy_blocks: dict[str, list[tuple[dt.datetime, dt.datetime]]] = field(default_factory=dict)
    """Calendar blocks per person (Pacific), for exact checks of confirmed interviews."""

    @property
    def fmt(self) -> InterviewFormat:
        return self.config.interview

    def interviewer_index(self) -> dict[str, int]:
        return {who.interviewer_id: i for i, who in enumerate(self.interviewers)}

    def room_index(self) -> dict[str, int]:
        return {room.room_id: r for r, room in enumerate(self.rooms)}

    def usable_rooms(self, office: str, accessible: bool) -> list[int]:
        """Rooms of ``office`` big enough for a loop (accessible ones if needed)."""
        return [
            r
            for r, room in enumerate(self.rooms)
            if room.office == office
            and room.capacity >= MIN_ROOM_CAPACITY
            and (room.accessible or not accessible)
        ]


# Horizon -------------------------------------------------------------------------------


def working_days_after(day: dt.date, count: int) -> list[dt.date]:
    """The ``count`` working days (Mon-Fri) after ``day``."""
    days: list[dt.date] = []
    current = day
    while len(days) < count:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            days.append(current)
    return days


def working_days_between(first: dt.date, last: dt.date) -> int:
    """Working days in ``[first, last)`` (as ``numpy.busday_count``)."""
    if last <= first:
        return 0
    count = 0
    current = first
    while current < last:
        count += current.weekday() < 5
        current += dt.timedelta(days=1)
    return count


def snapshot_day(snapshot: Snapshot, meta: dict[str, Any]) -> dt.date:
    """``meta["snapshot_date"]``, or the newest date in the data (see module docstring)."""
    day = meta.get("snapshot_date")
    if isinstance(day, dt.date):
        return day
    dates = [p.open_date for p in snapshot.postings]
    for c in snapshot.candidates:
        dates.append(c.applied_date)
        if c.form_completed_date is not None:
            dates.append(c.form_completed_date)
    dates.extend(meta.get("last_interview", {}).values())
    return max(dates)


def make_horizon(snapshot: Snapshot, config: ScenarioConfig, meta: dict[str, Any]) -> Horizon:
    days = tuple(working_days_after(snapshot_day(snapshot, meta), config.horizon_days))
    return Horizon(days, tuple(week_of_day(days)), config.hours)


# Calendars ----------------------------------------------------------------------------


def slot_range(
    horizon: Horizon, day: int, start: dt.datetime, end: dt.datetime
) -> tuple[int, int] | None:
    """Slots ``[first, last)`` of horizon day ``day`` overlapping ``[start, end)``; None if none."""
    origin = horizon.time(day, 0)
    step = horizon.hours.slot_minutes * 60
    lo = (start - origin).total_seconds() / step
    hi = (end - origin).total_seconds() / step
    first = max(0, int(lo // 1))
    last = min(horizon.slots, int(-((-hi) // 1)))
    return (first, last) if first < last else None


def busy_masks(horizon: Horizon, blocks: list[tuple[dt.datetime, dt.datetime]]) -> list[int]:
    """Per horizon day, the slots overlapping any of ``blocks`` (aware datetimes)."""
    index = {day: d for d, day in enumerate(horizon.days)}
    masks = [0] * len(horizon.days)
    for start, end in blocks:
        first = start.astimezone(OFFICE_TZ).date()
        last = end.astimezone(OFFICE_TZ).date()
        day = first
        while day <= last:
            d = index.get(day)
            if d is not None:
                found = slot_range(horizon, d, start, end)
                if found is not None:
                    masks[d] |= ((1 << (found[1] - found[0])) - 1) << found[0]
            day += dt.timedelta(days=1)
    return masks


@lru_cache(maxsize=65536)
def local_hours_mask(timezone: str, day: dt.date, hours: WorkingHours, lo: int, hi: int) -> int:
    """Slots of ``day`` lying inside ``[lo:00, hi:00]`` local time in ``timezone``."""
    zone = ZoneInfo(timezone)
    step = dt.timedelta(minutes=hours.slot_minutes)
    mask = 0
    for s in range(hours.slots_per_day):
        local = hours.slot_start(day, s).astimezone(zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        start = local.replace(tzinfo=None)
        if midnight + dt.timedelta(hours=lo) <= start and start + step <= midnight + dt.timedelta(
            hours=hi
        ):
            mask |= 1 << s
    return mask


# Requests ------------------------------------------------------------------------------


def _blocks_by_person(
    busy: list[BusyBlock], ignore: set[tuple[str, float, float]]
) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
    found: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
    for block in busy:
        if (block.person_id, block.start.timestamp(), block.end.timestamp()) in ignore:
            continue
        found.setdefault(block.person_id, []).append((block.start, block.end))
    return found


def _first_day(horizon: Horizon, ok: Any) -> int:
    return next((d for d, day in enumerate(horizon.days) if ok(day)), len(horizon.days))


def build_problem(
    snapshot: Snapshot,
    config: ScenarioConfig,
    meta: dict[str, Any],
    ignore: set[tuple[str, float, float]] | None = None,
) -> Problem:
    """Requests, calendars and rooms of ``snapshot`` over its planning horizon.

    ``ignore``: busy blocks ``(person_id, start, end)`` (POSIX seconds) to leave out:
    confirmed interviews that the calendars already show (``scheduler.solver.replan``).
    """
    horizon = make_horizon(snapshot, config, meta)
    fmt = config.interview
    blocks = _blocks_by_person(snapshot.busy, ignore or set())
    interviewers = list(snapshot.interviewers)
    busy = [busy_masks(horizon, blocks.get(i.interviewer_id, [])) for i in interviewers]
    postings = {p.posting_id: p for p in snapshot.postings}
    targets: dict[str, str] = meta.get("targets", {})
    last: dict[str, dt.date] = meta.get("last_interview", {})
    start = snapshot_day(snapshot, meta)
    full = (1 << horizon.slots) - 1

    requests: list[Request] = []
    skipped: list[Skipped] = []
    for cand in snapshot.candidates:
        cid = cand.candidate_id
        if cand.stage == "applied" or (cand.stage == "new" and not cand.complete):
            skipped.append(Skipped(cid, "screen", "form_incomplete"))
            continue
        if cand.stage == "screened" and not cand.complete:  # no interview without the form
            skipped.append(Skipped(cid, "loop", "form_incomplete"))
            continue
        if cand.stage not in ("new", "screened"):
            continue  # looped, offered, ...: nothing to schedule here
        if cand.stage == "screened" and targets.get(cid) not in postings:
            skipped.append(Skipped(cid, "loop", "no_open_posting"))
            continue
        cand_busy = busy_masks(horizon, blocks.get(cid, []))
        hours = (fmt.candidate_local_start_hour, fmt.candidate_local_end_hour)
        allowed = tuple(
            local_hours_mask(cand.timezone, day, horizon.hours, *hours) & ~cand_busy[d] & full
            for d, day in enumerate(horizon.days)
        )
        areas = set(cand.areas())
        if cand.stage == "new":
            form = cand.form_completed_date or start
            qualified = tuple(
                i
                for i, who in enumerate(interviewers)
                if "screen" in who.roles and areas & set(who.areas)
            )
            preferred = frozenset(
                i for i in qualified if cand.primary_area in interviewers[i].areas
            )
            requests.append(
                Request(
                    index=len(requests),
                    candidate=cand,
                    stage="screen",
                    posting=None,
                    session_length=fmt.screen_length(cand.accommodation),
                    offsets=(0,),
                    office=VIRTUAL,
                    accessible=False,
                    earliest_day=_first_day(horizon, lambda day, f=form: day >= f),
                    allowed=allowed,
                    qualified=qualified,
                    preferred=preferred,
                )
            )
            continue
        posting = postings[targets[cid]]
        screened = last.get(cid, start)
        onsite = cand.onsite and "virtual_only" not in cand.accommodation
        members = tuple(
            i
            for i, who in enumerate(interviewers)
            if who.team == posting.team and "loop" in who.roles
        )
        managers = frozenset(i for i in members if "hiring_manager" in interviewers[i].roles)
        requests.append(
            Request(
                index=len(requests),
                candidate=cand,
                stage="loop",
                posting=posting,
                session_length=fmt.session_length(cand.accommodation),
                offsets=fmt.session_offsets(cand.accommodation),
                office=posting.office if onsite else VIRTUAL,
                accessible=onsite and "accessible_room" in cand.accommodation,
                earliest_day=_first_day(
                    horizon,
                    lambda day, s=screened: working_days_between(s, day) >= fmt.min_gap_days,
                ),
                allowed=allowed,
                qualified=members,
                preferred=managers,
                screen_day_known=cid in last,
            )
        )
    return Problem(
        snapshot=snapshot,
        config=config,
        horizon=horizon,
        interviewers=interviewers,
        rooms=list(snapshot.rooms),
        busy=busy,
        requests=requests,
        skipped=skipped,
        busy_blocks=blocks,
    )
