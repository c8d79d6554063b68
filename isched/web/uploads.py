"""Uploaded snapshots: table files, one zip or one workbook, staged and checked.

An upload's file name only says which table a part is: it is reduced to its
last component and matched against the known table names (``postings.csv``,
``busy.parquet``, ``scenario.yaml``, ...); it never becomes a path. The staged
folder is read by ``scheduler.tables.read_snapshot``, the one reader of the
tables, so a bad table is reported with its file, row and column; every bad
table is reported (``table_errors``), the first one as ``isched solve`` names it.
"""

from __future__ import annotations

import io
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from isched.web.jobfiles import JOB_ID
from scheduler.table_schema import TABLES, TableError
from scheduler.workbook import MAX_UNPACKED_BYTES, relabel, unpack_workbook

SCENARIO = "scenario.yaml"
TABLE_FILES = {f"{name}.{fmt}": name for name in TABLES for fmt in ("csv", "parquet")}
KNOWN = [*TABLE_FILES, SCENARIO]


class UploadError(Exception):
    """A refused upload: HTTP ``status`` and, for a bad table, its file, row and column.

    ``errors`` holds one ``TableError`` per bad table (the first is the one named
    by ``file``, ``row`` and ``column``); empty for a refusal that is not a bad table.
    """

    def __init__(
        self,
        message: str,
        status: int = 422,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        errors: list[TableError] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.file, self.row, self.column = file, row, column
        self.errors = list(errors or [])

    @classmethod
    def from_table(cls, error: TableError) -> UploadError:
        return cls.from_tables([error])

    @classmethod
    def from_tables(cls, errors: list[TableError]) -> UploadError:
        """The refusal of an upload with these bad tables (the first named in full)."""
        first = errors[0]
        return cls(str(first), 422, first.file, first.row, first.column, errors)

    @property
    def problem(self) -> str:
        """The message without the ``FILE: `` it starts with, for a table that shows the file."""
        return str(self).removeprefix(f"{self.file}: ") if self.file else str(self)

    def to_dict(self) -> dict[str, Any]:
        where = [{"detail": str(e), "file": e.file, "row": e.row, "column": e.column}
                 for e in self.errors]  # fmt: skip
        return {"detail": str(self), "file": self.file, "row": self.row, "column": self.column,
                "errors": where}  # fmt: skip


@dataclass
class Part:
    """One uploaded file: the name the client gave and its bytes."""

    filename: str
    data: bytes


def shown(name: str) -> str:
    """A client's file name, safe to print: last component, plain characters, short."""
    base = re.split(r"[/\\]", name or "")[-1].strip()
    return re.sub(r"[^A-Za-z0-9_. ()-]", "?", base)[:80] or "(no name)"


COPY_MARK = re.compile(r"\s*\(\d+\)(?=\.[a-z]+$)")
"""What a browser adds to a second download of one name: ``busy (1).csv``."""
JOB_MARK = re.compile(rf"^{JOB_ID.pattern}-")
"""What this app's downloads start with: ``JOB-schedule.csv`` (``jobfiles.saved_as``)."""


def plain(name: str) -> str:
    """A client's file name without a browser's copy mark or this app's job mark,
    lower case: ``Busy (1).CSV`` -> ``busy.csv``, ``0123456789abcdef-schedule.csv``
    -> ``schedule.csv``."""
    return COPY_MARK.sub("", JOB_MARK.sub("", shown(name).lower()))


def table_file(name: str) -> str | None:
    """The known table file a client's name stands for (``Busy (1).CSV`` -> ``busy.csv``)."""
    base = plain(name)
    if base == "scenario.yml":
        base = SCENARIO
    return base if base in TABLE_FILES or base == SCENARIO else None


def _unzip(part: Part) -> list[Part]:
    label = shown(part.filename)
    try:
        archive = zipfile.ZipFile(io.BytesIO(part.data))
    except zipfile.BadZipFile:
        raise UploadError(f"{label}: not a zip archive", file=label) from None
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        entries = [i for i in entries if not shown(i.filename).startswith((".", "__MACOSX"))]
        entries = [i for i in entries if "__MACOSX" not in i.filename]
        if sum(i.file_size for i in entries) > MAX_UNPACKED_BYTES:
            limit = MAX_UNPACKED_BYTES // (1024 * 1024)
            raise UploadError(f"{label}: unpacks to over {limit} MB", 413, file=label)
        try:
            return [Part(i.filename, archive.read(i)) for i in entries]
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
            raise UploadError(f"{label}: damaged or encrypted zip archive", file=label) from None


@dataclass
class Staged:
    """What an upload put in the staged folder: a ``schedule.csv`` part's bytes (a
    re-plan's own plan), and for one workbook its name and the files its sheets became."""

    plan: bytes | None = None
    workbook: str | None = None
    sheets: frozenset[str] = frozenset()


def _replace_other_format(dest: Path, name: str) -> None:
    """Before ``name`` is written: remove the same table in either format (say, a
    re-plan's ``busy.parquet`` kept from its parent when ``busy.csv`` comes)."""
    if name in TABLE_FILES:
        for other in ("csv", "parquet"):
            (dest / f"{TABLE_FILES[name]}.{other}").unlink(missing_ok=True)


def stage(parts: list[Part], dest: Path, *, previous_ok: bool = False) -> Staged:
    """Write the tables of ``parts`` into ``dest``.

    One ``.zip`` part is unpacked, one ``.xlsx`` part read sheet by sheet; other
    parts must be named as tables. ``schedule.csv`` is accepted (and its bytes
    returned) only when ``previous_ok`` (a re-plan). A table replaces the same
    table in the other format. Raises ``UploadError``.
    """
    parts = [p for p in parts if p.filename or p.data]
    if len(parts) == 1 and shown(parts[0].filename).lower().endswith(".zip"):
        parts = _unzip(parts[0])
    if len(parts) == 1 and shown(parts[0].filename).lower().endswith(".xlsx"):
        label = shown(parts[0].filename)
        with tempfile.TemporaryDirectory(prefix="isched-upload-") as tmp:
            book = Path(tmp) / "snapshot.xlsx"
            book.write_bytes(parts[0].data)
            unpacked = Path(tmp) / "tables"
            unpacked.mkdir()
            try:
                written = unpack_workbook(book, unpacked, label)
            except TableError as error:
                raise UploadError.from_table(error) from None
            for sheet_file in written:
                _replace_other_format(dest, sheet_file)
                shutil.copyfile(unpacked / sheet_file, dest / sheet_file)
        return Staged(workbook=label, sheets=frozenset(written))
    previous: bytes | None = None
    seen: set[str] = set()
    for part in parts:
        name = table_file(part.filename)
        if name is None and previous_ok and plain(part.filename) == "schedule.csv":
            previous = part.data
            continue
        if name is None:
            label = shown(part.filename)
            if plain(part.filename).lower().endswith((".zip", ".xlsx")):
                message = f"{label}: a .zip or .xlsx holds the whole snapshot: upload it alone"
                raise UploadError(message, file=label)
            expected = "the table files " + ", ".join(KNOWN) + ", one .zip or one .xlsx"
            raise UploadError(f"{label}: not a snapshot table (expected {expected})", file=label)
        table = TABLE_FILES.get(name, name)
        if table in seen:
            raise UploadError(f"{name}: the {table} table is uploaded twice", file=name)
        seen.add(table)
        _replace_other_format(dest, name)
        (dest / name).write_bytes(part.data)
    return Staged(plan=previous)


LEAF_TABLES = ("rooms", "start_windows", "busy")
"""Tables no other table refers to: a bad one can be set aside to check the rest."""


def _file_order(error: TableError) -> int:
    order = [*TABLES, "scenario"]
    base = error.file.rsplit(".", 1)[0]
    return order.index(base) if base in order else len(order)


def _set_aside(scratch: Path, bad: set[str]) -> None:
    """Replace the bad leaf tables (and a bad scenario.yaml) in ``scratch`` by harmless ones."""
    for name in bad:
        base = name.rsplit(".", 1)[0]
        if name == SCENARIO:
            (scratch / SCENARIO).unlink(missing_ok=True)
        elif base in LEAF_TABLES:
            for fmt in ("csv", "parquet"):
                (scratch / f"{base}.{fmt}").unlink(missing_ok=True)
            table = TABLES[base]
            if base != "start_windows":  # an absent start_windows is derived from postings
                header = [c.name for c in table.columns if c.required]
                (scratch / f"{base}.csv").write_text(",".join(header) + "\n", encoding="utf-8")


def table_errors(dest: Path) -> list[TableError]:
    """One error per bad table of the snapshot in ``dest`` (its first bad cell); [] if none.

    The first is the error ``read_snapshot`` raises (what ``isched solve`` says). Then
    each table is read on its own, and the checks across tables (unknown posting or
    person ids, ...) run again with the bad rooms, start_windows and busy set aside.
    """
    from scheduler.tables import _read_table, read_snapshot

    try:
        read_snapshot(dest)
        return []
    except TableError as error:
        found = {error.file: error}
    for name, table in TABLES.items():
        try:
            if _read_table(dest, table) is None and name != "start_windows":
                missing = TableError(f"{name}.csv", None, None, "missing file")
                found.setdefault(missing.file, missing)
        except TableError as error:
            found.setdefault(error.file, error)
    with tempfile.TemporaryDirectory(prefix="isched-check-") as tmp:
        scratch = Path(tmp)
        copy_tables(dest, scratch)
        while True:
            _set_aside(scratch, set(found))
            try:
                read_snapshot(scratch)
                break
            except TableError as error:
                if error.file in found:
                    break  # a bad table others refer to: the rest cannot be checked across
                found[error.file] = error
    first, *rest = found.values()
    return [first, *sorted(rest, key=_file_order)]


def _shown_error(error: TableError, dest: Path) -> TableError:
    """``error`` without the server's folders (a missing or unreadable file can name its
    staging path)."""
    if error.message.startswith("missing file"):
        return TableError(error.file, error.row, error.column, "missing file")
    message = error.message.replace(str(dest.resolve()) + "/", "").replace(str(dest) + "/", "")
    if message != error.message:
        return TableError(error.file, error.row, error.column, message)
    return error


def check_tables(dest: Path, staged: Staged | None = None) -> None:
    """Read the staged snapshot as ``isched solve`` would (``UploadError`` naming every
    bad table). An error in a table that came from the workbook (or one it lacks) names
    the workbook's sheet; one in a table a re-plan kept keeps its file's name."""
    errors = [_shown_error(e, dest) for e in table_errors(dest)]
    if not errors:
        return
    if staged is not None and staged.workbook is not None:
        label, sheets = staged.workbook, staged.sheets
        errors = [
            relabel(e, label) if e.file in sheets or not (dest / e.file).exists() else e
            for e in errors
        ]
    raise UploadError.from_tables(errors)


def copy_tables(source: Path, dest: Path) -> None:
    """Copy the table files (and scenario.yaml) of ``source`` into ``dest``."""
    for name in KNOWN:
        if (source / name).exists():
            shutil.copyfile(source / name, dest / name)
