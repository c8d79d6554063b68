"""The coordinator's scheduling job: snapshot directory in, schedule and report out.

``solve_snapshot`` reads and validates the snapshot (``TableError`` on bad
input), matches a previous plan, runs the chosen solver, assigns every request
it could not place the constraint that blocked it, and returns the schedule
frame and the report; ``write_outputs`` writes them atomically. The time limit
covers the whole job.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from icalendar import Event

from scheduler.domain import Snapshot
from scheduler.ics import cancelled_events, read_calendar, unlisted_events
from scheduler.scenario import ScenarioConfig
from scheduler.solver.config import SolveOptions
from scheduler.solver.engine import Job, Outcome
from scheduler.solver.options import blocking_reason, make_pools
from scheduler.solver.output import interviewer_load, schedule_rows, write_outputs
from scheduler.solver.problem import Problem, build_problem, snapshot_day
from scheduler.solver.registry import get_solver
from scheduler.solver.replan import (
    PreviousRow,
    Replan,
    apply_previous,
    ignored_blocks,
    read_previous,
    row_sessions,
)
from scheduler.solver.state import State
from scheduler.tables import read_snapshot


@dataclass
class SolveResult:
    problem: Problem
    schedule: pd.DataFrame
    report: dict[str, Any]
    previous: pd.DataFrame | None
    """The previous schedule as read (for the calendar's SEQUENCE), if any."""
    cancelled: dict[str, Event] = field(default_factory=dict)
    """The cancelled events of the previous calendar (``previous_calendar``), by id."""

    def write(self, out_dir: Path) -> list[str]:
        """``write_outputs`` of this result into ``out_dir``: the names written."""
        snapshot = self.problem.snapshot
        return write_outputs(out_dir, self.schedule, self.report, snapshot, self.previous,
                             self.cancelled)  # fmt: skip


def _moved_confirmed(
    plan: Replan, new_start: Mapping[int, str], frame: pd.DataFrame
) -> list[dict[str, Any]]:
    """Each confirmed interview that could not stay as it was: why, and its time, room and
    interviewers before and now (``None`` where it has no place now)."""
    if not plan.moved_confirmed:
        return []
    now = frame.fillna("").astype(str).set_index("interview_id")
    out = []
    for r, reason in sorted(plan.moved_confirmed.items()):
        row = plan.rows[r]
        new = now.loc[row.interview_id] if row.interview_id in now.index else None
        out.append({
            "interview_id": row.interview_id,
            "candidate_id": row.candidate_id,
            "stage": row.stage,
            "reason": reason,
            "old_start": row.start.isoformat(),
            "new_start": new_start.get(r),
            "old_room": row.room_id,
            "new_room": None if new is None else new["room_id"],
            "old_interviewers": ";".join(row.interviewer_ids),
            "new_interviewers": None if new is None else new["interviewer_ids"],
        })  # fmt: skip
    return out


def _bound(outcome: Outcome) -> tuple[float | None, str | None, float | None]:
    """Tightest certified bound, its source and the relative gap of the objective."""
    candidates = ((outcome.cpsat_bound, "cpsat"), (outcome.lp_bound, "lp"))
    found = [(b, s) for b, s in candidates if b is not None]
    if not found:
        return None, None, None
    bound, source = min(found, key=lambda f: (f[0], f[1] != "cpsat"))
    gap = max(0.0, bound - outcome.objective) / max(1.0, abs(bound))
    return bound, source, round(gap, 6)


def _unscheduled(problem: Problem, state: State, placed: set[int]) -> list[dict[str, str]]:
    pools = make_pools(problem, state)
    found = [
        {"candidate_id": s.candidate_id, "stage": s.stage, "reason": s.reason}
        for s in problem.skipped
    ]
    for req in problem.requests:
        if req.index not in placed:
            reason = blocking_reason(problem, state, req, pools)
            found.append(
                {"candidate_id": req.candidate.candidate_id, "stage": req.stage, "reason": reason}
            )
    return sorted(found, key=lambda u: (u["candidate_id"], u["stage"]))


def _match_previous(
    snapshot: Snapshot, config: ScenarioConfig, meta: dict[str, Any], rows: list[PreviousRow]
) -> tuple[Problem, State, Replan]:
    """The problem, with the previous plan matched and its kept confirmed rows booked.

    A busy block that exactly matches a confirmed row is that interview only while the
    row stays where it is (``isched check`` reads it so); the blocks of a confirmed row
    that moves or is dropped count as busy, so the problem is built again until the
    kept rows are the ones whose blocks were ignored (once, nearly always; at most once
    per row).
    """
    ignore = ignored_blocks(rows, snapshot, config)
    for _ in range(len(rows) + 1):
        problem = build_problem(snapshot, config, meta, ignore)
        state = State(problem)
        plan = apply_previous(problem, state, rows)
        stay = [plan.rows[p.request] for p in plan.fixed] + list(plan.held.values())
        kept = ignore & ignored_blocks(stay, snapshot, config)
        if kept == ignore:
            break
        ignore = kept
    return problem, state, plan


def previous_calendar(previous: Path) -> Path | None:
    """The calendar written with a previous plan: ``NAME.ics`` beside ``NAME.csv``, else
    the ``schedule.ics`` beside it (an edited copy saved under another name), if any."""
    for path in (previous.with_suffix(".ics"), previous.parent / "schedule.ics"):
        if path.is_file():
            return path
    return None


def blocks_taken_as_moved_interviews(
    snapshot: Snapshot, config: ScenarioConfig, plan: Replan, calendar: dict[str, Event]
) -> list[dict[str, str]]:
    """Kept confirmed rows moved by hand since their calendar entry was sent whose new
    sessions match busy blocks exactly: those blocks are read as the interview itself (as
    ``check`` reads them), which is right when the interviewers put the new time in their
    calendars and wrong when the block is another meeting; a coordinator should know."""
    busy = {(b.person_id, b.start.timestamp(), b.end.timestamp()) for b in snapshot.busy}
    accommodation = {c.candidate_id: c.accommodation for c in snapshot.candidates}
    out = []
    kept = [plan.rows[p.request] for p in plan.fixed] + list(plan.held.values())
    for row in sorted(kept, key=lambda r: r.interview_id):
        sent = calendar.get(row.interview_id)
        if sent is None or sent.decoded("DTSTART").timestamp() == row.start.timestamp():
            continue
        sessions = row_sessions(row, accommodation.get(row.candidate_id, frozenset()), config)
        people = [p for p, b, e in sessions if (p, b.timestamp(), e.timestamp()) in busy]
        if people:
            out.append({"interview_id": row.interview_id, "start": row.start.isoformat(),
                        "people": ";".join(people)})  # fmt: skip
    return out


def _raise_to_calendar(previous: pd.DataFrame, calendar: Mapping[str, Event]) -> None:
    """Raise each previous row's ``sequence`` to its event's in the calendar, so that an
    interview the re-plan drops is cancelled above what calendars hold (a stale or
    hand-edited ``sequence`` cell would otherwise send a cancellation they ignore)."""
    if not calendar or "sequence" not in previous.columns:
        return
    for i, interview_id in previous["interview_id"].str.strip().items():
        event = calendar.get(interview_id)
        if event is None:
            continue
        cell = str(previous.at[i, "sequence"]).strip()
        own = int(cell) if cell.isdigit() else 0
        previous.at[i, "sequence"] = str(max(own, int(event.get("SEQUENCE", 0))))


def solve_snapshot(
    snapshot_dir: Path | str,
    options: SolveOptions | None = None,
    previous: Path | str | None = None,
) -> SolveResult:
    """Solve the scheduling job of a snapshot directory (see module docstring); the
    calendar beside ``previous`` (``previous_calendar``), if there is one, tells which
    interview ids were cancelled and what calendars hold of each interview (its
    ``SEQUENCE``); one that has none of the previous plan's ids is not used."""
    options = options or SolveOptions()
    began = time.perf_counter()
    solver, arg = get_solver(options.solver)
    snapshot, config, meta = read_snapshot(snapshot_dir)
    rows = read_previous(Path(previous)) if previous is not None else []
    problem, state, plan = _match_previous(snapshot, config, meta, rows)
    fixed = {p.request for p in plan.fixed} | set(plan.held)
    todo = [r.index for r in problem.requests if r.index not in fixed]
    deadline = began + options.time_limit
    job = Job(problem, state, todo, plan.fixed, plan.previous, options, deadline, arg)
    outcome = solver(job)
    placements = [*plan.fixed, *outcome.placements]
    placed = {p.request for p in placements} | set(plan.held)
    calendar_path = previous_calendar(Path(previous)) if previous is not None else None
    calendar = read_calendar(calendar_path)
    ignored = None
    if calendar_path is not None and not calendar:
        ignored = "it holds no interview isched wrote (unreadable, or another tool's)"
    elif calendar and rows and not set(calendar) & {row.interview_id for row in rows}:
        calendar = {}  # another plan's calendar: nothing of it applies
        ignored = "none of its interviews is in the previous plan (another plan's calendar?)"
    frame, moved = schedule_rows(problem, placements, plan, calendar)
    listed = {row.interview_id for row in rows} | set(frame["interview_id"])
    day = snapshot_day(snapshot, meta)
    unlisted = unlisted_events(calendar, listed, day, dt.datetime.now(dt.UTC))
    bound, source, gap = _bound(outcome)
    new_start = {p.request: problem.horizon.time(p.day, p.start).isoformat() for p in placements}
    report: dict[str, Any] = {
        "status": outcome.status,
        "objective": outcome.objective,
        "bound": bound,
        "bound_source": source,
        "gap": gap,
        "solve_seconds": round(time.perf_counter() - began, 3),
        "scheduled": len(frame),
        "unscheduled": _unscheduled(problem, state, placed),
        "interviewer_load": interviewer_load(problem, placements),
        "variables": outcome.variables,
        "constraints": outcome.constraints,
        "workers": options.workers,
        "seed": options.seed,
        "time_limit": options.time_limit,
        "solver": options.solver,
        "solution_source": outcome.source,
        "cpsat_bound": outcome.cpsat_bound,
        "lp_bound": outcome.lp_bound,
        "lp_model": outcome.lp_model,
        "snapshot_date": day.isoformat(),
        "id_case_twins": meta.get("case_twins", []),
        "horizon": {
            "first_day": problem.horizon.days[0].isoformat() if problem.horizon.days else None,
            "last_day": problem.horizon.days[-1].isoformat() if problem.horizon.days else None,
            "days": len(problem.horizon.days),
        },
        "requests": {
            "screens": sum(r.stage == "screen" for r in problem.requests),
            "loops": sum(r.stage == "loop" for r in problem.requests),
        },
        "kept_confirmed": len(plan.fixed) + len(plan.held),
        "held_confirmed": plan.held_report(day),
        "proposed_before_horizon": sorted(row.interview_id for row in plan.stale),
        "moved": moved,
        "moved_confirmed": _moved_confirmed(plan, new_start, frame),
        "dropped_previous": plan.dropped_report(),
        "previous_rows": len(rows),
        "previous_calendar": calendar_path.name if calendar and calendar_path else None,
        "previous_calendar_ignored": (
            {"file": calendar_path.name, "why": ignored} if ignored and calendar_path else None
        ),
        "moved_by_hand_on_busy": blocks_taken_as_moved_interviews(snapshot, config, plan, calendar),
        "cancelled_unlisted": [
            {"interview_id": i, "start": e.decoded("DTSTART").isoformat()}
            for i, e in unlisted.items()
        ],
        "previous_matched": len(plan.rows),
        "parts": outcome.parts,
        "undecomposed_variables": outcome.undecomposed_variables,
    }
    previous_frame = None
    if previous is not None:
        previous_frame = pd.read_csv(previous, dtype=str, keep_default_na=False)
        previous_frame.columns = [str(c).strip().lower() for c in previous_frame.columns]
        blank = (previous_frame.apply(lambda col: col.str.strip()) == "").all(axis=1)
        previous_frame = previous_frame[~blank].reset_index(drop=True)  # a spreadsheet's tail
        for word in ("stage", "status"):  # read as read_previous reads them
            previous_frame[word] = previous_frame[word].str.strip().str.lower()
        _raise_to_calendar(previous_frame, calendar)
    cancelled = cancelled_events(calendar) | unlisted
    return SolveResult(problem, frame, report, previous_frame, cancelled)
