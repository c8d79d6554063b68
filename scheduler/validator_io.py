"""Parsing for the independent validator (``scheduler.validator``).

Reads the snapshot tables, ``schedule.csv`` and ``offers.csv`` with pandas
(every cell a string) and turns them into small plain records. It shares no
code with the season environment, the table loaders or the solvers: only the
domain's vocabulary (areas, offices, roles, accommodations, the office time
zone) is imported. Any cell that cannot be read raises ``InputError`` naming
the file, the row (header = row 1) and the column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from scheduler.domain import (
    ACCOMMODATIONS,
    AREAS,
    OFFICES,
    ROLES,
    InterviewFormat,
    WorkingHours,
)
from scheduler.scenario import ScenarioConfig

VIRTUAL_OFFICE = "virtual"
STAGES = ("screen", "loop")
STATUSES = ("confirmed", "proposed", "no_show")
"""``no_show``: the interview took its slot but did not happen (exported seasons)."""


class InputError(ValueError):
    """A table cannot be read; ``str`` is one line naming file, row and column."""


_HOURS, _FORMAT, _SCENARIO = WorkingHours(), InterviewFormat(), ScenarioConfig()


@dataclass(frozen=True)
class Rules:
    """The parameters of the hard rules, read from ``scenario.yaml``.

    A snapshot without one (a coordinator's own tables) gets the documented
    defaults the env and the solver use: ``scheduler.domain.WorkingHours``,
    ``InterviewFormat`` and ``scheduler.scenario.ScenarioConfig``.
    """

    start_hour: int = _HOURS.start_hour
    end_hour: int = _HOURS.end_hour
    slot_minutes: int = _HOURS.slot_minutes
    screen_slots: int = _FORMAT.screen_slots
    loop_sessions: int = _FORMAT.loop_sessions
    session_slots: int = _FORMAT.session_slots
    extended_extra_slots: int = _FORMAT.extended_extra_slots
    break_slots: int = _FORMAT.break_slots
    min_gap_days: int = _FORMAT.min_gap_days
    candidate_local_start_hour: int = _FORMAT.candidate_local_start_hour
    candidate_local_end_hour: int = _FORMAT.candidate_local_end_hour
    onboarding_lead_days: int = _SCENARIO.onboarding_lead_days


@dataclass(frozen=True)
class PostingRec:
    posting_id: str
    team: str
    area: str
    office: str
    headcount: int
    open_date: dt.date


@dataclass(frozen=True)
class CandidateRec:
    candidate_id: str
    areas: frozenset[str]
    tz: ZoneInfo
    form_completed_date: dt.date | None
    available_from: dt.date
    available_until: dt.date
    accommodation: frozenset[str]
    last_interview_date: dt.date | None = None
    """Date of the screen already held before the snapshot (optional column)."""


@dataclass(frozen=True)
class InterviewerRec:
    interviewer_id: str
    team: str
    office: str
    areas: frozenset[str]
    roles: frozenset[str]
    max_per_day: int
    max_per_week: int


@dataclass(frozen=True)
class RoomRec:
    room_id: str
    office: str
    capacity: int
    accessible: bool


@dataclass(frozen=True)
class InterviewRec:
    """One schedule row; ``session_starts`` is empty when the file gives none."""

    row: int
    interview_id: str
    candidate_id: str
    posting_id: str
    stage: str
    interviewer_ids: tuple[str, ...]
    start: dt.datetime
    end: dt.datetime
    office: str
    room_id: str
    status: str
    session_starts: tuple[dt.datetime, ...]


@dataclass(frozen=True)
class OfferRec:
    row: int
    candidate_id: str
    posting_id: str
    offer_date: dt.date
    start_date: dt.date
    accepted: bool


@dataclass
class SnapshotRec:
    """The snapshot as the validator sees it; busy blocks are (start, end) epoch seconds."""

    rules: Rules
    postings: dict[str, PostingRec]
    candidates: dict[str, CandidateRec]
    interviewers: dict[str, InterviewerRec]
    rooms: dict[str, RoomRec]
    windows: dict[tuple[str, dt.date], int] | None
    busy: dict[str, list[tuple[int, int]]]


# Cells ------------------------------------------------------------------------


class _Cells:
    """Typed access to the string cells of one table, with file/row/column errors."""

    def __init__(self, path: Path, frame: pd.DataFrame) -> None:
        self.path = path
        self.frame = frame

    def fail(self, row: int, column: str, message: str) -> InputError:
        return InputError(f"{self.path.name}: row {row}, column {column}: {message}")

    def rows(self) -> Any:
        """(row number, dict of stripped cells) for each data row; row 2 is the first."""
        records = self.frame.to_dict("records")
        for i, record in enumerate(records):
            yield i + 2, {k: str(v).strip() for k, v in record.items()}

    def text(self, row: int, cells: dict[str, str], column: str, required: bool = True) -> str:
        value = cells.get(column, "")
        if required and not value:
            raise self.fail(row, column, "empty value")
        return value

    def integer(self, row: int, cells: dict[str, str], column: str, minimum: int = 0) -> int:
        value = self.text(row, cells, column)
        try:
            number = int(value)
        except ValueError:
            raise self.fail(row, column, f"not an integer: '{value}'") from None
        if number < minimum:
            raise self.fail(row, column, f"must be at least {minimum}: '{value}'")
        return number

    def date(self, row: int, cells: dict[str, str], column: str) -> dt.date:
        value = self.text(row, cells, column)
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(row, column, f"not a date YYYY-MM-DD: '{value}'") from None

    def optional_date(self, row: int, cells: dict[str, str], column: str) -> dt.date | None:
        return self.date(row, cells, column) if cells.get(column, "") else None

    def datetime(self, row: int, cells: dict[str, str], column: str) -> dt.datetime:
        return self.parse_datetime(row, column, self.text(row, cells, column))

    def parse_datetime(self, row: int, column: str, value: str) -> dt.datetime:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(row, column, f"not an ISO 8601 datetime: '{value}'") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise self.fail(row, column, f"datetime without a UTC offset: '{value}'")
        return moment

    def boolean(self, row: int, cells: dict[str, str], column: str) -> bool:
        value = self.text(row, cells, column).lower()
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no"):
            return False
        raise self.fail(row, column, f"not true/false: '{value}'")

    def choice(self, row: int, cells: dict[str, str], column: str, allowed: tuple[str, ...]) -> str:
        value = self.text(row, cells, column)
        if value not in allowed:
            raise self.fail(row, column, f"'{value}' is not one of {', '.join(allowed)}")
        return value

    def subset(
        self, row: int, cells: dict[str, str], column: str, allowed: tuple[str, ...]
    ) -> frozenset[str]:
        items = split_list(cells.get(column, ""))
        for item in items:
            if item not in allowed:
                raise self.fail(row, column, f"'{item}' is not one of {', '.join(allowed)}")
        return frozenset(items)


def split_list(value: str) -> tuple[str, ...]:
    """A ';'-separated cell as a tuple of non-empty stripped items."""
    return tuple(item.strip() for item in value.split(";") if item.strip())


def read_table(path: Path, columns: tuple[str, ...]) -> _Cells:
    """Read a CSV as strings; every column in ``columns`` must be in the header."""
    if not path.is_file():
        raise InputError(f"{path.name}: file not found ({path})")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path.name}: cannot be read as CSV: {first}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in columns:
        if column not in frame.columns:
            raise InputError(f"{path.name}: row 1, column {column}: missing column")
    return _Cells(path, frame)


def _unique(cells: _Cells, row: int, column: str, key: str, seen: dict[str, Any]) -> None:
    if key in seen:
        raise cells.fail(row, column, f"duplicate id '{key}'")


# Snapshot -----------------------------------------------------------------------


def read_rules(path: Path) -> Rules:
    """Rule parameters from ``scenario.yaml`` (``{"scenario": {...}, ...}``); defaults if absent."""
    if not path.is_file():
        return Rules()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{path.name}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path.name}: must be a mapping")
    scenario = data.get("scenario", data)
    if not isinstance(scenario, dict):
        raise InputError(f"{path.name}: 'scenario' must be a mapping")
    values: dict[str, int] = {}
    for section in ("hours", "interview"):
        part = scenario.get(section) or {}
        if not isinstance(part, dict):
            raise InputError(f"{path.name}: scenario.{section} must be a mapping")
        for key, value in part.items():
            if key in Rules.__dataclass_fields__:
                values[key] = value
    if "onboarding_lead_days" in scenario:
        values["onboarding_lead_days"] = scenario["onboarding_lead_days"]
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"{path.name}: {key} must be an integer, got {value!r}")
    return Rules(**values)


def read_snapshot(snapshot_dir: Path, need_windows: bool) -> SnapshotRec:
    """All snapshot tables of ``snapshot_dir``; start windows only required with offers."""
    rules = read_rules(snapshot_dir / "scenario.yaml")

    cells = read_table(
        snapshot_dir / "postings.csv",
        ("posting_id", "team", "area", "office", "headcount", "open_date"),
    )
    postings: dict[str, PostingRec] = {}
    for row, c in cells.rows():
        pid = cells.text(row, c, "posting_id")
        _unique(cells, row, "posting_id", pid, postings)
        postings[pid] = PostingRec(
            posting_id=pid,
            team=cells.text(row, c, "team"),
            area=cells.choice(row, c, "area", AREAS),
            office=cells.choice(row, c, "office", OFFICES),
            headcount=cells.integer(row, c, "headcount"),
            open_date=cells.date(row, c, "open_date"),
        )

    cells = read_table(
        snapshot_dir / "candidates.csv",
        (
            "candidate_id",
            "primary_area",
            "secondary_area",
            "timezone",
            "form_completed_date",
            "available_from",
            "available_until",
            "accommodation",
        ),
    )
    candidates: dict[str, CandidateRec] = {}
    zones: dict[str, ZoneInfo] = {}
    for row, c in cells.rows():
        cid = cells.text(row, c, "candidate_id")
        _unique(cells, row, "candidate_id", cid, candidates)
        areas = {cells.choice(row, c, "primary_area", AREAS)}
        if c.get("secondary_area", ""):
            areas.add(cells.choice(row, c, "secondary_area", AREAS))
        tz_name = cells.text(row, c, "timezone")
        if tz_name not in zones:
            try:
                zones[tz_name] = ZoneInfo(tz_name)
            except (ZoneInfoNotFoundError, ValueError):
                raise cells.fail(row, "timezone", f"unknown IANA time zone '{tz_name}'") from None
        candidates[cid] = CandidateRec(
            candidate_id=cid,
            areas=frozenset(areas),
            tz=zones[tz_name],
            form_completed_date=cells.optional_date(row, c, "form_completed_date"),
            available_from=cells.date(row, c, "available_from"),
            available_until=cells.date(row, c, "available_until"),
            accommodation=cells.subset(row, c, "accommodation", ACCOMMODATIONS),
            last_interview_date=cells.optional_date(row, c, "last_interview_date"),
        )

    cells = read_table(
        snapshot_dir / "interviewers.csv",
        ("interviewer_id", "team", "office", "areas", "roles", "max_per_day", "max_per_week"),
    )
    interviewers: dict[str, InterviewerRec] = {}
    for row, c in cells.rows():
        iid = cells.text(row, c, "interviewer_id")
        _unique(cells, row, "interviewer_id", iid, interviewers)
        interviewers[iid] = InterviewerRec(
            interviewer_id=iid,
            team=cells.text(row, c, "team"),
            office=cells.choice(row, c, "office", OFFICES),
            areas=cells.subset(row, c, "areas", AREAS),
            roles=cells.subset(row, c, "roles", ROLES),
            max_per_day=cells.integer(row, c, "max_per_day"),
            max_per_week=cells.integer(row, c, "max_per_week"),
        )

    cells = read_table(snapshot_dir / "rooms.csv", ("room_id", "office", "capacity", "accessible"))
    rooms: dict[str, RoomRec] = {}
    for row, c in cells.rows():
        rid = cells.text(row, c, "room_id")
        _unique(cells, row, "room_id", rid, rooms)
        rooms[rid] = RoomRec(
            room_id=rid,
            office=cells.choice(row, c, "office", OFFICES),
            capacity=cells.integer(row, c, "capacity"),
            accessible=cells.boolean(row, c, "accessible"),
        )

    windows: dict[tuple[str, dt.date], int] | None = None
    path = snapshot_dir / "start_windows.csv"
    if need_windows or path.is_file():
        cells = read_table(path, ("window_id", "office", "start_date", "capacity"))
        windows = {}
        for row, c in cells.rows():
            key = (cells.choice(row, c, "office", OFFICES), cells.date(row, c, "start_date"))
            windows[key] = windows.get(key, 0) + cells.integer(row, c, "capacity")

    busy: dict[str, list[tuple[int, int]]] = {}
    path = snapshot_dir / "busy.csv"
    if path.is_file():
        cells = read_table(path, ("person_id", "start", "end"))
        for row, c in cells.rows():
            person = cells.text(row, c, "person_id")
            start = cells.datetime(row, c, "start")
            end = cells.datetime(row, c, "end")
            if end <= start:
                raise cells.fail(row, "end", "busy block ends before it starts")
            busy.setdefault(person, []).append((int(start.timestamp()), int(end.timestamp())))
    return SnapshotRec(rules, postings, candidates, interviewers, rooms, windows, busy)


# Schedule and offers ----------------------------------------------------------------


def read_schedule(path: Path) -> list[InterviewRec]:
    """The rows of ``schedule.csv``; ``session_starts`` is an optional extra column."""
    cells = read_table(
        path,
        (
            "interview_id",
            "candidate_id",
            "posting_id",
            "stage",
            "interviewer_ids",
            "start",
            "end",
            "office",
            "room_id",
            "status",
        ),
    )
    interviews: list[InterviewRec] = []
    seen: dict[str, int] = {}
    for row, c in cells.rows():
        interview_id = cells.text(row, c, "interview_id")
        _unique(cells, row, "interview_id", interview_id, seen)
        seen[interview_id] = row
        stage = cells.choice(row, c, "stage", STAGES)
        interviewer_ids = split_list(cells.text(row, c, "interviewer_ids"))
        if not interviewer_ids:
            raise cells.fail(row, "interviewer_ids", "no interviewer named")
        start = cells.datetime(row, c, "start")
        end = cells.datetime(row, c, "end")
        if end <= start:
            raise cells.fail(row, "end", f"end {c['end']} is not after start {c['start']}")
        status = c.get("status", "")
        if status and status not in STATUSES:
            raise cells.fail(row, "status", f"'{status}' is not one of {', '.join(STATUSES)}")
        sessions: tuple[dt.datetime, ...] = ()
        raw_sessions = split_list(c.get("session_starts", ""))
        if raw_sessions and stage == "loop":
            sessions = tuple(cells.parse_datetime(row, "session_starts", v) for v in raw_sessions)
            if len(sessions) != len(interviewer_ids):
                raise cells.fail(
                    row,
                    "session_starts",
                    f"{len(sessions)} session starts for {len(interviewer_ids)} interviewers",
                )
        interviews.append(
            InterviewRec(
                row=row,
                interview_id=interview_id,
                candidate_id=cells.text(row, c, "candidate_id"),
                posting_id=c.get("posting_id", ""),
                stage=stage,
                interviewer_ids=interviewer_ids,
                start=start,
                end=end,
                office=cells.choice(row, c, "office", (*OFFICES, VIRTUAL_OFFICE)),
                room_id=c.get("room_id", ""),
                status=status or "proposed",
                session_starts=sessions,
            )
        )
    return interviews


def read_offers(path: Path) -> list[OfferRec]:
    """The rows of ``offers.csv``."""
    cells = read_table(path, ("candidate_id", "posting_id", "offer_date", "start_date", "accepted"))
    offers: list[OfferRec] = []
    for row, c in cells.rows():
        offers.append(
            OfferRec(
                row=row,
                candidate_id=cells.text(row, c, "candidate_id"),
                posting_id=cells.text(row, c, "posting_id"),
                offer_date=cells.date(row, c, "offer_date"),
                start_date=cells.date(row, c, "start_date"),
                accepted=cells.boolean(row, c, "accepted"),
            )
        )
    return offers
