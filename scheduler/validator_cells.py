"""Reading tables for the independent validator (``scheduler.validator_io``).

A snapshot table, ``schedule.csv`` or ``offers.csv`` is read as text, from a CSV
file, a ``.parquet`` file or a sheet of an ``.xlsx`` workbook, into a ``RawTable``;
``Cells`` gives typed access to its cells (ids, integers, dates in the years
``YEARS``, datetimes with a UTC offset, booleans, choices). Any cell that cannot be
read raises ``InputError`` naming the file (or workbook sheet), the row (header =
row 1) and the column. Only pandas and openpyxl are used: no code of the table
loaders or the solvers.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scheduler.csv_hints import (
    UNCLOSED_QUOTE,
    encoding_problem,
    first_bad_byte,
    separator_problem,
)
from scheduler.table_schema import no_offset

TABLE_NAMES = ("postings", "candidates", "interviewers", "rooms", "start_windows", "busy")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""What an id may look like (CLI.md "Snapshot tables"): never a path, never a formula."""
YEARS = (1970, 2100)
"""Every date and datetime lies in these years (inclusive); others are bad input."""
MAX_WORKBOOK_BYTES = 256 * 1024 * 1024
"""Largest uncompressed workbook read (a workbook is a zip: this stops a zip bomb)."""


class InputError(ValueError):
    """A table cannot be read; ``str`` is one line naming file, row and column."""


# Raw tables -------------------------------------------------------------------------


@dataclass(frozen=True)
class RawTable:
    """One table as text: its name in messages, its header and (row number, values) rows.

    Rows are numbered as a spreadsheet counts them (header = row 1); a row may hold
    fewer values than the header (the rest read as empty), never more.
    """

    label: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def raw_table(label: str, records: list[list[str]], empty: str = "file") -> RawTable:
    """A ``RawTable`` from the records of a file or sheet; the first one is the header."""
    if not records:
        raise InputError(f"{label}: empty {empty} (no header)")
    header = [name.strip().lower() for name in records[0]]  # case does not count
    named = [name for name in header if name]
    for name in named:
        if named.count(name) > 1:
            raise InputError(f"{label} row 1, column {name}: the column appears twice")
    rows = []
    for number, values in enumerate(records[1:], start=2):
        if len(values) > len(header):
            raise InputError(
                f"{label} row {number}: more values than the header has columns "
                f"({len(values)} values, {len(header)} columns)"
            )
        rows.append((number, values))
    return RawTable(label, header, rows)


def csv_table(path: Path) -> RawTable:
    records: list[list[str]] = []
    try:
        try:  # strict first: it tells a file that ends inside a quoted value
            _read_csv(path, records, strict=True)
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):  # as solve says it
                raise InputError(f"{path.name} row {len(records) + 1}: {UNCLOSED_QUOTE}") from None
            records.clear()  # a stray quote inside a value: read leniently, as before
            _read_csv(path, records, strict=False)
    except UnicodeDecodeError:
        message = encoding_problem(path.read_bytes())
        row, column = first_bad_byte(path.read_bytes())
        where = (f" row {row}" if row else "") + (f", column {column}" if column else "")
        raise InputError(f"{path.name}{where}: {message}") from None
    except csv.Error as exc:
        raise InputError(f"{path.name} row {len(records) + 1}: unreadable CSV: {exc}") from None
    if records and records[0]:
        records[0][0] = records[0][0].lstrip("\ufeff")  # a second byte-order mark
        wrong_separator = separator_problem(records[0][0]) if len(records[0]) == 1 else None
        if wrong_separator:
            raise InputError(f"{path.name} row 1: {wrong_separator}")
    return raw_table(path.name, records)


def _read_csv(path: Path, records: list[list[str]], strict: bool) -> None:
    """Append the file's records to ``records`` (so a failure knows how far it got)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for values in csv.reader(handle, strict=strict):
            records.append(values)


def cell_text(value: Any) -> str:
    """A Parquet or Excel cell as the text a CSV export would hold."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        return ";".join(cell_text(v) for v in value)
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        midnight = value.tzinfo is None and value.time() == dt.time(0)
        return value.date().isoformat() if midnight else value.isoformat()  # a date cell
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def parquet_table(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many kinds
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{path.name}: not a readable Parquet file: {first}") from None
    records = [[str(c) for c in frame.columns]]
    records += [[cell_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return raw_table(path.name, records)


def snapshot_table(root: Path, name: str) -> RawTable | None:
    """``NAME.csv`` or ``NAME.parquet`` of a snapshot directory; None when neither exists."""
    found = [path for fmt in ("csv", "parquet") if (path := root / f"{name}.{fmt}").exists()]
    if len(found) > 1:
        raise InputError(f"{name}.csv: both {name}.csv and {name}.parquet exist")
    if not found:
        return None
    return parquet_table(found[0]) if found[0].suffix == ".parquet" else csv_table(found[0])


def read_workbook(path: Path) -> tuple[dict[str, RawTable], str | None]:
    """The table sheets of a snapshot workbook and the text of its ``scenario`` sheet."""
    import openpyxl

    label = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            size = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise InputError(f"{label}: not an Excel workbook (.xlsx)") from None
    if size > MAX_WORKBOOK_BYTES:
        raise InputError(f"{label}: workbook unpacks to over {MAX_WORKBOOK_BYTES >> 20} MB")
    tables: dict[str, RawTable] = {}
    scenario: str | None = None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            sheets = {str(name).strip().lower(): book[name] for name in book.sheetnames}
            for name in (*TABLE_NAMES, "scenario"):
                if name not in sheets:
                    continue
                rows = sheets[name].iter_rows(values_only=True)
                records = [[cell_text(v) for v in row] for row in rows]
                if name == "scenario":
                    scenario = "\n".join(row[0] if row else "" for row in records)
                    continue
                for row in records:
                    while row and not row[-1].strip():
                        row.pop()  # a sheet's rows run to its widest column
                while records and not records[-1]:
                    records.pop()
                tables[name] = raw_table(f"{label} sheet {name}", records, "sheet")
        finally:
            book.close()
    except InputError:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"{label}: not a readable Excel workbook (.xlsx)") from None
    return tables, scenario


# Cells ------------------------------------------------------------------------


def show(value: str) -> str:
    """A cell for a message: quoted, escaped, at most 40 characters."""
    return repr(value if len(value) <= 40 else value[:37] + "...")


class Cells:
    """Typed access to the string cells of one table, with file/row/column errors."""

    def __init__(self, raw: RawTable) -> None:
        self.raw = raw
        self.label = raw.label

    def fail(self, row: int, column: str, message: str) -> InputError:
        return InputError(f"{self.label} row {row}, column {column}: {message}")

    def rows(self) -> Any:
        """(row number, dict of stripped cells) for each non-blank data row."""
        for row, values in self.raw.rows:
            cells = {k: v.strip() for k, v in zip(self.raw.header, values, strict=False) if k}
            if any(cells.values()):
                yield row, cells

    def text(self, row: int, cells: dict[str, str], column: str, required: bool = True) -> str:
        value = cells.get(column, "")
        if required and not value:
            if column in self.raw.header and column not in cells:
                width = len(self.raw.header)
                raise self.fail(
                    row, column, f"no value: the row has {len(cells)} of {width} values"
                )
            raise self.fail(row, column, "empty value")
        return value

    def ident(self, row: int, cells: dict[str, str], column: str, required: bool = True) -> str:
        """An id (CLI.md "Snapshot tables"); ``required=False``: may be empty."""
        return self.check_id(row, column, self.text(row, cells, column, required))

    def check_id(self, row: int, column: str, value: str) -> str:
        if value and ID_PATTERN.fullmatch(value) is None:
            raise self.fail(
                row,
                column,
                f"bad id {show(value)} (letters, digits, '_', '.', '-'; starting with a "
                "letter or digit)",
            )
        return value

    def integer(self, row: int, cells: dict[str, str], column: str, minimum: int = 0) -> int:
        value = self.text(row, cells, column)
        try:
            number = int(value)
        except ValueError:
            raise self.fail(row, column, f"not an integer: {show(value)}") from None
        if number < minimum:
            raise self.fail(row, column, f"must be at least {minimum}: {show(value)}")
        return number

    def in_years(self, row: int, column: str, value: str, year: int) -> None:
        if not YEARS[0] <= year <= YEARS[1]:
            raise self.fail(
                row, column, f"{show(value)} is outside the years {YEARS[0]}-{YEARS[1]}"
            )

    def date(self, row: int, cells: dict[str, str], column: str) -> dt.date:
        value = self.text(row, cells, column)
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise self.fail(row, column, f"not a date YYYY-MM-DD: {show(value)}") from None
        self.in_years(row, column, value, day.year)
        return day

    def optional_date(self, row: int, cells: dict[str, str], column: str) -> dt.date | None:
        return self.date(row, cells, column) if cells.get(column, "") else None

    def datetime(self, row: int, cells: dict[str, str], column: str) -> dt.datetime:
        return self.parse_datetime(row, column, self.text(row, cells, column))

    def parse_datetime(self, row: int, column: str, value: str) -> dt.datetime:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(row, column, f"not an ISO 8601 datetime: {show(value)}") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise self.fail(row, column, no_offset(show(value)))  # as solve says it
        self.in_years(row, column, value, moment.year)
        return moment

    def boolean(self, row: int, cells: dict[str, str], column: str) -> bool:
        value = self.text(row, cells, column).lower()
        if value in ("true", "1", "yes"):
            return True
        if value in ("false", "0", "no"):
            return False
        raise self.fail(row, column, f"not true/false: {show(value)}")

    def choice(self, row: int, cells: dict[str, str], column: str, allowed: tuple[str, ...]) -> str:
        value = self.text(row, cells, column)
        if value not in allowed:
            raise self.fail(row, column, f"{show(value)} is not one of {', '.join(allowed)}")
        return value

    def subset(
        self, row: int, cells: dict[str, str], column: str, allowed: tuple[str, ...]
    ) -> frozenset[str]:
        items = split_list(cells.get(column, ""))
        for item in items:
            if item not in allowed:
                raise self.fail(row, column, f"{show(item)} is not one of {', '.join(allowed)}")
        return frozenset(items)


def split_list(value: str) -> tuple[str, ...]:
    """A ';'-separated cell as a tuple of non-empty stripped items."""
    return tuple(item.strip() for item in value.split(";") if item.strip())


def with_columns(raw: RawTable, columns: tuple[str, ...]) -> Cells:
    """``raw`` as cells; every column in ``columns`` must be in its header."""
    for column in columns:
        if column not in raw.header:
            raise InputError(f"{raw.label}, column {column}: missing required column")  # as solve
    return Cells(raw)


def read_table(path: Path, columns: tuple[str, ...]) -> Cells:
    """A CSV (or ``.parquet``) file as string cells; ``columns`` must be in the header."""
    if not path.is_file():
        raise InputError(f"{path.name}: file not found ({path})")
    raw = parquet_table(path) if path.suffix.lower() == ".parquet" else csv_table(path)
    return with_columns(raw, columns)


def unique(cells: Cells, row: int, column: str, key: str, seen: dict[str, Any]) -> None:
    if key in seen:
        raise cells.fail(row, column, f"duplicate id {show(key)}")
