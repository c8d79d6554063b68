"""The independent validator on a hand-made snapshot: valid, then one rule broken at a time."""

from __future__ import annotations

import copy
import csv
from pathlib import Path
from typing import Any

import pytest
import yaml

from scheduler.validator import InputError, Violation, check_schedule

Rows = list[dict[str, Any]]


def t(day: int, hm: str) -> str:
    """An ISO datetime in February 2027, Pacific standard time (UTC-8)."""
    return f"2027-02-{day:02d}T{hm}:00-08:00"


def loop_row(
    iid: str,
    cid: str,
    pid: str,
    people: list[str],
    starts: list[str],
    end: str,
    office: str,
    room: str,
    explicit: bool = True,
) -> dict[str, Any]:
    return {
        "interview_id": iid,
        "candidate_id": cid,
        "posting_id": pid,
        "stage": "loop",
        "interviewer_ids": ";".join(people),
        "start": starts[0],
        "end": end,
        "office": office,
        "room_id": room,
        "status": "confirmed",
        "session_starts": ";".join(starts) if explicit else "",
    }


def screen_row(iid: str, cid: str, who: str, start: str, end: str) -> dict[str, Any]:
    return {
        "interview_id": iid,
        "candidate_id": cid,
        "posting_id": "",
        "stage": "screen",
        "interviewer_ids": who,
        "start": start,
        "end": end,
        "office": "virtual",
        "room_id": "",
        "status": "confirmed",
        "session_starts": "",
    }


def candidate(
    cid: str, primary: str, secondary: str, tz: str, form: str, until: str, acc: str
) -> dict[str, Any]:
    return {
        "candidate_id": cid,
        "primary_area": primary,
        "secondary_area": secondary,
        "timezone": tz,
        "applied_date": "2027-02-01",
        "form_completed_date": form,
        "available_from": "2027-05-10",
        "available_until": until,
        "office_preference": "",
        "accommodation": acc,
        "publications": 1,
        "onsite": "true",
        "stage": "new",
    }


def interviewer(iid: str, team: str, office: str, areas: str, roles: str) -> dict[str, Any]:
    return {
        "interviewer_id": iid,
        "team": team,
        "office": office,
        "areas": areas,
        "roles": roles,
        "max_per_day": 2,
        "max_per_week": 5,
    }


def base_data() -> dict[str, Rows]:
    """A valid season: every table as rows, schedule and offers included."""
    postings = [
        {"posting_id": "P1", "team": "T1", "area": "nlp", "office": "los_gatos", "headcount": 1,
         "open_date": "2027-02-01", "research": "true", "hourly_rate": 80},
        {"posting_id": "P2", "team": "T2", "area": "computer_vision", "office": "los_angeles",
         "headcount": 1, "open_date": "2027-02-01", "research": "false", "hourly_rate": 60},
    ]  # fmt: skip
    ny, la = "America/New_York", "America/Los_Angeles"
    candidates = [
        candidate("C1", "nlp", "", la, "2027-02-01", "2027-09-30", "extended_time"),
        candidate("C2", "computer_vision", "", ny, "2027-02-01", "2027-09-30", "virtual_only"),
        candidate("C3", "nlp", "", "America/Chicago", "", "2027-09-30", ""),
        candidate("C4", "computer_vision", "nlp", "Europe/Berlin", "2027-02-01", "2027-10-01", ""),
        candidate("C5", "computer_vision", "", "America/Denver", "2027-02-01", "2027-10-01",
                  "breaks;accessible_room"),
        candidate("C6", "computer_vision", "", la, "2027-02-01", "2027-10-01", ""),
    ]  # fmt: skip
    lg, la_office = "los_gatos", "los_angeles"
    interviewers = [
        interviewer("H1", "T1", lg, "nlp", "loop;hiring_manager"),
        interviewer("L1", "T1", lg, "nlp", "loop"),
        interviewer("L2", "T1", lg, "nlp", "loop"),
        interviewer("L3", "T1", lg, "nlp;reliable_ml", "loop"),
        interviewer("S1", "T1", lg, "nlp", "screen;loop"),
        interviewer("H2", "T2", la_office, "computer_vision", "loop;hiring_manager"),
        interviewer("M1", "T2", la_office, "computer_vision", "loop"),
        interviewer("M2", "T2", la_office, "computer_vision", "loop"),
        interviewer("M3", "T2", la_office, "computer_vision", "loop"),
        interviewer("S2", "T2", la_office, "computer_vision", "screen"),
    ]
    rooms = [
        {"room_id": "R1", "office": lg, "capacity": 4, "accessible": "false"},
        {"room_id": "R2", "office": la_office, "capacity": 6, "accessible": "true"},
    ]
    windows = [
        {"window_id": f"W{i}-{office}", "office": office, "start_date": day, "capacity": 2}
        for office in (lg, la_office)
        for i, day in enumerate(("2027-05-17", "2027-06-01"))
    ]
    busy = [
        {"person_id": "L1", "start": t(18, "15:00"), "end": t(18, "16:00")},
        {"person_id": "C2", "start": t(17, "09:00"), "end": t(17, "10:00")},
    ]
    schedule = [
        # C1: extended_time, screen of 3 slots, onsite loop of 4 x 90 min in Los Gatos.
        screen_row("S-C1", "C1", "S1", t(15, "09:00"), t(15, "10:30")),
        loop_row("L-C1", "C1", "P1", ["H1", "L1", "L2", "L3"],
                 [t(18, "09:00"), t(18, "10:30"), t(18, "12:00"), t(18, "13:30")],
                 t(18, "15:00"), lg, "R1"),
        # C2: virtual_only; loop without session_starts (back to back from start).
        screen_row("S-C2", "C2", "S2", t(15, "10:00"), t(15, "11:00")),
        loop_row("L-C2", "C2", "P2", ["H2", "M1", "M2", "M3"], [t(18, "09:00")],
                 t(18, "13:00"), "virtual", "", explicit=False),
        # C4 in Berlin: 09:00 Pacific is 18:00 local; screened in the secondary area.
        screen_row("S-C4", "C4", "S1", t(16, "09:00"), t(16, "10:00")),
        # C5: breaks of one slot between sessions, accessible room.
        screen_row("S-C5", "C5", "S2", t(16, "10:00"), t(16, "11:00")),
        loop_row("L-C5", "C5", "P2", ["H2", "M1", "M2", "M3"],
                 [t(19, "09:00"), t(19, "10:30"), t(19, "12:00"), t(19, "13:30")],
                 t(19, "14:30"), la_office, "R2"),
        screen_row("S-C6", "C6", "S2", t(16, "11:00"), t(16, "12:00")),
    ]  # fmt: skip
    offers = [
        {"candidate_id": "C1", "posting_id": "P1", "offer_date": "2027-02-22",
         "start_date": "2027-05-17", "accepted": "true"},
        {"candidate_id": "C2", "posting_id": "P2", "offer_date": "2027-02-22",
         "start_date": "2027-06-01", "accepted": "true"},
        {"candidate_id": "C5", "posting_id": "P2", "offer_date": "2027-02-24",
         "start_date": "2027-06-01", "accepted": "false"},
    ]  # fmt: skip
    return {
        "postings": postings,
        "candidates": candidates,
        "interviewers": interviewers,
        "rooms": rooms,
        "start_windows": windows,
        "busy": busy,
        "schedule": schedule,
        "offers": offers,
    }


SCENARIO = {
    "scenario": {
        "name": "hand",
        "hours": {"start_hour": 9, "end_hour": 17, "slot_minutes": 30},
        "interview": {
            "screen_slots": 2,
            "loop_sessions": 4,
            "session_slots": 2,
            "extended_extra_slots": 1,
            "break_slots": 1,
            "min_gap_days": 2,
            "candidate_local_start_hour": 8,
            "candidate_local_end_hour": 20,
        },
        "onboarding_lead_days": 14,
    },
    "seed": 0,
    "snapshot_date": None,
}


def write_csv(path: Path, rows: Rows) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def write(tmp_path: Path, data: dict[str, Rows]) -> tuple[Path, Path, Path]:
    """Write the snapshot, schedule.csv and offers.csv; return (snapshot dir, schedule, offers)."""
    snap = tmp_path / "snap"
    snap.mkdir(exist_ok=True)
    for name in ("postings", "candidates", "interviewers", "rooms", "start_windows", "busy"):
        write_csv(snap / f"{name}.csv", data[name])
    (snap / "scenario.yaml").write_text(yaml.safe_dump(SCENARIO))
    write_csv(tmp_path / "schedule.csv", data["schedule"])
    write_csv(tmp_path / "offers.csv", data["offers"])
    return snap, tmp_path / "schedule.csv", tmp_path / "offers.csv"


def check(tmp_path: Path, data: dict[str, Rows]) -> list[Violation]:
    return check_schedule(*write(tmp_path, data))


def kinds(violations: list[Violation]) -> set[str]:
    return {v.kind for v in violations}


def row(rows: Rows, key: str, value: str) -> dict[str, Any]:
    return next(r for r in rows if value in (r.get(key), r.get("candidate_id")))


@pytest.fixture
def data() -> dict[str, Rows]:
    return copy.deepcopy(base_data())


def test_valid_schedule_has_no_violation(tmp_path: Path, data: dict[str, Rows]) -> None:
    assert check(tmp_path, data) == []


def test_valid_without_offers_file(tmp_path: Path, data: dict[str, Rows]) -> None:
    snap, schedule, _ = write(tmp_path, data)
    assert check_schedule(snap, schedule) == []


def test_interviewer_double_booked(tmp_path: Path, data: dict[str, Rows]) -> None:
    screen = row(data["schedule"], "interview_id", "S-C4")
    screen["start"], screen["end"] = t(15, "09:30"), t(15, "10:30")
    found = check(tmp_path, data)
    assert kinds(found) == {"interviewer_double_booked"}
    assert found[0].ids == ("S1", "S-C1", "S-C4")


def test_offer_in_first_week_of_posting(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["postings"], "posting_id", "P1")["open_date"] = "2027-02-20"  # offer on day 3
    assert kinds(check(tmp_path, data)) == {"posting_open_period"}


def test_start_window_leaves_under_12_weeks(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["candidates"], "candidate_id", "C1")["available_until"] = "2027-08-01"
    found = check(tmp_path, data)
    assert kinds(found) == {"start_window"}
    assert found[0].ids == ("C1", "P1")


def test_start_window_not_a_window_and_too_soon(tmp_path: Path, data: dict[str, Rows]) -> None:
    offer = row(data["offers"], "candidate_id", "C1")
    offer["start_date"] = "2027-03-01"
    assert [v.kind for v in check(tmp_path, data)] == ["start_window"] * 3


def test_unqualified_screener(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "S-C2")["interviewer_ids"] = "H1"
    found = check(tmp_path, data)
    assert kinds(found) == {"unqualified"}
    assert {v.ids for v in found} == {("S-C2", "H1")}  # no screen role, no shared area


def test_extended_time_screen_of_normal_length(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "S-C1")["end"] = t(15, "10:00")
    found = check(tmp_path, data)
    assert kinds(found) == {"accommodation"}
    assert "extended_time" in found[0].detail


def test_extended_time_loop_of_normal_length(tmp_path: Path, data: dict[str, Rows]) -> None:
    loop = row(data["schedule"], "interview_id", "L-C1")
    loop["session_starts"] = ";".join(t(18, hm) for hm in ("09:00", "10:00", "11:00", "12:00"))
    loop["end"] = t(18, "13:00")
    assert kinds(check(tmp_path, data)) == {"accommodation"}


def test_virtual_only_candidate_onsite(tmp_path: Path, data: dict[str, Rows]) -> None:
    loop = row(data["schedule"], "interview_id", "L-C2")
    loop["office"], loop["room_id"] = "los_angeles", "R2"
    assert kinds(check(tmp_path, data)) == {"accommodation"}


def test_accessible_room_needed(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["rooms"], "room_id", "R2")["accessible"] = "false"
    assert kinds(check(tmp_path, data)) == {"accommodation"}


def test_missing_break_is_loop_shape(tmp_path: Path, data: dict[str, Rows]) -> None:
    loop = row(data["schedule"], "interview_id", "L-C5")
    loop["session_starts"] = ";".join(t(19, hm) for hm in ("09:00", "10:00", "11:00", "12:00"))
    loop["end"] = t(19, "13:00")
    assert kinds(check(tmp_path, data)) == {"loop_shape"}


def test_screen_of_wrong_length(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "S-C6")["end"] = t(16, "13:00")
    assert kinds(check(tmp_path, data)) == {"interview_length"}


def test_busy_conflict(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["busy"].append({"person_id": "L2", "start": t(18, "12:00"), "end": t(18, "12:30")})
    data["busy"].append({"person_id": "C6", "start": t(16, "11:30"), "end": t(16, "14:00")})
    found = check(tmp_path, data)
    assert kinds(found) == {"busy_conflict"}
    assert {v.ids for v in found} == {("L-C1", "L2"), ("S-C6", "C6")}


def test_busy_block_of_another_session_is_no_conflict(
    tmp_path: Path, data: dict[str, Rows]
) -> None:
    # L1 sits 10:30-12:00 only; a busy block during another interviewer's session is fine.
    data["busy"].append({"person_id": "L1", "start": t(18, "09:00"), "end": t(18, "10:30")})
    assert check(tmp_path, data) == []


def test_outside_candidate_hours(tmp_path: Path, data: dict[str, Rows]) -> None:
    screen = row(data["schedule"], "interview_id", "S-C4")
    screen["start"], screen["end"] = t(16, "15:00"), t(16, "16:00")  # midnight in Berlin
    found = check(tmp_path, data)
    assert kinds(found) == {"outside_candidate_hours"}
    assert found[0].ids == ("S-C4", "C4")


def test_outside_working_hours(tmp_path: Path, data: dict[str, Rows]) -> None:
    screen = row(data["schedule"], "interview_id", "S-C6")
    screen["start"], screen["end"] = t(20, "11:00"), t(20, "12:00")  # a Saturday
    assert kinds(check(tmp_path, data)) == {"outside_working_hours"}
    screen["start"], screen["end"] = t(16, "11:15"), t(16, "12:15")  # off the slot grid
    assert kinds(check(tmp_path, data)) == {"outside_working_hours"}


def test_daily_cap(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["interviewers"], "interviewer_id", "S1")["max_per_day"] = 1
    screen = row(data["schedule"], "interview_id", "S-C1")
    screen["start"], screen["end"] = t(16, "11:00"), t(16, "12:30")
    found = check(tmp_path, data)
    assert kinds(found) == {"daily_cap"}
    assert found[0].ids == ("S1", "2027-02-16")


def test_weekly_cap(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["interviewers"], "interviewer_id", "M2")["max_per_week"] = 1
    assert kinds(check(tmp_path, data)) == {"weekly_cap"}


def test_form_incomplete(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["schedule"].append(screen_row("S-C3", "C3", "S1", t(17, "09:00"), t(17, "10:00")))
    found = check(tmp_path, data)
    assert kinds(found) == {"form_incomplete"}
    assert found[0].ids == ("S-C3", "C3")


def test_headcount_exceeded(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["offers"], "candidate_id", "C5")["accepted"] = "true"
    found = check(tmp_path, data)
    assert kinds(found) == {"headcount"}
    assert found[0].ids == ("P2",)


def test_onboarding_capacity_and_multiple_accepts(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["postings"], "posting_id", "P2")["headcount"] = 3
    row(data["start_windows"], "window_id", "W1-los_angeles")["capacity"] = 1
    row(data["offers"], "candidate_id", "C5")["accepted"] = "true"
    data["offers"].append(dict(row(data["offers"], "candidate_id", "C2"), posting_id="P2"))
    found = check(tmp_path, data)
    assert kinds(found) == {"onboarding_capacity", "multiple_accepts"}


def test_area_mismatch(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["offers"].append(
        {"candidate_id": "C2", "posting_id": "P1", "offer_date": "2027-02-22",
         "start_date": "2027-05-17", "accepted": "false"}
    )  # fmt: skip
    # P1 is also another team's posting than the one that ran C2's loop
    assert kinds(check(tmp_path, data)) == {"area_mismatch", "offer_team"}


def test_loop_without_hiring_manager(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "L-C1")["interviewer_ids"] = "S1;L1;L2;L3"
    found = check(tmp_path, data)
    assert kinds(found) == {"unqualified"}
    assert "hiring manager" in found[0].detail


def test_loop_with_other_team(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "L-C1")["interviewer_ids"] = "H1;L1;L2;M3"
    assert kinds(check(tmp_path, data)) == {"unqualified"}


def test_room_double_booked(tmp_path: Path, data: dict[str, Rows]) -> None:
    # Interviewers rotate so that none of them overlaps: only the room is shared.
    data["schedule"].append(
        loop_row("L-C6", "C6", "P2", ["M3", "M2", "M1", "H2"],
                 [t(19, "10:00"), t(19, "11:00"), t(19, "12:00"), t(19, "13:00")],
                 t(19, "14:00"), "los_angeles", "R2")
    )  # fmt: skip
    found = check(tmp_path, data)
    assert kinds(found) == {"room_double_booked"}
    assert found[0].ids == ("R2", "L-C5", "L-C6")


def test_room_wrong_office_and_missing(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "L-C1")["room_id"] = "R2"
    assert "room_wrong_office" in kinds(check(tmp_path, data))
    row(data["schedule"], "interview_id", "L-C1")["room_id"] = ""
    assert kinds(check(tmp_path, data)) == {"room_missing"}


def test_loop_too_soon_after_screen(tmp_path: Path, data: dict[str, Rows]) -> None:
    loop = row(data["schedule"], "interview_id", "L-C1")
    loop["session_starts"] = loop["session_starts"].replace("-18T", "-16T")
    loop["start"], loop["end"] = t(16, "09:00"), t(16, "15:00")
    found = check(tmp_path, data)
    assert kinds(found) == {"stage_order"}
    assert "1 working days" in found[0].detail


def test_offer_without_loop(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["offers"], "candidate_id", "C1")["offer_date"] = "2027-02-18"
    assert kinds(check(tmp_path, data)) == {"stage_order"}


def test_unknown_ids(tmp_path: Path, data: dict[str, Rows]) -> None:
    row(data["schedule"], "interview_id", "S-C6")["interviewer_ids"] = "NOBODY"
    found = check(tmp_path, data)
    assert "unknown_id" in kinds(found)
    assert ("S-C6", "NOBODY") in {v.ids for v in found}


def test_bad_datetime_raises_input_error(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["schedule"][1]["start"] = "2027-02-18 nine o'clock"
    with pytest.raises(InputError) as error:
        check(tmp_path, data)
    message = str(error.value)
    assert "schedule.csv" in message and "row 3" in message and "column start" in message
    assert "\n" not in message


def test_datetime_without_offset_raises_input_error(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["schedule"][0]["end"] = "2027-02-15T10:30:00"
    with pytest.raises(InputError, match=r"schedule.csv row 2, column end"):
        check(tmp_path, data)


def test_violation_format() -> None:
    violation = Violation("daily_cap", ("S1", "2027-02-16"), "2 interviews, cap 1")
    assert str(violation) == "daily_cap S1,2027-02-16: 2 interviews, cap 1"
    assert violation.to_dict() == {
        "kind": "daily_cap",
        "ids": ["S1", "2027-02-16"],
        "detail": "2 interviews, cap 1",
    }


def test_large_schedule(tmp_path: Path, data: dict[str, Rows]) -> None:
    """5,000 candidates, 50,000 busy blocks, 10,000 interviews: only the planted kinds."""
    days = [15, 16, 17, 18, 19, 22, 23, 24, 25, 26]
    people = [f"X{i:03d}" for i in range(400)]
    data["interviewers"] = [
        dict(interviewer(p, "T9", "los_gatos", "nlp", "screen"), max_per_day=99, max_per_week=999)
        for p in people
    ]
    data["candidates"] = [
        candidate(f"K{i:04d}", "nlp", "", "America/Los_Angeles", "2027-02-01", "2027-10-01", "")
        for i in range(5000)
    ]
    data["busy"] = [
        {"person_id": people[i % 400], "start": t(days[i % 10], "16:00"), "end": t(days[i % 10],
         "16:30")} for i in range(50_000)
    ]  # fmt: skip
    schedule = []
    for i in range(10_000):
        day, hour = days[(i // 400) % 10], 9 + i // 4000
        start, end = t(day, f"{hour:02d}:00"), t(day, f"{hour + 1:02d}:00")
        schedule.append(screen_row(f"Q{i}", f"K{i % 5000:04d}", people[i % 400], start, end))
    data["schedule"], data["offers"] = schedule, data["offers"][:1]
    paths = write(tmp_path, data)
    found = check_schedule(*paths)
    assert kinds(found) <= {"candidate_double_booked", "unknown_id", "stage_order"}


# Bad input: one InputError naming file, row and column -------------------------------------


def raises(tmp_path: Path, data: dict[str, Rows], *words: str) -> str:
    """``check`` raises a one-line ``InputError`` containing every word; its message."""
    with pytest.raises(InputError) as error:
        check(tmp_path, data)
    message = str(error.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    return message


@pytest.mark.parametrize(
    ("table", "index", "column", "value", "where"),
    [
        ("busy", 0, "start", "0001-01-01T00:00:00+00:00", "busy.csv row 2, column start"),
        ("busy", 1, "end", "9999-12-31T23:59:00+00:00", "busy.csv row 3, column end"),
        ("schedule", 0, "start", "9999-12-31T09:00:00-08:00", "schedule.csv row 2, column start"),
        ("schedule", 2, "end", "2101-01-01T00:00:00+00:00", "schedule.csv row 4, column end"),
        ("schedule", 1, "session_starts", "1969-12-31T23:00:00-08:00",
         "schedule.csv row 3, column session_starts"),
        ("postings", 1, "open_date", "0001-01-01", "postings.csv row 3, column open_date"),
        ("candidates", 0, "available_until", "9999-12-31",
         "candidates.csv row 2, column available_until"),
        ("start_windows", 0, "start_date", "2101-01-01", "start_windows.csv row 2, column"),
        ("offers", 0, "offer_date", "1969-12-31", "offers.csv row 2, column offer_date"),
        ("offers", 2, "start_date", "9999-12-31", "offers.csv row 4, column start_date"),
    ],
)  # fmt: skip
def test_date_outside_1970_to_2100_is_bad_input(
    tmp_path: Path, data: dict[str, Rows], table: str, index: int, column: str, value: str,
    where: str,
) -> None:  # fmt: skip
    data[table][index][column] = value
    raises(tmp_path, data, where, value, "outside the years 1970-2100")


def test_dates_at_the_edges_of_the_years_are_read(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["busy"][0].update(start="1970-01-01T00:00:00+00:00", end="2100-12-31T23:59:00-12:00")
    data["postings"][0]["open_date"] = "1970-01-01"
    found = check(tmp_path, data)
    assert "busy_conflict" in kinds(found)  # the long block covers L1's loop session


def test_interview_before_the_epoch_gives_no_phantom_clash(
    tmp_path: Path, data: dict[str, Rows]
) -> None:
    """1970-01-01T00:00+01:00 is in range but before epoch 0: no sentinel leaks into a clash."""
    screen = row(data["schedule"], "interview_id", "S-C6")
    screen.update(start="1970-01-01T00:00:00+01:00", end="1970-01-01T01:00:00+01:00")
    found = check(tmp_path, data)
    assert kinds(found) == {"form_incomplete"}  # held on 1969-12-31, before the form
    assert all(all(ids) for ids in (v.ids for v in found)), found
    assert not kinds(found) & {"candidate_double_booked", "interviewer_double_booked"}


def test_sweep_reports_only_real_overlaps() -> None:
    from scheduler.validator import _sweep

    assert _sweep([(-7200, -3600, "A"), (-3600, -1800, "B")]) == []
    assert _sweep([(-7200, -3000, "A"), (-3600, -1800, "B")]) == [("A", "B", -3600)]


@pytest.mark.parametrize("value", ["=HYPERLINK(1)", "../x", "-x", "a b", "a/b", "+1", "@x"])
@pytest.mark.parametrize(
    ("column", "where"),
    [
        ("interview_id", "column interview_id"),
        ("candidate_id", "column candidate_id"),
        ("posting_id", "column posting_id"),
        ("interviewer_ids", "column interviewer_ids"),
        ("room_id", "column room_id"),
    ],
)
def test_bad_id_in_schedule_is_bad_input(
    tmp_path: Path, data: dict[str, Rows], column: str, where: str, value: str
) -> None:
    target = data["schedule"][1]  # L-C1, a loop with a room
    target[column] = f"H1;{value};L2;L3" if column == "interviewer_ids" else value
    raises(tmp_path, data, "schedule.csv row 3", where, "bad id", repr(value))


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("postings", "posting_id"),
        ("candidates", "candidate_id"),
        ("interviewers", "interviewer_id"),
        ("rooms", "room_id"),
        ("start_windows", "window_id"),
        ("busy", "person_id"),
        ("offers", "candidate_id"),
        ("offers", "posting_id"),
    ],
)
def test_bad_id_in_snapshot_or_offers_is_bad_input(
    tmp_path: Path, data: dict[str, Rows], table: str, column: str
) -> None:
    data[table][1][column] = "=HYPERLINK(1)"
    raises(tmp_path, data, f"{table}.csv row 3, column {column}", "bad id")


def append_to_line(path: Path, line: int, text: str) -> None:
    """Append ``text`` to line ``line`` (1 = header) of a CSV file."""
    lines = path.read_text().splitlines()
    lines[line - 1] += text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("name", ["schedule", "busy", "rooms", "offers"])
@pytest.mark.parametrize("extra", [",x,y", ","])
def test_more_values_than_the_header_is_named(
    tmp_path: Path, data: dict[str, Rows], name: str, extra: str
) -> None:
    paths = write(tmp_path, data)
    path = paths[0] / f"{name}.csv" if name in ("busy", "rooms") else tmp_path / f"{name}.csv"
    append_to_line(path, 2, extra)
    with pytest.raises(InputError) as error:
        check_schedule(*paths)
    assert str(error.value).startswith(
        f"{name}.csv row 2: more values than the header has columns"
    ), error.value


def test_bytes_that_are_not_utf8_name_their_row(tmp_path: Path, data: dict[str, Rows]) -> None:
    paths = write(tmp_path, data)
    lines = paths[1].read_bytes().split(b"\n")
    lines[2] = b"\xff" + lines[2][1:]
    paths[1].write_bytes(b"\n".join(lines))
    header = paths[1].read_text(encoding="latin-1").split(",")[0]
    expected = f"schedule.csv row 3, column {header}: not UTF-8 text: save the table as 'CSV UTF-8"
    with pytest.raises(InputError, match=f"^{expected}"):
        check_schedule(*paths)


def test_too_few_values_are_named_as_missing(tmp_path: Path, data: dict[str, Rows]) -> None:
    paths = write(tmp_path, data)
    lines = paths[1].read_text().splitlines()
    lines[2] = ",".join(lines[2].split(",")[:3])
    paths[1].write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"^schedule.csv row 3, column stage: no value: the row"):
        check_schedule(*paths)


def test_short_row_with_only_optional_cells_missing_is_read(
    tmp_path: Path, data: dict[str, Rows]
) -> None:
    paths = write(tmp_path, data)
    lines = paths[1].read_text().splitlines()
    assert lines[0].endswith(",status,session_starts") and lines[1].endswith(",")
    lines[1] = lines[1][:-1]  # S-C1 without its empty session_starts cell
    paths[1].write_text("\n".join(lines) + "\n")
    assert check_schedule(*paths) == []


def test_blank_line_keeps_the_row_numbers(tmp_path: Path, data: dict[str, Rows]) -> None:
    data["schedule"][1]["start"] = "nine o'clock"
    paths = write(tmp_path, data)
    lines = paths[1].read_text().splitlines()
    paths[1].write_text("\n".join([lines[0], lines[1], "", *lines[2:]]) + "\n")
    with pytest.raises(InputError, match=r"^schedule.csv row 4, column start"):
        check_schedule(*paths)


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("hours", "slot_minutes", 0, "slot_minutes must be 1 to 1440, got 0"),
        ("hours", "start_hour", 25, "start_hour must be 0 to 23"),
        ("hours", "start_hour", 17, "start_hour 17 is not before end_hour"),
        ("interview", "session_slots", 10**12, "session_slots must be 0 to 10000"),
    ],
)
def test_scenario_rule_out_of_range_is_bad_input(
    tmp_path: Path, data: dict[str, Rows], section: str, key: str, value: int, words: str
) -> None:
    """A rule no check could apply (slots of 0 minutes divide by zero) is bad input."""
    scenario = copy.deepcopy(SCENARIO)
    scenario["scenario"][section][key] = value  # type: ignore[index]
    paths = write(tmp_path, data)
    (paths[0] / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    with pytest.raises(InputError, match=f"^scenario.yaml: {words}"):
        check_schedule(*paths)
