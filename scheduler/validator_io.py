"""Parsing for the independent validator (``scheduler.validator``).

Reads the snapshot tables (a directory of ``NAME.csv`` or ``NAME.parquet`` files,
or one ``.xlsx`` workbook with a sheet per table), ``schedule.csv`` and
``offers.csv`` as text and turns them into small plain records. It shares no
code with the season environment, the table loaders or the solvers: only the
domain's vocabulary (areas, offices, roles, accommodations, the office time
zone) is imported. Any cell that cannot be read raises ``InputError`` naming
the file (or workbook sheet), the row (header = row 1) and the column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from scheduler.validator_cells import (
    Cells,
    InputError,
    RawTable,
    read_table,
    read_workbook,
    show,
    snapshot_table,
    split_list,
    unique,
    with_columns,
)
from scheduler.yaml_words import yaml_problem

VIRTUAL_OFFICE = "virtual"
STAGES = ("screen", "loop")
STATUSES = ("confirmed", "proposed", "no_show")
"""``no_show``: the interview took its slot but did not happen (exported seasons)."""
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
    screened: bool = False
    """Stage ``screened``: a screen was held before the snapshot, on
    ``last_interview_date`` when that is given."""


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


# Snapshot -----------------------------------------------------------------------


def parse_rules(label: str, text: str) -> Rules:
    """Rule parameters from the text of ``scenario.yaml`` (``{"scenario": {...}, ...}``)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{label}: {yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise InputError(f"{label}: must be a mapping")
    scenario = data.get("scenario", data)
    if not isinstance(scenario, dict):
        raise InputError(f"{label}: 'scenario' must be a mapping")
    values: dict[str, int] = {}
    for section in ("hours", "interview"):
        part = scenario.get(section) or {}
        if not isinstance(part, dict):
            raise InputError(f"{label}: scenario.{section} must be a mapping")
        for key, value in part.items():
            if key in Rules.__dataclass_fields__:
                values[key] = value
    if "onboarding_lead_days" in scenario:
        values["onboarding_lead_days"] = scenario["onboarding_lead_days"]
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"{label}: {key} must be an integer, got {value!r}")
        low, high = _RULE_RANGES.get(key, (0, 10_000))
        if not low <= value <= high:
            raise InputError(f"{label}: {key} must be {low} to {high}, got {value}")
    rules = Rules(**values)
    if rules.start_hour >= rules.end_hour:
        raise InputError(f"{label}: start_hour {rules.start_hour} is not before end_hour")
    return rules


_RULE_RANGES = {
    "start_hour": (0, 23),
    "end_hour": (1, 24),
    "slot_minutes": (1, 24 * 60),
    "candidate_local_start_hour": (0, 24),
    "candidate_local_end_hour": (0, 24),
}
"""Bounds of the rule parameters (others: 0 to 10,000), so no rule divides by 0 or overflows."""


def read_rules(path: Path) -> Rules:
    """Rule parameters from ``scenario.yaml``; the defaults if there is none."""
    if not path.is_file():
        return Rules()
    try:
        return parse_rules(path.name, path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{path.name}: not UTF-8 text") from None


class _Source:
    """Where the snapshot tables come from: a directory of files, or one workbook."""

    def __init__(self, snapshot: Path) -> None:
        self.snapshot = snapshot
        self.sheets: dict[str, RawTable] | None = None
        if snapshot.is_file() and snapshot.suffix.lower() == ".xlsx":
            self.sheets, scenario = read_workbook(snapshot)
            label = f"{snapshot.name} sheet scenario"
            self.rules = Rules() if scenario is None else parse_rules(label, scenario)
        elif snapshot.is_dir():
            self.rules = read_rules(snapshot / "scenario.yaml")
        else:
            raise InputError(f"{snapshot}: not a snapshot directory or .xlsx workbook")

    def optional(self, name: str, columns: tuple[str, ...]) -> Cells | None:
        """Table ``name`` with ``columns`` in its header; None when it is absent."""
        if self.sheets is not None:
            raw = self.sheets.get(name)
        else:
            raw = snapshot_table(self.snapshot, name)
        return None if raw is None else with_columns(raw, columns)

    def table(self, name: str, columns: tuple[str, ...]) -> Cells:
        """Table ``name`` with ``columns`` in its header; it must exist."""
        cells = self.optional(name, columns)
        if cells is not None:
            return cells
        if self.sheets is not None:
            raise InputError(f"{self.snapshot.name} sheet {name}: missing sheet")
        raise InputError(f"{name}.csv: file not found (in {self.snapshot})")


def read_snapshot(snapshot: Path, need_windows: bool) -> SnapshotRec:
    """All tables of a snapshot directory or workbook; start windows only needed with offers."""
    source = _Source(snapshot)
    cells = source.table(
        "postings",
        ("posting_id", "team", "area", "office", "headcount", "open_date"),
    )
    postings: dict[str, PostingRec] = {}
    for row, c in cells.rows():
        pid = cells.ident(row, c, "posting_id")
        unique(cells, row, "posting_id", pid, postings)
        postings[pid] = PostingRec(
            posting_id=pid,
            team=cells.text(row, c, "team"),
            area=cells.choice(row, c, "area", AREAS),
            office=cells.choice(row, c, "office", OFFICES),
            headcount=cells.integer(row, c, "headcount"),
            open_date=cells.date(row, c, "open_date"),
        )

    cells = source.table(
        "candidates",
        (
            "candidate_id",
            "primary_area",
            "timezone",
            "form_completed_date",
            "available_from",
            "available_until",
        ),
    )
    candidates: dict[str, CandidateRec] = {}
    zones: dict[str, ZoneInfo] = {}
    for row, c in cells.rows():
        cid = cells.ident(row, c, "candidate_id")
        unique(cells, row, "candidate_id", cid, candidates)
        posting = cells.ident(row, c, "posting_id", required=False)
        if posting and posting not in postings:  # as solve says it
            raise cells.fail(row, "posting_id", f"unknown posting_id {posting!r}")
        areas = {cells.choice(row, c, "primary_area", AREAS)}
        if c.get("secondary_area", ""):
            areas.add(cells.choice(row, c, "secondary_area", AREAS))
        tz_name = cells.text(row, c, "timezone")
        if tz_name not in zones:
            try:
                zones[tz_name] = ZoneInfo(tz_name)
            except (ZoneInfoNotFoundError, ValueError):
                message = f"unknown IANA time zone {show(tz_name)}"
                raise cells.fail(row, "timezone", message) from None
        available_from = cells.date(row, c, "available_from")
        available_until = cells.date(row, c, "available_until")
        if available_until < available_from:  # as solve says it
            raise cells.fail(row, "available_until", "before available_from")
        candidates[cid] = CandidateRec(
            candidate_id=cid,
            areas=frozenset(areas),
            tz=zones[tz_name],
            form_completed_date=cells.optional_date(row, c, "form_completed_date"),
            available_from=available_from,
            available_until=available_until,
            accommodation=cells.subset(row, c, "accommodation", ACCOMMODATIONS),
            last_interview_date=cells.optional_date(row, c, "last_interview_date"),
            screened=c.get("stage", "") == "screened",
        )

    cells = source.table(
        "interviewers",
        ("interviewer_id", "team", "office", "areas", "roles", "max_per_day", "max_per_week"),
    )
    interviewers: dict[str, InterviewerRec] = {}
    for row, c in cells.rows():
        iid = cells.ident(row, c, "interviewer_id")
        unique(cells, row, "interviewer_id", iid, interviewers)
        if iid in candidates:  # busy.csv and schedule.csv name people by id alone
            raise cells.fail(row, "interviewer_id", f"id {iid!r} is also a candidate's")
        interviewers[iid] = InterviewerRec(
            interviewer_id=iid,
            team=cells.text(row, c, "team"),
            office=cells.choice(row, c, "office", OFFICES),
            areas=cells.subset(row, c, "areas", AREAS),
            roles=cells.subset(row, c, "roles", ROLES),
            max_per_day=cells.integer(row, c, "max_per_day"),
            max_per_week=cells.integer(row, c, "max_per_week"),
        )

    cells = source.table("rooms", ("room_id", "office", "capacity", "accessible"))
    rooms: dict[str, RoomRec] = {}
    for row, c in cells.rows():
        rid = cells.ident(row, c, "room_id")
        unique(cells, row, "room_id", rid, rooms)
        rooms[rid] = RoomRec(
            room_id=rid,
            office=cells.choice(row, c, "office", OFFICES),
            capacity=cells.integer(row, c, "capacity"),
            accessible=cells.boolean(row, c, "accessible"),
        )

    windows: dict[tuple[str, dt.date], int] | None = None
    columns = ("window_id", "office", "start_date", "capacity")
    found = (
        source.table("start_windows", columns)
        if need_windows
        else source.optional("start_windows", columns)
    )
    if found is not None:
        cells, windows = found, {}
        for row, c in cells.rows():
            cells.ident(row, c, "window_id")
            key = (cells.choice(row, c, "office", OFFICES), cells.date(row, c, "start_date"))
            windows[key] = windows.get(key, 0) + cells.integer(row, c, "capacity")

    busy: dict[str, list[tuple[int, int]]] = {}
    found = source.optional("busy", ("person_id", "start", "end"))
    if found is not None:
        cells = found
        for row, c in cells.rows():
            person = cells.ident(row, c, "person_id")
            if person not in interviewers and person not in candidates:  # as solve reads it
                message = f"unknown person_id {person!r} (not an interviewer or candidate)"
                raise cells.fail(row, "person_id", message)
            start = cells.datetime(row, c, "start")
            end = cells.datetime(row, c, "end")
            if end <= start:
                raise cells.fail(row, "end", "busy block ends before it starts")
            busy.setdefault(person, []).append((int(start.timestamp()), int(end.timestamp())))
    return SnapshotRec(source.rules, postings, candidates, interviewers, rooms, windows, busy)


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
        c = {**c, **{k: c[k].lower() for k in ("stage", "status") if k in c}}  # any case
        interview_id = cells.ident(row, c, "interview_id")
        unique(cells, row, "interview_id", interview_id, seen)
        seen[interview_id] = row
        stage = cells.choice(row, c, "stage", STAGES)
        interviewer_ids = split_list(cells.text(row, c, "interviewer_ids"))
        for person in interviewer_ids:
            cells.check_id(row, "interviewer_ids", person)
        if not interviewer_ids:
            raise cells.fail(row, "interviewer_ids", "no interviewer named")
        start = cells.datetime(row, c, "start")
        end = cells.datetime(row, c, "end")
        if end <= start:
            raise cells.fail(row, "end", f"end {c['end']} is not after start {c['start']}")
        status = c.get("status", "")
        if status and status not in STATUSES:
            raise cells.fail(row, "status", f"{show(status)} is not one of {', '.join(STATUSES)}")
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
                candidate_id=cells.ident(row, c, "candidate_id"),
                posting_id=cells.ident(row, c, "posting_id", required=False),
                stage=stage,
                interviewer_ids=interviewer_ids,
                start=start,
                end=end,
                office=cells.choice(row, c, "office", (*OFFICES, VIRTUAL_OFFICE)),
                room_id=cells.ident(row, c, "room_id", required=False),
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
                candidate_id=cells.ident(row, c, "candidate_id"),
                posting_id=cells.ident(row, c, "posting_id"),
                offer_date=cells.date(row, c, "offer_date"),
                start_date=cells.date(row, c, "start_date"),
                accepted=cells.boolean(row, c, "accepted"),
            )
        )
    return offers
