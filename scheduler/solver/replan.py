"""Re-planning from a previous ``schedule.csv`` (``isched solve --previous``).

Each previous row is matched to the current request of the same candidate and
stage (and posting, for a loop). A ``confirmed`` row stays exactly where it is
when it is still feasible (same interviewers present, qualified, free and under
their caps; the candidate's hours; the room): it is booked before the solve and
not touched. Confirmed rows are taken in start order, so when caps were lowered
the later ones move. A confirmed row that is no longer feasible, and every
``proposed`` row, becomes the *previous placement* of its request: the model
rewards keeping its start and interviewers (``SolveWeights.keep_*``) and the
greedy hint tries it first, so the plan moves as little as possible. Rows whose
candidate no longer needs that interview are dropped and listed.

A calendar export made after confirming shows each confirmed interview as a
busy block of its people; a busy block that exactly matches a confirmed
interview (an interviewer's session, or the candidate's whole interview) is
taken to be that interview and ignored (``ignored_blocks``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scheduler.domain import OFFICE_TZ, VIRTUAL, Snapshot
from scheduler.scenario import ScenarioConfig
from scheduler.solver.greedy import fits
from scheduler.solver.problem import Problem, Request
from scheduler.solver.state import Placement, State, block
from scheduler.table_schema import TableError, identifier, no_offset
from scheduler.tables import load_columns

COLUMNS = ("interview_id", "candidate_id", "stage", "interviewer_ids", "start", "end", "status")
"""Columns a previous schedule must have (posting_id, office, room_id, session_starts,
sequence, calendar_status are optional)."""
ID_COLUMNS = ("interview_id", "candidate_id", "posting_id", "room_id")
"""Id columns checked against the tables' identifier rule (and each of ``interviewer_ids``)."""


@dataclass(frozen=True)
class PreviousRow:
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
    sequence: int
    calendar_status: str = ""
    """The status schedule.ics gave the row at ``sequence`` (empty: not known); a
    ``status`` edited since (say, confirmed by hand) is a revision: ``SEQUENCE`` + 1."""


def _when(label: str, row: int, column: str, text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TableError(label, row, column, f"bad datetime {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TableError(label, row, column, no_offset(repr(text)))
    return moment.astimezone(OFFICE_TZ)


def _check_ids(label: str, row: int, cells: dict[str, str]) -> tuple[str, ...]:
    """The row's interviewer ids; an id that is not an identifier raises ``TableError``."""
    try:
        for column in ID_COLUMNS:
            if cells.get(column, ""):
                identifier(cells[column])
        column = "interviewer_ids"
        people = tuple(v.strip() for v in cells[column].split(";") if v.strip())
        for person in people:
            identifier(person)
    except ValueError as exc:
        raise TableError(label, row, column, str(exc)) from None
    return people


def read_previous(path: Path) -> list[PreviousRow]:
    """The rows of a previous ``schedule.csv``; bad cells (ids too) raise ``TableError``.

    It is read as the snapshot's tables are (``load_columns``): a row with more values
    than the header is named, not shifted into the next column. Two ``confirmed`` rows
    for the same candidate and stage contradict each other and are refused.
    """
    label = Path(path).name
    columns = load_columns(Path(path))
    for column in COLUMNS:
        if column not in columns:
            raise TableError(label, None, column, "missing required column")
    names = list(columns)
    rows: list[PreviousRow] = []
    seen: dict[str, int] = {}
    confirmed: dict[tuple[str, str], int] = {}
    for n, values in enumerate(zip(*columns.values(), strict=True)):
        row = n + 2
        c = dict(zip(names, values, strict=True))
        if not any(c.values()):
            continue
        for word in ("stage", "status"):  # 'Confirmed', as a spreadsheet capitalises it
            c[word] = c[word].lower()
        for column in COLUMNS:
            if not c[column]:
                raise TableError(label, row, column, "missing value")
        people = _check_ids(label, row, c)
        if c["interview_id"] in seen:
            message = f"duplicate id {c['interview_id']!r} (first in row {seen[c['interview_id']]})"
            raise TableError(label, row, "interview_id", message)
        seen[c["interview_id"]] = row
        if c["stage"] not in ("screen", "loop"):
            raise TableError(label, row, "stage", f"unknown stage {c['stage']!r} (screen, loop)")
        if c["status"] not in ("confirmed", "proposed"):
            raise TableError(label, row, "status", f"unknown status {c['status']!r}")
        if c["status"] == "confirmed":
            key = (c["candidate_id"], c["stage"])
            if key in confirmed:
                message = (
                    f"a second confirmed {c['stage']} for {c['candidate_id']} "
                    f"(first in row {confirmed[key]})"
                )
                raise TableError(label, row, "candidate_id", message)
            confirmed[key] = row
        start = _when(label, row, "start", c["start"])
        end = _when(label, row, "end", c["end"])
        if end <= start:
            raise TableError(label, row, "end", "end is not after start")
        sessions = tuple(
            _when(label, row, "session_starts", v)
            for v in c.get("session_starts", "").split(";")
            if v.strip()
        )
        sequence_text = c.get("sequence", "") or "0"
        if not sequence_text.isdigit():
            raise TableError(label, row, "sequence", f"bad integer {sequence_text!r}")
        rows.append(
            PreviousRow(
                row=row,
                interview_id=c["interview_id"],
                candidate_id=c["candidate_id"],
                posting_id=c.get("posting_id", ""),
                stage=c["stage"],
                interviewer_ids=people,
                start=start,
                end=end,
                office=c.get("office", "") or VIRTUAL,
                room_id=c.get("room_id", ""),
                status=c["status"],
                session_starts=sessions,
                sequence=int(sequence_text),
                calendar_status=c.get("calendar_status", "").strip().lower(),
            )
        )
    return rows


def row_sessions(
    row: PreviousRow, accommodation: frozenset[str], config: ScenarioConfig
) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """(person, start, end) of each interviewer's session of ``row``, and the candidate's
    whole interview."""
    fmt = config.interview
    if row.stage == "screen":
        starts, length = [row.start], row.end - row.start
    else:
        offsets = fmt.session_offsets(accommodation)
        step = dt.timedelta(minutes=config.hours.slot_minutes)
        starts = list(row.session_starts) or [row.start + off * step for off in offsets]
        length = fmt.session_length(accommodation) * step
    people = zip(row.interviewer_ids, starts, strict=False)
    return [(row.candidate_id, row.start, row.end)] + [(p, b, b + length) for p, b in people]


def ignored_blocks(
    rows: list[PreviousRow], snapshot: Snapshot, config: ScenarioConfig
) -> set[tuple[str, float, float]]:
    """(person, start, end) of busy blocks that are confirmed interviews themselves."""
    accommodation = {c.candidate_id: c.accommodation for c in snapshot.candidates}
    return {
        (person, begin.timestamp(), end.timestamp())
        for row in rows
        if row.status == "confirmed"
        for person, begin, end in row_sessions(
            row, accommodation.get(row.candidate_id, frozenset()), config
        )
    }


def held_problem(problem: Problem, row: PreviousRow, req: Request) -> str | None:
    """Why a confirmed row before the horizon cannot be kept as it is under the new
    tables (an interviewer or room gone, someone busy then), or None."""
    index, rooms = problem.interviewer_index(), problem.room_index()
    for who in row.interviewer_ids:
        if who not in index:
            return f"interviewer {who} is no longer in interviewers.csv"
    if row.room_id and row.room_id not in rooms:
        return f"room {row.room_id} is no longer in rooms.csv"
    for person, begin, end in row_sessions(row, req.candidate.accommodation, problem.config):
        for start, stop in problem.busy_blocks.get(person, []):
            if start < end and begin < stop:
                return f"{person} is busy then"
    return None


@dataclass
class Replan:
    """The previous plan, matched to the current requests."""

    rows: dict[int, PreviousRow] = field(default_factory=dict)
    """Request -> its previous row."""
    fixed: list[Placement] = field(default_factory=list)
    """Confirmed rows kept as they are (booked before the solve)."""
    previous: dict[int, Placement] = field(default_factory=dict)
    """Request -> previous placement (every matched row that can still be expressed)."""
    moved_confirmed: dict[int, str] = field(default_factory=dict)
    """Request -> why its confirmed row could not stay."""
    dropped: list[tuple[PreviousRow, str]] = field(default_factory=list)
    """Previous rows that match no request now, each with why."""
    stale: list[PreviousRow] = field(default_factory=list)
    """Proposed rows dated before the horizon: planned anew (only confirmed rows are held)."""
    held: dict[int, PreviousRow] = field(default_factory=dict)
    """Request -> its confirmed row dated before the planning horizon (on the snapshot day,
    or earlier with the candidate's stage not yet updated): kept as it is, not re-planned."""

    def held_report(self, snapshot_date: dt.date) -> list[dict[str, Any]]:
        """The held rows as ``report.json`` lists them; ``before_snapshot``: dated before the
        snapshot day (held already: the candidate's stage wants updating)."""
        rows = sorted(self.held.values(), key=lambda r: (r.start, r.interview_id))
        return [
            {"interview_id": row.interview_id, "candidate_id": row.candidate_id,
             "stage": row.stage, "start": row.start.isoformat(),
             "before_snapshot": row.start.astimezone(OFFICE_TZ).date() < snapshot_date}
            for row in rows
        ]  # fmt: skip

    def dropped_report(self) -> list[dict[str, str]]:
        """The dropped rows as ``report.json`` lists them."""
        return [
            {"interview_id": row.interview_id, "candidate_id": row.candidate_id,
             "stage": row.stage, "status": row.status, "reason": reason}
            for row, reason in self.dropped
        ]  # fmt: skip


def before_horizon(problem: Problem, row: PreviousRow) -> bool:
    """Whether ``row`` starts before the first day the solve may plan (the snapshot day's
    interviews and older ones)."""
    days = problem.horizon.days
    return bool(days) and row.start.astimezone(OFFICE_TZ).date() < days[0]


def _count_in_first_week(problem: Problem, state: State, row: PreviousRow) -> None:
    """A held row in the ISO week of the horizon's first day uses its interviewers' weekly
    caps there (the validator counts every row of the schedule)."""
    first = problem.horizon.days[0]
    if row.start.astimezone(OFFICE_TZ).date().isocalendar()[:2] != first.isocalendar()[:2]:
        return
    index = problem.interviewer_index()
    for who in row.interviewer_ids:
        if who in index:
            state.week_left[index[who]][0] -= 1


def to_placement(problem: Problem, row: PreviousRow, req: Request) -> Placement | str:
    """The placement a previous row describes, or why it cannot be one any more."""
    horizon = problem.horizon
    day = row.start.astimezone(OFFICE_TZ).date()
    if day not in horizon.days:
        return f"{day} is outside the planning horizon"
    d = horizon.days.index(day)
    step = horizon.hours.slot_minutes * 60
    offset = (row.start - horizon.time(d, 0)).total_seconds()
    start = int(offset // step)
    if offset % step or not 0 <= start < horizon.slots:
        return f"{row.start:%H:%M} is not a slot of the working day"
    if row.end != horizon.time(d, 0) + dt.timedelta(seconds=(start + req.span) * step):
        return "its length no longer matches the candidate's interview format"
    expected = [horizon.time(d, start + off) for off in req.offsets]
    edited = bool(row.session_starts) and row.session_starts[0] != row.start  # start moved
    sessions = list(row.session_starts)
    if req.stage == "loop" and sessions and not edited and sessions != expected:
        return "its session times no longer match the candidate's interview format"
    index = problem.interviewer_index()
    people = []
    for who in row.interviewer_ids:
        if who not in index:
            return f"interviewer {who} is no longer in interviewers.csv"
        people.append(index[who])
    if len(people) != req.sessions:
        return f"it has {len(people)} interviewers, the interview needs {req.sessions}"
    room = -1  # a virtual interview has none, whatever the row says
    if row.room_id and req.onsite:
        room = problem.room_index().get(row.room_id, -1)  # -1: renamed or removed
    if row.office != req.office:
        return f"the interview is now {req.office}, the row says {row.office}"
    return Placement(req.index, d, start, tuple(people), room)


def why_not(problem: Problem, state: State, p: Placement) -> str:
    """The first reason ``p`` cannot be booked into ``state`` (``fits`` said no)."""
    req = problem.requests[p.request]
    span = block(p.start, req.span)
    if p.day < req.earliest_day:
        return "too soon after the screen" if req.stage == "loop" else "before the form"
    if req.allowed[p.day] & span != span:
        return "outside the candidate's hours or in their busy time"
    busy: list[str] = []
    for i, off in zip(p.interviewers, req.offsets, strict=True):
        who = problem.interviewers[i].interviewer_id
        if i not in req.qualified:
            return f"interviewer {who} is no longer qualified for it"
        need = block(p.start + off, req.session_length)
        if state.free[i][p.day] & need != need:
            busy.append(who)  # every one of them: the new panel may keep some in other sessions
        elif not state.has_capacity(i, p.day):
            return f"interviewer {who} is over the daily or weekly cap"
    if busy:
        if len(busy) == 1:
            return f"interviewer {busy[0]} is busy then"
        return f"interviewers {' and '.join(busy)} are busy at their sessions then"
    if req.stage == "loop" and not req.preferred.intersection(p.interviewers):
        return "no hiring manager among its interviewers"
    if req.onsite:
        if p.room not in problem.usable_rooms(req.office, req.accessible):
            return "its room is not suitable (office, capacity or accessibility)"
        return "its room is taken"
    return "no longer feasible"


def apply_previous(problem: Problem, state: State, rows: list[PreviousRow]) -> Replan:
    """Match ``rows`` to requests; book the confirmed rows that still fit into ``state``.

    A loop whose posting changed to another of the same team is the same interview (its
    interviewers may still fit); one now for another team's posting is dropped. A
    confirmed row dated before the horizon is held (``Replan.held``), not re-planned."""
    plan = Replan()
    by_key = {(r.candidate.candidate_id, r.stage): r for r in problem.requests}
    stages = {c.candidate_id: c.stage for c in problem.snapshot.candidates}
    postings = {p.posting_id: p for p in problem.snapshot.postings}
    ordered = sorted(rows, key=lambda r: (r.status != "confirmed", r.start, r.interview_id))
    for row in ordered:
        req = by_key.get((row.candidate_id, row.stage))
        reason = ""
        if row.candidate_id not in stages:
            reason = "candidate no longer in candidates.csv"
        elif req is None:
            reason = f"candidate is at stage {stages[row.candidate_id]}"
        elif req.index in plan.rows:
            reason = f"a second row for the same interview ({plan.rows[req.index].interview_id})"
        elif req.posting is not None and row.posting_id != req.posting.posting_id:
            was = postings.get(row.posting_id)
            if was is None or was.team != req.posting.team:  # same team: the same interview
                reason = f"the loop is now for posting {req.posting.posting_id}"
        if req is None or reason:
            plan.dropped.append((row, reason))
            continue
        plan.rows[req.index] = row
        if row.status == "confirmed" and req.stage == "loop" and not req.screen_day_known:
            # the screen was held on a day the tables do not give (the validator accepts
            # any day): the coordinator's confirmed day stands, rather than a gap counted
            # afresh from each day's snapshot
            req = dataclasses.replace(req, earliest_day=0)
            problem.requests[req.index] = req
        if row.status != "confirmed" and before_horizon(problem, row):
            plan.stale.append(row)
        if row.status == "confirmed" and before_horizon(problem, row):
            trouble = held_problem(problem, row, req)
            if trouble is None:
                plan.held[req.index] = row  # under way or held: never moved into the future
                _count_in_first_week(problem, state, row)
            else:  # it cannot take place as confirmed: plan it anew in the horizon
                plan.moved_confirmed[req.index] = f"{trouble} on {row.start:%Y-%m-%d}"
                _mark_confirmed(problem, req)
            continue
        found = to_placement(problem, row, req)
        if isinstance(found, Placement):
            plan.previous[req.index] = found
        if row.status != "confirmed":
            continue
        if isinstance(found, str):
            plan.moved_confirmed[req.index] = found
        elif found.room < 0 and req.onsite and row.room_id:
            plan.moved_confirmed[req.index] = f"room {row.room_id} is no longer in rooms.csv"
        elif not fits(problem, state, found):
            plan.moved_confirmed[req.index] = why_not(problem, state, found)
        else:
            state.book(req, found)
            plan.fixed.append(found)
        if req.index in plan.moved_confirmed:
            _mark_confirmed(problem, req)
    return plan


def _mark_confirmed(problem: Problem, req: Request) -> None:
    """A confirmed row that cannot stay: its time is kept first where it can be
    (``Request.was_confirmed``)."""
    problem.requests[req.index] = dataclasses.replace(
        problem.requests[req.index], was_confirmed=True
    )
