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
  calendars with ``busy_blocks_per_day`` meetings of 1-4 slots (cleared after
  the draw when ``busy_calendars`` is false);
  out sick on a day with ``sick_p``;
- candidates: arrival on a front-loaded Beta(1.5, 3) curve mixed with a uniform
  one; the follow-up form after a Geometric delay or never; primary area by
  popularity, a secondary area with ``secondary_area_p``; time zones by the
  configured weights; latent quality N(0.15 * (publications - mean), 1);
  patience and competing-offer deadlines exponential with a floor; no-shows
  Bernoulli(``no_show_p``); availability from a date in mid-May to late June
  for 12-16 weeks (``too_short_availability_p`` of them shorter).

Every quantity is drawn as a numpy array at once (one draw per kind, in a fixed
order), so a ``default`` season takes a few milliseconds; the per-candidate
arrays stay on the season (``Season.cand``) and the ``CandidateTruth`` objects
are built only when ``Season.truths`` is first read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

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
_RESEARCH = np.array([a in RESEARCH_AREAS for a in AREAS])
_ACCOMMODATION_SETS = tuple(frozenset({a}) for a in ACCOMMODATIONS) + (frozenset(),)
"""Index k < 4: that one accommodation; index -1: none."""

T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class CandidateColumns:
    """Per-candidate arrays (aligned with ``snapshot.candidates``), for array-reading code.

    Area and office columns hold indices into ``AREAS`` / ``OFFICES``, -1 for none.
    """

    publications: np.ndarray
    primary_area: np.ndarray
    secondary_area: np.ndarray
    office_preference: np.ndarray
    onsite: np.ndarray
    quality_prior: np.ndarray
    quality: np.ndarray
    screen_noise: np.ndarray
    loop_noise: np.ndarray
    patience_days: np.ndarray
    deadline_days: np.ndarray
    no_show_screen: np.ndarray
    no_show_loop: np.ndarray
    accept_draw: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """The columns by name."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(eq=False)
class Season:
    """One concrete season: the snapshot tables plus the hidden truth of each candidate."""

    config: ScenarioConfig
    seed: int
    days: list[dt.date]
    """Working days of the season, in order; day indices refer to this list."""
    snapshot: Snapshot
    cand: CandidateColumns
    """The candidates' columns, hidden truth included (``truths`` is built from them)."""
    applied_day: np.ndarray
    form_day: np.ndarray
    """Working-day index at which the form is submitted; -1 if never within the season."""
    busy: np.ndarray
    """(n_interviewers, n_days) int64 bitmask of busy slots (bit s = slot s)."""
    sick: set[tuple[int, int]] = field(default_factory=set)
    """(interviewer index, day index) pairs on which the interviewer is out."""
    sick_mask: np.ndarray | None = None
    """(n_interviewers, n_days) bool: the same as ``sick``, as an array."""

    @cached_property
    def truths(self) -> list[CandidateTruth]:
        """Aligned with ``snapshot.candidates``; built from ``cand`` on first access."""
        cols = self.cand
        return build_all(
            CandidateTruth,
            quality=cols.quality.tolist(),
            screen_noise=cols.screen_noise.tolist(),
            loop_noise=cols.loop_noise.tolist(),
            patience_days=cols.patience_days.tolist(),
            deadline_days=cols.deadline_days.tolist(),
            no_show_screen=cols.no_show_screen.tolist(),
            no_show_loop=cols.no_show_loop.tolist(),
            accept_draw=cols.accept_draw.tolist(),
        )

    def busy_blocks(self) -> list[BusyBlock]:
        """Calendar busy rows of the interviewers (built on demand)."""
        if not self.snapshot.busy:
            self.snapshot.busy = busy_blocks_from_masks(
                self.snapshot.interviewers, self.days, self.busy, self.config
            )
        return self.snapshot.busy


def build_all(cls: type[T], **columns: Sequence[Any]) -> list[T]:
    """One frozen dataclass ``cls`` per row of ``columns`` (every field named once).

    The objects are filled without their ``__init__`` (twice as fast for
    thousands of candidates); they compare, hash and print as if constructed.
    """
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if sorted(names) != sorted(columns):
        raise ValueError(f"{cls.__name__}: columns {sorted(columns)} are not its fields")
    new = object.__new__
    out: list[T] = []
    append = out.append
    for row in zip(*(columns[n] for n in names), strict=True):
        obj = new(cls)
        obj.__dict__.update(zip(names, row, strict=True))
        append(obj)
    return out


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
    teams, team_areas, postings = _teams_and_postings(config, rng, days)
    interviewers = _interviewers(config, rng, teams, team_areas)
    busy, sick_mask = _calendars(config, rng, len(interviewers), len(days))
    if not config.busy_calendars:
        busy = np.zeros_like(busy)
    sick = set(zip(*(a.tolist() for a in np.nonzero(sick_mask)), strict=True))
    capacity = rng.integers(4, 9, size=len(OFFICES) * config.rooms_per_office).tolist()
    rooms = [
        Room(
            room_id=f"R-{office}-{r}",
            office=office,
            capacity=capacity[o * config.rooms_per_office + r],
            accessible=r < config.accessible_rooms_per_office,
        )
        for o, office in enumerate(OFFICES)
        for r in range(config.rooms_per_office)
    ] + [
        Room(
            room_id=f"R-{office}-{config.rooms_per_office + r}",
            office=office,
            capacity=8,
            accessible=True,
        )
        for office in OFFICES
        for r in range(config.extra_rooms_per_office)
    ]
    candidates, cand, applied, form = _candidates(config, rng, days)
    snapshot = Snapshot(
        postings=postings,
        candidates=candidates,
        interviewers=interviewers,
        rooms=rooms,
        start_windows=start_windows_for(postings, config),
        busy=busy_blocks_from_masks(interviewers, days, busy, config) if calendar_rows else [],
    )
    return Season(
        config=config,
        seed=seed,
        days=days,
        snapshot=snapshot,
        cand=cand,
        applied_day=applied,
        form_day=form,
        busy=busy,
        sick=sick,
        sick_mask=sick_mask,
    )


def _teams_and_postings(
    config: ScenarioConfig, rng: np.random.Generator, days: list[dt.date]
) -> tuple[list[tuple[str, str]], list[tuple[str, ...]], list[Posting]]:
    """Teams (id, office), the areas each team owns (posting areas included), postings."""
    n_days = len(days)
    n_teams = max(2, min(config.n_postings, config.n_interviewers // config.team_size))
    second = rng.integers(len(AREAS), size=n_teams).tolist()
    single = (rng.random(n_teams) < 0.5).tolist()
    teams = [(f"T{t:03d}", OFFICES[t % 2]) for t in range(n_teams)]
    drawn: list[tuple[int, ...]] = []
    for t in range(n_teams):
        first = t % len(AREAS)
        drawn.append((first,) if second[t] == first or single[t] else (first, second[t]))

    n = config.n_postings
    team_of = np.arange(n) % n_teams
    n_owned = np.array([len(drawn[t]) for t in team_of.tolist()])
    pick = rng.integers(0, n_owned).tolist()
    area = [p if p < len(AREAS) else drawn[t][pick[p]] for p, t in enumerate(team_of.tolist())]
    late = rng.random(n) >= 0.6
    open_index = np.where(late, rng.integers(0, max(1, n_days // 2), size=n), 0).tolist()
    headcount = rng.integers(config.headcount_min, config.headcount_max + 1, size=n).tolist()
    research = (_RESEARCH[np.array(area, dtype=np.int64)] & (rng.random(n) < 0.7)).tolist()
    rate = np.round(rng.uniform(40, 110, size=n)).tolist()
    postings = [
        Posting(
            posting_id=f"P{p:03d}",
            team=teams[t][0],
            area=AREAS[area[p]],
            office=teams[t][1],
            headcount=headcount[p],
            open_date=days[open_index[p]],
            research=research[p],
            hourly_rate=rate[p],
        )
        for p, t in enumerate(team_of.tolist())
    ]
    # A posting whose area its team does not own still needs qualified loopers:
    # give the team that area too.
    owned = [set(a) for a in drawn]
    for p, t in enumerate(team_of.tolist()):
        owned[t].add(area[p])
    return teams, [tuple(AREAS[a] for a in sorted(s)) for s in owned], postings


def _interviewers(
    config: ScenarioConfig,
    rng: np.random.Generator,
    teams: list[tuple[str, str]],
    team_areas: list[tuple[str, ...]],
) -> list[Interviewer]:
    """``team_size``-ish interviewers per team, hiring managers first."""
    n_teams = len(teams)
    per_team = max(2, config.n_interviewers // n_teams)
    extra_members = config.n_interviewers - per_team * n_teams
    sizes = [per_team + (1 if t < extra_members else 0) for t in range(n_teams)]
    n = sum(sizes)
    screen = (rng.random(n) < config.screen_role_p).tolist()
    has_extra = (rng.random(n) < config.extra_area_p).tolist()
    extra = rng.integers(len(AREAS), size=n).tolist()
    per_day = rng.integers(config.max_per_day[0], config.max_per_day[1] + 1, size=n).tolist()
    per_week = rng.integers(config.max_per_week[0], config.max_per_week[1] + 1, size=n).tolist()
    role_sets = {
        (manager, screens): frozenset(
            {"loop"}
            | ({"hiring_manager"} if manager else set())
            | ({"screen"} if screens else set())
        )
        for manager in (False, True)
        for screens in (False, True)
    }
    interviewers: list[Interviewer] = []
    i = 0
    for t, size in enumerate(sizes):
        team_id, office = teams[t]
        owned = team_areas[t]
        managers = 2 if size >= 6 else 1
        for k in range(size):
            skills = owned
            if has_extra[i] and AREAS[extra[i]] not in owned:
                skills = owned + (AREAS[extra[i]],)
            interviewers.append(
                Interviewer(
                    interviewer_id=f"I{i:04d}",
                    team=team_id,
                    office=office,
                    areas=skills,
                    roles=role_sets[k < managers, screen[i] or k == managers],
                    max_per_day=per_day[i],
                    max_per_week=per_week[i],
                )
            )
            i += 1
    return interviewers


def _calendars(
    config: ScenarioConfig, rng: np.random.Generator, n_int: int, n_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Busy bitmasks (``busy_blocks_per_day`` blocks of 1-4 slots) and sick days."""
    slots = config.hours.slots_per_day
    lo, hi = config.busy_blocks_per_day
    counts = rng.integers(lo, hi + 1, size=(n_int, n_days))
    length = rng.integers(1, 5, size=(n_int, n_days, hi), dtype=np.int8)
    # Start uniform over the slots where the block fits (floor of a uniform draw:
    # much faster than bounded integers with a per-element bound).
    room = slots + 1 - length
    draw = rng.random((n_int, n_days, hi), dtype=np.float32) * room
    start = np.minimum(draw.astype(np.int8), room - 1)
    block = ((np.int64(1) << length) - 1) << start
    block[np.arange(hi) >= counts[..., None]] = 0
    busy = np.bitwise_or.reduce(block, axis=2) if hi else np.zeros((n_int, n_days), np.int64)
    sick_mask = rng.random((n_int, n_days)) < config.sick_p
    return busy.astype(np.int64), sick_mask


def _candidates(
    config: ScenarioConfig, rng: np.random.Generator, days: list[dt.date]
) -> tuple[list[Candidate], CandidateColumns, np.ndarray, np.ndarray]:
    """Candidates in order of application, their columns, applied and form day indices."""
    n = config.n_candidates
    n_days = len(days)
    front = rng.random(n) < config.arrival_front_share
    position = np.where(front, rng.beta(1.5, 3.0, n), rng.random(n))
    applied = np.sort(np.minimum((position * n_days).astype(np.int64), n_days - 1))
    delay = rng.geometric(config.form_delay_p, n) - 1
    never = rng.random(n) < config.form_never_p
    form = np.where(never | (applied + delay >= n_days), -1, applied + delay)

    primary = rng.choice(len(AREAS), size=n, p=AREA_POPULARITY)
    secondary = rng.integers(len(AREAS), size=n)
    secondary[(rng.random(n) >= config.secondary_area_p) | (secondary == primary)] = -1
    pubs = rng.poisson(config.publications_mean, n)
    prior_of = np.array(
        [quality_prior(k, config.publications_mean) for k in range(int(pubs.max(initial=0)) + 1)]
    )
    prior = prior_of[pubs]
    accommodation = np.where(
        rng.random(n) < config.accommodation_p, rng.integers(len(ACCOMMODATIONS), size=n), -1
    )
    first_window = min(config.start_window_dates)
    span = (max(config.start_window_dates) - first_window).days + 14
    from_offset = rng.integers(0, span, size=n)
    weeks = np.where(
        rng.random(n) < config.too_short_availability_p, 10, rng.integers(12, 17, size=n)
    )
    until_offset = from_offset + 7 * weeks + rng.integers(0, 7, size=n)
    office_pref = np.where(rng.random(n) < OFFICE_PREFERENCE_P, rng.integers(2, size=n), -1)
    tz_names = list(config.timezones)
    tz_p = np.array([config.timezones[t] for t in tz_names], dtype=float)
    timezone = rng.choice(len(tz_names), size=n, p=tz_p / tz_p.sum())
    onsite = rng.random(n) < config.onsite_p
    cand = CandidateColumns(
        publications=pubs,
        primary_area=primary,
        secondary_area=secondary,
        office_preference=office_pref,
        onsite=onsite,
        quality_prior=prior,
        quality=prior + rng.normal(size=n),
        screen_noise=rng.normal(0.0, config.screen_noise_sd, n),
        loop_noise=rng.normal(0.0, config.loop_noise_sd, n),
        patience_days=patience_draw(rng, config.patience_mean_days, n),
        deadline_days=deadline_draw(rng, config.deadline_mean_days, n),
        no_show_screen=rng.random(n) < config.no_show_p,
        no_show_loop=rng.random(n) < config.no_show_p,
        accept_draw=rng.random(n),
    )

    base = first_window - dt.timedelta(days=7)
    dates = [base + dt.timedelta(days=k) for k in range(int(until_offset.max(initial=0)) + 1)]
    days_or_none: list[dt.date | None] = [*days, None]
    areas_or_none: list[str | None] = [*AREAS, None]
    offices_or_none: list[str | None] = [*OFFICES, None]
    candidates = build_all(
        Candidate,
        candidate_id=[f"C{c:05d}" for c in range(n)],
        primary_area=[AREAS[a] for a in primary.tolist()],
        secondary_area=[areas_or_none[a] for a in secondary.tolist()],
        timezone=[tz_names[z] for z in timezone.tolist()],
        applied_date=[days[d] for d in applied.tolist()],
        form_completed_date=[days_or_none[d] for d in form.tolist()],
        available_from=[dates[k] for k in from_offset.tolist()],
        available_until=[dates[k] for k in until_offset.tolist()],
        office_preference=[offices_or_none[o] for o in office_pref.tolist()],
        accommodation=[_ACCOMMODATION_SETS[a] for a in accommodation.tolist()],
        publications=pubs.tolist(),
        onsite=onsite.tolist(),
        stage=["new" if f >= 0 else "applied" for f in form.tolist()],
    )
    return candidates, cand, applied, form


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


MAX_DRAWN_DAYS = 100_000
"""Patience and deadline draws are capped here (far beyond any season), so that a huge
mean cannot overflow a day count."""


def patience_draw(rng: np.random.Generator, mean_days: float, n: int) -> np.ndarray:
    """Days without contact each of ``n`` candidates waits: ``floor(2 + Exp(mean - 2))``."""
    return _days(2 + rng.exponential(mean_days - 2, n))


def deadline_draw(rng: np.random.Generator, mean_days: float, n: int) -> np.ndarray:
    """Days from the form to a competing offer's deadline: ``floor(8 + Exp(mean - 8))``."""
    return _days(8 + rng.exponential(mean_days - 8, n))


def _days(drawn: np.ndarray) -> np.ndarray:
    """Whole days of a patience or deadline draw, at most ``MAX_DRAWN_DAYS``."""
    return np.minimum(drawn, MAX_DRAWN_DAYS).astype(np.int64)
