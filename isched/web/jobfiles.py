"""The files of one job, under ``FILES/jobs/ID/``, and their atomic writes.

``tables/`` holds the snapshot the job ran on (every table, also those carried
over from the job it re-plans); ``previous.csv`` the plan it re-plans (with the
confirmed rows marked) and ``previous.ics`` that plan's calendar; ``out/`` the
outputs (``schedule.csv``, ``schedule.ics``, ``report.json``, and ``diff.json``
for a re-plan); ``progress.json`` what the
worker is doing; ``error.txt`` why it failed; ``worker.log`` its own output.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

JOB_ID = re.compile(r"[0-9a-f]{16}")
"""A job's id (``new_id``), which names its folder."""
TABLES = "tables"
OUT = "out"
PREVIOUS = "previous.csv"
PREVIOUS_CALENDAR = "previous.ics"
"""The parent's ``schedule.ics``: which of its events are cancelled (ids not to reuse)."""
PARENT_PLAN = "parent.csv"
"""The parent's ``schedule.csv`` as it was written (what the invites say): the diff's
"before", while ``previous.csv`` holds the ticks and any uploaded edits."""
PROGRESS = "progress.json"
ERROR = "error.txt"
LOG = "worker.log"
OUTPUTS = {
    "schedule.csv": "text/csv; charset=utf-8",
    "schedule.ics": "text/calendar; charset=utf-8",
    "report.json": "application/json",
    "diff.json": "application/json",
}


def new_id() -> str:
    """A fresh job id (it matches ``JOB_ID``)."""
    return secrets.token_hex(8)


def saved_as(job_id: str, name: str) -> str:
    """The name a job's download is saved as, one per job (``JOB-schedule.csv``); an
    upload reads it back as ``name`` (``uploads.plain``)."""
    return f"{job_id}-{name}"


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write ``path`` through a temporary sibling and a rename: never half-written."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_json(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=2) + "\n")


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or None when it is absent or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
