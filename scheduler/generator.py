"""Seeded season generator: one ``ScenarioConfig`` + seed -> one concrete ``Season``.

The generator is its own object (as in Jumanji): the env only simulates what it
is given. Distributions (all drawn from one ``numpy.random.Generator``):

- teams: one per posting up to ``n_interviewers // team_size``, alternating
  offices; each team owns one or two areas, and postings cycle through all ten
  areas so every area is hired for when there are at least ten postings;
- postings: 60% open on the first day, the rest uniformly over the first half;
  headcount uniform in ``[headcount_min, headcount_max]``; research roles in
  the research-heavy areas; an hourly rate in $40-$110;
- interviewers: ``team_size`` per team, one hiring manager each (two in teams of
  six or more), a screen role with ``screen_role_p``, the team's areas plus an
  extra area with ``extra_area_p``; caps uniform in the configured ranges;
  calendars with ``busy_blocks_per_day`` meetings of 1-4 slots;
  out sick on a day with ``sick_p``;
- candidates: arrival on a front-loaded Beta(1.5, 3) curve mixed with a uniform
  one; the follow-up form after a Geometric delay or never; primary area by
  popularity, a secondary area with ``secondary_area_p``; time zones by the
  configured weights; latent quality N(0.15 * (publications - mean), 1);
  patience and competing-offer deadlines exponential with a floor; no-shows
  Bernoulli(``no_show_p``); availability from a date in mid-May to late June
  for 12-16 weeks (``too_short_availability_p`` of them shorter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from scheduler.domain import (
    ACCOMMODATIONS,
    AREAS,
    OFFICES,
    BusyBlock,
    Candidate,
    CandidateTruth,
    Interviewer,
    Posting,
    Room,
    Snapshot,
    StartWindow,
)
from scheduler.rules import OFFICE_PREFERENCE_P, quality_prior
from scheduler.scenario import ScenarioConfig

AREA_POPULARITY = np.array([0.16, 0.18, 0.14, 0.12, 0.07, 0.08, 0.07, 0.07, 0.06, 0.05])
RESEARCH_AREAS = frozenset(
    {"recommender_systems", "nlp", "computer_vision", "reinforcement_learning", "reliable_ml"}
)


@dataclass
class Season:
    """One concrete season: the snapshot tables plus the hidden truth of each candidate."""

    config: ScenarioConfig
    seed: int
    days: list[dt.date]
    """Working days of the season, in order; day indices refer to this list."""
    snapshot: Snapshot
    truths: list[CandidateTruth]
    """Aligned with ``snapshot.candidates``."""
    applied_day: np.ndarray
    form_day: np.ndarray
    """Working-day index at which the form is submitted; -1 if never within the season."""
    busy: np.ndarray
    """(n_interviewers, n_days) int64 bitmask of busy slots (bit s = slot s)."""
    sick: set[tuple[int, int]] = field(default_factory=set)
    """(interviewer index, day index) pairs on which the interviewer is out."""

    def busy_blocks(self) -> list[BusyBlock]:
        """Calendar busy rows of the interviewers (built on demand)."""
        if not self.snapshot.busy:
            self.snapshot.busy = busy_blocks_from_masks(
                self.snapshot.interviewers, self.days, self.busy, self.config
            )
        return self.snapshot.busy


def working_days(start: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def generate_season(config: ScenarioConfig, seed: int, *, calendar_rows: bool = True) -> Season:
    """Draw one season of ``config`` from ``seed`` (same seed, same season).

    ``calendar_rows=False`` skips building ``snapshot.busy`` rows (the env reads
    the bitmasks; ``Season.busy_blocks()`` builds the rows when needed).
    """
    rng = np.random.default_rng(seed)
    days = working_days(config.season_start, config.working_days)
    n_days = len(days)
    slots = config.hours.slots_per_day

    # Teams and postings ------------------------------------------------------
    n_teams = max(2, min(config.n_postings, config.n_interviewers // config.team_size))
    teams: list[tuple[str, str, tuple[str, ...]]] = []
    for t in range(n_teams):
        office = OFFICES[t % 2]
        first = AREAS[t % len(AREAS)]
        second = AREAS[int(rng.integers(len(AREAS)))]
        areas = (first,) if second == first or rng.random() < 0.5 else (first, second)
        teams.append((f"T{t:03d}", office, areas))
    postings: list[Posting] = []
    for p in range(config.n_postings):
        team_id, office, team_areas = teams[p % n_teams]
        if p < len(AREAS):
            area = AREAS[p]
        else:
            area = team_areas[int(rng.integers(len(team_areas)))]
        open_index = 0 if rng.random() < 0.6 else int(rng.integers(0, max(1, n_days // 2)))
        postings.append(
            Posting(
                posting_id=f"P{p:03d}",
                team=team_id,
                area=area,
                office=office,
                headcount=int(rng.integers(config.headcount_min, config.headcount_max + 1)),
                open_date=days[open_index],
                research=area in RESEARCH_AREAS and bool(rng.random() < 0.7),
                hourly_rate=float(round(rng.uniform(40, 110))),
            )
        )
    # A posting whose area its team does not own still needs qualified loopers:
    # give the team that area too.
    team_areas_map = {t: set(a) for t, _, a in teams}
    for posting in postings:
        team_areas_map[posting.team].add(posting.area)

    # Interviewers --------------------------------------------------------------
    interviewers: list[Interviewer] = []
    per_team = max(2, config.n_interviewers // n_teams)
    for t, (team_id, office, _) in enumerate(teams):
        owned = sorted(team_areas_map[team_id], key=AREAS.index)
        size = per_team + (1 if t < config.n_interviewers - per_team * n_teams else 0)
        managers = 2 if size >= 6 else 1
        for k in range(size):
            roles = {"loop"}
            if k < managers:
                roles.add("hiring_manager")
            if rng.random() < config.screen_role_p or k == managers:
                roles.add("screen")
            skills: list[str] = list(owned)
            if rng.random() < config.extra_area_p:
                extra = AREAS[int(rng.integers(len(AREAS)))]
                if extra not in skills:
                    skills.append(extra)
            interviewers.append(
                Interviewer(
                    interviewer_id=f"I{len(interviewers):04d}",
                    team=team_id,
                    office=office,
                    areas=tuple(skills),
                    roles=frozenset(roles),
                    max_per_day=int(rng.integers(config.max_per_day[0], config.max_per_day[1] + 1)),
                    max_per_week=int(
                        rng.integers(config.max_per_week[0], config.max_per_week[1] + 1)
                    ),
                )
            )
    n_int = len(interviewers)
    lo, hi = config.busy_blocks_per_day
    busy = np.zeros((n_int, n_days), dtype=np.int64)
    counts = rng.integers(lo, hi + 1, size=(n_int, n_days))
    for i in range(n_int):
        for d in range(n_days):
            mask = 0
            for _ in range(int(counts[i, d])):
                length = int(rng.integers(1, 5))
                start = int(rng.integers(0, slots - length + 1))
                mask |= ((1 << length) - 1) << start
            busy[i, d] = mask
    sick_draw = rng.random((n_int, n_days)) < config.sick_p
    sick = {(int(i), int(d)) for i, d in zip(*np.nonzero(sick_draw), strict=True)}

    # Rooms and start windows -----------------------------------------------------
    rooms: list[Room] = []
    for office in OFFICES:
        for r in range(config.rooms_per_office):
            rooms.append(
                Room(
                    room_id=f"R-{office}-{r}",
                    office=office,
                    capacity=int(rng.integers(4, 9)),
                    accessible=r < config.accessible_rooms_per_office,
                )
            )
    start_windows = start_windows_for(postings, config)

    # Candidates ----------------------------------------------------------------
    n = config.n_candidates
    front = rng.random(n) < config.arrival_front_share
    position = np.where(front, rng.beta(1.5, 3.0, n), rng.random(n))
    applied = np.minimum((position * n_days).astype(np.int64), n_days - 1)
    order = np.argsort(applied, kind="stable")
    applied = applied[order]
    delay = rng.geometric(config.form_delay_p, n) - 1
    never = rng.random(n) < config.form_never_p
    form = np.where(never | (applied + delay >= n_days), -1, applied + delay)
    tz_names = list(config.timezones)
    tz_p = np.array([config.timezones[t] for t in tz_names], dtype=float)
    tz_p /= tz_p.sum()
    first_window = min(config.start_window_dates)
    last_window = max(config.start_window_dates)
    candidates: list[Candidate] = []
    truths: list[CandidateTruth] = []
    for c in range(n):
        primary = AREAS[int(rng.choice(len(AREAS), p=AREA_POPULARITY))]
        secondary = None
        if rng.random() < config.secondary_area_p:
            secondary = AREAS[int(rng.integers(len(AREAS)))]
            if secondary == primary:
                secondary = None
        pubs = int(rng.poisson(config.publications_mean))
        accommodation: frozenset[str] = frozenset()
        if rng.random() < config.accommodation_p:
            accommodation = frozenset({ACCOMMODATIONS[int(rng.integers(len(ACCOMMODATIONS)))]})
        span = (last_window - first_window).days + 14
        available_from = (
            first_window - dt.timedelta(days=7) + dt.timedelta(days=int(rng.integers(0, span)))
        )
        weeks = 10 if rng.random() < config.too_short_availability_p else int(rng.integers(12, 17))
        available_until = available_from + dt.timedelta(weeks=weeks, days=int(rng.integers(0, 7)))
        office_pref = OFFICES[int(rng.integers(2))] if rng.random() < OFFICE_PREFERENCE_P else None
        candidates.append(
            Candidate(
                candidate_id=f"C{c:05d}",
                primary_area=primary,
                secondary_area=secondary,
                timezone=tz_names[int(rng.choice(len(tz_names), p=tz_p))],
                applied_date=days[int(applied[c])],
                form_completed_date=days[int(form[c])] if form[c] >= 0 else None,
                available_from=available_from,
                available_until=available_until,
                office_preference=office_pref,
                accommodation=accommodation,
                publications=pubs,
                onsite=bool(rng.random() < config.onsite_p),
                stage="new" if form[c] >= 0 else "applied",
            )
        )
        prior = quality_prior(pubs, config.publications_mean)
        truths.append(
            CandidateTruth(
                quality=float(prior + rng.normal()),
                screen_noise=float(rng.normal(0.0, config.screen_noise_sd)),
                loop_noise=float(rng.normal(0.0, config.loop_noise_sd)),
                patience_days=int(2 + rng.exponential(config.patience_mean_days - 2)),
                deadline_days=int(8 + rng.exponential(config.deadline_mean_days - 8)),
                no_show_screen=bool(rng.random() < config.no_show_p),
                no_show_loop=bool(rng.random() < config.no_show_p),
                accept_draw=float(rng.random()),
            )
        )

    busy_blocks = busy_blocks_from_masks(interviewers, days, busy, config) if calendar_rows else []
    snapshot = Snapshot(
        postings=postings,
        candidates=candidates,
        interviewers=interviewers,
        rooms=rooms,
        start_windows=start_windows,
        busy=busy_blocks,
    )
    return Season(
        config=config,
        seed=seed,
        days=days,
        snapshot=snapshot,
        truths=truths,
        applied_day=applied,
        form_day=form,
        busy=busy,
        sick=sick,
    )


def start_windows_for(postings: list[Posting], config: ScenarioConfig) -> list[StartWindow]:
    """Each office's cohort start windows, with capacity ``onboarding_share`` of its headcount."""
    windows: list[StartWindow] = []
    for office in OFFICES:
        headcount = sum(p.headcount for p in postings if p.office == office)
        capacity = max(1, int(np.ceil(config.onboarding_share * headcount)))
        for w, start in enumerate(config.start_window_dates):
            windows.append(StartWindow(f"W{w}-{office}", office, start, capacity))
    return windows


def busy_blocks_from_masks(
    interviewers: list[Interviewer], days: list[dt.date], busy: np.ndarray, config: ScenarioConfig
) -> list[BusyBlock]:
    """Calendar rows (one per maximal run of busy slots) from the bitmask array."""
    blocks: list[BusyBlock] = []
    slots = config.hours.slots_per_day
    for i, interviewer in enumerate(interviewers):
        for d, day in enumerate(days):
            mask = int(busy[i, d])
            s = 0
            while s < slots:
                if mask >> s & 1:
                    e = s
                    while e < slots and mask >> e & 1:
                        e += 1
                    blocks.append(
                        BusyBlock(
                            interviewer.interviewer_id,
                            config.hours.slot_start(day, s),
                            config.hours.slot_start(day, e),
                        )
                    )
                    s = e
                else:
                    s += 1
    return blocks
