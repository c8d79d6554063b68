"""What a coordinator must act on after a solve, in words: one line per warning.

``report_warnings`` reads ``report.json`` (``solve_snapshot``'s report) and says
which confirmed interviews were dropped or moved (the candidate must be told),
which were kept from before the snapshot (the tables lag behind), which
proposed interviews were planned anew, when a previous plan matches nothing,
and which ids differ only in case. ``isched solve`` prints them on stderr as
``warning: LINE``; the web app shows them on the job's page.
"""

from __future__ import annotations

from typing import Any


def report_warnings(report: dict[str, Any], previous: str = "--previous") -> list[str]:
    """The report's warnings, one line each; ``previous`` names the previous plan."""
    lines = list(report.get("id_case_twins", []))  # a spreadsheet's lookups take them for one
    for d in report.get("dropped_previous", []):
        if d.get("status") == "confirmed":  # its calendar entry must be cancelled by hand
            lines.append(f"confirmed {_who(d)} dropped: {d['reason']}")
    if report.get("previous_rows") and report.get("previous_matched") == 0:
        lines.append(f"none of the {report['previous_rows']} rows of {previous} is an interview "
                     "of this snapshot (a schedule of another snapshot?)")  # fmt: skip
    ignored = report.get("previous_calendar_ignored")
    if report.get("previous_matched") and ignored:
        lines.append(f"the calendar {ignored['file']} beside {previous} was not used: "
                     f"{ignored['why']}; what calendars hold (interviews cancelled, or moved "
                     "by hand since) is not known, so their updates may be ignored")  # fmt: skip
    elif (
        report.get("previous_matched")
        and "previous_calendar" in report
        and (report["previous_calendar"] is None)
    ):
        lines.append(f"no calendar (schedule.ics) of {previous} was found beside it: what "
                     "calendars hold (interviews cancelled, or moved by hand since) is not "
                     "known, so their updates may be ignored; keep the plan's schedule.ics "
                     "beside it")  # fmt: skip
    for h in report.get("moved_by_hand_on_busy", []):  # the block may be another meeting
        people = h["people"].replace(";", ", ")
        lines.append(f"confirmed {h['interview_id']} was moved by hand to {h['start'][:16]} "
                     f"since its calendar entry was sent; the busy blocks of {people} then "
                     "are taken to be this interview: if one is a meeting, move it")  # fmt: skip
    for u in report.get("cancelled_unlisted", []):  # a row deleted by hand, say
        when = u["start"][:16]
        lines.append(f"{u['interview_id']} ({when}) is in the previous calendar but in "
                     f"neither {previous} nor the new plan: cancelled in schedule.ics")  # fmt: skip
    stale = report.get("proposed_before_horizon", [])
    if stale:  # by design (only confirmed rows are kept), but easy to forget
        first = (report.get("horizon") or {}).get("first_day")
        lines.append(f"{len(stale)} proposed interviews dated on or before the snapshot day "
                     f"({report.get('snapshot_date')}) were planned anew from {first}: mark an "
                     "interview confirmed to keep it")  # fmt: skip
    for h in report.get("held_confirmed", []):
        if h.get("before_snapshot"):  # held already, by the date: the tables lag behind
            day = h["start"][:10]
            lines.append(f"confirmed {_who(h)} was on {day}, before the snapshot: kept as it "
                         "was; update the candidate's stage in candidates.csv")  # fmt: skip
    for m in report.get("moved_confirmed", []):  # a coordinator must tell the candidate
        if not m.get("new_start"):  # no time found: it is gone from the plan
            lines.append(f"confirmed {_who(m)} dropped: {m['reason']}; no new time was "
                         "found, so it is cancelled in schedule.ics")  # fmt: skip
            continue
        where = f"now {m['new_start']}"
        if m["new_start"] == m.get("old_start"):
            where = f"kept its time, {_what_changed(m)} (now proposed)"
        lines.append(f"confirmed {_who(m)} moved: {m['reason']}; {where}")
    return lines


def _what_changed(m: dict[str, Any]) -> str:
    """The room and interviewers of a confirmed interview that kept its time, old -> new."""
    changes = []
    for what in ("room", "interviewers"):
        old, new = m.get(f"old_{what}"), m.get(f"new_{what}")
        if old is not None and new is not None and old != new:
            changes.append(f"{what} {old or 'none'} -> {new or 'none'}".replace(";", ", "))
    return "with " + " and ".join(changes) if changes else "with another room or interviewers"


def _who(entry: dict[str, Any]) -> str:
    return f"{entry['interview_id']} ({entry['candidate_id']}, {entry['stage']})"
