"""``isched check`` on real snapshots: every format ``solve`` reads, and bad input as one line.

Snapshots come from ``isched generate --scenario tiny --seed 1`` (CSV and Parquet) and
``scheduler.workbook.write_workbook`` (a workbook); schedules from ``isched solve``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from cli_runner import isched

from scheduler.validator import InputError, check_schedule
from scheduler.workbook import write_workbook


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 and one ``error:`` line on stderr (no traceback) holding every word."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def solved(root: Path, snapshot: Path) -> Path:
    out = root / f"{snapshot.name}.out"
    ok(isched("solve", snapshot, "--out", out, "--time-limit", "10", "--workers", "1"))
    return out / "schedule.csv"


@pytest.fixture(scope="module")
def seasons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """(snapshot, schedule.csv solved from it) for the csv, parquet and xlsx formats."""
    root = tmp_path_factory.mktemp("check_input")
    found = {}
    for fmt in ("csv", "parquet"):
        snapshot = root / fmt
        ok(isched("generate", "--scenario", "tiny", "--seed", "1", "--out", snapshot,
                  "--format", fmt))  # fmt: skip
        found[fmt] = (snapshot, solved(root, snapshot))
    book = root / "snapshot.xlsx"
    write_workbook(root / "csv", book)
    found["xlsx"] = (book, solved(root, book))
    return found


def copy(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy(source, target)
    return target


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell (``row`` as a spreadsheet counts: header = 1) of a CSV file."""
    with path.open(newline="") as handle:
        records = list(csv.reader(handle))
    records[row - 1][records[0].index(column)] = value
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(records)


# Formats -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_solved_schedule_checks_clean_in_every_format(
    seasons: dict[str, tuple[Path, Path]], fmt: str
) -> None:
    snapshot, schedule = seasons[fmt]
    assert len(pd.read_csv(schedule)) > 0
    assert check_schedule(snapshot, schedule) == []
    result = ok(isched("check", snapshot, schedule))
    assert result.stdout.strip() == "no hard violations"


def test_parquet_and_csv_snapshots_give_the_same_findings(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """The schedule solved from the CSV snapshot, with a clash planted, checked against both."""
    schedule = copy(seasons["csv"][1], tmp_path)
    frame = pd.read_csv(schedule, dtype=str, keep_default_na=False)
    twin = frame.iloc[[0]].assign(interview_id="IV-twin")  # same people, same time
    pd.concat([frame, twin]).to_csv(schedule, index=False)
    from_csv = check_schedule(seasons["csv"][0], schedule)
    assert "candidate_double_booked" in {v.kind for v in from_csv}
    assert check_schedule(seasons["parquet"][0], schedule) == from_csv
    assert check_schedule(seasons["xlsx"][0], schedule) == from_csv


def test_broken_parquet_cell_is_one_line(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    snapshot = copy(seasons["parquet"][0], tmp_path)
    frame = pd.read_parquet(snapshot / "interviewers.parquet")
    frame.loc[1, "max_per_day"] = "lots"  # data row 2 = spreadsheet row 3
    frame.to_parquet(snapshot / "interviewers.parquet", index=False)
    one_line_error(
        isched("check", snapshot, seasons["parquet"][1]),
        "interviewers.parquet row 3, column max_per_day", "'lots'",
    )  # fmt: skip


def test_typed_parquet_columns_are_read(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """Dates, aware timestamps and integers written by other tools read as their text."""
    snapshot = copy(seasons["parquet"][0], tmp_path)
    busy = pd.read_parquet(snapshot / "busy.parquet")
    for column in ("start", "end"):
        busy[column] = pd.to_datetime(busy[column], utc=True)
    busy.to_parquet(snapshot / "busy.parquet", index=False)
    postings = pd.read_parquet(snapshot / "postings.parquet")
    postings["open_date"] = [dt.date.fromisoformat(d) for d in postings["open_date"]]
    postings["headcount"] = postings["headcount"].astype(int)
    postings.to_parquet(snapshot / "postings.parquet", index=False)
    assert check_schedule(snapshot, seasons["parquet"][1]) == []
    busy.loc[0, "start"] = pd.Timestamp("2150-01-01T00:00:00Z")
    busy.to_parquet(snapshot / "busy.parquet", index=False)
    with pytest.raises(InputError, match=r"^busy.parquet row 2, column start: .* 1970-2100"):
        check_schedule(snapshot, seasons["parquet"][1])


def test_broken_workbook_cell_is_one_line(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    book = copy(seasons["xlsx"][0], tmp_path)
    workbook = openpyxl.load_workbook(book)
    workbook["busy"]["B3"] = "0001-01-01T00:00:00+00:00"
    workbook.save(book)
    one_line_error(
        isched("check", book, seasons["xlsx"][1]),
        "snapshot.xlsx sheet busy row 3, column start", "outside the years 1970-2100",
    )  # fmt: skip


def test_workbook_typed_cells_and_missing_sheet(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    book = copy(seasons["xlsx"][0], tmp_path)
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["postings"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("open_date") + 1).value = dt.datetime(2027, 1, 4)  # a date cell
    sheet.cell(2, header.index("headcount") + 1).value = 2  # a number cell
    workbook.save(book)
    assert check_schedule(book, seasons["xlsx"][1]) == []
    del workbook["rooms"]
    workbook.save(book)
    one_line_error(isched("check", book, seasons["xlsx"][1]), "snapshot.xlsx sheet rooms")


def test_not_a_workbook(seasons: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    book = tmp_path / "snapshot.xlsx"
    book.write_text("not a zip")
    one_line_error(isched("check", book, seasons["xlsx"][1]), "snapshot.xlsx", "Excel")


# Bad input that once passed or ended in a traceback ------------------------------------------


def test_extreme_busy_block_is_one_line(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    snapshot = copy(seasons["csv"][0], tmp_path)
    lines = (snapshot / "busy.csv").read_text().splitlines()
    lines[1] = "I0000,0001-01-01T00:00:00+00:00,9999-12-31T23:59:00+00:00"
    (snapshot / "busy.csv").write_text("\n".join(lines) + "\n")
    one_line_error(
        isched("check", snapshot, seasons["csv"][1]),
        "busy.csv row 2, column start", "0001-01-01T00:00:00+00:00", "outside the years 1970-2100",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("column", "value"),
    [("start", "9999-12-31T09:00:00-08:00"), ("start", "0001-01-01T09:00:00+00:00")],
)
def test_extreme_schedule_start_is_one_line(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path, column: str, value: str
) -> None:
    schedule = copy(seasons["csv"][1], tmp_path)
    edit_csv(schedule, 2, column, value)
    edit_csv(schedule, 2, "end", value.replace("T09:", "T10:"))
    one_line_error(
        isched("check", seasons["csv"][0], schedule),
        f"schedule.csv row 2, column {column}", value, "outside the years 1970-2100",
    )  # fmt: skip


@pytest.mark.parametrize(
    "column", ["interview_id", "candidate_id", "posting_id", "interviewer_ids", "room_id"]
)
@pytest.mark.parametrize("value", ["=HYPERLINK(1)", "../x"])
def test_bad_schedule_id_is_one_line(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path, column: str, value: str
) -> None:
    schedule = copy(seasons["csv"][1], tmp_path)
    edit_csv(schedule, 2, column, value)
    one_line_error(
        isched("check", seasons["csv"][0], schedule),
        f"schedule.csv row 2, column {column}", "bad id", repr(value),
    )  # fmt: skip


def test_more_values_than_the_header_is_one_line(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    schedule = copy(seasons["csv"][1], tmp_path)
    lines = schedule.read_text().splitlines()
    lines[1] += ",x,y"
    schedule.write_text("\n".join(lines) + "\n")
    one_line_error(
        isched("check", seasons["csv"][0], schedule),
        "schedule.csv row 2: more values than the header has columns",
    )


def rewrite_candidates(snapshot: Path, columns: tuple[str, ...], how: str) -> None:
    """Drop ``columns`` from candidates.csv (``how="drop"``) or empty their cells."""
    path = snapshot / "candidates.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if how == "drop":
        frame = frame.drop(columns=list(columns))
    else:
        frame[list(columns)] = ""
    frame.to_csv(path, index=False)


def test_optional_candidate_columns_read_alike_in_solve_and_check(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """A candidates.csv without the columns ``solve`` may go without is read by ``check`` too.

    Each missing column reads as its empty cells: the same findings either way.
    """
    optional = ("secondary_area", "office_preference", "accommodation")
    stripped = copy(seasons["csv"][0], tmp_path / "stripped")
    rewrite_candidates(stripped, optional, "drop")
    blank = copy(seasons["csv"][0], tmp_path / "blank")
    rewrite_candidates(blank, optional, "empty")
    schedule = solved(tmp_path, stripped)
    assert ok(isched("check", stripped, schedule)).stdout.strip() == "no hard violations"
    frame = pd.read_csv(schedule, dtype=str, keep_default_na=False)
    twin = frame.iloc[[0]].assign(interview_id="IV-twin")
    pd.concat([frame, twin]).to_csv(schedule, index=False)
    findings = check_schedule(stripped, schedule)
    assert "candidate_double_booked" in {v.kind for v in findings}
    assert findings == check_schedule(blank, schedule)


def test_a_column_solve_needs_is_needed_by_check(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    stripped = copy(seasons["csv"][0], tmp_path / "stripped")
    rewrite_candidates(stripped, ("timezone",), "drop")
    for command in (("solve", stripped, "--out", tmp_path / "out"),
                    ("check", stripped, seasons["csv"][1])):  # fmt: skip
        one_line_error(isched(*command), "candidates.csv", "column timezone", "missing")
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def with_loops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `tiny` snapshot with screened candidates whose loops ``solve`` plans."""
    snapshot = tmp_path_factory.mktemp("loops") / "snap"
    ok(isched("generate", "--scenario", "tiny", "--seed", "5", "--out", snapshot))
    return snapshot


def loops_of(schedule: Path) -> pd.DataFrame:
    frame = pd.read_csv(schedule, dtype=str, keep_default_na=False)
    return frame[frame["stage"] == "loop"]


def test_a_screened_candidate_reads_alike_in_solve_and_check(
    with_loops: Path, tmp_path: Path
) -> None:
    """Without ``last_interview_date`` a ``screened`` candidate has held a screen on a day the
    tables do not give (``solve`` plans the loop, ``check`` accepts it); without a form date
    nobody is interviewed (``solve`` plans no loop and says why)."""
    undated = copy(with_loops, tmp_path / "undated")
    rewrite_candidates(undated, ("last_interview_date",), "drop")
    schedule = solved(tmp_path, undated)
    assert len(loops_of(schedule)) > 0
    assert ok(isched("check", undated, schedule)).stdout.strip() == "no hard violations"
    looped = loops_of(solved(tmp_path, with_loops))["candidate_id"].iloc[0]
    formless = copy(with_loops, tmp_path / "formless")
    frame = pd.read_csv(formless / "candidates.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["candidate_id"] == looped, "form_completed_date"] = ""
    frame.to_csv(formless / "candidates.csv", index=False)
    schedule = solved(tmp_path, formless)
    assert looped not in set(loops_of(schedule)["candidate_id"])
    unscheduled = json.loads((schedule.parent / "report.json").read_text())["unscheduled"]
    assert {"candidate_id": looped, "stage": "loop", "reason": "form_incomplete"} in unscheduled
    assert ok(isched("check", formless, schedule)).stdout.strip() == "no hard violations"


def test_csv_faults_are_named_alike_by_solve_and_check(with_loops: Path, tmp_path: Path) -> None:
    """An unclosed quote and a byte that is not UTF-8 (after a cell spanning three lines) are
    named at the spreadsheet row by both; a doubled byte-order mark is read by both."""
    schedule = solved(tmp_path, with_loops)
    text = (with_loops / "candidates.csv").read_bytes()
    header, *rows = text.split(b"\n")
    unclosed = [header, rows[0], rows[1], b'"' + rows[2], *rows[3:]]
    notes = [header + b",notes", rows[0] + b',"a\nb\nc"', rows[1] + b",", rows[2] + b",Zo\xeb"]
    notes += [r + b"," for r in rows[3:] if r]
    cases = [(unclosed, "row 4", "not closed"), (notes, "row 4", "not UTF-8")]
    for lines, where, what in cases:
        broken = copy(with_loops, tmp_path / what.replace(" ", "_"))
        (broken / "candidates.csv").write_bytes(b"\n".join(lines))
        for command in (("solve", broken, "--out", tmp_path / "out"), ("check", broken, schedule)):
            line = one_line_error(isched(*command), f"candidates.csv {where}")
            assert what in line, line
        assert not (tmp_path / "out").exists()
    doubled = copy(with_loops, tmp_path / "bom")
    (doubled / "candidates.csv").write_bytes(b"\xef\xbb\xbf\xef\xbb\xbf" + text)
    assert ok(isched("check", doubled, solved(tmp_path, doubled))).stdout.strip() == (
        "no hard violations"
    )


def test_spreadsheet_exports_that_are_not_csv_utf8_are_named_by_solve_and_check(
    with_loops: Path, tmp_path: Path
) -> None:
    """A European Excel's ';'-separated export (with a comma inside a name) and a "Unicode
    text" (UTF-16) export are each named as such by both, with what to save instead."""
    schedule = solved(tmp_path, with_loops)
    text = (with_loops / "candidates.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    rows[1][1] = "Doe, Jane"
    semicolons = "\n".join(";".join(row) for row in rows) + "\n"
    cases = [
        (semicolons.encode("utf-8"), "row 1", "separated by semicolons"),
        (text.encode("utf-16"), "row 1", "UTF-16 text"),
    ]
    for data, where, what in cases:
        broken = copy(with_loops, tmp_path / what.replace(" ", "_"))
        (broken / "candidates.csv").write_bytes(data)
        for command in (("solve", broken, "--out", tmp_path / "out"), ("check", broken, schedule)):
            line = one_line_error(isched(*command), f"candidates.csv {where}", what)
            assert "CSV UTF-8" in line, line
        assert not (tmp_path / "out").exists()


def test_one_id_for_a_candidate_and_an_interviewer_is_refused_by_solve_and_check(
    with_loops: Path, tmp_path: Path
) -> None:
    """busy.csv and schedule.csv name people by id alone, so an id names one person."""
    schedule = solved(tmp_path, with_loops)
    shared = copy(with_loops, tmp_path / "shared")
    frame = pd.read_csv(shared / "interviewers.csv", dtype=str, keep_default_na=False)
    edit_csv(shared / "candidates.csv", 2, "candidate_id", frame["interviewer_id"].iloc[0])
    for command in (("solve", shared, "--out", tmp_path / "out"), ("check", shared, schedule)):
        one_line_error(isched(*command), "interviewers.csv row 2, column interviewer_id",
                       "is also a candidate's")  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_headers_and_the_plans_words_may_have_any_case(with_loops: Path, tmp_path: Path) -> None:
    """``ROOM_ID`` is ``room_id``; a previous plan's ``Confirmed`` and ``Screen`` are read as
    ``confirmed`` and ``screen`` by solve (which keeps the row) and check alike."""
    schedule = solved(tmp_path, with_loops)
    shouting = copy(with_loops, tmp_path / "shouting")
    text = (shouting / "rooms.csv").read_text().splitlines()
    (shouting / "rooms.csv").write_text("\n".join([text[0].upper(), *text[1:]]) + "\n")
    plan = pd.read_csv(schedule, dtype=str, keep_default_na=False)
    first = plan.iloc[0]
    plan["status"] = ["Confirmed" if i == 0 else "Proposed" for i in range(len(plan))]
    plan["stage"] = plan["stage"].str.capitalize()
    plan.columns = [c.upper() for c in plan.columns]
    previous = tmp_path / "previous.csv"
    plan.to_csv(previous, index=False)
    assert ok(isched("check", shouting, previous)).stdout.strip() == "no hard violations"
    out = tmp_path / "out"
    ok(isched("solve", shouting, "--out", out, "--previous", previous, "--solver", "greedy"))
    after = pd.read_csv(out / "schedule.csv", dtype=str).set_index("interview_id")
    kept = after.loc[first["interview_id"]]
    assert (kept["start"], kept["status"]) == (first["start"], "confirmed")
    assert ok(isched("check", shouting, out / "schedule.csv")).stdout.strip() == (
        "no hard violations"
    )


def test_a_candidate_solve_refuses_is_refused_by_check_too(
    with_loops: Path, tmp_path: Path
) -> None:
    """An unknown posting and an availability that ends before it starts: one line, the
    same from both, naming the row and column."""
    schedule = solved(tmp_path, with_loops)
    frame = pd.read_csv(with_loops / "candidates.csv", dtype=str, keep_default_na=False)
    start = frame["available_from"].iloc[1]
    before = (dt.date.fromisoformat(start) - dt.timedelta(days=1)).isoformat()
    cases = [
        ("posting_id", "P999", "unknown posting_id 'P999'"),
        ("available_until", before, "before available_from"),
    ]
    for column, value, what in cases:
        broken = copy(with_loops, tmp_path / column)
        edit_csv(broken / "candidates.csv", 3, column, value)
        lines = [
            one_line_error(isched(*command), f"candidates.csv row 3, column {column}", what)
            for command in (
                ("solve", broken, "--out", tmp_path / "out"),
                ("check", broken, schedule),
            )  # fmt: skip
        ]
        assert lines[0] == lines[1], lines
        assert not (tmp_path / "out").exists()


def test_a_scenario_yaml_that_does_not_parse_is_named_alike_by_solve_and_check(
    seasons: dict[str, tuple[Path, Path]], tmp_path: Path
) -> None:
    """The file, the line and column, and what the parser found; no parser dump."""
    snapshot, schedule = seasons["csv"]
    broken = copy(snapshot, tmp_path / "broken")
    lines = (broken / "scenario.yaml").read_text().splitlines()
    (broken / "scenario.yaml").write_text("\n".join([*lines, "  bad: [1,"]) + "\n")
    where = f"scenario.yaml: line {len(lines) + 1}, column 3: not valid YAML ("
    said = [
        one_line_error(isched(*command), where)
        for command in (("solve", broken, "--out", tmp_path / "out"), ("check", broken, schedule))
    ]
    assert all("<unicode string>" not in line and "^" not in line for line in said)
    assert not (tmp_path / "out").exists()
