"""The independent validator behind ``isched check``.

It reads a snapshot directory, a ``schedule.csv`` and optionally an
``offers.csv`` (see ``scheduler.validator_io``) and re-derives every hard rule
of the season itself: it shares no constraint code with the season
environment, the table loaders or the solvers, so a bug there cannot hide a
violation here. Each broken rule gives one ``Violation``; ``kind`` is one of
``KINDS``.

Overlaps are found by sorting and sweeping per person / room, busy blocks by
binary search per person, so a large season (thousands of candidates, tens of
thousands of busy blocks and interviews) checks in a few seconds. A busy block
that is exactly a ``confirmed`` interview's session of that person (or the
candidate's whole interview) is the interview itself, as a calendar exported
after confirming shows it; ``isched solve --previous`` reads it so too.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scheduler.domain import OFFICE_TZ
from scheduler.validator_io import (
    VIRTUAL_OFFICE,
    CandidateRec,
    InputError,
    InterviewRec,
    Rules,
    SnapshotRec,
    read_offers,
    read_schedule,
    read_snapshot,
)
from scheduler.validator_offers import Violation, few, offer_violations

__all__ = ["KINDS", "InputError", "Violation", "check_schedule"]

KINDS: tuple[str, ...] = (
    "unknown_id",
    "interviewer_double_booked",
    "candidate_double_booked",
    "room_double_booked",
    "room_wrong_office",
    "room_missing",
    "room_too_small",
    "wrong_office",
    "busy_conflict",
    "outside_working_hours",
    "outside_candidate_hours",
    "daily_cap",
    "weekly_cap",
    "unqualified",
    "stage_order",
    "loop_shape",
    "interview_length",
    "accommodation",
    "form_incomplete",
    "posting_open_period",
    "area_mismatch",
    "start_window",
    "headcount",
    "onboarding_capacity",
    "multiple_accepts",
    "offer_team",
)
"""Every violation kind the validator reports."""

MIN_ROOM_CAPACITY = 2


@dataclass
class _Interview:
    """A schedule row with its derived times (epoch seconds) and per-interviewer sessions."""

    rec: InterviewRec
    start: int
    end: int
    date: dt.date
    """Pacific date of the start."""
    sessions: list[tuple[str, int, int]]
    """(interviewer_id, start, end) during which each interviewer is occupied."""


def _ts(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def _pacific(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, OFFICE_TZ)


def _hm(ts: int) -> str:
    return _pacific(ts).strftime("%Y-%m-%d %H:%M")


class _Checker:
    """Collects violations while walking the schedule once (offers: ``validator_offers``)."""

    def __init__(self, snap: SnapshotRec) -> None:
        self.snap = snap
        self.rules: Rules = snap.rules
        self.slot = snap.rules.slot_minutes * 60
        self.out: list[Violation] = []
        self.busy = {p: _BusyIndex(blocks) for p, blocks in snap.busy.items()}

    def add(self, kind: str, ids: tuple[str, ...], detail: str) -> None:
        self.out.append(Violation(kind, ids, detail))

    # Interviews ---------------------------------------------------------------------

    def interview(self, rec: InterviewRec) -> _Interview:
        """Check one row on its own; return it with its sessions for the cross-row rules."""
        snap = self.snap
        iid = rec.interview_id
        cand = snap.candidates.get(rec.candidate_id)
        if cand is None:
            self.add("unknown_id", (iid, rec.candidate_id), "unknown candidate")
        if rec.posting_id and rec.posting_id not in snap.postings:
            self.add("unknown_id", (iid, rec.posting_id), "unknown posting")
        for person in dict.fromkeys(rec.interviewer_ids):
            if person not in snap.interviewers:
                self.add("unknown_id", (iid, person), "unknown interviewer")
        if rec.room_id and rec.room_id not in snap.rooms:
            self.add("unknown_id", (iid, rec.room_id), "unknown room")
        start, end = _ts(rec.start), _ts(rec.end)
        accommodation = cand.accommodation if cand else frozenset()
        if rec.stage == "screen":
            sessions = [(p, start, end) for p in rec.interviewer_ids]
            self.screen_rules(rec, cand, end - start)
        else:
            sessions = self.loop_layout(rec, accommodation, start, end)
            self.loop_rules(rec)
        self.working_hours(rec)
        self.rooms(rec, accommodation)
        if cand is not None:
            self.candidate_rules(rec, cand)
        confirmed = rec.status == "confirmed"
        for person, s, e in sessions:
            block = self.busy[person].find(s, e, confirmed) if person in self.busy else None
            if block is not None:
                self.add(
                    "busy_conflict",
                    (iid, person),
                    f"interviewer session {_hm(s)}-{_pacific(e):%H:%M} overlaps busy block "
                    f"{_hm(block[0])}-{_pacific(block[1]):%H:%M} Pacific",
                )
        return _Interview(rec, start, end, rec.start.astimezone(OFFICE_TZ).date(), sessions)

    def screen_rules(self, rec: InterviewRec, cand: CandidateRec | None, length: int) -> None:
        iid, rules = rec.interview_id, self.rules
        if len(rec.interviewer_ids) != 1:
            self.add(
                "unqualified",
                (iid,),
                f"a screen has exactly 1 interviewer, got {len(rec.interviewer_ids)}",
            )
        for person in dict.fromkeys(rec.interviewer_ids):
            who = self.snap.interviewers.get(person)
            if who is None:
                continue
            if "screen" not in who.roles:
                self.add("unqualified", (iid, person), "screen interviewer lacks the screen role")
            if cand is not None and not who.areas & cand.areas:
                self.add(
                    "unqualified",
                    (iid, person),
                    f"interviewer areas {sorted(who.areas)} do not include the candidate's "
                    f"{sorted(cand.areas)}",
                )
        if rec.office != VIRTUAL_OFFICE:
            self.add("unqualified", (iid,), f"a screen must be virtual, not {rec.office}")
        extended = cand is not None and "extended_time" in cand.accommodation
        want = (rules.screen_slots + (rules.extended_extra_slots if extended else 0)) * self.slot
        if length != want:
            kind = "accommodation" if extended else "interview_length"
            note = " (extended_time)" if extended else ""
            self.add(
                kind, (iid,), f"screen lasts {length // 60} min, must be {want // 60} min{note}"
            )

    def loop_layout(
        self, rec: InterviewRec, accommodation: frozenset[str], start: int, end: int
    ) -> list[tuple[str, int, int]]:
        """Sessions of a loop (given, or inferred from start/end) and the loop_shape rules."""
        iid, rules, slot = rec.interview_id, self.rules, self.slot
        extended = "extended_time" in accommodation
        length = (rules.session_slots + (rules.extended_extra_slots if extended else 0)) * slot
        gap = rules.break_slots * slot if "breaks" in accommodation else 0
        n = len(rec.interviewer_ids)
        if rec.session_starts:
            starts = [_ts(s) for s in rec.session_starts]
        else:
            span = end - start + gap
            step = span // n
            if span % n or step % slot or step <= gap:
                step = length + gap
            starts = [start + i * step for i in range(n)]
        observed = [starts[i + 1] - starts[i] - gap for i in range(n - 1)] + [end - starts[-1]]
        uniform = len(set(observed)) == 1 and observed[0] > 0
        occupied = observed[0] if uniform else length
        layout = f"{n} sessions of {length // 60} min" + (
            f" with {gap // 60} min breaks" if gap else ""
        )
        if uniform and observed[0] != length:
            kind = "accommodation" if extended else "loop_shape"
            note = " (extended_time)" if extended else ""
            self.add(
                kind,
                (iid,),
                f"loop sessions last {observed[0] // 60} min, must be {length // 60} min{note}",
            )
        elif not uniform:
            for i in range(n - 1):
                expected = starts[i] + length + gap
                if starts[i + 1] != expected:
                    self.add(
                        "loop_shape",
                        (iid,),
                        f"session {i + 2} starts {_hm(starts[i + 1])}, not consecutive "
                        f"(expected {_pacific(expected):%H:%M}; {layout})",
                    )
                    break
            if end != starts[-1] + length:
                self.add(
                    "loop_shape",
                    (iid,),
                    f"end {_hm(end)} is not the last session's end "
                    f"{_pacific(starts[-1] + length):%H:%M} ({layout})",
                )
        if starts[0] != start:
            self.add(
                "loop_shape",
                (iid,),
                f"start {_hm(start)} is not the first session's start {_hm(starts[0])}",
            )
        days = {_pacific(s).date() for s in starts} | {
            _pacific(s + occupied - 1).date() for s in starts
        }
        if len(days) > 1:
            self.add("loop_shape", (iid,), "loop sessions are not all on one Pacific day")
        return [(p, s, s + occupied) for p, s in zip(rec.interviewer_ids, starts, strict=True)]

    def loop_rules(self, rec: InterviewRec) -> None:
        iid, snap = rec.interview_id, self.snap
        ids = rec.interviewer_ids
        want = self.rules.loop_sessions
        if len(ids) != want or len(set(ids)) != len(ids):
            self.add(
                "unqualified",
                (iid,),
                f"a loop needs {want} distinct interviewers, got {len(set(ids))} distinct "
                f"of {len(ids)}",
            )
        if not rec.posting_id:
            self.add("unqualified", (iid,), "a loop must name a posting_id")
        posting = snap.postings.get(rec.posting_id)
        known = [snap.interviewers[p] for p in dict.fromkeys(ids) if p in snap.interviewers]
        for who in known:
            if posting is not None and who.team != posting.team:
                self.add(
                    "unqualified",
                    (iid, who.interviewer_id),
                    f"interviewer of team {who.team}, posting {posting.posting_id} is team "
                    f"{posting.team}",
                )
            if "loop" not in who.roles:
                self.add(
                    "unqualified", (iid, who.interviewer_id), "interviewer lacks the loop role"
                )
        if not any("hiring_manager" in who.roles for who in known):
            self.add("unqualified", (iid,), "no hiring manager in the loop")
        if posting is not None and rec.office not in (VIRTUAL_OFFICE, posting.office):
            self.add(
                "wrong_office",
                (iid, posting.posting_id),
                f"onsite loop in {rec.office}, the posting's team sits in {posting.office}",
            )

    def working_hours(self, rec: InterviewRec) -> None:
        rules = self.rules
        ps, pe = rec.start.astimezone(OFFICE_TZ), rec.end.astimezone(OFFICE_TZ)
        day_start = dt.datetime.combine(ps.date(), dt.time(rules.start_hour), tzinfo=OFFICE_TZ)
        problems = []
        if ps.weekday() >= 5:
            problems.append(f"on a {ps:%A}")
        day_end = day_start + dt.timedelta(hours=rules.end_hour - rules.start_hour)
        if pe.date() != ps.date() and pe != day_end:
            problems.append("spans two Pacific dates")
        elif ps < day_start or pe > day_end:
            problems.append(f"outside {rules.start_hour}:00-{rules.end_hour}:00 Pacific")
        offsets = [(ps - day_start).total_seconds(), (pe - day_start).total_seconds()]
        if any(o % self.slot for o in offsets):
            problems.append(f"not aligned to {rules.slot_minutes}-minute slots")
        if problems:
            self.add(
                "outside_working_hours",
                (rec.interview_id,),
                f"{ps:%Y-%m-%d %H:%M}-{pe:%H:%M} Pacific " + ", ".join(problems),
            )

    def rooms(self, rec: InterviewRec, accommodation: frozenset[str]) -> None:
        iid = rec.interview_id
        onsite = rec.office != VIRTUAL_OFFICE
        if "virtual_only" in accommodation and onsite:
            self.add("accommodation", (iid,), f"virtual_only candidate interviewed in {rec.office}")
        if onsite and not rec.room_id:
            self.add("room_missing", (iid,), f"onsite interview in {rec.office} without a room")
        room = self.snap.rooms.get(rec.room_id)
        if room is None:
            return
        if room.office != rec.office:
            self.add(
                "room_wrong_office",
                (iid, room.room_id),
                f"room in {room.office}, interview is {rec.office}",
            )
        if room.capacity < MIN_ROOM_CAPACITY:
            self.add(
                "room_too_small", (iid, room.room_id), f"room capacity {room.capacity} is below 2"
            )
        if "accessible_room" in accommodation and not room.accessible:
            self.add(
                "accommodation",
                (iid, room.room_id),
                "accessible_room candidate in a room that is not accessible",
            )

    def candidate_rules(self, rec: InterviewRec, cand: CandidateRec) -> None:
        iid, rules = rec.interview_id, self.rules
        ls, le = rec.start.astimezone(cand.tz), rec.end.astimezone(cand.tz)
        start_min = ls.hour * 60 + ls.minute + ls.second / 60
        end_min = le.hour * 60 + le.minute + le.second / 60
        if le.date() == ls.date() + dt.timedelta(days=1) and end_min == 0:
            end_min = 24 * 60
        elif le.date() != ls.date():
            end_min = float("inf")
        if start_min < rules.candidate_local_start_hour * 60 or (
            end_min > rules.candidate_local_end_hour * 60
        ):
            self.add(
                "outside_candidate_hours",
                (iid, cand.candidate_id),
                f"{ls:%Y-%m-%d %H:%M}-{le:%H:%M} in {cand.tz.key}, allowed "
                f"{rules.candidate_local_start_hour}:00-{rules.candidate_local_end_hour}:00",
            )
        form = cand.form_completed_date
        day = rec.start.astimezone(OFFICE_TZ).date()
        if form is None:
            self.add("form_incomplete", (iid, cand.candidate_id), "candidate's form is incomplete")
        elif day < form:
            self.add(
                "form_incomplete",
                (iid, cand.candidate_id),
                f"interview on {day} before the form was completed on {form}",
            )
        block = (
            self.busy[cand.candidate_id].find(
                _ts(rec.start), _ts(rec.end), rec.status == "confirmed"
            )
            if (cand.candidate_id in self.busy)
            else None
        )
        if block is not None:
            self.add(
                "busy_conflict",
                (iid, cand.candidate_id),
                f"interview overlaps the candidate's busy block {_hm(block[0])}-"
                f"{_pacific(block[1]):%H:%M} Pacific",
            )

    # Across interviews -------------------------------------------------------------------

    def overlaps(self, interviews: list[_Interview]) -> None:
        """Double bookings of interviewers, candidates and rooms."""
        by_interviewer: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        by_candidate: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        by_room: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        for iv in interviews:
            iid = iv.rec.interview_id
            for person, s, e in iv.sessions:
                by_interviewer[person].append((s, e, iid))
            by_candidate[iv.rec.candidate_id].append((iv.start, iv.end, iid))
            if iv.rec.room_id:
                by_room[iv.rec.room_id].append((iv.start, iv.end, iid))
        for kind, index in (
            ("interviewer_double_booked", by_interviewer),
            ("candidate_double_booked", by_candidate),
            ("room_double_booked", by_room),
        ):
            for key, intervals in index.items():
                for first, second, at in _sweep(intervals):
                    self.add(
                        kind, (key, first, second), f"{first} and {second} overlap at {_hm(at)}"
                    )

    def caps(self, interviews: list[_Interview]) -> None:
        """Daily and weekly interview caps per interviewer (Pacific dates, ISO weeks)."""
        daily: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
        weekly: dict[tuple[str, str], list[str]] = defaultdict(list)
        for iv in interviews:
            first: dict[str, int] = {}
            for person, s, _ in iv.sessions:
                first.setdefault(person, s)
            for person, s in first.items():
                day = _pacific(s).date()
                year, week, _ = day.isocalendar()
                daily[person, day].append(iv.rec.interview_id)
                weekly[person, f"{year}-W{week:02d}"].append(iv.rec.interview_id)
        interviewers = self.snap.interviewers
        for (person, day), ids in daily.items():
            who = interviewers.get(person)
            if who is not None and len(ids) > who.max_per_day:
                self.add(
                    "daily_cap",
                    (person, day.isoformat()),
                    f"{len(ids)} interviews on {day}, cap {who.max_per_day}: {few(ids)}",
                )
        for (person, label), ids in weekly.items():
            who = interviewers.get(person)
            if who is not None and len(ids) > who.max_per_week:
                self.add(
                    "weekly_cap",
                    (person, label),
                    f"{len(ids)} interviews in {label}, cap {who.max_per_week}: {few(ids)}",
                )

    def stage_order(self, interviews: list[_Interview]) -> dict[str, list[tuple[dt.date, str]]]:
        """Loops need a held screen ``min_gap_days`` working days earlier; returns each
        candidate's held loops as (date, team of its hiring manager).

        A screen held before the snapshot counts (candidates.csv ``last_interview_date``);
        a ``screened`` candidate without that date has held one on a day the tables do
        not give, so only the gap to a screen in the schedule is checked for them; an
        interview marked ``no_show`` took its slot but is not held.
        """
        first_screen: dict[str, dt.date] = {
            cid: cand.last_interview_date
            for cid, cand in self.snap.candidates.items()
            if cand.last_interview_date is not None
        }
        held_loops: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        interviewers = self.snap.interviewers
        for iv in interviews:
            if iv.rec.status == "no_show":
                continue
            cid = iv.rec.candidate_id
            if iv.rec.stage == "screen":
                if cid not in first_screen or iv.date < first_screen[cid]:
                    first_screen[cid] = iv.date
                continue
            managers = [
                who.team
                for who in map(interviewers.get, iv.rec.interviewer_ids)
                if who is not None and "hiring_manager" in who.roles
            ]
            posting = self.snap.postings.get(iv.rec.posting_id)
            # a loop without a hiring manager is reported above; its posting names the team
            team = managers[0] if managers else posting.team if posting else ""
            held_loops[cid].append((iv.date, team))
        loops = [iv for iv in interviews if iv.rec.stage == "loop"]
        screens = [first_screen.get(iv.rec.candidate_id) for iv in loops]
        with_screen = [i for i, s in enumerate(screens) if s is not None]
        gaps = np.full(len(loops), -1, dtype=np.int64)
        if with_screen:
            begin = np.array([screens[i] for i in with_screen], dtype="datetime64[D]")
            finish = np.array([loops[i].date for i in with_screen], dtype="datetime64[D]")
            gaps[with_screen] = np.busday_count(begin, finish)
        need = self.rules.min_gap_days
        for iv, screen, gap in zip(loops, screens, gaps, strict=True):
            cand = self.snap.candidates.get(iv.rec.candidate_id)
            if screen is None and cand is not None and cand.screened:
                continue  # screened before the snapshot, on a day not given
            if screen is None:
                detail = "loop without a held screen of the candidate"
            elif gap < need:
                detail = (
                    f"loop on {iv.date} is {int(gap)} working days after the screen on {screen},"
                    f" needs {need}"
                )
            else:
                continue
            self.add("stage_order", (iv.rec.interview_id, iv.rec.candidate_id), detail)
        return held_loops


class _BusyIndex:
    """Busy blocks of one person, sorted by start, with a running maximum of their ends."""

    def __init__(self, blocks: list[tuple[int, int]]) -> None:
        blocks = sorted(blocks)
        self.starts = [s for s, _ in blocks]
        self.ends = [e for _, e in blocks]
        self.max_end = list(np.maximum.accumulate(np.array(self.ends, dtype=np.int64)))

    def find(self, start: int, end: int, itself: bool = False) -> tuple[int, int] | None:
        """A block overlapping [start, end), or None.

        ``itself``: a block exactly [start, end) is the interview itself (a confirmed
        one, in a calendar exported after confirming) and does not count.
        """
        i = bisect_left(self.starts, end) - 1
        while i >= 0 and self.max_end[i] > start:
            if self.ends[i] > start and not (
                itself and (self.starts[i], self.ends[i]) == (start, end)
            ):
                return self.starts[i], self.ends[i]
            i -= 1
        return None


def _sweep(intervals: list[tuple[int, int, str]]) -> list[tuple[str, str, int]]:
    """Overlapping pairs (earlier id, later id, overlap start) among [start, end) intervals."""
    intervals.sort()
    found: dict[tuple[str, str], int] = {}
    reach: tuple[int, str] | None = None  # (end, id) of the furthest-reaching interval so far
    for start, end, iid in intervals:
        if reach is not None and start < reach[0] and reach[1] != iid:
            found.setdefault((reach[1], iid), start)
        if reach is None or end > reach[0]:
            reach = (end, iid)
    return [(a, b, at) for (a, b), at in found.items()]


def check_schedule(
    snapshot_dir: Path, schedule_csv: Path, offers_csv: Path | None = None
) -> list[Violation]:
    """Every hard-rule violation of a schedule (and offers) against a snapshot, sorted.

    Args:
        snapshot_dir: folder with postings, candidates, interviewers, rooms, busy
            and start_windows as ``NAME.csv`` or ``NAME.parquet`` and scenario.yaml;
            or one ``.xlsx`` workbook with a sheet per table (and ``scenario``).
        schedule_csv: one row per interview (see CLI.md).
        offers_csv: optional offers table.

    Raises:
        InputError: a file is missing or a cell cannot be read (file, row and column named).
    """
    snap = read_snapshot(Path(snapshot_dir), need_windows=offers_csv is not None)
    records = read_schedule(Path(schedule_csv))
    offers = read_offers(Path(offers_csv)) if offers_csv is not None else []
    checker = _Checker(snap)
    interviews = [checker.interview(rec) for rec in records]
    checker.overlaps(interviews)
    checker.caps(interviews)
    held_loops = checker.stage_order(interviews)
    checker.out.extend(offer_violations(snap, offers, held_loops))
    return sorted(set(checker.out), key=lambda v: (v.kind, v.ids, v.detail))
