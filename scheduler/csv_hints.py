"""What a spreadsheet's CSV export got wrong, in words a coordinator can act on.

Two exports look like CSV but are not what the tables need: a European Excel's
";"-separated file (or a tab-separated one), and "Unicode text", which is UTF-16.
Both the table loaders and the independent validator name them the same way.
"""

from __future__ import annotations

import csv

SAVE_AS = "save the table as 'CSV UTF-8 (comma delimited)'"


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
    """The message for bytes that are not UTF-8: UTF-16 is named as such."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:200].count(0) > 10:
        return f"UTF-16 text, not UTF-8: {SAVE_AS}"
    return "not UTF-8 text"
