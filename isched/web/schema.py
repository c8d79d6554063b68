"""The snapshot tables as the API documents them, derived from ``scheduler.table_schema``.

There is one declaration of the tables (``TABLES``); this module only describes
it: a pydantic model per column and table for ``GET /tables`` and the OpenAPI
docs, and a Markdown summary for the upload endpoint's description.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from scheduler import table_schema as ts
from scheduler.domain import ACCOMMODATIONS, AREAS, OFFICES, ROLES, STAGES

KINDS: dict[Callable[[str], Any], str] = {
    ts.text: "text",
    ts.identifier: "id: [A-Za-z0-9][A-Za-z0-9_.-]*",
    ts.area: "one of: " + ", ".join(AREAS),
    ts.office: "one of: " + ", ".join(OFFICES),
    ts.stage: "one of: " + ", ".join(STAGES),
    ts.area_list: "';'-separated areas",
    ts.role_list: "';'-separated, of: " + ", ".join(ROLES),
    ts.accommodation_list: "';'-separated, of: " + ", ".join(ACCOMMODATIONS),
    ts.date: "date YYYY-MM-DD",
    ts.aware_datetime: "ISO 8601 date-time with a UTC offset",
    ts.nonneg_int: "integer >= 0",
    ts.nonneg_float: "number >= 0",
    ts.boolean: "true or false",
    ts.timezone: "IANA time zone",
}


class ColumnDoc(BaseModel):
    """One declared column of a snapshot table."""

    name: str
    kind: str
    required: bool
    """The column must be present (``must_exist``) and its cells filled (``required``)."""
    must_exist: bool
    default: str | None = None


class TableDoc(BaseModel):
    """One snapshot table: ``NAME.csv`` (or ``.parquet``, or a sheet NAME of a workbook)."""

    name: str
    files: list[str]
    id_column: str | None
    needs_rows: bool
    columns: list[ColumnDoc]


def _default(column: ts.Column) -> str | None:
    if column.required or column.default is None:
        return None
    if isinstance(column.default, bool):
        return "true" if column.default else "false"
    if isinstance(column.default, tuple):
        return ";".join(column.default)
    return str(column.default)


def table_docs() -> list[TableDoc]:
    """Every table of ``TABLES`` with its columns, in reading order."""
    return [
        TableDoc(
            name=table.name,
            files=[f"{table.name}.csv", f"{table.name}.parquet"],
            id_column=table.id_column,
            needs_rows=table.needs_rows,
            columns=[
                ColumnDoc(
                    name=c.name,
                    kind=KINDS.get(c.parse, "text"),
                    required=c.required,
                    must_exist=c.required or c.name in table.required_columns,
                    default=_default(c),
                )
                for c in table.columns
            ],
        )
        for table in ts.TABLES.values()
    ]


def tables_markdown() -> str:
    """The tables and their columns as Markdown (the upload endpoint's description)."""
    lines = ["| table | columns (* required) |", "| --- | --- |"]
    for table in table_docs():
        cols = ", ".join(f"`{c.name}`{'*' if c.required else ''}" for c in table.columns)
        lines.append(f"| `{table.name}.csv` | {cols} |")
    return "\n".join(lines)
