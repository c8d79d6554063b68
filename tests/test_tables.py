"""Snapshot tables: round trip, validation errors naming file/row/column, atomic writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from scheduler import tables
from scheduler.generator import Season, generate_season
from scheduler.scenario import NAMED, load_scenario
from scheduler.tables import TableError, read_snapshot, write_snapshot

SNAPSHOT_DATE = dt.date(2027, 2, 8)


@pytest.fixture(scope="module")
def season() -> Season:
    return generate_season(load_scenario("tiny"), seed=0)


@pytest.fixture
def snap_dir(tmp_path: Path, season: Season) -> Path:
    out = tmp_path / "snap"
    write_snapshot(season.snapshot, season.config, out, seed=0, snapshot_date=SNAPSHOT_DATE)
    return out


def edit_csv(path: Path, change: Callable[[pd.DataFrame], pd.DataFrame | None]) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    result = change(frame)
    (frame if result is None else result).to_csv(path, index=False)


# Round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip(tmp_path: Path, season: Season, fmt: str) -> None:
    out = tmp_path / "snap"
    write_snapshot(
        season.snapshot, season.config, out, seed=7, snapshot_date=SNAPSHOT_DATE, fmt=fmt
    )
    assert (out / f"candidates.{fmt}").exists()
    snapshot, config, meta = read_snapshot(out)
    original = season.snapshot
    assert snapshot.postings == original.postings
    assert snapshot.candidates == original.candidates
    assert snapshot.interviewers == original.interviewers
    assert snapshot.rooms == original.rooms
    assert snapshot.start_windows == original.start_windows
    assert snapshot.busy == original.busy
    assert all(b.start.tzinfo is not None and b.end.tzinfo is not None for b in snapshot.busy)
    assert config == season.config
    assert meta["seed"] == 7
    assert meta["snapshot_date"] == SNAPSHOT_DATE
    assert meta["targets"] == {} and meta["last_interview"] == {}


def test_round_trip_targets_and_format_switch(tmp_path: Path, season: Season) -> None:
    out = tmp_path / "snap"
    cand = season.snapshot.candidates[3].candidate_id
    posting = season.snapshot.postings[1].posting_id
    day = dt.date(2027, 2, 3)
    write_snapshot(season.snapshot, season.config, out, seed=0, snapshot_date=None, fmt="parquet")
    write_snapshot(
        season.snapshot,
        season.config,
        out,
        seed=0,
        snapshot_date=None,
        targets={cand: posting},
        last_interview={cand: day},
    )
    assert not list(out.glob("*.parquet"))  # the CSV write replaced the Parquet tables
    _, _, meta = read_snapshot(out)
    assert meta["targets"] == {cand: posting}
    assert meta["last_interview"] == {cand: day}
    assert meta["snapshot_date"] is None


def test_optional_columns_defaults_and_extra_columns(snap_dir: Path, season: Season) -> None:
    edit_csv(snap_dir / "postings.csv", lambda f: f.drop(columns=["research", "hourly_rate"]))
    drop = ["applied_date", "publications", "onsite", "posting_id", "last_interview_date"]
    edit_csv(snap_dir / "candidates.csv", lambda f: f.drop(columns=drop).assign(notes="x"))
    (snap_dir / "start_windows.csv").unlink()
    (snap_dir / "scenario.yaml").unlink()
    snapshot, config, meta = read_snapshot(snap_dir)
    assert config == NAMED["default"] and meta["seed"] == 0 and meta["snapshot_date"] is None
    assert all(not p.research and p.hourly_rate == 0.0 for p in snapshot.postings)
    for got, want in zip(snapshot.candidates, season.snapshot.candidates, strict=True):
        assert got.publications == 0 and got.onsite
        assert got.applied_date == (want.form_completed_date or want.available_from)
        assert got.timezone == want.timezone and got.accommodation == want.accommodation
    # Without start_windows.csv, windows follow the scenario (here: default's dates).
    assert {w.start_date for w in snapshot.start_windows} == set(
        NAMED["default"].start_window_dates
    )


def test_parquet_with_typed_columns(snap_dir: Path, season: Season) -> None:
    frame = pd.read_csv(snap_dir / "rooms.csv")  # typed: int capacity, bool accessible
    frame.to_parquet(snap_dir / "rooms.parquet", index=False)
    (snap_dir / "rooms.csv").unlink()
    assert read_snapshot(snap_dir)[0].rooms == season.snapshot.rooms


# Validation errors ---------------------------------------------------------------------


def _set(table: str, index: int, column: str, value: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        def apply(frame: pd.DataFrame) -> None:
            frame.loc[index, column] = value

        edit_csv(root / f"{table}.csv", apply)

    return change


def _drop_column(table: str, column: str) -> Callable[[Path], None]:
    return lambda root: edit_csv(root / f"{table}.csv", lambda f: f.drop(columns=[column]))


def _duplicate_interviewer(root: Path) -> None:
    def apply(frame: pd.DataFrame) -> None:
        frame.loc[3, "interviewer_id"] = frame.loc[0, "interviewer_id"]

    edit_csv(root / "interviewers.csv", apply)


def _end_before_start(root: Path) -> None:
    def apply(frame: pd.DataFrame) -> None:
        frame.loc[5, "end"] = "2027-02-01T08:00:00-08:00"
        frame.loc[5, "start"] = "2027-02-01T09:00:00-08:00"

    edit_csv(root / "busy.csv", apply)


def _end_equals_start(root: Path) -> None:
    def apply(frame: pd.DataFrame) -> None:
        frame.loc[0, "end"] = frame.loc[0, "start"]

    edit_csv(root / "busy.csv", apply)


def _write(table: str, text: str) -> Callable[[Path], None]:
    return lambda root: (root / f"{table}.csv").write_text(text)


def _header_only(table: str) -> Callable[[Path], None]:
    return lambda root: edit_csv(root / f"{table}.csv", lambda f: f.iloc[0:0])


CASES = {
    "missing column": (
        _drop_column("candidates", "timezone"),
        "candidates.csv, column timezone: missing required column",
    ),
    "unknown area": (
        _set("postings", 2, "area", "astrology"),
        "postings.csv row 4, column area: unknown area 'astrology'",
    ),
    "end before start": (_end_before_start, "busy.csv row 7, column end: end is not after start"),
    "end equals start": (
        _end_equals_start,
        "busy.csv row 2, column end: end is not after start",
    ),
    "duplicate id": (
        _duplicate_interviewer,
        "interviewers.csv row 5, column interviewer_id: duplicate id 'I0000' (first in row 2)",
    ),
    "unknown time zone": (
        _set("candidates", 5, "timezone", "Mars/Base"),
        "candidates.csv row 7, column timezone: unknown time zone 'Mars/Base'",
    ),
    "empty file": (_write("postings", ""), "postings.csv: empty file (no header)"),
    "header only": (_header_only("interviewers"), "interviewers.csv: empty file (no data rows)"),
    "bad date": (
        _set("candidates", 0, "available_from", "2027-13-01"),
        "candidates.csv row 2, column available_from: bad date '2027-13-01'",
    ),
    "no utc offset": (
        _set("busy", 1, "start", "2027-02-01T09:00:00"),
        "busy.csv row 3, column start: datetime '2027-02-01T09:00:00' has no UTC offset",
    ),
    "year out of range": (
        _set("busy", 0, "start", "0001-01-01T00:00:00+00:00"),
        "busy.csv row 2, column start: '0001-01-01T00:00:00+00:00' is outside the years 1970-2100",
    ),
    "date out of range": (
        _set("candidates", 0, "available_until", "9999-12-31"),
        "candidates.csv row 2, column available_until: '9999-12-31' is outside the years",
    ),
    "unknown person": (
        _set("busy", 2, "person_id", "I9999"),
        "busy.csv row 4, column person_id: unknown person_id 'I9999'",
    ),
    "an id of a candidate and an interviewer": (
        lambda root: _set(
            "candidates",
            0,
            "candidate_id",
            pd.read_csv(root / "interviewers.csv", dtype=str)["interviewer_id"][1],
        )(root),
        "interviewers.csv row 3, column interviewer_id: id ",
    ),
    "unknown posting": (
        _set("candidates", 1, "posting_id", "P999"),
        "candidates.csv row 3, column posting_id: unknown posting_id 'P999'",
    ),
    "negative headcount": (
        _set("postings", 0, "headcount", "-1"),
        "postings.csv row 2, column headcount: must not be negative",
    ),
    "bad bool": (
        _set("rooms", 1, "accessible", "maybe"),
        "rooms.csv row 3, column accessible: bad boolean 'maybe'",
    ),
    "unknown role": (
        _set("interviewers", 0, "roles", "screen;chef"),
        "interviewers.csv row 2, column roles: unknown role 'chef'",
    ),
    "unknown stage": (
        _set("candidates", 4, "stage", "ghosted"),
        "candidates.csv row 6, column stage: unknown stage 'ghosted'",
    ),
    "availability reversed": (
        _set("candidates", 0, "available_until", "2020-01-01"),
        "candidates.csv row 2, column available_until: before available_from",
    ),
    "missing file": (lambda root: (root / "rooms.csv").unlink(), "rooms.csv: missing file"),
    "missing value": (
        _set("interviewers", 2, "max_per_day", ""),
        "interviewers.csv row 4, column max_per_day: missing value",
    ),
    "extra values on the first row": (
        lambda root: (root / "rooms.csv").write_text(
            "room_id,office,capacity,accessible\nR1,los_gatos,4,true,x,y\nR2,los_gatos,4,true\n"
        ),
        "rooms.csv row 2: 6 values but the header has 4 columns",
    ),
    "duplicate column": (
        lambda root: (root / "rooms.csv").write_text(
            "room_id,office,office,capacity,accessible\nR1,los_gatos,x,4,true\n"
        ),
        "rooms.csv row 1, column office: duplicate column",
    ),
    "not utf-8": (
        lambda root: (root / "rooms.csv").write_bytes(
            b"room_id,office,capacity,accessible\nR1,los_gatos,4,true\nR\xff,los_gatos,4,true\n"
        ),
        "rooms.csv row 3, column room_id: not UTF-8 text: save the table as 'CSV UTF-8",
    ),
    "extra values": (
        lambda root: (root / "rooms.csv").write_text(
            "room_id,office,capacity,accessible\nR1,los_gatos,4,true\nR2,los_gatos,4,true,x\n"
        ),
        "rooms.csv row 3: 5 values but the header has 4 columns",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_file_row_column(snap_dir: Path, case: str) -> None:
    change, expected = CASES[case]
    change(snap_dir)
    with pytest.raises(TableError) as info:
        read_snapshot(snap_dir)
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message


def test_error_attributes(snap_dir: Path) -> None:
    _set("candidates", 5, "timezone", "Mars/Base")(snap_dir)
    with pytest.raises(TableError) as info:
        read_snapshot(snap_dir)
    err = info.value
    assert (err.file, err.row, err.column) == ("candidates.csv", 7, "timezone")
    assert str(err) == "candidates.csv row 7, column timezone: unknown time zone 'Mars/Base'"
    assert isinstance(err, ValueError)


def test_bad_scenario_yaml(snap_dir: Path) -> None:
    (snap_dir / "scenario.yaml").write_text("scenario: {working_days: many}\nseed: 1\n")
    with pytest.raises(TableError, match=r"^scenario.yaml: scenario.working_days: expected int"):
        read_snapshot(snap_dir)


# Atomic writes -------------------------------------------------------------------------


def _contents(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.iterdir())}


@pytest.mark.parametrize("existing", [True, False])
def test_failed_write_leaves_no_partial_files(
    tmp_path: Path, season: Season, monkeypatch: pytest.MonkeyPatch, existing: bool
) -> None:
    out = tmp_path / "snap"
    if existing:
        write_snapshot(season.snapshot, season.config, out, seed=0, snapshot_date=None)
    before = _contents(out) if existing else None
    real = tables._write_table
    calls = []

    def flaky(frame: pd.DataFrame, path: Path, fmt: str) -> None:
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError("disk full")
        real(frame, path, fmt)

    monkeypatch.setattr(tables, "_write_table", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_snapshot(
            season.snapshot, season.config, out, seed=1, snapshot_date=SNAPSHOT_DATE, fmt="parquet"
        )
    assert len(calls) == 3
    if existing:
        assert _contents(out) == before
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == (["snap"] if existing else [])


def _drop_timezone(root: Path) -> None:
    frame = pd.read_csv(root / "candidates.csv", dtype=str, keep_default_na=False)
    frame.drop(columns=["timezone"]).to_csv(root / "candidates.csv", index=False)


@pytest.mark.parametrize(
    "change", [_set("busy", 2, "person_id", "I9999"), _drop_timezone], ids=["person", "column"]
)
def test_check_refuses_bad_tables_in_the_words_solve_uses(
    snap_dir: Path, change: Callable[[Path], None]
) -> None:
    """A busy.csv row for someone in neither interviewers.csv nor candidates.csv (a typo, or
    a person who left), a missing column: ``solve`` and ``check`` give the same one line."""
    from scheduler.validator import check_schedule

    change(snap_dir)
    schedule = snap_dir / "schedule.csv"
    schedule.write_text("interview_id,candidate_id,posting_id,stage,interviewer_ids,start,end,"
                        "office,room_id,status\n")  # fmt: skip
    with pytest.raises(TableError) as solve:
        read_snapshot(snap_dir)
    with pytest.raises(ValueError) as check:
        check_schedule(snap_dir, schedule)
    assert str(check.value) == str(solve.value)


def test_a_datetime_without_offset_reads_the_same_from_solve_check_and_a_previous_plan(
    snap_dir: Path,
) -> None:
    """Excel drops the offset of a datetime cell it reformats: the three readers give the
    same words and an example with an offset."""
    from scheduler.solver.replan import read_previous
    from scheduler.validator import check_schedule

    header = ("interview_id,candidate_id,posting_id,stage,interviewer_ids,start,end,office,"
              "room_id,status\n")  # fmt: skip
    schedule = snap_dir / "schedule.csv"
    schedule.write_text(header + "IV-1,C1,,screen,I1,2027-02-01T09:00:00,2027-02-01T10:00:00-08:00,"
                        "virtual,,proposed\n")  # fmt: skip
    with pytest.raises(ValueError) as previous:
        read_previous(schedule)
    _set("busy", 1, "start", "2027-02-01T09:00:00")(snap_dir)
    with pytest.raises(TableError) as solve:
        read_snapshot(snap_dir)
    schedule.write_text(header)
    with pytest.raises(ValueError) as check:
        check_schedule(snap_dir, schedule)
    wording = "datetime '2027-02-01T09:00:00' has no UTC offset (e.g. 2027-02-01T09:00:00-08:00)"
    for found in (previous, solve, check):
        assert str(found.value).endswith(wording), str(found.value)
