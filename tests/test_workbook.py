"""Snapshot workbooks (one sheet per table) for ``isched solve``, and ids checked in every table."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from cli_runner import isched

from scheduler.table_schema import TableError
from scheduler.tables import read_snapshot
from scheduler.workbook import unpacked_workbook, write_workbook


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "snap"
    assert isched("generate", "--scenario", "tiny", "--seed", "0", "--out", out).returncode == 0
    return out


def test_solve_takes_a_workbook_and_plans_as_from_the_csv_tables(
    tiny: Path, tmp_path: Path
) -> None:
    write_workbook(tiny, tmp_path / "snapshot.xlsx")
    from_book = isched("solve", tmp_path / "snapshot.xlsx", "--out", tmp_path / "a",
                       "--solver", "greedy")  # fmt: skip
    assert from_book.returncode == 0, from_book.stderr
    from_csv = isched("solve", tiny, "--out", tmp_path / "b", "--solver", "greedy")
    assert from_csv.returncode == 0, from_csv.stderr
    schedule = (tmp_path / "a" / "schedule.csv").read_text()
    assert schedule == (tmp_path / "b" / "schedule.csv").read_text()
    assert isched("check", tiny, tmp_path / "a" / "schedule.csv").returncode == 0


@pytest.mark.parametrize(
    "sheet, cell, value, column, reason",
    [("candidates", "A3", '=HYPERLINK("http://example.com")', "candidate_id", "bad id"),
     ("postings", "A2", "../x", "posting_id", "bad id"),
     ("busy", "A4", " ", "person_id", "missing value")],
)  # fmt: skip
def test_a_bad_cell_names_the_workbook_sheet_row_and_column(
    tiny: Path, tmp_path: Path, sheet: str, cell: str, value: str, column: str, reason: str
) -> None:
    write_workbook(tiny, tmp_path / "snapshot.xlsx")
    book = openpyxl.load_workbook(tmp_path / "snapshot.xlsx")
    book[sheet][cell].value = value
    book[sheet][cell].data_type = "s"  # text as typed, not a formula
    book.save(tmp_path / "bad.xlsx")
    with pytest.raises(TableError) as error, unpacked_workbook(tmp_path / "bad.xlsx") as folder:
        read_snapshot(folder)
    where = f"bad.xlsx sheet {sheet} row {cell[1:]}, column {column}: {reason}"
    assert str(error.value).startswith(where), str(error.value)


def test_solve_says_a_bad_workbook_in_one_line_and_writes_nothing(
    tiny: Path, tmp_path: Path
) -> None:
    write_workbook(tiny, tmp_path / "snapshot.xlsx")
    book = openpyxl.load_workbook(tmp_path / "snapshot.xlsx")
    book["interviewers"]["F3"].value = "many"
    book.save(tmp_path / "bad.xlsx")
    result = isched("solve", tmp_path / "bad.xlsx", "--out", tmp_path / "out")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        "error: bad.xlsx sheet interviewers row 3, column max_per_day: bad integer 'many'"
    )
    assert not (tmp_path / "out").exists()


def test_a_missing_sheet_is_named(tiny: Path, tmp_path: Path) -> None:
    write_workbook(tiny, tmp_path / "snapshot.xlsx")
    book = openpyxl.load_workbook(tmp_path / "snapshot.xlsx")
    del book["rooms"]
    book.save(tmp_path / "partial.xlsx")
    missing = pytest.raises(TableError, match="partial.xlsx sheet rooms: missing sheet")
    with missing, unpacked_workbook(tmp_path / "partial.xlsx") as folder:
        read_snapshot(folder)
