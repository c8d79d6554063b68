"""What the job page draws: week calendars per office, a timeline per interviewer, load vs caps.

Everything is computed here from ``schedule.csv`` and the job's tables, as
positions in percent of the working day, so the templates only place boxes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from scheduler.domain import OFFICE_TZ, Interviewer, WorkingHours


@dataclass
class Event:
    """One interview of the schedule."""

    interview_id: str
    candidate_id: str
    stage: str
    office: str
    room_id: str
    interviewers: list[str]
    start: dt.datetime
    end: dt.datetime
    status: str
    sessions: list[dt.datetime]

    @property
    def virtual(self) -> bool:
        return self.office == "virtual" or not self.room_id

    @property
    def title(self) -> str:
        where = "virtual" if self.virtual else f"{self.office}, room {self.room_id}"
        return (
            f"{self.candidate_id} {self.stage} {self.start:%a %b %d %H:%M}-{self.end:%H:%M} "
            f"({where}; {', '.join(self.interviewers)}; {self.status})"
        )


@dataclass
class Box:
    """An event placed in a day column (percent of the day's height and the column's width)."""

    event: Event
    top: float
    height: float
    left: float = 0.0
    width: float = 100.0
    label: str = ""

    @property
    def details(self) -> list[str]:
        """The lines under the label that the box's height holds: the time, then the place
        and the interviewers (the tooltip has them all)."""
        e = self.event
        lines = [f"{e.start:%H:%M}-{e.end:%H:%M}"]
        if not e.virtual:
            lines.append(f"room {e.room_id}")
        lines += e.interviewers
        return lines[: max(0, int(self.height / LINE_PERCENT) - 1)]


LINE_PERCENT = 3.2
"""Height of one label line, in percent of a day column (0.72em type on 30em)."""


@dataclass
class Week:
    monday: dt.date
    days: list[tuple[dt.date, list[Box]]]
    lanes: list[int] = field(default_factory=list)
    """Side-by-side lanes each day needs (1 at least): a busy day's column is as much
    wider, so its boxes keep room for their labels."""

    @property
    def columns(self) -> str:
        """CSS ``grid-template-columns``: the hour axis, then each day by its lanes."""
        days = " ".join(f"minmax({3.5 * n:g}em, {n}fr)" for n in self.lanes)
        return f"3.2em {days}"


@dataclass
class OfficeCalendar:
    office: str
    weeks: list[Week]
    count: int


@dataclass
class Timeline:
    interviewer_id: str
    team: str
    office: str
    days: list[list[Box]]
    """One list per horizon day; ``left``/``width`` place a session along the day."""


@dataclass
class Load:
    interviewer_id: str
    team: str
    office: str
    total: int
    busiest_day: int
    max_per_day: int
    busiest_week: int
    max_per_week: int
    per_day: dict[str, int] = field(default_factory=dict)

    @property
    def at_cap(self) -> bool:
        return self.busiest_day >= self.max_per_day or self.busiest_week >= self.max_per_week

    @property
    def over_cap(self) -> bool:
        return self.busiest_day > self.max_per_day or self.busiest_week > self.max_per_week

    @property
    def week_share(self) -> float:
        return 100.0 * min(1.0, self.busiest_week / self.max_per_week) if self.max_per_week else 0.0


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(OFFICE_TZ)


def read_events(schedule_csv: Path) -> list[Event]:
    frame = pd.read_csv(schedule_csv, dtype=str, keep_default_na=False)
    events = []
    for row in frame.to_dict("records"):
        events.append(
            Event(
                interview_id=row["interview_id"],
                candidate_id=row["candidate_id"],
                stage=row["stage"],
                office=row.get("office", "") or "virtual",
                room_id=row.get("room_id", ""),
                interviewers=[i for i in row["interviewer_ids"].split(";") if i],
                start=_when(row["start"]),
                end=_when(row["end"]),
                status=row.get("status", ""),
                sessions=[_when(s) for s in row.get("session_starts", "").split(";") if s],
            )
        )
    return events


def _day_span(day: dt.date, hours: WorkingHours) -> tuple[dt.datetime, float]:
    start = hours.slot_start(day, 0)
    return start, float((hours.end_hour - hours.start_hour) * 3600)


def _percent(moment: dt.datetime, day: dt.date, hours: WorkingHours) -> float:
    start, length = _day_span(day, hours)
    return max(0.0, min(100.0, 100.0 * (moment - start).total_seconds() / length))


def _lanes(boxes: list[Box]) -> int:
    """Side by side where boxes overlap: each overlapping cluster splits the column. The
    most lanes a cluster needs (1 for an empty day)."""
    boxes.sort(key=lambda b: (b.top, -b.height))
    cluster: list[tuple[Box, int]] = []
    lane_ends: list[float] = []
    cluster_end = -1.0
    most = 1

    def close() -> None:
        nonlocal most
        most = max(most, len(lane_ends))
        for box, lane in cluster:
            box.width = 100.0 / max(1, len(lane_ends))
            box.left = lane * box.width

    for box in boxes:
        if box.top >= cluster_end and cluster:
            close()
            cluster, lane_ends = [], []
        lane = next((i for i, end in enumerate(lane_ends) if end <= box.top), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(box.top + box.height)
        else:
            lane_ends[lane] = box.top + box.height
        cluster.append((box, lane))
        cluster_end = max(cluster_end, box.top + box.height)
    close()
    return most


def office_calendars(events: list[Event], hours: WorkingHours) -> list[OfficeCalendar]:
    """A week calendar (Monday to Friday, and any weekend day used) per office."""
    by_office: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_office[event.office].append(event)
    order = {"los_gatos": 0, "los_angeles": 1, "virtual": 2}
    calendars = []
    for office in sorted(by_office, key=lambda o: (order.get(o, 3), o)):
        by_day: dict[dt.date, list[Box]] = defaultdict(list)
        for e in by_office[office]:
            day = e.start.date()
            top = _percent(e.start, day, hours)
            box = Box(e, top, max(1.5, _percent(e.end, day, hours) - top), label=e.candidate_id)
            by_day[day].append(box)
        weeks: dict[dt.date, Week] = {}
        for day in sorted(by_day):
            monday = day - dt.timedelta(days=day.weekday())
            if monday not in weeks:
                days = [monday + dt.timedelta(days=k) for k in range(5)]
                weeks[monday] = Week(monday, [(d, by_day.get(d, [])) for d in days])
            if day.weekday() >= 5:
                weeks[monday].days.append((day, by_day[day]))
        for week in weeks.values():
            week.lanes = [_lanes(boxes) for _, boxes in week.days]
        calendars.append(OfficeCalendar(office, list(weeks.values()), len(by_office[office])))
    return calendars


def _sessions(event: Event) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(interviewer, start, end) of each session: a loop's sessions follow ``session_starts``."""
    if event.stage != "loop" or len(event.sessions) != len(event.interviewers):
        return [(who, event.start, event.end) for who in event.interviewers]
    length = event.end - event.sessions[-1]
    return [(who, s, s + length) for who, s in zip(event.interviewers, event.sessions, strict=True)]


def horizon_days(events: list[Event], first: str | None, last: str | None) -> list[dt.date]:
    """Working days of the planning horizon (report.json), else the days with interviews."""
    if first and last:
        begin, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        days = [begin + dt.timedelta(days=k) for k in range((end - begin).days + 1)]
        return [d for d in days if d.weekday() < 5 or any(e.start.date() == d for e in events)]
    return sorted({e.start.date() for e in events})


def timelines(
    events: list[Event], interviewers: list[Interviewer], days: list[dt.date], hours: WorkingHours
) -> list[Timeline]:
    """A row per interviewer with sessions: their sessions placed along each day."""
    cells: dict[str, dict[dt.date, list[Box]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        for who, start, end in _sessions(event):
            day = start.date()
            left = _percent(start, day, hours)
            width = max(2.0, _percent(end, day, hours) - left)
            cells[who][day].append(Box(event, 0.0, 100.0, left, width, event.candidate_id))
    known = {i.interviewer_id: i for i in interviewers}
    rows = []
    for who in sorted(cells, key=lambda w: (known[w].team if w in known else "", w)):
        person = known.get(who)
        rows.append(
            Timeline(
                who,
                person.team if person else "",
                person.office if person else "",
                [cells[who].get(d, []) for d in days],
            )
        )
    return rows


def loads(events: list[Event], interviewers: list[Interviewer]) -> list[Load]:
    """Sessions per interviewer against ``max_per_day`` and ``max_per_week`` (ISO weeks)."""
    per_day: dict[str, Counter[dt.date]] = defaultdict(Counter)
    for event in events:
        for who, start, _ in _sessions(event):
            per_day[who][start.date()] += 1
    rows = []
    for person in interviewers:
        days = per_day.get(person.interviewer_id, Counter())
        weeks: Counter[tuple[int, int]] = Counter()
        for day, n in days.items():
            weeks[day.isocalendar()[:2]] += n
        rows.append(
            Load(
                person.interviewer_id,
                person.team,
                person.office,
                sum(days.values()),
                max(days.values(), default=0),
                person.max_per_day,
                max(weeks.values(), default=0),
                person.max_per_week,
                {d.isoformat(): n for d, n in sorted(days.items())},
            )
        )
    rows.sort(key=lambda r: (-r.week_share, -r.total, r.interviewer_id))
    return rows


@dataclass
class UnplacedGroup:
    """The unplaced requests one blocking constraint holds back."""

    reason: str
    stages: dict[str, int]
    candidates: list[str]


def unplaced_groups(unscheduled: list[dict[str, Any]]) -> list[UnplacedGroup]:
    """report.json's ``unscheduled``, one group per blocking constraint, the largest first:
    a coordinator reads "26 wait for their follow-up form" before the list of 26."""
    groups: dict[str, UnplacedGroup] = {}
    for u in unscheduled:
        reason = str(u.get("reason", ""))
        group = groups.setdefault(reason, UnplacedGroup(reason, {}, []))
        stage = str(u.get("stage", ""))
        group.stages[stage] = group.stages.get(stage, 0) + 1
        group.candidates.append(str(u.get("candidate_id", "")))
    return sorted(groups.values(), key=lambda g: (-len(g.candidates), g.reason))
