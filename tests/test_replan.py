"""``isched solve --previous`` at the edges a coordinator meets: a calendar exported after
confirming, confirmed rows that no longer apply, a loop whose posting changed, a confirmed
interview whose interviewer fell ill. Every re-plan here is checked by the validator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_solve import assert_valid, read, snapshot, solve
from typer.testing import CliRunner

from isched.cli import app
from scheduler.validator import check_schedule


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A `default` snapshot and its greedy schedule."""
    root = tmp_path_factory.mktemp("replan")
    snap = snapshot(root, "default", 3)
    solve(snap, root / "first", solver="greedy")
    return snap, read(root / "first" / "schedule.csv")


def copy(snap: Path, tmp_path: Path) -> Path:
    shutil.copytree(snap, tmp_path / "snap")
    return tmp_path / "snap"


def add_busy(snap: Path, person: str, start: str, end: str) -> None:
    busy = read(snap / "busy.csv")
    busy.loc[len(busy)] = [person, start, end]
    busy.to_csv(snap / "busy.csv", index=False)


def write(rows: pd.DataFrame, path: Path) -> Path:
    rows.to_csv(path, index=False)
    return path


def test_a_busy_block_that_is_a_kept_confirmed_interview_is_that_interview_for_check_too(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A calendar exported after confirming shows the interview as its people's busy block:
    the re-plan keeps the row, and `isched check` reads the block as the interview too."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    rows = schedule[schedule["stage"] == "screen"].head(1).assign(status="confirmed")
    row = rows.iloc[0]
    add_busy(snap, row["interviewer_ids"], row["start"], row["end"])
    assert [v.kind for v in check_schedule(snap, write(rows, tmp_path / "as_is.csv"))] == []
    proposed = write(rows.assign(status="proposed"), tmp_path / "proposed.csv")
    assert [v.kind for v in check_schedule(snap, proposed)] == ["busy_conflict"]
    report = solve(snap, tmp_path / "out", write(rows, tmp_path / "prev.csv"), solver="greedy")
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    kept = after.loc[row["interview_id"]]
    assert (kept["start"], kept["interviewer_ids"], kept["status"]) == (
        row["start"], row["interviewer_ids"], "confirmed",
    )  # fmt: skip
    assert report["kept_confirmed"] == 1 and report["moved_confirmed"] == []
    assert_valid(snap, tmp_path / "out")


def test_the_blocks_of_a_dropped_confirmed_row_stay_busy_and_the_drop_is_warned(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A confirmed row of a candidate who needs no interview now is dropped; its people's
    matching busy block is then a real one, which another interview must not sit on."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    cands = read(snap / "candidates.csv")
    applied = cands.loc[cands["stage"] == "applied", "candidate_id"].iloc[0]
    row = schedule[schedule["stage"] == "screen"].iloc[0]
    add_busy(snap, row["interviewer_ids"], row["start"], row["end"])
    stale = row.copy()
    stale[["interview_id", "candidate_id", "status"]] = [
        f"IV-{applied}-screen",
        applied,
        "confirmed",
    ]
    previous = write(pd.DataFrame([row, stale]), tmp_path / "prev.csv")
    report = solve(snap, tmp_path / "out", previous, solver="greedy")
    assert_valid(snap, tmp_path / "out")
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    moved = after.loc[row["interview_id"]]
    assert (moved["start"], moved["interviewer_ids"]) != (row["start"], row["interviewer_ids"])
    assert [(d["interview_id"], d["status"]) for d in report["dropped_previous"]] == [
        (stale["interview_id"], "confirmed")
    ]
    args = ["solve", str(snap), "--out", str(tmp_path / "cli"), "--previous", str(previous)]
    result = CliRunner().invoke(app, [*args, "--solver", "greedy"])
    assert result.exit_code == 0, result.output
    assert f"warning: confirmed {stale['interview_id']} ({applied}, screen) dropped" in (
        result.stderr
    )


def test_a_previous_schedule_of_another_snapshot_is_warned(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    base, schedule = planned
    other = schedule.head(3).assign(candidate_id=["X1", "X2", "X3"], status="proposed")
    previous = write(other, tmp_path / "other.csv")
    args = ["solve", str(base), "--out", str(tmp_path / "out"), "--previous", str(previous)]
    result = CliRunner().invoke(app, [*args, "--solver", "greedy"])
    assert result.exit_code == 0, result.output
    assert "none of the 3 rows of --previous is an interview of this snapshot" in result.stderr


def test_contradicting_or_overlong_previous_rows_exit_2_naming_the_row(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    base, schedule = planned
    row = schedule[schedule["stage"] == "screen"].iloc[0]
    twin = row.copy()
    twin["interview_id"] += "-b"
    twice = write(pd.DataFrame([row, twin]).assign(status="confirmed"), tmp_path / "twice.csv")
    header, *lines = (tmp_path / "twice.csv").read_text().splitlines()
    long = tmp_path / "long.csv"
    long.write_text("\n".join([header, lines[0] + ",", ""]))
    cases = [
        (twice, f"twice.csv row 3, column candidate_id: a second confirmed screen for "
                f"{row['candidate_id']} (first in row 2)"),
        (long, "long.csv row 2: 14 values but the header has 13 columns"),
    ]  # fmt: skip
    for previous, message in cases:
        out = tmp_path / previous.stem
        args = ["solve", str(base), "--out", str(out), "--previous", str(previous)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == f"error: {message}"
        assert not out.exists()


def test_a_loop_whose_posting_changed_within_its_team_stays_with_a_new_sequence(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Another posting of the same team: the same interview, still confirmed where it
    was, its calendar entry revised (SEQUENCE + 1); nothing is dropped."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    postings = read(snap / "postings.csv")
    loops = schedule[schedule["stage"] == "loop"].merge(
        postings[["posting_id", "team"]], on="posting_id"
    )
    team_size = postings.groupby("team")["posting_id"].transform("size")
    shared = set(postings.loc[team_size > 1, "team"])
    loop = loops[loops["team"].isin(shared)].iloc[0]
    other = postings[
        (postings["team"] == loop["team"]) & (postings["posting_id"] != loop["posting_id"])
    ]
    cands = read(snap / "candidates.csv")
    cands.loc[cands["candidate_id"] == loop["candidate_id"], "posting_id"] = other[
        "posting_id"
    ].iloc[0]
    cands.to_csv(snap / "candidates.csv", index=False)
    previous = write(
        schedule[schedule["interview_id"] == loop["interview_id"]].assign(status="confirmed"),
        tmp_path / "prev.csv",
    )
    report = solve(snap, tmp_path / "out", previous, solver="greedy")
    assert_valid(snap, tmp_path / "out")
    assert report["dropped_previous"] == []
    after = read(tmp_path / "out" / "schedule.csv")
    again = after[after["candidate_id"] == loop["candidate_id"]]
    assert list(again["interview_id"]) == [loop["interview_id"]]
    assert list(again["sequence"]) == [str(int(loop["sequence"]) + 1)]
    assert list(again["posting_id"]) == [other["posting_id"].iloc[0]]
    # a loop's interviewers and hiring manager are its team's, so it stays where it was
    assert list(again["status"]) == ["confirmed"]
    assert (again["start"].iloc[0], again["interviewer_ids"].iloc[0]) == (
        loop["start"], loop["interviewer_ids"])  # fmt: skip


def test_a_loop_now_for_another_teams_posting_takes_over_its_calendar_entry(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """The re-added loop takes over the dropped row's id with a higher SEQUENCE, so a
    calendar moves the entry instead of keeping the old one beside a new one."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    postings = read(snap / "postings.csv")
    loops = schedule[schedule["stage"] == "loop"].merge(
        postings[["posting_id", "team", "office"]], on="posting_id", suffixes=("", "_p")
    )
    pairs = loops.merge(postings, on="office", suffixes=("", "_new"))
    pairs = pairs[pairs["team_new"] != pairs["team"]]
    loop = pairs.iloc[0]
    cands = read(snap / "candidates.csv")
    cands.loc[cands["candidate_id"] == loop["candidate_id"], "posting_id"] = loop["posting_id_new"]
    cands.to_csv(snap / "candidates.csv", index=False)
    previous = write(
        schedule[schedule["interview_id"] == loop["interview_id"]].assign(status="confirmed"),
        tmp_path / "prev.csv",
    )
    report = solve(snap, tmp_path / "out", previous, solver="greedy")
    assert_valid(snap, tmp_path / "out")
    assert [d["interview_id"] for d in report["dropped_previous"]] == [loop["interview_id"]]
    after = read(tmp_path / "out" / "schedule.csv")
    again = after[after["candidate_id"] == loop["candidate_id"]]
    assert len(again) == 1  # placed again, with the new team
    assert list(again["interview_id"]) == [loop["interview_id"]]
    assert list(again["sequence"]) == [str(int(loop["sequence"]) + 1)]
    assert list(again["posting_id"]) == [loop["posting_id_new"]]


def test_greedy_keeps_a_confirmed_time_when_only_its_interviewer_fell_ill(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A busy block over part of a confirmed screen: the screen keeps its time with another
    free screener (as CP-SAT does), rather than moving to the first free slot."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    row = schedule[schedule["stage"] == "screen"].iloc[-1]
    start, end = pd.Timestamp(row["start"]), pd.Timestamp(row["end"])
    add_busy(snap, row["interviewer_ids"], (start + pd.Timedelta(minutes=30)).isoformat(),
             (end + pd.Timedelta(minutes=30)).isoformat())  # fmt: skip
    previous = write(
        schedule[schedule["interview_id"] == row["interview_id"]].assign(status="confirmed"),
        tmp_path / "prev.csv",
    )
    by = {}
    for solver in ("greedy", "cpsat"):
        report = solve(snap, tmp_path / solver, previous, solver=solver, time_limit=10)
        assert_valid(snap, tmp_path / solver)
        assert [m["interview_id"] for m in report["moved_confirmed"]] == [row["interview_id"]]
        after = read(tmp_path / solver / "schedule.csv").set_index("interview_id")
        by[solver] = after.loc[row["interview_id"]]
    assert by["cpsat"]["start"] == row["start"]  # another screener was free then
    assert by["greedy"]["start"] == row["start"]
    assert by["greedy"]["interviewer_ids"] != row["interviewer_ids"]
    assert by["greedy"]["sequence"] == str(int(row["sequence"]) + 1)


def test_a_withdrawn_candidates_interview_is_cancelled_in_the_new_calendar(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """The candidate of a planned interview withdraws (their row leaves candidates.csv): the
    re-plan's schedule.ics keeps the event as CANCELLED, so calendars take it off."""
    import icalendar

    base, schedule = planned
    snap = copy(base, tmp_path)
    row = schedule.iloc[0]
    cands = read(snap / "candidates.csv")
    cands[cands["candidate_id"] != row["candidate_id"]].to_csv(snap / "candidates.csv", index=False)
    solve(snap, tmp_path / "out", write(schedule, tmp_path / "prev.csv"), solver="greedy")
    after = read(tmp_path / "out" / "schedule.csv")
    assert row["interview_id"] not in set(after["interview_id"])
    calendar = icalendar.Calendar.from_ical((tmp_path / "out" / "schedule.ics").read_bytes())
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    gone = events[f"{row['interview_id']}@isched"]
    assert str(gone["STATUS"]) == "CANCELLED"
    assert gone.decoded("SEQUENCE") == int(row.get("sequence", 0) or 0) + 1
    assert {str(e["STATUS"]) for u, e in events.items() if u != str(gone["UID"])} <= {
        "CONFIRMED", "TENTATIVE",
    }  # fmt: skip
    assert len(events) == len(after) + 1
    assert_valid(snap, tmp_path / "out")


def test_a_dropped_interview_is_cancelled_above_the_sequence_calendars_hold(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """The plan's schedule.csv says sequence 0 for a screen that calendars hold at SEQUENCE
    3 (a stale copy of the file); its candidate withdraws: the cancellation goes out at 4,
    not at 1, which calendars would ignore."""
    import icalendar

    base, schedule = planned
    plan = tmp_path / "plan"
    shutil.copytree(base.parent / "first", plan)
    row = schedule.iloc[0]
    uid = f"{row['interview_id']}@isched"
    calendar = icalendar.Calendar.from_ical((plan / "schedule.ics").read_bytes())
    for event in calendar.walk("VEVENT"):
        if str(event["UID"]) == uid:
            del event["SEQUENCE"]
            event.add("sequence", 3)
    (plan / "schedule.ics").write_bytes(calendar.to_ical())
    snap = copy(base, tmp_path)
    cands = read(snap / "candidates.csv")
    cands[cands["candidate_id"] != row["candidate_id"]].to_csv(snap / "candidates.csv", index=False)
    solve(snap, tmp_path / "out", plan / "schedule.csv", solver="greedy")
    after = icalendar.Calendar.from_ical((tmp_path / "out" / "schedule.ics").read_bytes())
    gone = next(e for e in after.walk("VEVENT") if str(e["UID"]) == uid)
    assert str(gone["STATUS"]) == "CANCELLED"
    assert gone.decoded("SEQUENCE") == 4


@pytest.mark.parametrize("later", [0, 1])
def test_confirmed_interviews_before_the_horizon_are_kept_as_they_were(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path, later: int
) -> None:
    """Tables exported on the day of confirmed interviews (``later`` 0), or a day after
    with the stages not yet updated (1): those interviews are kept as the plan had them,
    never moved into the new horizon, and the written plan passes the validator (their
    interviewers' weekly caps count them). Only the second case warns."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    first = sorted(schedule["start"].str[:10])[0]
    on_first = schedule[schedule["start"].str[:10] == first].head(3)
    moved_day = sorted(set(schedule["start"].str[:10]))[later]  # the new snapshot date
    text = (snap / "scenario.yaml").read_text()
    (snap / "scenario.yaml").write_text(
        "\n".join(f"snapshot_date: '{moved_day}'" if line.startswith("snapshot_date:") else line
                  for line in text.splitlines()) + "\n"
    )  # fmt: skip
    previous = schedule.copy()
    previous.loc[on_first.index, "status"] = "confirmed"
    args = ["solve", str(snap), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(write(previous, tmp_path / "prev.csv"))]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    for _, row in on_first.iterrows():
        kept = after.loc[row["interview_id"]]
        for column in ("start", "end", "interviewer_ids", "room_id"):
            assert kept[column] == row[column], (row["interview_id"], column)
        assert (kept["status"], kept["calendar_status"]) == ("confirmed", "confirmed")
        assert kept["sequence"] == str(int(row["sequence"]) + 1)  # confirmed since it was sent
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    held = {h["interview_id"]: h["before_snapshot"] for h in report["held_confirmed"]}
    assert held == dict.fromkeys(on_first["interview_id"], bool(later))
    assert report["moved_confirmed"] == [] and report["scheduled"] == len(after)
    warned = [line for line in result.stderr.splitlines() if "kept as it was" in line]
    assert len(warned) == (len(on_first) if later else 0)
    stale = previous[(previous["status"] == "proposed") & (previous["start"].str[:10] <= moved_day)]
    assert report["proposed_before_horizon"] == sorted(stale["interview_id"])
    assert (f"warning: {len(stale)} proposed interviews dated on or before" in result.stderr) == (
        len(stale) > 0)  # fmt: skip
    assert_valid(snap, tmp_path / "out")


def _confirmed(schedule: pd.DataFrame, interview_id: str) -> pd.DataFrame:
    return schedule.assign(
        status=["confirmed" if i == interview_id else "proposed" for i in schedule["interview_id"]]
    )


@pytest.mark.parametrize("solver", ["greedy", "cpsat"])
def test_a_renamed_room_keeps_a_confirmed_loops_time_and_panel(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path, solver: str
) -> None:
    """Only the room changes (to the renamed one); the warning says the time was kept."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    loop = schedule[(schedule["stage"] == "loop") & (schedule["room_id"] != "")].iloc[0]
    rooms = read(snap / "rooms.csv")
    rooms.loc[rooms["room_id"] == loop["room_id"], "room_id"] = "R-renamed-1"
    rooms.to_csv(snap / "rooms.csv", index=False)
    previous = write(_confirmed(schedule, loop["interview_id"]), tmp_path / "prev.csv")
    args = ["solve", str(snap), "--out", str(tmp_path / "out"), "--solver", solver,
            "--time-limit", "10", "--workers", "1", "--previous", str(previous)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    now = after.loc[loop["interview_id"]]
    assert (now["start"], now["interviewer_ids"]) == (loop["start"], loop["interviewer_ids"])
    assert now["room_id"] != loop["room_id"] and now["sequence"] == str(int(loop["sequence"]) + 1)
    assert f"room {loop['room_id']} is no longer in rooms.csv; kept its time" in result.stderr
    changed = f"kept its time, with room {loop['room_id']} -> {now['room_id']} (now proposed)"
    assert changed in result.stderr  # what changed, not "another room or interviewers"
    assert_valid(snap, tmp_path / "out")


def test_a_confirmed_loop_moved_by_hand_stays_at_its_new_time(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """``start`` and ``end`` edited in a spreadsheet, ``session_starts`` left as it was: the
    new time is the one kept (``session_starts`` follows it)."""
    base, schedule = planned
    loop = schedule[schedule["stage"] == "loop"].iloc[0]
    edited = _confirmed(schedule, loop["interview_id"]).set_index("interview_id")
    for column in ("start", "end"):
        moment = pd.Timestamp(loop[column]) + pd.Timedelta(days=1)
        edited.loc[loop["interview_id"], column] = moment.isoformat()
    edited = edited.drop(index=[i for i in edited.index if i != loop["interview_id"]])
    previous = write(edited.reset_index(), tmp_path / "prev.csv")
    report = solve(base, tmp_path / "out", previous, solver="greedy")
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    now = after.loc[loop["interview_id"]]
    wanted = edited.loc[loop["interview_id"]]
    assert (now["start"], now["end"]) == (wanted["start"], wanted["end"])  # greedy keeps it
    assert now["session_starts"].split(";")[0] == wanted["start"]
    for moved in report["moved_confirmed"]:  # other people at that time, if its own are busy
        assert "session times" not in moved["reason"], moved
        assert moved["new_start"] == moved["old_start"] == wanted["start"], moved
    assert_valid(base, tmp_path / "out")


def test_a_room_on_a_confirmed_virtual_screen_is_dropped_so_the_plan_passes_check(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    base, schedule = planned
    screen = schedule[schedule["stage"] == "screen"].iloc[0]
    room = read(base / "rooms.csv")["room_id"].iloc[0]
    previous = _confirmed(schedule, screen["interview_id"]).set_index("interview_id")
    previous.loc[screen["interview_id"], "room_id"] = room
    report = solve(base, tmp_path / "out", write(previous.reset_index(), tmp_path / "p.csv"),
                   solver="greedy")  # fmt: skip
    now = read(tmp_path / "out" / "schedule.csv").set_index("interview_id").loc[
        screen["interview_id"]]  # fmt: skip
    assert (now["start"], now["status"], now["room_id"]) == (screen["start"], "confirmed", "")
    assert now["sequence"] == str(int(screen["sequence"]) + 1)  # its location changed
    assert report["moved_confirmed"] == []
    assert_valid(base, tmp_path / "out")


@pytest.mark.parametrize("change", ["sick", "room renamed", "interviewer gone"])
def test_a_confirmed_interview_on_the_snapshot_day_that_can_no_longer_happen_is_replanned(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path, change: str
) -> None:
    """Held rows are checked against the new tables: one whose interviewer is out sick
    that day, whose room was renamed or whose interviewer left is planned anew in the
    horizon, with a warning naming why, and the plan passes the validator."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    first = sorted(schedule["start"].str[:10])[0]
    today = schedule[schedule["start"].str[:10] == first]
    row = today[today["room_id"] != ""].iloc[0] if change == "room renamed" else today.iloc[0]
    text = (snap / "scenario.yaml").read_text()
    (snap / "scenario.yaml").write_text(
        "\n".join(f"snapshot_date: '{first}'" if line.startswith("snapshot_date:") else line
                  for line in text.splitlines()) + "\n"
    )  # fmt: skip
    who = row["interviewer_ids"].split(";")[0]
    if change == "sick":
        add_busy(snap, who, f"{first}T00:00:00-08:00", f"{first}T23:59:00-08:00")
        why = f"{who} is busy then on {first}"
    elif change == "room renamed":
        rooms = read(snap / "rooms.csv")
        rooms.loc[rooms["room_id"] == row["room_id"], "room_id"] = "R-renamed-9"
        rooms.to_csv(snap / "rooms.csv", index=False)
        why = f"room {row['room_id']} is no longer in rooms.csv on {first}"
    else:
        people = read(snap / "interviewers.csv")
        people[people["interviewer_id"] != who].to_csv(snap / "interviewers.csv", index=False)
        busy = read(snap / "busy.csv")
        busy[busy["person_id"] != who].to_csv(snap / "busy.csv", index=False)
        why = f"interviewer {who} is no longer in interviewers.csv on {first}"
    previous = write(_confirmed(schedule, row["interview_id"]), tmp_path / "prev.csv")
    args = ["solve", str(snap), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(previous)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"warning: confirmed {row['interview_id']}" in result.stderr
    assert why in result.stderr, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["held_confirmed"] == []
    assert_valid(snap, tmp_path / "out")


def test_a_confirmed_loop_stays_when_the_screens_day_is_not_in_the_tables(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A screened candidate without ``last_interview_date`` (a cell a coordinator forgets):
    the next day's snapshot would count the gap before the loop afresh from that day and
    push the confirmed loop on, day after day; it stays where it was confirmed."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    days = sorted(set(schedule["start"].str[:10]))
    loops = schedule[(schedule["stage"] == "loop") & (schedule["start"].str[:10] > days[0])]
    loop = loops.iloc[0]
    day_before = days[days.index(loop["start"][:10]) - 1]  # one working day before the loop
    text = (snap / "scenario.yaml").read_text()
    (snap / "scenario.yaml").write_text(
        "\n".join(f"snapshot_date: '{day_before}'" if line.startswith("snapshot_date:") else line
                  for line in text.splitlines()) + "\n"
    )  # fmt: skip
    cands = read(snap / "candidates.csv")
    cands.loc[cands["candidate_id"] == loop["candidate_id"], "last_interview_date"] = ""
    cands.to_csv(snap / "candidates.csv", index=False)
    later = schedule[schedule["start"].str[:10] > day_before]
    previous = write(_confirmed(later, loop["interview_id"]), tmp_path / "prev.csv")
    report = solve(snap, tmp_path / "out", previous, solver="greedy")
    moved = [m["interview_id"] for m in report["moved_confirmed"]]
    assert loop["interview_id"] not in moved, report["moved_confirmed"]
    now = (
        read(tmp_path / "out" / "schedule.csv").set_index("interview_id").loc[loop["interview_id"]]
    )
    assert (now["start"], now["status"]) == (loop["start"], "confirmed")
    assert_valid(snap, tmp_path / "out")


def test_confirming_an_interview_revises_its_calendar_entry_once(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Confirmed by hand (``status`` edited): SEQUENCE + 1, so a calendar honouring it shows
    CONFIRMED; re-planned again unchanged, the sequence stays."""
    import icalendar

    base, schedule = planned
    row = schedule.iloc[0]
    first = write(_confirmed(schedule, row["interview_id"]), tmp_path / "first.csv")
    solve(base, tmp_path / "a", first, solver="greedy")
    a = read(tmp_path / "a" / "schedule.csv").set_index("interview_id").loc[row["interview_id"]]
    assert (a["status"], a["calendar_status"]) == ("confirmed", "confirmed")
    assert a["sequence"] == str(int(row["sequence"]) + 1)
    events = icalendar.Calendar.from_ical((tmp_path / "a" / "schedule.ics").read_bytes())
    event = next(e for e in events.walk("VEVENT") if str(e["UID"]).startswith(row["interview_id"]))
    assert (str(event["STATUS"]), event.decoded("SEQUENCE")) == ("CONFIRMED", int(a["sequence"]))
    solve(base, tmp_path / "b", tmp_path / "a" / "schedule.csv", solver="greedy")
    b = read(tmp_path / "b" / "schedule.csv").set_index("interview_id").loc[row["interview_id"]]
    assert (b["status"], b["sequence"]) == ("confirmed", a["sequence"])


def test_a_revived_interview_is_a_new_event_not_an_update_below_its_cancellation(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A candidate withdraws (their screen is cancelled in the calendar), a later re-plan
    keeps that cancellation, and the candidate comes back: the new interview gets a new
    id, since a calendar ignores an update of the cancelled UID at a lower SEQUENCE."""
    import icalendar

    base, schedule = planned
    first = base.parent / "first"
    row = schedule.iloc[0]
    gone = tmp_path / "gone"
    shutil.copytree(base, gone)
    cands = read(gone / "candidates.csv")
    cands[cands["candidate_id"] != row["candidate_id"]].to_csv(gone / "candidates.csv", index=False)

    def events(out: Path) -> dict[str, icalendar.Event]:
        calendar = icalendar.Calendar.from_ical((out / "schedule.ics").read_bytes())
        return {str(e["UID"]): e for e in calendar.walk("VEVENT")}

    uid = f"{row['interview_id']}@isched"
    runner = CliRunner()
    for out, previous in (("second", first), ("third", tmp_path / "second")):
        args = ["solve", str(gone), "--out", str(tmp_path / out), "--solver", "greedy",
                "--previous", str(previous / "schedule.csv")]  # fmt: skip
        assert runner.invoke(app, args).exit_code == 0
        cancelled = events(tmp_path / out)[uid]  # carried over by the third plan
        assert str(cancelled["STATUS"]) == "CANCELLED"
        assert cancelled.decoded("SEQUENCE") == int(row["sequence"]) + 1
    args = ["solve", str(base), "--out", str(tmp_path / "back"), "--solver", "greedy",
            "--previous", str(tmp_path / "third" / "schedule.csv")]  # fmt: skip
    assert runner.invoke(app, args).exit_code == 0
    back = read(tmp_path / "back" / "schedule.csv")
    theirs = back[(back["candidate_id"] == row["candidate_id"]) & (back["stage"] == row["stage"])]
    assert len(theirs) == 1
    assert theirs.iloc[0]["interview_id"] != row["interview_id"]
    after = events(tmp_path / "back")
    assert str(after[uid]["STATUS"]) == "CANCELLED"
    assert str(after[f"{theirs.iloc[0]['interview_id']}@isched"]["STATUS"]) == "TENTATIVE"
    assert len(after) == len(back) + 1
    assert_valid(base, tmp_path / "back")


@pytest.mark.parametrize("name", ["schedule.csv", "schedule_edited.csv"])
def test_a_time_moved_by_hand_is_a_revision_of_what_calendars_hold(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path, name: str
) -> None:
    """A confirmed screen's start and end moved by hand in schedule.csv (its sequence cell
    left alone), in place or saved as a copy beside the plan's schedule.ics: the re-plan
    sends it at the calendar's SEQUENCE + 1, and leaves unchanged rows at theirs."""
    import icalendar

    base, schedule = planned
    plan = tmp_path / "plan"
    plan.mkdir()
    shutil.copyfile(base.parent / "first" / "schedule.ics", plan / "schedule.ics")
    screen = schedule[schedule["stage"] == "screen"].iloc[0]
    edited = _confirmed(schedule, screen["interview_id"]).set_index("interview_id")
    for column in ("start", "end"):
        moment = pd.Timestamp(screen[column]) + pd.Timedelta(days=1)
        edited.loc[screen["interview_id"], column] = moment.isoformat()
    previous = write(edited.reset_index(), plan / name)
    report = solve(base, tmp_path / "out", previous, solver="greedy")
    assert report["previous_calendar"] == "schedule.ics"
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    now = after.loc[screen["interview_id"]]
    assert now["start"] == edited.loc[screen["interview_id"], "start"]  # kept where moved
    assert int(now["sequence"]) == int(screen["sequence"]) + 1
    calendar = icalendar.Calendar.from_ical((tmp_path / "out" / "schedule.ics").read_bytes())
    events = {str(e["UID"]).removesuffix("@isched"): e for e in calendar.walk("VEVENT")}
    assert events[screen["interview_id"]].decoded("SEQUENCE") == int(now["sequence"])
    before = schedule.set_index("interview_id")
    for interview_id, row in after.iterrows():
        if interview_id == screen["interview_id"] or interview_id not in before.index:
            continue
        was = before.loc[interview_id]
        same = (row["start"], row["interviewer_ids"]) == (was["start"], was["interviewer_ids"])
        assert int(row["sequence"]) == int(was["sequence"]) + (not same), interview_id


def test_a_previous_plan_without_its_calendar_is_warned(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """--previous copied away from its schedule.ics: solved, with one warning saying the
    calendar's state is not known."""
    base, schedule = planned
    previous = write(schedule, tmp_path / "prev.csv")
    args = ["solve", str(base), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(previous)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0
    assert "warning: no calendar (schedule.ics) of --previous was found beside it" in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["previous_calendar"] is None


@pytest.mark.parametrize("kind", ["garbage", "other_plan"])
def test_a_calendar_found_but_not_used_is_named_with_its_reason(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path, kind: str
) -> None:
    """A schedule.ics beside --previous that is not iCalendar, or holds none of the plan's
    ids, is not used, and the warning names it and says why, rather than 'not found'."""
    base, schedule = planned
    plan = tmp_path / "plan"
    plan.mkdir()
    previous = write(schedule, plan / "schedule.csv")
    if kind == "garbage":
        (plan / "schedule.ics").write_text("this is not a calendar\n")
        why = "it holds no interview isched wrote"
    else:
        text = (base.parent / "first" / "schedule.ics").read_text()
        (plan / "schedule.ics").write_text(text.replace("UID:IV-", "UID:XX-"))
        why = "none of its interviews is in the previous plan"
    args = ["solve", str(base), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(previous)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"warning: the calendar schedule.ics beside --previous was not used: {why}" in (
        result.stderr
    )
    assert "was found beside it" not in result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["previous_calendar"] is None
    assert report["previous_calendar_ignored"]["file"] == "schedule.ics"


def test_blank_rows_a_spreadsheet_leaves_in_the_previous_plan_are_skipped(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """``,,,,`` rows at the end of an edited schedule.csv (Excel leaves them) are no rows:
    the re-plan runs and writes its calendar, as ``check`` and the tables already do."""
    base, schedule = planned
    previous = write(schedule, tmp_path / "prev.csv")
    with previous.open("a") as handle:
        handle.write(
            "," * (len(schedule.columns) - 1) + "\n" + " ," * (len(schedule.columns) - 1) + "\n"
        )
    args = ["solve", str(base), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(previous)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["previous_rows"] == len(schedule)
    assert (tmp_path / "out" / "schedule.ics").is_file()


@pytest.mark.parametrize("solver", ["cpsat", "greedy"])
def test_a_confirmed_loop_keeps_its_time_with_another_panel_before_a_proposed_one_keeps_its(
    tmp_path: Path, solver: str
) -> None:
    """``default`` seed 5 with a plan of 14 interviews; I0061 falls ill on the day of the
    confirmed loop IV-C00084-loop. Another team member can take the session only if the
    proposed IV-C00127-loop moves: it does, and the confirmed loop keeps the time its
    candidate was told (it moved to 1 March, then 25 February, before)."""
    snap = snapshot(tmp_path, "default", 5)
    add_busy(snap, "I0061", "2027-02-24T00:00:00-08:00", "2027-02-27T00:00:00-08:00")
    previous = Path(__file__).parent / "data" / "default5_plan_with_confirmed_loops.csv"
    solve(snap, tmp_path / "out", previous, solver=solver, workers=1, time_limit=10)
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    kept = after.loc["IV-C00084-loop"]
    assert kept["start"] == "2027-02-24T09:00:00-08:00"
    assert "I0061" not in kept["interviewer_ids"].split(";")
    assert_valid(snap, tmp_path / "out")


def test_a_moved_confirmed_loop_names_every_interviewer_busy_at_their_session(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """Two of a confirmed loop's three interviewers busy at their own sessions: the reason
    names both (the new panel may keep one of them in another session)."""
    base, schedule = planned
    snap = copy(base, tmp_path)
    loop = schedule[schedule["stage"] == "loop"].iloc[0]
    people = loop["interviewer_ids"].split(";")
    starts = loop["session_starts"].split(";")
    for person, start in list(zip(people, starts, strict=True))[1:]:
        end = (pd.Timestamp(start) + pd.Timedelta(minutes=30)).isoformat()
        add_busy(snap, person, start, end)
    report = solve(snap, tmp_path / "out", write(_confirmed(schedule, loop["interview_id"]),
                   tmp_path / "prev.csv"), solver="greedy")  # fmt: skip
    (moved,) = [m for m in report["moved_confirmed"] if m["interview_id"] == loop["interview_id"]]
    assert moved["reason"] == (
        f"interviewers {people[1]} and {people[2]} are busy at their sessions then"
    )
    assert_valid(snap, tmp_path / "out")


def test_an_interview_deleted_by_hand_from_the_plan_is_cancelled_in_the_calendar(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A row deleted from schedule.csv (the candidate withdrew; the coordinator dropped the
    row as well): its event, still in the plan's schedule.ics, goes out CANCELLED at its
    SEQUENCE + 1, with a warning. A deleted row whose candidate is still there is planned
    again under its id, not cancelled."""
    import icalendar

    base, schedule = planned
    plan = tmp_path / "plan"
    shutil.copytree(base.parent / "first", plan)
    gone, again = schedule.iloc[0], schedule.iloc[1]
    schedule.iloc[2:].to_csv(plan / "schedule.csv", index=False)
    snap = copy(base, tmp_path)
    cands = read(snap / "candidates.csv")
    cands[cands["candidate_id"] != gone["candidate_id"]].to_csv(
        snap / "candidates.csv", index=False
    )
    args = ["solve", str(snap), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(plan / "schedule.csv")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [u["interview_id"] for u in report["cancelled_unlisted"]] == [gone["interview_id"]]
    assert f"warning: {gone['interview_id']} (" in result.stderr
    calendar = icalendar.Calendar.from_ical((tmp_path / "out" / "schedule.ics").read_bytes())
    events = {str(e["UID"]).removesuffix("@isched"): e for e in calendar.walk("VEVENT")}
    cancelled = events[gone["interview_id"]]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.decoded("SEQUENCE") == int(gone["sequence"]) + 1
    after = read(tmp_path / "out" / "schedule.csv")
    assert again["interview_id"] in set(after["interview_id"])
    assert str(events[again["interview_id"]]["STATUS"]) != "CANCELLED"
    assert_valid(snap, tmp_path / "out")


def test_a_busy_block_at_a_time_moved_by_hand_is_read_as_the_interview_with_a_warning(
    planned: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    """A confirmed screen whose calendar entry was sent a day earlier than the row now says
    (moved by hand since), with a block of exactly its length in its screener's calendar at
    the row's time: the block is taken to be the interview (as ``check`` reads it), and the
    re-plan warns that it may be a meeting instead."""
    import icalendar

    base, schedule = planned
    plan = tmp_path / "plan"
    shutil.copytree(base.parent / "first", plan)
    screen = schedule[schedule["stage"] == "screen"].iloc[0]
    calendar = icalendar.Calendar.from_ical((plan / "schedule.ics").read_bytes())
    for event in calendar.walk("VEVENT"):
        if str(event["UID"]) == f"{screen['interview_id']}@isched":
            for key in ("DTSTART", "DTEND"):
                sent = event.decoded(key) - pd.Timedelta(days=1)
                event.pop(key)
                event.add(key.lower(), sent)
    (plan / "schedule.ics").write_bytes(calendar.to_ical())
    _confirmed(schedule, screen["interview_id"]).to_csv(plan / "schedule.csv", index=False)
    snap = copy(base, tmp_path)
    add_busy(snap, screen["interviewer_ids"], screen["start"], screen["end"])
    args = ["solve", str(snap), "--out", str(tmp_path / "out"), "--solver", "greedy",
            "--previous", str(plan / "schedule.csv")]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    (entry,) = report["moved_by_hand_on_busy"]
    assert (entry["interview_id"], entry["people"]) == (
        screen["interview_id"], screen["interviewer_ids"],
    )  # fmt: skip
    assert f"warning: confirmed {screen['interview_id']} was moved by hand" in result.stderr
    after = read(tmp_path / "out" / "schedule.csv").set_index("interview_id")
    assert after.loc[screen["interview_id"], "start"] == screen["start"]
    assert_valid(snap, tmp_path / "out")


def test_a_confirmed_interview_with_no_new_time_is_called_dropped_not_moved() -> None:
    """A coordinator must tell the candidate either way, but "moved" with no time is
    misleading: the interview is gone from the plan and cancelled in the calendar."""
    from scheduler.solver.warnings import report_warnings

    entry = {"interview_id": "IV-C1-loop", "candidate_id": "C1", "stage": "loop",
             "reason": "room R1 is no longer in rooms.csv",
             "old_start": "2027-03-01T10:00:00-08:00"}  # fmt: skip
    later = "2027-03-02T10:00:00-08:00"
    gone = report_warnings({"moved_confirmed": [{**entry, "new_start": None}]})
    kept = report_warnings({"moved_confirmed": [{**entry, "new_start": later}]})
    assert gone == ["confirmed IV-C1-loop (C1, loop) dropped: room R1 is no longer in rooms.csv; "
                    "no new time was found, so it is cancelled in schedule.ics"]  # fmt: skip
    assert kept == ["confirmed IV-C1-loop (C1, loop) moved: room R1 is no longer in rooms.csv; "
                    "now 2027-03-02T10:00:00-08:00"]  # fmt: skip
