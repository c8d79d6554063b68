"""Export a schedule (``schedule.csv`` rows) as an iCalendar file (RFC 5545).

One ``VCALENDAR`` (``METHOD:PUBLISH``) with a ``VTIMEZONE`` for the office zone
(``America/Los_Angeles``) and one ``VEVENT`` per interview:

- ``UID`` is ``{interview_id}@isched``, so a re-planned interview updates the same
  calendar entry; ``SEQUENCE`` counts its significant revisions (see ``sequence_for``);
- ``DTSTART``/``DTEND`` are in Pacific time with ``TZID=America/Los_Angeles``;
- ``STATUS`` is ``CONFIRMED`` for confirmed rows and ``TENTATIVE`` for proposed ones;
- after a re-plan, an interview of the previous schedule that the new one no
  longer has (its candidate withdrew or was rejected, or it was a duplicate) is
  kept as ``STATUS:CANCELLED`` with its ``UID`` and ``SEQUENCE`` + 1, so that a
  calendar that imported the previous file takes it off the interviewers'
  calendars; one that has begun by ``DTSTAMP``, or that the candidate's stage
  says was held, is left out instead (see ``cancelled_rows``);
- the snapshot tables carry no e-mail addresses, so attendees get placeholder
  addresses: ``mailto:{candidate_id}@candidates.isched.example`` and
  ``mailto:{interviewer_id}@interviewers.isched.example`` (``CN`` is the id).

The file is written atomically: a temporary file in the target directory, then
``os.replace``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from scheduler.domain import OFFICE_TZ, VIRTUAL, Candidate, Snapshot

__all__ = [
    "CANDIDATE_DOMAIN",
    "DEFAULT_ORGANIZER",
    "INTERVIEWER_DOMAIN",
    "PRODID",
    "cancelled_rows",
    "event_uid",
    "cancelled_events",
    "read_calendar",
    "sent_sequence",
    "unlisted_events",
    "sequence_for",
    "session_times",
    "write_ics",
]

PRODID = "-//isched//interview scheduling//EN"
TZID = "America/Los_Angeles"
DEFAULT_ORGANIZER = "mailto:recruiting@isched.example"
CANDIDATE_DOMAIN = "candidates.isched.example"
INTERVIEWER_DOMAIN = "interviewers.isched.example"
OFFICE_NAMES = {"los_gatos": "Los Gatos office", "los_angeles": "Los Angeles office"}
STATUS = {"confirmed": "CONFIRMED", "proposed": "TENTATIVE", "cancelled": "CANCELLED"}
HELD_BY_STAGE = {
    "screen": frozenset({"screened", "looped", "offered", "hired", "declined"}),
    "loop": frozenset({"looped", "offered", "hired", "declined"}),
}
"""Candidate stages that say an interview of that stage was held."""
CHANGE_FIELDS = ("start", "end", "interviewer_ids", "room_id", "office", "session_starts")
"""Fields whose change is a significant revision (bumps ``SEQUENCE``)."""


# Cells -------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A cell as stripped text; missing values (None, NaN) are ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _split(value: Any) -> list[str]:
    return [part.strip() for part in _text(value).split(";") if part.strip()]


def _when(value: Any) -> dt.datetime:
    """An ISO 8601 datetime with a UTC offset (a naive one is read as Pacific time)."""
    moment = dt.datetime.fromisoformat(_text(value))
    return moment.replace(tzinfo=OFFICE_TZ) if moment.tzinfo is None else moment


def _int(value: Any) -> int | None:
    text = _text(value)
    return int(float(text)) if text else None


def event_uid(interview_id: str) -> str:
    """The stable ``UID`` of an interview's event."""
    return f"{interview_id}@isched"


def read_calendar(path: Path | None) -> dict[str, Event]:
    """The events of a previous ``schedule.ics``, by interview id: what calendars that
    imported it hold, each at its ``SEQUENCE``. A missing file, one that is not
    iCalendar, or events of another tool give nothing."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        calendar = Calendar.from_ical(Path(path).read_bytes())
    except (ValueError, UnicodeDecodeError):
        return {}
    out: dict[str, Event] = {}
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", ""))
        if isinstance(event, Event) and uid.endswith("@isched"):
            out[uid.removesuffix("@isched")] = event
    return out


def _is_cancelled(event: Event) -> bool:
    return str(event.get("STATUS", "")).upper() == "CANCELLED"


def cancelled_events(events: Mapping[str, Event]) -> dict[str, Event]:
    """The events of ``read_calendar`` that are cancelled. A calendar that imported them
    holds each as cancelled at its ``SEQUENCE``: an update under the same ``UID`` at a
    lower or equal sequence is ignored, so a re-plan must not reuse the id."""
    return {i: e for i, e in events.items() if _is_cancelled(e)}


def unlisted_events(
    events: Mapping[str, Event],
    listed: set[str],
    snapshot_date: dt.date,
    now: dt.datetime,
) -> dict[str, Event]:
    """Events calendars hold (``read_calendar``) that neither the previous plan nor the new
    one lists (``listed``; say, a row deleted by hand), dated after ``snapshot_date`` and not
    begun by ``now``: as cancelled events at ``SEQUENCE`` + 1, so calendars drop them."""
    out: dict[str, Event] = {}
    for interview_id, event in sorted(events.items()):
        if interview_id in listed or _is_cancelled(event):
            continue
        start = event.decoded("DTSTART")
        if not isinstance(start, dt.datetime) or start <= now or _event_day(event) <= snapshot_date:
            continue
        gone = Event()
        for key, value in event.property_items(recursive=False)[1:-1]:  # no BEGIN/END
            if key not in ("STATUS", "SEQUENCE", "DTSTAMP"):
                gone.add(key, value, encode=False)
        gone.add("dtstamp", now)
        gone.add("status", "CANCELLED")
        gone.add("sequence", int(event.get("SEQUENCE", 0)) + 1)
        out[interview_id] = gone
    return out


def _sent_form(event: Event) -> tuple[Any, ...]:
    """What calendars show of an event that a revision must announce: times, place,
    status, attendees and each session's time."""
    sessions = [line for line in str(event.get("DESCRIPTION", "")).splitlines()
                if line.startswith("  ")]  # fmt: skip
    attendees = event.get("ATTENDEE", [])
    attendees = attendees if isinstance(attendees, list) else [attendees]
    return (
        event.decoded("DTSTART").timestamp(),
        event.decoded("DTEND").timestamp(),
        str(event.get("LOCATION", "")),
        str(event.get("STATUS", "")).upper(),
        tuple(sorted(str(a) for a in attendees)),
        tuple(sessions),
    )


def sent_sequence(
    row: Mapping[str, Any], sent: Event, snapshot: Snapshot, candidates: Mapping[str, Candidate]
) -> int:
    """The ``SEQUENCE`` a row needs over the event calendars hold for it (``sent``): the
    same when calendars already show the row as it is, else one more. A row moved by hand
    in ``schedule.csv`` since that file was written is caught here, not by its cells.
    ``candidates`` are the snapshot's by id (built once by the caller, not per row)."""
    now = _event(row, snapshot, candidates, dt.datetime.now(dt.UTC), 0, DEFAULT_ORGANIZER)
    base = int(sent.get("SEQUENCE", 0))
    return base if _sent_form(now) == _sent_form(sent) else base + 1


# SEQUENCE ---------------------------------------------------------------------------


def _signature(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a significant revision changes: times (as instants), interviewers, place."""
    return (
        _when(row["start"]).timestamp(),
        _when(row["end"]).timestamp(),
        tuple(_split(row.get("interviewer_ids"))),
        _text(row.get("room_id")),
        _text(row.get("office")),
        tuple(_when(s).timestamp() for s in _split(row.get("session_starts"))),
    )


def sequence_for(row: Mapping[str, Any], previous: Mapping[str, Mapping[str, Any]]) -> int:
    """``SEQUENCE`` of a row: its own ``sequence`` cell if set, else derived from ``previous``.

    A row absent from ``previous`` gets 0; one whose start, end, interviewers, room,
    office or session starts changed gets the previous sequence + 1; an unchanged
    one keeps the previous sequence.
    """
    own = _int(row.get("sequence"))
    if own is not None:
        return own
    before = previous.get(_text(row["interview_id"]))
    if before is None:
        return 0
    base = _int(before.get("sequence")) or 0
    return base if _signature(before) == _signature(row) else base + 1


def cancelled_rows(
    rows: list[dict[str, Any]],
    previous: list[dict[str, Any]],
    candidates: Mapping[str, Candidate],
    now: dt.datetime,
    snapshot_date: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The previous rows the new schedule dropped, as rows to export as cancelled.

    A previous interview absent from ``rows`` (by ``interview_id``) is cancelled
    unless it has begun by ``now``, or is dated before ``snapshot_date`` (held by
    then, whatever the clock says), or is dated no later than ``snapshot_date`` with
    its candidate at a stage past it (it was held: ``HELD_BY_STAGE``); one dated after
    the snapshot day is cancelled even so (say, the screen another recruiter already
    held). Each gets status ``cancelled`` and its previous
    ``sequence`` + 1. A previous file none of whose candidates is in the snapshot
    is of another snapshot (``isched solve`` warns): nothing of it is cancelled.
    """
    if not any(_text(r["candidate_id"]) in candidates for r in previous):
        return []
    kept = {_text(r["interview_id"]) for r in rows}
    out: list[dict[str, Any]] = []
    for row in previous:
        start = _when(row["start"])
        if _text(row["interview_id"]) in kept or start <= now:
            continue
        day = start.astimezone(OFFICE_TZ).date()
        if snapshot_date is not None and day < snapshot_date:
            continue
        candidate = candidates.get(_text(row["candidate_id"]))
        stage = candidate.stage if candidate is not None else ""
        past = stage in HELD_BY_STAGE.get(_text(row.get("stage")), frozenset())
        if past and (snapshot_date is None or day <= snapshot_date):
            continue
        sequence = (_int(row.get("sequence")) or 0) + 1
        out.append({**row, "status": "cancelled", "sequence": str(sequence)})
    return out


# Calendar parts --------------------------------------------------------------------------


def _vtimezone(first: dt.date, last: dt.date) -> Timezone:
    """VTIMEZONE of the office zone covering ``first`` to ``last``."""
    if hasattr(Timezone, "from_tzinfo"):  # icalendar >= 6
        return Timezone.from_tzinfo(OFFICE_TZ, TZID, first_date=first, last_date=last)
    tz = Timezone()  # the US rules since 2007, as RRULEs
    tz.add("tzid", TZID)
    daylight = TimezoneDaylight()
    daylight.add("dtstart", dt.datetime(2007, 3, 11, 2))
    daylight.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "2SU"})
    daylight.add("tzoffsetfrom", dt.timedelta(hours=-8))
    daylight.add("tzoffsetto", dt.timedelta(hours=-7))
    daylight.add("tzname", "PDT")
    standard = TimezoneStandard()
    standard.add("dtstart", dt.datetime(2007, 11, 4, 2))
    standard.add("rrule", {"freq": "yearly", "bymonth": 11, "byday": "1SU"})
    standard.add("tzoffsetfrom", dt.timedelta(hours=-7))
    standard.add("tzoffsetto", dt.timedelta(hours=-8))
    standard.add("tzname", "PST")
    tz.add_component(daylight)
    tz.add_component(standard)
    return tz


def _address(uri: str, cn: str, role: str | None = None) -> vCalAddress:
    address = vCalAddress(uri)
    address.params["CN"] = cn
    if role:
        address.params["ROLE"] = role
    return address


def _location(office: str, room_id: str) -> str:
    if office == VIRTUAL:
        return "Virtual (video call)"
    name = OFFICE_NAMES.get(office, office)
    return f"{room_id}, {name}" if room_id else name


def _summary(row: Mapping[str, Any], snapshot: Snapshot, candidate: Candidate | None) -> str:
    candidate_id = _text(row["candidate_id"])
    posting_id = _text(row.get("posting_id"))
    posting = next((p for p in snapshot.postings if p.posting_id == posting_id), None)
    if _text(row["stage"]) == "loop":
        head = f"Loop: {candidate_id}" + (f" for {posting_id}" if posting_id else "")
        team = posting.team if posting else _interviewer_team(row, snapshot)
        return head + (f" (team {team})" if team else "")
    area = posting.area if posting else (candidate.primary_area if candidate else "")
    return f"Screen: {candidate_id}" + (f" ({area})" if area else "")


def _interviewer_team(row: Mapping[str, Any], snapshot: Snapshot) -> str:
    teams = {i.interviewer_id: i.team for i in snapshot.interviewers}
    found = {teams[i] for i in _split(row.get("interviewer_ids")) if i in teams}
    return found.pop() if len(found) == 1 else ""


def session_times(row: Mapping[str, Any]) -> list[tuple[dt.datetime, dt.datetime, str]]:
    """(start, end, interviewer) per loop session.

    With ``session_starts`` every session is as long as the last one (start to the
    loop's end); without, the loop is split evenly among the interviewers.
    """
    start, end = _when(row["start"]), _when(row["end"])
    interviewers = _split(row.get("interviewer_ids"))
    if not interviewers:
        return []
    starts = [_when(s) for s in _split(row.get("session_starts"))]
    if len(starts) == len(interviewers):
        length = end - starts[-1]
        return [(s, s + length, i) for s, i in zip(starts, interviewers, strict=True)]
    step = (end - start) / len(interviewers)
    return [(start + k * step, start + (k + 1) * step, i) for k, i in enumerate(interviewers)]


def _description(row: Mapping[str, Any], candidate: Candidate | None) -> str:
    lines: list[str] = []
    start = _when(row["start"])
    if _text(row["stage"]) == "loop":
        lines.append("Sessions (Pacific time):")
        for k, (s, e, who) in enumerate(session_times(row), start=1):
            s, e = s.astimezone(OFFICE_TZ), e.astimezone(OFFICE_TZ)
            lines.append(f"  {k}. {s:%H:%M}-{e:%H:%M} with {who}")
    else:
        lines.append("Interviewer: " + ", ".join(_split(row.get("interviewer_ids"))))
    if candidate is None:
        lines.append("Candidate: not in the snapshot")
    else:
        try:
            local = start.astimezone(ZoneInfo(candidate.timezone))
            note = f" (starts {local:%Y-%m-%d %H:%M} local time)"
        except (ZoneInfoNotFoundError, ValueError):
            note = ""
        lines.append(f"Candidate time zone: {candidate.timezone}{note}")
        accommodation = ", ".join(sorted(candidate.accommodation)) or "none"
        lines.append(f"Accommodation: {accommodation}")
    return "\n".join(lines)


def _event(
    row: Mapping[str, Any],
    snapshot: Snapshot,
    candidates: Mapping[str, Candidate],
    stamp: dt.datetime,
    sequence: int,
    organizer: str,
) -> Event:
    interview_id = _text(row["interview_id"])
    candidate_id = _text(row["candidate_id"])
    candidate = candidates.get(candidate_id)
    status = _text(row.get("status")) or "proposed"
    event = Event()
    event.add("uid", event_uid(interview_id))
    event.add("dtstamp", stamp)
    event.add("dtstart", _when(row["start"]).astimezone(OFFICE_TZ))
    event.add("dtend", _when(row["end"]).astimezone(OFFICE_TZ))
    event.add("summary", _summary(row, snapshot, candidate))
    event.add("description", _description(row, candidate))
    event.add("location", _location(_text(row.get("office")), _text(row.get("room_id"))))
    event.add("status", STATUS.get(status, "TENTATIVE"))
    event.add("sequence", sequence)
    event.add("organizer", _address(organizer, "isched recruiting"))
    role = "REQ-PARTICIPANT"
    event.add("attendee", _address(f"mailto:{candidate_id}@{CANDIDATE_DOMAIN}", candidate_id, role))
    for interviewer_id in _split(row.get("interviewer_ids")):
        uri = f"mailto:{interviewer_id}@{INTERVIEWER_DOMAIN}"
        event.add("attendee", _address(uri, interviewer_id, role))
    return event


def _event_day(event: Event) -> dt.date:
    """The office-zone day an event starts on."""
    start = event.decoded("DTSTART")
    if isinstance(start, dt.datetime):
        start = start.astimezone(OFFICE_TZ) if start.tzinfo else start
        return start.date()
    return start


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    return [] if frame is None else frame.to_dict(orient="records")


# Writing ------------------------------------------------------------------------------------


def write_ics(
    schedule: pd.DataFrame,
    snapshot: Snapshot,
    path: Path,
    previous: pd.DataFrame | None = None,
    organizer: str = DEFAULT_ORGANIZER,
    stamp: dt.datetime | None = None,
    snapshot_date: dt.date | None = None,
    cancelled_before: Mapping[str, Event] | None = None,
) -> None:
    """Write ``schedule`` (``schedule.csv`` columns) to ``path`` as one iCalendar file.

    ``previous`` is the schedule before a re-plan: it sets ``SEQUENCE`` where the
    rows have no ``sequence`` column, and its interviews the new schedule dropped
    are exported as cancelled (``cancelled_rows``, which ``snapshot_date`` tells what
    was held); ``cancelled_before`` are the previous file's own cancelled events
    (``cancelled_events``), written again as they were unless a row has their id;
    ``stamp`` is the ``DTSTAMP`` (default: now, UTC).
    """
    stamp = dt.datetime.now(dt.UTC) if stamp is None else stamp
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    stamp = stamp.astimezone(dt.UTC)
    candidates = {c.candidate_id: c for c in snapshot.candidates}
    earlier = _records(previous)
    rows = _records(schedule)
    rows += cancelled_rows(rows, earlier, candidates, stamp, snapshot_date)
    before = {_text(r["interview_id"]): r for r in earlier}

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    written = {_text(r["interview_id"]) for r in rows}
    carried = [e for i, e in sorted((cancelled_before or {}).items()) if i not in written]
    days = [_when(r[k]).astimezone(OFFICE_TZ).date() for r in rows for k in ("start", "end")]
    days += [_event_day(e) for e in carried]
    first = min(days, default=stamp.date())
    last = max(days, default=stamp.date())
    calendar.add_component(_vtimezone(dt.date(first.year, 1, 1), dt.date(last.year + 1, 1, 1)))
    for row in rows:
        sequence = sequence_for(row, before)
        calendar.add_component(_event(row, snapshot, candidates, stamp, sequence, organizer))
    for event in carried:
        calendar.add_component(event)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(calendar.to_ical())
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
