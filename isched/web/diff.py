"""What a re-plan changed: every interview of the previous plan kept, moved or removed, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from scheduler.domain import Snapshot
from scheduler.ics import session_times

FIELDS = ("start", "end", "interviewer_ids", "office", "room_id")


@dataclass(frozen=True)
class _Tables:
    """The ids and busy blocks of the new tables, indexed once per re-plan."""

    interviewers: frozenset[str]
    rooms: frozenset[str]
    busy: dict[str, list[tuple[dt.datetime, dt.datetime]]]

    @staticmethod
    def of(snapshot: Snapshot) -> _Tables:
        busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
        for block in snapshot.busy:
            busy.setdefault(block.person_id, []).append((block.start, block.end))
        return _Tables(
            frozenset(i.interviewer_id for i in snapshot.interviewers),
            frozenset(r.room_id for r in snapshot.rooms),
            busy,
        )


def cause_of_move(old: dict[str, str], snapshot: Snapshot | None) -> str | None:
    """What in the new tables stops an interview from staying where it was (None: nothing
    found: it moved to make room for other changes)."""
    return None if snapshot is None else _cause(old, _Tables.of(snapshot))


def _cause(old: dict[str, str], tables: _Tables) -> str | None:
    people = [p for p in old.get("interviewer_ids", "").split(";") if p]
    for person in people:
        if person not in tables.interviewers:
            return f"interviewer {person} is no longer in interviewers.csv"
    room = old.get("room_id", "")
    if room and room not in tables.rooms:
        return f"room {room} is no longer in rooms.csv"
    try:
        start, end = dt.datetime.fromisoformat(old["start"]), dt.datetime.fromisoformat(old["end"])
        timed = [p for p in old.get("session_starts", "").split(";") if p.strip()]
        own = session_times(old) if timed and len(timed) == len(people) else []
    except (KeyError, ValueError):
        return None
    sessions = [(who, begin, stop) for begin, stop, who in own]  # a loop: each one's own
    sessions = sessions or [(person, start, end) for person in people]
    for person, begin, stop in (*sessions, (old.get("candidate_id", ""), start, end)):
        for block_start, block_end in tables.busy.get(person, ()):
            if block_start < stop and begin < block_end:
                return f"{person} is busy then (busy.csv)"
    return None


def _status(row: dict[str, str]) -> str:
    return row.get("status", "").strip().lower() or "proposed"


def _where(row: dict[str, str]) -> dict[str, str]:
    return {key: row.get(key, "") for key in FIELDS}


def replan_diff(
    previous: pd.DataFrame,
    schedule: pd.DataFrame,
    report: dict[str, Any],
    snapshot: Snapshot | None = None,
    edited: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Counts (kept, moved, added, removed) and one entry per change with its reason; with the
    new ``snapshot``, a moved interview's reason names what blocks its old place.

    ``previous`` is the plan as it was sent; ``edited``, where given, the plan the re-plan
    started from (the ticks, and a schedule.csv edited by hand): an interview kept where the
    edit put it is "moved by hand". A kept interview whose status changed (confirmed or
    un-confirmed) is listed too, since its calendar entry is updated."""
    before = {r["interview_id"]: r for r in previous.fillna("").astype(str).to_dict("records")}
    hand = (
        {}
        if edited is None
        else {r["interview_id"]: r for r in edited.fillna("").astype(str).to_dict("records")}
    )
    after = {r["interview_id"]: r for r in schedule.fillna("").astype(str).to_dict("records")}
    confirmed_moved = {m["interview_id"]: m["reason"] for m in report.get("moved_confirmed", [])}
    dropped = {d["interview_id"]: d["reason"] for d in report.get("dropped_previous", [])}
    unplaced = {(u["candidate_id"], u["stage"]): u["reason"] for u in report.get("unscheduled", [])}
    tables = None if snapshot is None else _Tables.of(snapshot)
    counts = {"kept": 0, "moved": 0, "added": 0, "removed": 0}
    changes: list[dict[str, Any]] = []
    for interview_id, old in before.items():
        new = after.get(interview_id)
        entry = {k: old.get(k, "") for k in ("interview_id", "candidate_id", "stage", "status")}
        if new is None:
            key = (old.get("candidate_id", ""), old.get("stage", ""))
            reason = dropped.get(interview_id) or (
                f"could not be placed again ({unplaced[key]})" if key in unplaced else "not placed"
            )
            changes.append({**entry, "change": "removed", "was": _where(old), "now": None,
                            "fields": [], "reason": reason})  # fmt: skip
            counts["removed"] += 1
            continue
        fields = [k for k in FIELDS if old.get(k, "") != new.get(k, "")]
        if not fields:
            counts["kept"] += 1
            was, now = _status(old), _status(new)
            if was != now:
                reason = (f"{was} → {now}: " + ("un-confirmed, it may move at the next "
                          "re-plan" if was == "confirmed" else "it stays where it is"))  # fmt: skip
                changes.append({**entry, "change": "status", "was": _where(old),
                                "now": _where(new), "fields": [], "reason": reason})  # fmt: skip
            continue
        by_hand = hand.get(interview_id)
        if by_hand is not None and all(by_hand.get(k, "") == new.get(k, "") for k in fields):
            changes.append({**entry, "change": "moved", "was": _where(old), "now": _where(new),
                            "fields": fields, "reason": "moved by hand in the uploaded "
                            "schedule.csv"})  # fmt: skip
            counts["moved"] += 1
            continue
        cause = None if tables is None else _cause(old, tables)
        if interview_id in confirmed_moved:
            reason = f"confirmed, but could not stay: {confirmed_moved[interview_id]}"
        elif old.get("status") == "confirmed":
            reason = "confirmed, but could not stay" + (f": {cause}" if cause else "")
        elif cause:
            reason = f"proposed: {cause}"
        else:
            reason = "proposed: moved to make room for the changes"
        changes.append({**entry, "change": "moved", "was": _where(old), "now": _where(new),
                        "fields": fields, "reason": reason})  # fmt: skip
        counts["moved"] += 1
    for interview_id, new in after.items():
        if interview_id not in before:
            entry = {k: new.get(k, "") for k in ("interview_id", "candidate_id", "stage", "status")}
            changes.append({**entry, "change": "added", "was": None, "now": _where(new),
                            "fields": [], "reason": "not in the previous plan"})  # fmt: skip
            counts["added"] += 1
    return {**counts, "changes": changes}
