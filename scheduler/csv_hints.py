"""What a spreadsheet's CSV export got wrong, in words a coordinator can act on.

Two exports look like CSV but are not what the tables need: a European Excel's
";"-separated file (or a tab-separated one), and "Unicode text", which is UTF-16.
Both the table loaders and the independent validator name them the same way.
"""

from __future__ import annotations

import csv
import io

SAVE_AS = "save the table as 'CSV UTF-8 (comma delimited)'"
UNCLOSED_QUOTE = 'a quoted value is not closed (a " without its closing one)'
"""A file that ends inside a quoted value, as the loaders and the validator name it."""


def separator_problem(header_line: str) -> str | None:
    """The message for a header that is one column holding ``;`` or tabs, else None."""
    cells = next(csv.reader([header_line.strip("\r\n")]), [])
    if len(cells) != 1:
        return None
    for sep, word in ((";", "semicolons"), ("\t", "tabs")):
        if sep in cells[0]:
            return f"the header is separated by {word}, not commas: {SAVE_AS}"
    return None


def encoding_problem(data: bytes) -> str:
    """The message for bytes that are not UTF-8: UTF-16 is named as such; otherwise (say,
    Excel's plain "CSV (comma delimited)", which is Windows-1252) what to save instead."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:200].count(0) > 10:
        return f"UTF-16 text, not UTF-8: {SAVE_AS}"
    return f"not UTF-8 text: {SAVE_AS}"


def first_bad_byte(data: bytes) -> tuple[int | None, str | None]:
    """(row, column) of the first byte that is not UTF-8, the header being row 1 and the
    column named by the header (None where it has no name); (None, None) for UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8-sig")  # valid up to the bad byte
        rows = list(csv.reader(io.StringIO(before + "x")))  # rows, not lines
        header = [name.strip().lower() for name in rows[0]] if len(rows) > 1 else []
        index = len(rows[-1]) - 1
        column = header[index] if 0 <= index < len(header) and header[index] else None
        return len(rows), column
    return None, None
