"""The job page's week calendar (``isched.web.views.office_calendars``): a day with
overlapping interviews gets a column as much wider as it has lanes, and each box shows the
lines of detail its height holds."""

from __future__ import annotations

import datetime as dt

from isched.web.views import Event, office_calendars, unplaced_groups
from scheduler.domain import OFFICE_TZ, WorkingHours


def _event(n: int, day: int, hour: int, hours: int, room: str = "") -> Event:
    start = dt.datetime(2027, 2, day, hour, tzinfo=OFFICE_TZ)
    return Event(
        interview_id=f"IV-C{n}-screen",
        candidate_id=f"C{n}",
        stage="loop" if hours > 1 else "screen",
        office="los_gatos" if room else "virtual",
        room_id=room,
        interviewers=[f"I{n}", f"I{n + 1}"],
        start=start,
        end=start + dt.timedelta(hours=hours),
        status="proposed",
        sessions=[],
    )


def test_a_busy_day_gets_a_wider_column_and_its_boxes_share_it_in_lanes() -> None:
    """Wednesday 24 February holds three interviews at once, Thursday one: Wednesday's
    column weighs 3, the others 1, and no two overlapping boxes share a lane."""
    events = [_event(1, 24, 9, 3), _event(2, 24, 10, 1), _event(3, 24, 10, 1),
              _event(4, 25, 9, 1), _event(5, 24, 14, 1)]  # fmt: skip
    [calendar] = office_calendars(events, WorkingHours())
    [week] = calendar.weeks
    assert [d.isoformat() for d, _ in week.days][2:4] == ["2027-02-24", "2027-02-25"]
    assert week.lanes == [1, 1, 3, 1, 1]
    assert week.columns == (
        "3.2em minmax(3.5em, 1fr) minmax(3.5em, 1fr) minmax(10.5em, 3fr) "
        "minmax(3.5em, 1fr) minmax(3.5em, 1fr)"
    )
    wednesday = week.days[2][1]
    morning = [b for b in wednesday if b.event.start.hour < 13]
    spans = sorted((b.left, b.left + b.width) for b in morning)
    assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:], strict=False))
    assert all(abs(b.width - 100 / 3) < 1e-9 for b in morning)
    alone = next(b for b in wednesday if b.event.start.hour == 14)
    assert alone.width == 100.0  # after the cluster: the whole column


def test_a_box_shows_what_its_height_holds() -> None:
    """A three-hour onsite loop shows its time, room and both interviewers; a one-hour
    virtual screen its time and first lines only; a sliver nothing under its label."""
    loop = _event(1, 24, 9, 3, room="R-los_gatos-0")
    screen = _event(2, 25, 9, 1)
    [onsite, virtual] = office_calendars([loop, screen], WorkingHours())
    box = onsite.weeks[0].days[2][1][0]
    assert box.details == ["09:00-12:00", "room R-los_gatos-0", "I1", "I2"]
    small = virtual.weeks[0].days[3][1][0]
    assert small.details[0] == "09:00-10:00"
    assert len(small.details) == int(small.height / 3.2) - 1 < 4
    small.height = 3.0
    assert small.details == []


def test_unplaced_requests_are_grouped_by_what_holds_them_back_largest_first() -> None:
    unscheduled = [
        {"candidate_id": "C3", "stage": "loop", "reason": "no_common_slot"},
        {"candidate_id": "C1", "stage": "screen", "reason": "form_incomplete"},
        {"candidate_id": "C2", "stage": "screen", "reason": "form_incomplete"},
        {"candidate_id": "C4", "stage": "loop", "reason": "form_incomplete"},
    ]
    groups = unplaced_groups(unscheduled)
    assert [g.reason for g in groups] == ["form_incomplete", "no_common_slot"]
    assert groups[0].candidates == ["C1", "C2", "C4"]
    assert groups[0].stages == {"screen": 2, "loop": 1}
    assert unplaced_groups([]) == []
