"""iCalendar export: events, times in the office zone, attendees, SEQUENCE on re-plans."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import icalendar
import pandas as pd
import pytest

from scheduler.domain import Snapshot
from scheduler.generator import generate_season
from scheduler.ics import write_ics
from scheduler.scenario import load_scenario

STAMP = dt.datetime(2027, 2, 20, 12, 0, tzinfo=dt.UTC)
PACIFIC = "America/Los_Angeles"

ROWS: list[dict[str, str]] = [
    {
        "interview_id": "S-C00000",
        "candidate_id": "C00000",
        "posting_id": "",
        "stage": "screen",
        "interviewer_ids": "I0001",
        "start": "2027-02-22T10:00:00-08:00",
        "end": "2027-02-22T11:00:00-08:00",
        "office": "virtual",
        "room_id": "",
        "status": "confirmed",
        "session_starts": "",
    },
    {
        "interview_id": "S-C00001",
        "candidate_id": "C00001",
        "posting_id": "P001",
        "stage": "screen",
        "interviewer_ids": "I0004",
        "start": "2027-02-23T18:00:00+00:00",  # 10:00 Pacific, written in UTC
        "end": "2027-02-23T19:00:00+00:00",
        "office": "virtual",
        "room_id": "",
        "status": "proposed",
        "session_starts": "",
    },
    {
        "interview_id": "L-C00003",
        "candidate_id": "C00003",
        "posting_id": "P000",
        "stage": "loop",
        "interviewer_ids": "I0000;I0001;I0002",
        "start": "2027-03-01T09:00:00-08:00",
        "end": "2027-03-01T12:00:00-08:00",
        "office": "los_gatos",
        "room_id": "R-los_gatos-0",
        "status": "proposed",
        "session_starts": (
            "2027-03-01T09:00:00-08:00;2027-03-01T10:00:00-08:00;2027-03-01T11:00:00-08:00"
        ),
    },
]


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return generate_season(load_scenario("tiny"), seed=0).snapshot


def frame(
    rows: list[dict[str, str]] = ROWS, changes: dict[str, dict[str, str]] | None = None
) -> pd.DataFrame:
    """The schedule rows as strings; ``changes[interview_id]`` overrides cells of that row."""
    edited = [{**row, **(changes or {}).get(row["interview_id"], {})} for row in rows]
    return pd.DataFrame(edited, dtype=str)


def export(
    tmp_path: Path, snapshot: Snapshot, schedule: pd.DataFrame, **kwargs: Any
) -> tuple[icalendar.Calendar, dict[str, icalendar.Component]]:
    path = tmp_path / "out" / "schedule.ics"
    write_ics(schedule, snapshot, path, stamp=STAMP, **kwargs)
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    return calendar, events


def attendees(event: icalendar.Component) -> list[icalendar.vCalAddress]:
    value = event.get("ATTENDEE", [])
    return value if isinstance(value, list) else [value]


def sequence(event: icalendar.Component) -> int:
    value = event.decoded("SEQUENCE")
    assert isinstance(value, int)
    return value


def test_calendar_and_one_event_per_row(tmp_path: Path, snapshot: Snapshot) -> None:
    calendar, events = export(tmp_path, snapshot, frame())
    assert str(calendar["PRODID"]) == "-//isched//interview scheduling//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["CALSCALE"]) == "GREGORIAN"
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert len(calendar.walk("VEVENT")) == len(ROWS)
    assert set(events) == {f"{row['interview_id']}@isched" for row in ROWS}
    zones = calendar.walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == [PACIFIC]
    for event in events.values():
        assert event.decoded("DTSTAMP") == STAMP
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "schedule.ics"]


def test_times_are_the_rows_instants_in_pacific(tmp_path: Path, snapshot: Snapshot) -> None:
    _, events = export(tmp_path, snapshot, frame())
    for row in ROWS:
        event = events[f"{row['interview_id']}@isched"]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == dt.datetime.fromisoformat(row["start"])
        assert end == dt.datetime.fromisoformat(row["end"])
        assert start.utcoffset() == dt.timedelta(hours=-8)  # shown in Pacific, not UTC
        assert event["DTSTART"].params["TZID"] == PACIFIC
        assert event["DTEND"].params["TZID"] == PACIFIC


def test_attendees_location_status_summary(tmp_path: Path, snapshot: Snapshot) -> None:
    _, events = export(tmp_path, snapshot, frame())
    for row in ROWS:
        event = events[f"{row['interview_id']}@isched"]
        people = attendees(event)
        interviewers = row["interviewer_ids"].split(";")
        assert len(people) == 1 + len(interviewers)
        addresses = {str(a) for a in people}
        assert f"mailto:{row['candidate_id']}@candidates.isched.example" in addresses
        for interviewer_id in interviewers:
            assert f"mailto:{interviewer_id}@interviewers.isched.example" in addresses
        assert all(a.params["ROLE"] == "REQ-PARTICIPANT" and a.params["CN"] for a in people)
        assert str(event["ORGANIZER"]) == "mailto:recruiting@isched.example"
        want = {"confirmed": "CONFIRMED", "proposed": "TENTATIVE"}[row["status"]]
        assert str(event["STATUS"]) == want

    loop = events["L-C00003@isched"]
    assert str(loop["LOCATION"]) == "R-los_gatos-0, Los Gatos office"
    assert str(loop["SUMMARY"]) == "Loop: C00003 for P000 (team T000)"
    description = str(loop["DESCRIPTION"])
    for line in ("09:00-10:00 with I0000", "10:00-11:00 with I0001", "11:00-12:00 with I0002"):
        assert line in description
    candidate = next(c for c in snapshot.candidates if c.candidate_id == "C00003")
    assert candidate.timezone in description
    assert all(a in description for a in candidate.accommodation)

    screen = events["S-C00000@isched"]
    assert str(screen["LOCATION"]) == "Virtual (video call)"
    assert str(screen["SUMMARY"]) == "Screen: C00000 (recommender_systems)"
    assert str(events["S-C00001@isched"]["SUMMARY"]) == "Screen: C00001 (nlp)"


def test_sequence_follows_the_previous_schedule(tmp_path: Path, snapshot: Snapshot) -> None:
    previous = frame().assign(sequence=["1", "0", "2"])
    # the loop moved; the first screen is the same instant, written in UTC
    same_instant = {"start": "2027-02-22T18:00:00Z", "end": "2027-02-22T19:00:00Z"}
    current = frame(
        changes={
            "L-C00003": {"start": "2027-03-01T10:00:00-08:00", "session_starts": ""},
            "S-C00000": same_instant,
        }
    )
    current = current[current["interview_id"] != "S-C00001"]
    new_row = {**ROWS[1], "interview_id": "S-new"}
    current = pd.concat([current, frame([new_row])], ignore_index=True)
    _, events = export(tmp_path, snapshot, current, previous=previous)
    assert sequence(events["L-C00003@isched"]) == 3
    assert sequence(events["S-C00000@isched"]) == 1
    assert sequence(events["S-new@isched"]) == 0

    _, events = export(tmp_path, snapshot, frame(), previous=previous)
    assert [sequence(events[f"{r['interview_id']}@isched"]) for r in ROWS] == [1, 0, 2]


def test_sequence_column_wins_and_default_is_zero(tmp_path: Path, snapshot: Snapshot) -> None:
    _, events = export(tmp_path, snapshot, frame())
    assert all(sequence(e) == 0 for e in events.values())
    moved = frame(changes={"L-C00003": {"start": "2027-03-01T10:00:00-08:00"}})
    _, events = export(tmp_path, snapshot, moved.assign(sequence=["5", "", "7"]), previous=frame())
    assert sequence(events["S-C00000@isched"]) == 5
    assert sequence(events["S-C00001@isched"]) == 0  # empty cell: unchanged, previous 0
    assert sequence(events["L-C00003@isched"]) == 7


def test_after_dst_starts(tmp_path: Path, snapshot: Snapshot) -> None:
    """2027-03-15 is after US DST starts (2027-03-14): 09:00 Pacific is 16:00 UTC."""
    row = {**ROWS[0], "start": "2027-03-15T16:00:00Z", "end": "2027-03-15T17:00:00Z"}
    path = tmp_path / "dst.ics"
    write_ics(frame([row]), snapshot, path, stamp=STAMP)
    text = path.read_text()
    assert "DTSTART;TZID=America/Los_Angeles:20270315T090000" in text
    calendar = icalendar.Calendar.from_ical(text)
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start.utcoffset() == dt.timedelta(hours=-7)
    assert start.astimezone(dt.UTC) == dt.datetime(2027, 3, 15, 16, tzinfo=dt.UTC)
    # the VTIMEZONE written to the file agrees on its own (not only the tz database)
    (zone,) = calendar.walk("VTIMEZONE")
    assert isinstance(zone, icalendar.Timezone)
    tz = zone.to_tz()
    assert dt.datetime(2027, 3, 15, 9, tzinfo=tz).utcoffset() == dt.timedelta(hours=-7)
    assert dt.datetime(2027, 3, 1, 9, tzinfo=tz).utcoffset() == dt.timedelta(hours=-8)


def test_overwrites_atomically(tmp_path: Path, snapshot: Snapshot) -> None:
    path = tmp_path / "schedule.ics"
    path.write_text("old")
    write_ics(frame(), snapshot, path, stamp=STAMP)
    assert path.read_text().startswith("BEGIN:VCALENDAR")
    assert [p.name for p in tmp_path.iterdir()] == ["schedule.ics"]


def test_a_dropped_interview_is_exported_as_cancelled(tmp_path: Path, snapshot: Snapshot) -> None:
    """After a re-plan, a future interview the new plan dropped stays, as CANCELLED."""
    cid = snapshot.candidates[0].candidate_id
    rows = [{**row, "candidate_id": cid} for row in ROWS]
    previous = frame(rows).assign(sequence=["1", "0", "2"])
    current = previous[previous["interview_id"] == "S-C00000"]
    _, events = export(tmp_path, snapshot, current, previous=previous)
    assert set(events) == {"S-C00000@isched", "S-C00001@isched", "L-C00003@isched"}
    for uid, seq in (("S-C00001@isched", 1), ("L-C00003@isched", 3)):
        assert str(events[uid]["STATUS"]) == "CANCELLED"
        assert sequence(events[uid]) == seq
    assert str(events["S-C00000@isched"]["STATUS"]) == "CONFIRMED"

    # one that has begun by the export is history, not a cancellation
    late = dt.datetime(2027, 2, 24, tzinfo=dt.UTC)
    path = tmp_path / "late.ics"
    write_ics(current, snapshot, path, previous=previous, stamp=late)
    uids = {str(e["UID"]) for e in icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
    assert uids == {"S-C00000@isched", "L-C00003@isched"}


def test_a_held_interview_or_another_snapshots_plan_is_not_cancelled(
    tmp_path: Path, snapshot: Snapshot
) -> None:
    screened = next((c for c in snapshot.candidates if c.stage == "screened"), None)
    if screened is None:  # make one: the tiny season's first candidate, screened since
        import dataclasses

        first = dataclasses.replace(snapshot.candidates[0], stage="screened")
        snapshot = dataclasses.replace(snapshot, candidates=[first, *snapshot.candidates[1:]])
        screened = first
    rows = [{**ROWS[1], "candidate_id": screened.candidate_id}]
    _, events = export(tmp_path, snapshot, frame(ROWS[:1]), previous=frame(rows))
    assert set(events) == {"S-C00000@isched"}  # the screen was held: no cancellation
    stranger = [{**ROWS[1], "candidate_id": "C99999"}]
    _, events = export(tmp_path, snapshot, frame(ROWS[:1]), previous=frame(stranger))
    assert set(events) == {"S-C00000@isched"}  # another snapshot's plan


def test_the_snapshot_date_says_what_was_held_whatever_the_clock(
    tmp_path: Path, snapshot: Snapshot
) -> None:
    """Export before the interviews by the clock (STAMP, 20 Feb) of a re-plan whose snapshot
    is 23 Feb: a dropped screen of 22 Feb was held (not cancelled); a dropped screen of 1
    Mar of a candidate now past that stage is cancelled (held by someone else or not, it
    is not on 1 Mar any more); one of 23 Feb (the snapshot day) at that stage is held."""
    import dataclasses

    first = dataclasses.replace(snapshot.candidates[0], stage="screened")
    snapshot = dataclasses.replace(snapshot, candidates=[first, *snapshot.candidates[1:]])
    cid = first.candidate_id
    gone = {"candidate_id": cid, "stage": "screen", "office": "virtual", "room_id": "",
            "session_starts": "", "posting_id": "", "interviewer_ids": "I0001",
            "status": "confirmed"}  # fmt: skip
    previous = frame([
        {**gone, "interview_id": "before", "start": "2027-02-22T10:00:00-08:00",
         "end": "2027-02-22T11:00:00-08:00"},
        {**gone, "interview_id": "today", "start": "2027-02-23T10:00:00-08:00",
         "end": "2027-02-23T11:00:00-08:00"},
        {**gone, "interview_id": "later", "start": "2027-03-01T10:00:00-08:00",
         "end": "2027-03-01T11:00:00-08:00"},
    ])  # fmt: skip
    current = frame(ROWS[2:])
    _, events = export(tmp_path, snapshot, current, previous=previous,
                       snapshot_date=dt.date(2027, 2, 23))  # fmt: skip
    assert set(events) == {"L-C00003@isched", "later@isched"}
    assert str(events["later@isched"]["STATUS"]) == "CANCELLED"
    withdrawn = dataclasses.replace(first, stage="withdrawn")
    snapshot = dataclasses.replace(snapshot, candidates=[withdrawn, *snapshot.candidates[1:]])
    _, events = export(tmp_path, snapshot, current, previous=previous,
                       snapshot_date=dt.date(2027, 2, 23))  # fmt: skip
    assert set(events) == {"L-C00003@isched", "today@isched", "later@isched"}  # not 22 Feb


def test_the_cancelled_events_of_a_calendar_are_only_cancelled_isched_ones(tmp_path: Path) -> None:
    """The previous calendar's cancelled events by id; other events, another tool's UIDs, a
    file that is not iCalendar or no file at all give nothing."""
    from icalendar import Calendar, Event

    from scheduler.ics import cancelled_events, read_calendar

    def read_cancelled(path: Path | None) -> dict[str, Event]:
        return cancelled_events(read_calendar(path))

    calendar = Calendar()
    for uid, status in (("IV-A-screen@isched", "CANCELLED"), ("IV-B-screen@isched", "TENTATIVE"),
                        ("meeting@other.example", "CANCELLED")):  # fmt: skip
        event = Event()
        event.add("uid", uid)
        event.add("status", status)
        calendar.add_component(event)
    path = tmp_path / "schedule.ics"
    path.write_bytes(calendar.to_ical())
    assert set(read_cancelled(path)) == {"IV-A-screen"}
    path.write_text("interview_id,start\n", encoding="utf-8")
    assert read_cancelled(path) == {}
    assert read_cancelled(tmp_path / "none.ics") == {} and read_cancelled(None) == {}
