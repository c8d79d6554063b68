"""What can be booked or offered today: the env's booking searches and offer rules.

Functions of a ``SeasonState``; results are cached on the state and
invalidated by its versions (a booking changes the calendar of some areas and
teams, an offer or an answer changes seats). The env masks actions with them,
and planners reach them through ``envs.known.KnownState``.

Rules (SPEC.md): a screen is one qualified screener, virtual, from tomorrow
within ``horizon_days``; a loop is run by the team of the candidate's target
posting (its hiring manager and members), consecutive sessions on one day, at
least ``min_gap_days`` after the screen, onsite where the candidate wants it and
a room is free; an offer names a posting **of the team that ran the
candidate's loop** in one of their areas, with a seat, past its 7-day
minimum, and a start window with onboarding capacity that leaves 12 weeks
inside their availability after the onboarding lead.
"""

from __future__ import annotations

import datetime as dt

from envs.calendar import candidate_hours_mask, run_starts
from envs.layout import N_OFFER_OPTIONS
from envs.state import SeasonState
from scheduler.domain import INTERNSHIP_WEEKS, InterviewFormat, WorkingHours
from scheduler.rules import acceptance_probability as accept_rule

ScreenSlot = tuple[int, int, int]
"""(day, start slot, screener) of a bookable screen."""
LoopSlot = tuple[int, int, tuple[int, ...], int]
"""(day, start slot, interviewers in session order, room or -1) of a bookable loop."""


def horizon(s: SeasonState, first: int) -> range:
    """Days from ``first`` (never before tomorrow) within the booking horizon."""
    return range(max(first, s.day + 1), min(s.day + 1 + s.config.horizon_days, s.n_days))


_SEASON_HOURS: dict[tuple[str, tuple[dt.date, ...], WorkingHours, InterviewFormat], list[int]] = {}
"""Hours masks of a whole season's days per time zone, shared by the seasons of a process
(the seasons of a scenario share their days; a few dozen entries at most)."""


def season_hours_masks(tz: str, days: tuple[dt.date, ...], hours: WorkingHours,
                       fmt: InterviewFormat) -> list[int]:  # fmt: skip
    """Candidate-local-hours mask of each of ``days`` in time zone ``tz`` (cached)."""
    key = (tz, days, hours, fmt)
    masks = _SEASON_HOURS.get(key)
    if masks is None:
        if len(_SEASON_HOURS) >= 256:  # seasons on ever new days: keep the cache bounded
            _SEASON_HOURS.clear()
        masks = _SEASON_HOURS[key] = [candidate_hours_mask(tz, day, hours, fmt) for day in days]
    return masks


def hours_masks(s: SeasonState, c: int, days: range) -> list[int]:
    """Candidate-local-hours masks of ``days`` (looked up once per time zone and season)."""
    tz = s.candidates[c].timezone
    masks = s.tz_masks.get(tz)
    if masks is None:
        masks = s.tz_masks[tz] = season_hours_masks(
            tz, s.days_key, s.config.hours, s.config.interview
        )
    return masks[days.start : days.stop]


def can_hold_loop(s: SeasonState, c: int, first: int | None = None) -> bool:
    """Whether some working day from ``first`` on has room for candidate ``c``'s whole loop
    inside their local hours (calendars, caps and rooms aside). Without one, no play
    can loop ``c``, hence none can offer them a posting: loops are booked only there.

    ``first`` defaults to the earliest day a loop can follow the form: the screen the
    next day at the earliest, the loop ``min_gap_days`` after it."""
    cand = s.candidates[c]
    fmt = s.config.interview
    if first is None:
        first = int(s.season.form_day[c]) + 1 + fmt.min_gap_days
    span = fmt.session_offsets(cand.accommodation)[-1] + fmt.session_length(cand.accommodation)
    return any(run_starts(m, span) for m in hours_masks(s, c, range(first, s.n_days)))


def screen_search(s: SeasonState, c: int) -> ScreenSlot | None:
    """The earliest bookable screen of candidate ``c`` (None: nothing in the horizon).

    Cached per (areas, time zone, extended time) on the day and the versions of
    the areas' calendars. When only bookings moved those calendars (no
    cancellation: ``Calendar.releases``), the cached answer stands if it is
    still free, or if it was None: taking slots never makes an earlier screen
    (or one at all) bookable, and the earliest start of each screener only grows.
    """
    cand = s.candidates[c]
    areas = s.c_areas[c]
    key = (areas, cand.timezone, "extended_time" in cand.accommodation)
    version = s.area_version
    stamp = (s.epoch, *[version[a] for a in areas])
    hit = s.screen_cache.get(key)
    calendar = s.calendar
    if hit is not None:
        if hit[0] == stamp:
            return hit[2]
        if hit[0][0] == s.epoch and hit[1] == calendar.releases:
            found = hit[2]
            length = s.config.interview.screen_length(cand.accommodation)
            if found is None or calendar.screen_still_free(found, length):
                s.screen_cache[key] = (stamp, calendar.releases, found)
                return found
    screeners = s.screeners.get(areas)
    if screeners is None:
        screeners = list(s.area_screeners[areas[0]])
        for a in areas[1:]:
            screeners += [i for i in s.area_screeners[a] if i not in screeners]
        s.screeners[areas] = screeners
    days = horizon(s, s.day + 1)
    length = s.config.interview.screen_length(cand.accommodation)
    result = calendar.find_screen(screeners, days, hours_masks(s, c, days), length)
    s.screen_cache[key] = (stamp, calendar.releases, result)
    return result


def target_posting(s: SeasonState, c: int) -> int:
    """The posting a loop is held for (-1: none).

    Primary area first, then the preferred office, then the most seats left.
    """
    best, best_key = -1, None
    pref = s.candidates[c].office_preference
    for rank, a in enumerate(s.c_areas[c]):
        for p in s.area_postings[a]:
            if s.p_remaining[p] <= 0 or s.p_open[p] > s.day:
                continue
            key = (rank, s.postings[p].office != pref if pref else False, -s.p_remaining[p], p)
            if best_key is None or key < best_key:
                best, best_key = p, key
    return best


def loop_search(s: SeasonState, c: int) -> tuple[int, LoopSlot] | None:
    """(target posting, earliest bookable loop) of candidate ``c`` (None: nothing bookable).

    Cached per candidate on the day, the target posting and the versions of its
    team's and office's calendars (an offer may change the target, nothing else).
    """
    p = target_posting(s, c)
    if p < 0:
        return None
    team, office = s.p_team[p], s.p_office[p]
    stamp = (s.epoch, p, s.team_version[team], s.room_version[office])
    hit = s.loop_cache.get(c)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    cand = s.candidates[c]
    fmt = s.config.interview
    onsite = cand.onsite and "virtual_only" not in cand.accommodation
    rooms: list[int] = []
    if onsite:
        accessible = "accessible_room" in cand.accommodation
        rooms = (s.accessible_rooms_of if accessible else s.rooms_of)[office]
        if not rooms:
            onsite = False
    days = horizon(s, s.screen_day[c] + fmt.min_gap_days)
    found = s.calendar.find_loop(
        s.team_managers[team],
        s.team_members[team],
        rooms if onsite else [],
        days,
        hours_masks(s, c, days),
        fmt.session_offsets(cand.accommodation),
        fmt.session_length(cand.accommodation),
    )
    result = (p, found) if found is not None else None
    s.loop_cache[c] = (stamp, result)
    return result


def candidate_postings(s: SeasonState, c: int) -> list[tuple[int, int]]:
    """(area rank, posting) of the postings that may hire ``c``: their areas, and once
    their loop is held, only the postings of the team that ran it."""
    loop_p = s.loop_posting[c]
    team = s.p_team[loop_p] if loop_p >= 0 else -1
    return [
        (rank, p)
        for rank, a in enumerate(s.c_areas[c])
        for p in s.area_postings[a]
        if team < 0 or s.p_team[p] == team
    ]


def offer_options(s: SeasonState, c: int) -> list[tuple[int, int]]:
    """Ranked (posting, start window) pairs candidate ``c`` may be offered today."""
    stamp = (s.epoch, s.offer_version)
    hit = s.option_cache.get(c)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    pref = s.candidates[c].office_preference
    earliest = s.days[s.day].toordinal() + s.config.onboarding_lead_days
    fitting = availability_windows(s, c)
    ranked = []
    for rank, p in candidate_postings(s, c):
        if s.p_remaining[p] <= 0 or s.p_first_offer[p] > s.day:
            continue
        windows = open_windows(s, fitting[s.p_office[p]], earliest)
        if windows:
            key = (rank, bool(pref) and s.postings[p].office != pref, -s.p_remaining[p], p)
            ranked.append((key, p, windows))
    ranked.sort()
    options = [(p, ws[0]) for _, p, ws in ranked]
    options += [(p, w) for _, p, ws in ranked for w in ws[1:2]]
    options = options[:N_OFFER_OPTIONS]
    s.option_cache[c] = (stamp, options)
    return options


def availability_windows(s: SeasonState, c: int) -> list[list[int]]:
    """Per office, its start windows (in ``office_windows`` order) that leave 12 weeks
    inside candidate ``c``'s availability; computed once per candidate and season."""
    fitting = s.c_windows[c]
    if fitting is None:
        cand, start_of = s.candidates[c], s.window_start
        first, last = cand.available_from.toordinal(), cand.available_until.toordinal()
        fitting = s.c_windows[c] = [
            [w for w in ws if first <= start_of[w] and start_of[w] + 7 * INTERNSHIP_WEEKS <= last]
            for ws in s.office_windows
        ]
    return fitting


def open_windows(s: SeasonState, windows: list[int], earliest: int) -> list[int]:
    """Those of ``windows`` with onboarding capacity starting on or after the ordinal
    ``earliest`` (with ``availability_windows``: the windows ``window_fits``)."""
    left, start_of = s.window_left, s.window_start
    return [w for w in windows if left[w] > 0 and start_of[w] >= earliest]


def window_fits(s: SeasonState, c: int, w: int, earliest: int) -> bool:
    """Start window ``w`` has onboarding capacity, starts on or after the ordinal
    ``earliest`` and leaves 12 weeks inside candidate ``c``'s availability."""
    cand, start = s.candidates[c], s.windows[w].start_date
    return (
        s.window_left[w] > 0
        and start.toordinal() >= earliest
        and cand.available_from <= start
        and start.toordinal() + 7 * INTERNSHIP_WEEKS <= cand.available_until.toordinal()
    )


def seats_for(s: SeasonState, c: int) -> tuple[bool, int]:
    """(hireable, open seats) of candidate ``c`` today: whether a posting that may hire
    them has a seat and a start window they fit, and the seats left in those postings.

    Only offers and answers change either, so the result is cached per day and
    offer version (a booking does not recompute it).
    """
    stamp = (s.epoch, s.offer_version, s.loop_posting[c])
    hit = s.seat_cache.get(c)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    loop_p = s.loop_posting[c]
    seats, offices = seats_in(s, s.c_areas[c], s.p_team[loop_p] if loop_p >= 0 else -1)
    earliest = s.days[s.day].toordinal() + s.config.onboarding_lead_days
    fitting = availability_windows(s, c)
    hireable = False
    for office in offices:
        if open_windows(s, fitting[office], earliest):
            hireable = True
            break
    s.seat_cache[c] = (stamp, (hireable, seats))
    return hireable, seats


def seats_in(s: SeasonState, areas: tuple[int, ...], team: int) -> tuple[int, list[int]]:
    """Seats left in the postings of ``areas`` (of ``team`` only, when not -1) and the
    offices of the postings with a seat: ``candidate_postings`` of every candidate of
    those areas, computed once per offer version."""
    key = (areas, team)
    hit = s.area_seat_cache.get(key)
    if hit is not None and hit[0] == s.offer_version:
        return hit[1]
    seats, offices = 0, []
    for a in areas:
        for p in s.area_postings[a]:
            left = s.p_remaining[p]
            if left > 0 and (team < 0 or s.p_team[p] == team):
                seats += left
                if s.p_office[p] not in offices:
                    offices.append(s.p_office[p])
    s.area_seat_cache[key] = (s.offer_version, (seats, offices))
    return seats, offices


def acceptance_probability(s: SeasonState, c: int, p: int, offer_day: int) -> float:
    """Chance that candidate ``c`` accepts posting ``p`` offered on ``offer_day``."""
    cand, post = s.candidates[c], s.postings[p]
    return accept_rule(
        s.config.accept_base,
        primary_area=post.area == cand.primary_area,
        preferred_office=not cand.office_preference or cand.office_preference == post.office,
        days_since_form=offer_day - int(s.form_day[c]),
    )
