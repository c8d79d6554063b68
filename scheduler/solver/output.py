"""Outputs of a solve: ``schedule.csv`` rows, ``report.json`` and the atomic write of OUT.

Schedule columns are those of CLI.md plus ``session_starts`` (loops: one start
per interviewer, in ``interviewer_ids`` order) and ``sequence`` (0 for a new
row; the previous sequence + 1 when a re-plan changed its time, people, place,
posting or status, RFC 5546's significant changes; the previous sequence when
unchanged) and ``calendar_status`` (the status schedule.ics gives the row at that
sequence: a row confirmed by hand since, ``status`` but not ``calendar_status``
edited, is a change of status). ``interview_id`` is the previous
row's id for the same candidate and stage, else ``IV-{candidate_id}-{stage}``;
when that id is a dropped previous row's of the same candidate and stage (a loop
now for another team's posting), the row takes it over with that row's sequence
+ 1, so a calendar updates the entry instead of keeping both. An id whose event the
previous calendar holds as cancelled is never given to a new row: a calendar
ignores an update below the cancellation's sequence, so a revived interview gets
the next free id, a new event. Where that calendar has the row's event, the
sequence is at least the event's, and one more when the row differs from it (a
confirmed time moved by hand in ``schedule.csv``, which its cells cannot tell).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from icalendar import Event

from scheduler import interrupts
from scheduler.domain import Snapshot
from scheduler.ics import cancelled_events, sent_sequence, write_ics
from scheduler.solver.problem import Problem
from scheduler.solver.replan import PreviousRow, Replan
from scheduler.solver.state import Placement

SCHEDULE_COLUMNS = (
    "interview_id", "candidate_id", "posting_id", "stage", "interviewer_ids", "start", "end",
    "office", "room_id", "status", "session_starts", "sequence", "calendar_status",
)  # fmt: skip


def schedule_rows(
    problem: Problem,
    placements: Sequence[Placement],
    plan: Replan,
    calendar: Mapping[str, Event] | None = None,
) -> tuple[pd.DataFrame, int]:
    """The schedule frame (sorted by start, candidate) and how many previous rows moved;
    ``calendar`` is the previous ``schedule.ics`` (``read_calendar``): its cancelled ids
    are not reused, and a row's sequence is at least its event's (one more where the
    row differs from what calendars hold, say a time edited by hand)."""
    calendar = calendar or {}
    cancelled = cancelled_events(calendar)
    horizon = problem.horizon
    fixed = {p.request for p in plan.fixed}
    used = {row.interview_id for row in plan.rows.values()}
    dropped = {row.interview_id: row for row, _ in plan.dropped}
    taken = set(cancelled) - set(used)
    names = [who.interviewer_id for who in problem.interviewers]
    rows: list[dict[str, Any]] = []
    moved = 0
    for p in sorted(placements, key=lambda p: (p.day, p.start, p.request)):
        req = problem.requests[p.request]
        prev = plan.rows.get(p.request)
        interview_id = base = f"IV-{req.candidate.candidate_id}-{req.stage}"
        was = dropped.get(base)
        takes_over = (
            prev is None
            and was is not None
            and base not in used
            and base not in taken
            and (was.candidate_id, was.stage) == (req.candidate.candidate_id, req.stage)
        )
        if prev is not None:
            interview_id = prev.interview_id
        elif not takes_over:
            n = 1
            while interview_id in used or interview_id in dropped or interview_id in taken:
                n += 1
                interview_id = f"{base}-{n}"
        used.add(interview_id)
        starts = [horizon.time(p.day, p.start + off) for off in req.offsets]
        row: dict[str, Any] = {
            "interview_id": interview_id,
            "candidate_id": req.candidate.candidate_id,
            "posting_id": req.posting.posting_id if req.posting is not None else "",
            "stage": req.stage,
            "interviewer_ids": ";".join(names[i] for i in p.interviewers),
            "start": horizon.time(p.day, p.start).isoformat(),
            "end": horizon.time(p.day, p.start + req.span).isoformat(),
            "office": req.office,
            "room_id": problem.rooms[p.room].room_id if p.room >= 0 else "",
            "status": "confirmed" if p.request in fixed else "proposed",
            "session_starts": ";".join(s.isoformat() for s in starts)
            if req.stage == "loop"
            else "",
            "sequence": 0,
        }
        row["calendar_status"] = row["status"]  # what schedule.ics says at this sequence
        if prev is not None:
            same_place = plan.previous.get(p.request) == p
            same = same_place and (prev.posting_id, prev.room_id) == (
                row["posting_id"], row["room_id"]) and prev.calendar_status in (
                "", row["status"])  # fmt: skip
            row["sequence"] = prev.sequence if same else prev.sequence + 1
            moved += not same_place
        elif takes_over and was is not None:
            row["sequence"] = was.sequence + 1  # the dropped row's calendar entry, revised
        rows.append(row)
    held = [held_row(row) for row in sorted(plan.held.values(), key=lambda r: (r.start, r.row))]
    candidates = {c.candidate_id: c for c in problem.snapshot.candidates}
    for row in [*held, *rows]:
        sent = calendar.get(row["interview_id"])
        if sent is not None:
            again = sent_sequence(row, sent, problem.snapshot, candidates)
            row["sequence"] = max(row["sequence"], again)
    return pd.DataFrame([*held, *rows], columns=list(SCHEDULE_COLUMNS)), moved


def held_row(row: PreviousRow) -> dict[str, Any]:
    """A confirmed row before the horizon, written as the previous plan had it."""
    return {
        "interview_id": row.interview_id,
        "candidate_id": row.candidate_id,
        "posting_id": row.posting_id,
        "stage": row.stage,
        "interviewer_ids": ";".join(row.interviewer_ids),
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "office": row.office,
        "room_id": row.room_id,
        "status": "confirmed",
        "session_starts": ";".join(s.isoformat() for s in row.session_starts),
        "sequence": row.sequence + (row.calendar_status not in ("", "confirmed")),
        "calendar_status": "confirmed",
    }


def interviewer_load(problem: Problem, placements: Sequence[Placement]) -> dict[str, int]:
    """Sessions per interviewer (every interviewer, 0 included), by id."""
    load = {who.interviewer_id: 0 for who in problem.interviewers}
    for p in placements:
        for i in p.interviewers:
            load[problem.interviewers[i].interviewer_id] += 1
    return dict(sorted(load.items()))


def write_outputs(
    out_dir: Path,
    schedule: pd.DataFrame,
    report: dict[str, Any],
    snapshot: Snapshot,
    previous: pd.DataFrame | None = None,
    cancelled: Mapping[str, Event] | None = None,
) -> list[str]:
    """Write ``schedule.csv``, ``report.json`` and ``schedule.ics`` into ``out_dir`` at once;
    ``cancelled`` are the previous calendar's cancelled events, carried over.

    Everything is written into a temporary sibling directory first and moved into
    place only when complete, so a failure leaves ``out_dir`` as it was. Ctrl-C during
    the move is held until all three are in place (``scheduler.interrupts.held``).
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    tmp.chmod(0o755)
    try:
        schedule.to_csv(tmp / "schedule.csv", index=False, lineterminator="\n")
        (tmp / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        day = report.get("snapshot_date")
        write_ics(schedule, snapshot, tmp / "schedule.ics", previous=previous,
                  snapshot_date=dt.date.fromisoformat(day) if day else None,
                  cancelled_before=cancelled)  # fmt: skip
        names = ["schedule.csv", "report.json", "schedule.ics"]
        with interrupts.held([str(out / name) for name in names]):  # all three files or none
            if not out.exists():
                tmp.rename(out)
                return names
            for name in names:
                os.replace(tmp / name, out / name)
        return names
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
