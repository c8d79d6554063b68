"""Coordinator snapshot directories: write them atomically, read them with validation.

A snapshot directory holds ``postings``, ``candidates``, ``interviewers``,
``rooms``, ``start_windows`` and ``busy`` as ``NAME.csv`` (or ``NAME.parquet``)
plus ``scenario.yaml`` (``{"scenario": ..., "seed": ..., "snapshot_date": ...}``).
Column schemas live in ``scheduler.table_schema``. Every problem with the input
raises ``TableError``, whose message is one line naming the file, the row (as a
spreadsheet counts it: the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from scheduler.csv_hints import (
    UNCLOSED_QUOTE,
    encoding_problem,
    first_bad_byte,
    separator_problem,
)
from scheduler.domain import (
    ACCOMMODATIONS,
    ROLES,
    BusyBlock,
    Candidate,
    Interviewer,
    Posting,
    Room,
    Snapshot,
    StartWindow,
)
from scheduler.generator import start_windows_for
from scheduler.scenario import NAMED, ScenarioConfig, scenario_to_dict
from scheduler.table_schema import TABLES, Table, TableError, scenario_from_dict
from scheduler.yaml_words import yaml_problem

__all__ = ["TableError", "read_snapshot", "scenario_from_dict", "write_snapshot"]

SCENARIO_FILE = "scenario.yaml"
FORMATS = ("csv", "parquet")
Rows = list[tuple[int, dict[str, Any]]]


# scenario.yaml -----------------------------------------------------------------------


def _read_scenario(root: Path) -> tuple[ScenarioConfig, dict[str, Any]]:
    path = root / SCENARIO_FILE
    if not path.exists():
        return NAMED["default"], {"seed": 0, "snapshot_date": None}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError("expected a mapping with keys scenario, seed, snapshot_date")
        seed = data.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        day = raw_day = data.get("snapshot_date")
        if isinstance(raw_day, str):
            try:
                day = dt.date.fromisoformat(raw_day)
            except ValueError:
                day = None
        if raw_day is not None and (not isinstance(day, dt.date) or isinstance(day, dt.datetime)):
            raise ValueError(f"snapshot_date: expected YYYY-MM-DD, got {raw_day!r}")
        if "scenario" in data:
            if not isinstance(data["scenario"], dict):
                raise ValueError("scenario: expected a mapping")
            config = scenario_from_dict(data["scenario"])
        else:  # a plain scenario file (fields, maybe ``base:``) is accepted too
            rest = {k: v for k, v in data.items() if k not in ("seed", "snapshot_date")}
            config = scenario_from_dict(rest)
    except yaml.YAMLError as exc:
        raise TableError(SCENARIO_FILE, None, None, yaml_problem(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TableError(SCENARIO_FILE, None, None, str(exc)) from None
    return config, {"seed": seed, "snapshot_date": day}


# Reading tables -------------------------------------------------------------------------


def _locate(root: Path, name: str) -> Path | None:
    found = [root / f"{name}.{fmt}" for fmt in FORMATS if (root / f"{name}.{fmt}").exists()]
    if len(found) > 1:
        raise TableError(f"{name}.csv", None, None, f"both {name}.csv and {name}.parquet exist")
    return found[0] if found else None


def _cell(value: Any) -> str:
    """Text of a Parquet cell as it would read in a CSV."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list):
            return ";".join(_cell(v) for v in items)
        value = items
    if value is None or pd.isna(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _name(column: Any) -> str:
    """A header as the schema spells it: spaces around it and case do not count."""
    return str(column).strip().lower()


def load_columns(path: Path) -> dict[str, list[str]]:
    """Stripped cell text per column (Parquet cells converted to CSV text)."""
    label = path.name
    if path.suffix == ".parquet":
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many kinds
            raise TableError(label, None, None, f"unreadable Parquet file: {exc}") from None
        if frame.columns.empty:
            raise TableError(label, None, None, "empty file (no header)")
        frame = frame.reset_index(drop=True)
        return {_name(c): [_cell(v).strip() for v in frame[c].tolist()] for c in frame}
    try:
        wrong_separator = separator_problem(_first_line(path))
        if wrong_separator:
            raise TableError(label, 1, None, wrong_separator)
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig"
        )
    except pd.errors.EmptyDataError:
        raise TableError(label, None, None, "empty file (no header)") from None
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            expected, line, saw = match.groups()
            message = f"{saw} values but the header has {expected} columns"
            raise TableError(label, int(line), None, message) from None
        unclosed = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if unclosed:  # pandas counts from 0 at the header
            raise TableError(label, int(unclosed.group(1)) + 1, None, UNCLOSED_QUOTE) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TableError(label, None, None, f"unreadable CSV: {first}") from None
    except UnicodeDecodeError:
        message = encoding_problem(path.read_bytes())
        raise TableError(label, *first_bad_byte(path.read_bytes()), message) from None
    if not isinstance(frame.index, pd.RangeIndex):
        raise TableError(label, *_first_long_row(path))
    header = [_name(c) for c in next(csv.reader(io.StringIO(_first_line(path))), [])]
    twice = next((c for i, c in enumerate(header) if c and c in header[:i]), None)
    if twice is not None:
        raise TableError(label, 1, twice, "duplicate column")
    return {_name(c): [v.strip() for v in frame[c].fillna("").tolist()] for c in frame.columns}


def _first_line(path: Path) -> str:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return handle.readline()


def _first_long_row(path: Path) -> tuple[int | None, str | None, str]:
    """(row, column, message) of the first row with more values than the header."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle)
        width = len(next(rows, []))
        for number, row in enumerate(rows, start=2):
            if len(row) > width:
                return number, None, f"{len(row)} values but the header has {width} columns"
    return None, None, "rows have more values than the header has columns"


def _read_table(root: Path, table: Table) -> tuple[str, Rows] | None:
    """(file name, [(row number, parsed values)]), or None when the file is absent."""
    path = _locate(root, table.name)
    if path is None:
        return None
    label = path.name
    columns = load_columns(path)
    for col in table.columns:
        if col.name not in columns and (col.required or col.name in table.required_columns):
            raise TableError(label, None, col.name, "missing required column")
    present = [(c, columns[c.name]) for c in table.columns if c.name in columns]
    absent = {c.name: c.default for c in table.columns if c.name not in columns}
    every = list(columns.values())
    n_rows = len(every[0]) if every else 0
    rows: Rows = []
    seen: dict[Any, int] = {}
    for i in range(n_rows):
        if not any(cells[i] for cells in every):
            continue  # a blank line
        row = i + 2
        values = dict(absent)
        for col, cells in present:
            cell = cells[i]
            if not cell:
                if col.required:
                    raise TableError(label, row, col.name, "missing value")
                values[col.name] = col.default
                continue
            try:
                values[col.name] = col.parse(cell)
            except ValueError as exc:
                raise TableError(label, row, col.name, str(exc)) from None
        if table.id_column is not None:
            key = values[table.id_column]
            if key in seen:
                message = f"duplicate id {key!r} (first in row {seen[key]})"
                raise TableError(label, row, table.id_column, message)
            seen[key] = row
        rows.append((row, values))
    if table.needs_rows and not rows:
        raise TableError(label, None, None, "empty file (no data rows)")
    return label, rows


def _required(root: Path, name: str) -> tuple[str, Rows]:
    found = _read_table(root, TABLES[name])
    if found is None:
        raise TableError(f"{name}.csv", None, None, f"missing file (in {root})")
    return found


def case_twins(label: str, rows: Rows, column: str) -> list[str]:
    """Ids of one table that differ only in case ('C001' and 'c001'): a spreadsheet's
    lookups take them for one, the tables for two; one line per later row."""
    first: dict[str, tuple[str, int]] = {}
    out: list[str] = []
    for row, values in rows:
        key = str(values[column])
        seen = first.setdefault(key.casefold(), (key, row))
        if seen[0] != key:
            out.append(f"{label} row {row}, column {column}: id {key!r} differs from "
                       f"{seen[0]!r} (row {seen[1]}) only in case: two people?")  # fmt: skip
    return out


def read_snapshot(dir: Path | str) -> tuple[Snapshot, ScenarioConfig, dict[str, Any]]:
    """Read and validate a snapshot directory.

    Returns the snapshot, the scenario config (``NAMED["default"]`` without
    ``scenario.yaml``) and meta: ``seed``, ``snapshot_date``, ``targets``
    (candidate_id -> posting_id), ``last_interview`` (candidate_id -> date) and
    ``case_twins`` (``case_twins``' lines for candidates and interviewers).
    Busy times come back in Pacific (office) time. Raises ``TableError``.
    """
    root = Path(dir)
    if not root.is_dir():
        raise TableError(str(root), None, None, "no such snapshot directory")
    config, meta = _read_scenario(root)

    _, rows = _required(root, "postings")
    postings = [Posting(**values) for _, values in rows]
    posting_ids = {p.posting_id for p in postings}

    label, rows = _required(root, "candidates")
    twins = case_twins(label, rows, "candidate_id")
    candidate_rows = {v["candidate_id"]: row for row, v in rows}
    candidates: list[Candidate] = []
    targets: dict[str, str] = {}
    last_interview: dict[str, dt.date] = {}
    for row, v in rows:
        cid = v["candidate_id"]
        if v["available_until"] < v["available_from"]:
            raise TableError(label, row, "available_until", "before available_from")
        target = v.pop("posting_id")
        if target is not None:
            if target not in posting_ids:
                raise TableError(label, row, "posting_id", f"unknown posting_id {target!r}")
            targets[cid] = target
        last = v.pop("last_interview_date")
        if last is not None:
            last_interview[cid] = last
        if v["applied_date"] is None:
            v["applied_date"] = v["form_completed_date"] or v["available_from"]
        v["accommodation"] = frozenset(v["accommodation"])
        candidates.append(Candidate(**v))

    interviewer_label, rows = _required(root, "interviewers")
    twins += case_twins(interviewer_label, rows, "interviewer_id")
    for row, v in rows:  # busy.csv names either by id: one id is one person
        if v["interviewer_id"] in candidate_rows:
            message = (
                f"id {v['interviewer_id']!r} is also a candidate's "
                f"({label} row {candidate_rows[v['interviewer_id']]}): ids name one person"
            )
            raise TableError(interviewer_label, row, "interviewer_id", message)  # fmt: skip
    interviewers = [Interviewer(**{**v, "roles": frozenset(v["roles"])}) for _, v in rows]
    rooms = [Room(**v) for _, v in _required(root, "rooms")[1]]
    found = _read_table(root, TABLES["start_windows"])
    if found is None:
        start_windows = start_windows_for(postings, config)
    else:
        start_windows = [StartWindow(**v) for _, v in found[1]]

    label, rows = _required(root, "busy")
    people = {i.interviewer_id for i in interviewers} | {c.candidate_id for c in candidates}
    busy: list[BusyBlock] = []
    for row, v in rows:
        if v["end"] <= v["start"]:
            raise TableError(label, row, "end", "end is not after start")
        if v["person_id"] not in people:
            message = f"unknown person_id {v['person_id']!r} (not an interviewer or candidate)"
            raise TableError(label, row, "person_id", message)
        busy.append(BusyBlock(**v))

    meta.update(targets=targets, last_interview=last_interview, case_twins=twins)
    snapshot = Snapshot(postings, candidates, interviewers, rooms, start_windows, busy)
    return snapshot, config, meta


# Writing tables -------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _ordered(items: frozenset[str], order: tuple[str, ...]) -> str:
    return ";".join(sorted(items, key=lambda x: (order.index(x) if x in order else len(order), x)))


def _frames(
    snapshot: Snapshot, targets: Mapping[str, str], last_interview: Mapping[str, dt.date]
) -> dict[str, pd.DataFrame]:
    """One all-text DataFrame per table, columns in schema order."""
    records: dict[str, list[dict[str, Any]]] = {
        "postings": [dataclasses.asdict(p) for p in snapshot.postings],
        "candidates": [
            {
                **{f.name: getattr(c, f.name) for f in dataclasses.fields(c)},
                "accommodation": _ordered(c.accommodation, ACCOMMODATIONS),
                "posting_id": targets.get(c.candidate_id),
                "last_interview_date": last_interview.get(c.candidate_id),
            }
            for c in snapshot.candidates
        ],
        "interviewers": [
            {
                **{f.name: getattr(i, f.name) for f in dataclasses.fields(i)},
                "areas": ";".join(i.areas),
                "roles": _ordered(i.roles, ROLES),
            }
            for i in snapshot.interviewers
        ],
        "rooms": [dataclasses.asdict(r) for r in snapshot.rooms],
        "start_windows": [dataclasses.asdict(w) for w in snapshot.start_windows],
        "busy": [{"person_id": b.person_id, "start": b.start, "end": b.end} for b in snapshot.busy],
    }
    frames = {}
    for name, table in TABLES.items():
        names = [c.name for c in table.columns]
        rows = [[_text(r[n]) for n in names] for r in records[name]]
        frames[name] = pd.DataFrame(rows, columns=names, dtype=str)
    return frames


def _write_table(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, lineterminator="\n")


def write_snapshot(
    snapshot: Snapshot,
    config: ScenarioConfig,
    out_dir: Path | str,
    *,
    seed: int,
    snapshot_date: dt.date | None,
    fmt: str = "csv",
    targets: Mapping[str, str] | None = None,
    last_interview: Mapping[str, dt.date] | None = None,
    extra_csv: Mapping[str, pd.DataFrame] | None = None,
) -> None:
    """Write the snapshot tables and ``scenario.yaml`` into ``out_dir``.

    ``extra_csv`` (e.g. ``{"schedule": frame, "offers": frame}``) is written as
    ``NAME.csv`` beside them, in the same all-or-nothing move.

    Everything is first written into a temporary sibling directory and only then
    moved into place, so a failure leaves no half-written tables. ``targets`` and
    ``last_interview`` fill the optional candidate columns ``posting_id`` and
    ``last_interview_date``. Files of the other format for the same tables are removed.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown table format {fmt!r}: use csv or parquet")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; it may become ``out`` itself
    try:
        names: list[str] = []
        frames = _frames(snapshot, targets or {}, last_interview or {})
        for name, frame in frames.items():
            _write_table(frame, tmp / f"{name}.{fmt}", fmt)
            names.append(f"{name}.{fmt}")
        for name, frame in (extra_csv or {}).items():
            _write_table(frame, tmp / f"{name}.csv", "csv")
            names.append(f"{name}.csv")
        meta = {
            "scenario": scenario_to_dict(config),
            "seed": int(seed),
            "snapshot_date": snapshot_date.isoformat() if snapshot_date else None,
        }
        text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
        (tmp / SCENARIO_FILE).write_text(text, encoding="utf-8")
        names.append(SCENARIO_FILE)
        if not out.exists():
            tmp.rename(out)
            return
        for name in names:
            os.replace(tmp / name, out / name)
        other = next(f for f in FORMATS if f != fmt)
        for name in frames:
            (out / f"{name}.{other}").unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
