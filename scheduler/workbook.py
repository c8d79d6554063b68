"""Snapshot workbooks: one Excel sheet per table, read through ``scheduler.tables``.

A workbook holds a sheet per table (``postings``, ``candidates``, ``interviewers``,
``rooms``, ``start_windows``, ``busy``; header in row 1) and may hold a sheet
``scenario`` whose column A holds the lines of ``scenario.yaml``. Other sheets
are ignored. ``unpacked_workbook`` writes every table sheet as ``NAME.csv`` (cells
as text, row for row, so the row numbers are the sheet's) into a temporary
directory for ``read_snapshot``, and renames the file in any ``TableError``
raised meanwhile to the workbook and sheet. There is one parser: the CSV reader.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scheduler.table_schema import TABLES, TableError
from scheduler.tables import _cell

SCENARIO_SHEET = "scenario"
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
"""Largest uncompressed workbook read (a workbook is a zip: this stops a zip bomb)."""


def _text(value: Any) -> str:
    """A cell as the text a CSV export of the sheet would hold."""
    if isinstance(value, dt.datetime) and value.tzinfo is None and value.time() == dt.time(0):
        return value.date().isoformat()  # a date cell
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _cell(value)


def _check_size(path: Path, label: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise TableError(label, None, None, "not an Excel workbook (.xlsx)") from None
    if total > MAX_UNPACKED_BYTES:
        limit = MAX_UNPACKED_BYTES // (1024 * 1024)
        raise TableError(label, None, None, f"workbook unpacks to over {limit} MB")


def unpack_workbook(path: Path, out_dir: Path, label: str | None = None) -> list[str]:
    """Write the table sheets of ``path`` as CSV files into ``out_dir``; the names written."""
    import openpyxl

    label = label or path.name
    _check_size(path, label)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise TableError(label, None, None, "not a readable Excel workbook (.xlsx)") from None
    written: list[str] = []
    try:
        sheets = {str(name).strip().lower(): book[name] for name in book.sheetnames}
        for name in [*TABLES, SCENARIO_SHEET]:
            sheet = sheets.get(name)
            if sheet is None:
                continue
            rows = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            if name == SCENARIO_SHEET:
                lines = [row[0] if row else "" for row in rows]
                (out_dir / "scenario.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
                written.append("scenario.yaml")
                continue
            while rows and not any(rows[-1]):
                rows.pop()
            header = rows[0] if rows else []
            while header and not header[-1]:
                header.pop()
            with open(out_dir / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                for row in rows:
                    while len(row) > len(header) and not row[-1]:
                        row.pop()
                    writer.writerow(row + [""] * (len(header) - len(row)))
            written.append(f"{name}.csv")
    finally:
        book.close()
    return written


def relabel(error: TableError, label: str) -> TableError:
    """``error`` with its file named as the workbook sheet it came from."""
    stem = error.file.rsplit(".", 1)[0]
    if stem not in TABLES and error.file != "scenario.yaml":
        return error
    sheet = SCENARIO_SHEET if error.file == "scenario.yaml" else stem
    message = error.message
    if message.startswith("missing file"):
        message = "missing sheet"
    return TableError(f"{label} sheet {sheet}", error.row, error.column, message)


@contextlib.contextmanager
def unpacked_workbook(path: Path, label: str | None = None) -> Iterator[Path]:
    """A temporary snapshot directory holding the tables of the workbook ``path``."""
    label = label or path.name
    tmp = Path(tempfile.mkdtemp(prefix="isched-workbook-"))
    try:
        unpack_workbook(path, tmp, label)
        try:
            yield tmp
        except TableError as error:
            raise relabel(error, label) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_workbook(snapshot_dir: Path, path: Path) -> None:
    """Write the tables (and ``scenario.yaml``) of a CSV snapshot as one workbook, atomically."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name in TABLES:
        source = snapshot_dir / f"{name}.csv"
        if not source.exists():
            continue
        sheet = book.create_sheet(name)
        with open(source, encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                sheet.append(row)
    scenario = snapshot_dir / "scenario.yaml"
    if scenario.exists():
        sheet = book.create_sheet(SCENARIO_SHEET)
        for line in scenario.read_text(encoding="utf-8").splitlines():
            sheet.append([line])
    tmp = path.with_name(f".{path.name}.tmp")
    book.save(tmp)
    tmp.replace(path)
