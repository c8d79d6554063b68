"""Column schemas and cell parsers of the snapshot tables (see ``scheduler.tables``).

A table is a list of ``Column`` specs. A cell parser takes the stripped cell text
and returns the value or raises ``ValueError`` with a short reason, which the
reader turns into a ``TableError`` naming file, row and column.
``scenario_from_dict`` rebuilds the ``ScenarioConfig`` stored in ``scenario.yaml``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.domain import ACCOMMODATIONS, AREAS, OFFICE_TZ, OFFICES, ROLES, STAGES
from scheduler.scenario import NAMED, ScenarioConfig


class TableError(ValueError):
    """Invalid snapshot input; ``str(err)`` is one line naming file, row and column.

    ``row`` counts as a spreadsheet does (header = row 1, first data row = row 2);
    ``row``/``column`` are None when the whole file (or every row) is concerned.
    """

    def __init__(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.message = " ".join(str(message).split())
        where = file + (f" row {row}" if row is not None else "")
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {self.message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.row, self.column, self.message))


# Cell parsers -------------------------------------------------------------------------


def text(value: str) -> str:
    return value


IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""What an id (``*_id`` column) may look like: never a path, never a spreadsheet formula."""


def identifier(value: str) -> str:
    if IDENTIFIER.fullmatch(value) is None:
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(
            f"bad id {shown!r} (letters, digits, '_', '.', '-'; starting with a letter or digit)"
        )
    return value


def _choice(options: tuple[str, ...], what: str) -> Callable[[str], str]:
    allowed = frozenset(options)

    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r} (expected one of {', '.join(options)})")
        return value

    return parse


area = _choice(AREAS, "area")
office = _choice(OFFICES, "office")
stage = _choice(STAGES, "stage")


def _choice_list(options: tuple[str, ...], what: str) -> Callable[[str], tuple[str, ...]]:
    one = _choice(options, what)

    def parse(value: str) -> tuple[str, ...]:
        items = [one(v.strip()) for v in value.split(";") if v.strip()]
        return tuple(dict.fromkeys(items))  # drop repeats, keep order

    return parse


area_list = _choice_list(AREAS, "area")
role_list = _choice_list(ROLES, "role")
accommodation_list = _choice_list(ACCOMMODATIONS, "accommodation")


FIRST_YEAR, LAST_YEAR = 1970, 2100
"""Dates and datetimes of a snapshot lie in these years (inclusive); others are bad input."""


def _in_years(moment: dt.date, value: str) -> None:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"{value!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}")


@lru_cache(maxsize=4096)
def date(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"bad date {value!r} (expected YYYY-MM-DD)") from None
    _in_years(day, value)
    return day


def no_offset(shown: str) -> str:
    """The one wording of a datetime without a UTC offset, as solve, check and a previous
    plan say it (``shown`` is the value as the message quotes it)."""
    return f"datetime {shown} has no UTC offset (e.g. 2027-02-01T09:00:00-08:00)"


def aware_datetime(value: str) -> dt.datetime:
    """An ISO 8601 datetime with a UTC offset, converted to Pacific (office) time."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"bad datetime {value!r} (expected ISO 8601 with a UTC offset)") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(no_offset(repr(value)))
    _in_years(moment, value)
    return moment.astimezone(OFFICE_TZ)


def nonneg_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        try:
            as_float = float(value)
        except ValueError:
            raise ValueError(f"bad integer {value!r}") from None
        if not as_float.is_integer():
            raise ValueError(f"bad integer {value!r}") from None
        number = int(as_float)
    if number < 0:
        raise ValueError(f"must not be negative, got {number}")
    return number


def nonneg_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"bad number {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"must be a finite number >= 0, got {value!r}")
    return number


_BOOLS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def boolean(value: str) -> bool:
    try:
        return _BOOLS[value.lower()]
    except KeyError:
        raise ValueError(f"bad boolean {value!r} (expected true or false)") from None


@lru_cache(maxsize=1024)
def timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


# scenario.yaml ------------------------------------------------------------------------


def scenario_from_dict(data: Mapping[str, Any], where: str = "scenario") -> ScenarioConfig:
    """Rebuild a ``ScenarioConfig`` from ``scenario_to_dict`` output (or ``base:`` + overrides).

    Raises ``ValueError`` naming the dotted key of an unknown field or a value of the wrong type.
    """
    fields = dict(data)
    base_name = fields.pop("base", None)
    if base_name is not None and base_name not in NAMED:
        raise ValueError(f"{where}.base: unknown base scenario {base_name!r}")
    base = NAMED[base_name] if base_name is not None else ScenarioConfig()
    return _rebuild(base, fields, where)


def _rebuild(obj: Any, overrides: Mapping[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names:
            raise ValueError(f"{where}.{key}: unknown scenario field")
        changes[key] = _convert(getattr(obj, key), value, f"{where}.{key}")
    return dataclasses.replace(obj, **changes)


def _convert(current: Any, value: Any, where: str) -> Any:
    """``value`` with the type of ``current`` (the field's value in the base config)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if dataclasses.is_dataclass(current):
        if isinstance(value, Mapping):
            return _rebuild(current, value, where)
    elif isinstance(current, bool):
        if isinstance(value, bool):
            return value
    elif isinstance(current, int):
        if number and float(value).is_integer():
            return int(value)
    elif isinstance(current, float):
        if number:
            return float(value)
    elif isinstance(current, str):
        if isinstance(value, str):
            return value
    elif isinstance(current, dt.date):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
    elif isinstance(current, tuple):
        if isinstance(value, list | tuple):
            if not current:
                return tuple(value)
            return tuple(_convert(current[0], v, f"{where}[{i}]") for i, v in enumerate(value))
    elif isinstance(current, dict):
        if isinstance(value, Mapping):
            template = next(iter(current.values()), None)
            if template is None:
                return dict(value)
            return {str(k): _convert(template, v, f"{where}.{k}") for k, v in value.items()}
    else:
        return value
    raise ValueError(f"{where}: expected {type(current).__name__}, got {value!r}")


# Schemas --------------------------------------------------------------------------------

_REQUIRED = object()


@dataclass(frozen=True)
class Column:
    """One column: its parser, and the value used when the column or the cell is empty.

    ``default`` is ``_REQUIRED`` for a column that must exist and a cell that
    must not be empty; otherwise an absent column or an empty cell gives ``default``.
    """

    name: str
    parse: Callable[[str], Any]
    default: Any = _REQUIRED

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


def req(name: str, parse: Callable[[str], Any]) -> Column:
    return Column(name, parse)


def opt(name: str, parse: Callable[[str], Any], default: Any = None) -> Column:
    return Column(name, parse, default)


@dataclass(frozen=True)
class Table:
    name: str
    id_column: str | None
    columns: tuple[Column, ...]
    needs_rows: bool
    required_columns: tuple[str, ...] = ()
    """Columns that must be present although their cells may be empty."""


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "postings",
            "posting_id",
            (
                req("posting_id", identifier),
                req("team", text),
                req("area", area),
                req("office", office),
                req("headcount", nonneg_int),
                req("open_date", date),
                opt("research", boolean, False),
                opt("hourly_rate", nonneg_float, 0.0),
            ),
            needs_rows=True,
        ),
        Table(
            "candidates",
            "candidate_id",
            (
                req("candidate_id", identifier),
                req("primary_area", area),
                opt("secondary_area", area),
                req("timezone", timezone),
                opt("applied_date", date),
                opt("form_completed_date", date),
                req("available_from", date),
                req("available_until", date),
                opt("office_preference", office),
                opt("accommodation", accommodation_list, ()),
                opt("publications", nonneg_int, 0),
                opt("onsite", boolean, True),
                req("stage", stage),
                opt("posting_id", identifier),
                opt("last_interview_date", date),
            ),
            needs_rows=True,
            required_columns=("form_completed_date",),
        ),
        Table(
            "interviewers",
            "interviewer_id",
            (
                req("interviewer_id", identifier),
                req("team", text),
                req("office", office),
                opt("areas", area_list, ()),
                opt("roles", role_list, ()),
                req("max_per_day", nonneg_int),
                req("max_per_week", nonneg_int),
            ),
            needs_rows=True,
            required_columns=("areas", "roles"),
        ),
        Table(
            "rooms",
            "room_id",
            (
                req("room_id", identifier),
                req("office", office),
                req("capacity", nonneg_int),
                req("accessible", boolean),
            ),
            needs_rows=False,
        ),
        Table(
            "start_windows",
            "window_id",
            (
                req("window_id", identifier),
                req("office", office),
                req("start_date", date),
                req("capacity", nonneg_int),
            ),
            needs_rows=False,
        ),
        Table(
            "busy",
            None,
            (
                req("person_id", identifier),
                req("start", aware_datetime),
                req("end", aware_datetime),
            ),
            needs_rows=False,
        ),
    )
}
"""The snapshot tables, in reading order (references point to earlier tables)."""
