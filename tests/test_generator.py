"""The season generator: seeded, vectorised, and drawing the documented distributions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import pytest

from scheduler.domain import ACCOMMODATIONS, AREAS, INTERNSHIP_WEEKS, OFFICES
from scheduler.generator import (
    AREA_POPULARITY,
    RESEARCH_AREAS,
    Season,
    busy_blocks_from_masks,
    generate_season,
)
from scheduler.rules import OFFICE_PREFERENCE_P, quality_prior
from scheduler.scenario import NAMED, ScenarioConfig


@pytest.fixture(scope="module")
def large() -> Season:
    return generate_season(NAMED["large"], 11, calendar_rows=False)


def _same(a: Season, b: Season) -> None:
    assert a.config == b.config and a.seed == b.seed and a.days == b.days
    assert a.snapshot == b.snapshot
    assert a.truths == b.truths
    assert a.sick == b.sick
    for name in ("applied_day", "form_day", "busy", "sick_mask"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    for name, column in a.cand.arrays().items():
        other = b.cand.arrays()[name]
        assert column.dtype == other.dtype and np.array_equal(column, other), name


@pytest.mark.parametrize("scenario", ["tiny", "default", "large"])
def test_same_seed_same_season(scenario: str) -> None:
    config = NAMED[scenario]
    _same(generate_season(config, 5), generate_season(config, 5))
    _same(
        generate_season(config, 5, calendar_rows=False),
        generate_season(config, 5, calendar_rows=False),
    )


def test_different_seeds_differ() -> None:
    a, b = generate_season(NAMED["default"], 1), generate_season(NAMED["default"], 2)
    assert a.snapshot.candidates != b.snapshot.candidates
    assert a.snapshot.interviewers != b.snapshot.interviewers
    assert not np.array_equal(a.busy, b.busy)
    assert not np.array_equal(a.cand.quality, b.cand.quality)


def test_candidate_moments(large: Season) -> None:
    """Sample moments of 5000 candidates match the documented distributions."""
    cfg, cand, n_days = large.config, large.cand, len(large.days)
    n = cfg.n_candidates
    applied, form = large.applied_day, large.form_day
    # Arrival: a share on Beta(1.5, 3), the rest uniform (mean of the mixture).
    front = cfg.arrival_front_share
    want = front * 1.5 / 4.5 + (1 - front) * 0.5
    assert abs(np.mean((applied + 0.5) / n_days) - want) < 0.015
    early = applied <= n_days - 20  # a form delay past the season end is negligible here
    assert abs(np.mean(form[early] < 0) - cfg.form_never_p) < 0.02
    delay = (form - applied)[early & (form >= 0)]
    assert abs(delay.mean() - (1 - cfg.form_delay_p) / cfg.form_delay_p) < 0.15
    assert abs(cand.publications.mean() - cfg.publications_mean) < 0.1
    # A secondary area with secondary_area_p, dropped when it repeats the primary.
    repeat = float(AREA_POPULARITY.sum()) / len(AREAS)
    assert abs(np.mean(cand.secondary_area >= 0) - cfg.secondary_area_p * (1 - repeat)) < 0.025
    shares = np.bincount(cand.primary_area, minlength=len(AREAS)) / n
    assert np.abs(shares - AREA_POPULARITY).max() < 0.02
    assert abs(cand.no_show_screen.mean() - cfg.no_show_p) < 0.012
    assert abs(cand.no_show_loop.mean() - cfg.no_show_p) < 0.012
    assert abs(np.mean(cand.office_preference >= 0) - OFFICE_PREFERENCE_P) < 0.025
    assert abs(cand.onsite.mean() - cfg.onsite_p) < 0.025
    # Quality ~ N(prior, 1); patience and deadline are whole days of floor + Exponential.
    residual = cand.quality - cand.quality_prior
    assert abs(residual.mean()) < 0.05 and abs(residual.std() - 1.0) < 0.05
    assert abs(cand.screen_noise.std() - cfg.screen_noise_sd) < 0.05
    assert abs(cand.loop_noise.std() - cfg.loop_noise_sd) < 0.03

    def floored_mean(floor: int, mean: float) -> float:
        return floor + 1 / math.expm1(1 / (mean - floor))

    assert cand.patience_days.min() >= 2 and cand.deadline_days.min() >= 8
    assert abs(cand.patience_days.mean() - floored_mean(2, cfg.patience_mean_days)) < 0.3
    assert abs(cand.deadline_days.mean() - floored_mean(8, cfg.deadline_mean_days)) < 1.2
    assert abs(cand.accept_draw.mean() - 0.5) < 0.02


def test_candidate_tables_moments(large: Season) -> None:
    cfg, candidates = large.config, large.snapshot.candidates
    n = len(candidates)
    names = list(cfg.timezones)
    weights = np.array([cfg.timezones[t] for t in names]) / sum(cfg.timezones.values())
    counts = np.array([sum(c.timezone == t for c in candidates) for t in names]) / n
    assert np.abs(counts - weights).max() < 0.02
    short = [c.available_until < c.available_from + dt.timedelta(weeks=12) for c in candidates]
    assert abs(np.mean(short) - cfg.too_short_availability_p) < 0.015
    lengths = {(c.available_until - c.available_from).days for c in candidates}
    assert lengths <= set(range(70, 77)) | set(range(84, 16 * 7 + 7))
    first = min(cfg.start_window_dates) - dt.timedelta(days=7)
    span = (max(cfg.start_window_dates) - min(cfg.start_window_dates)).days + 14
    starts = {(c.available_from - first).days for c in candidates}
    assert starts == set(range(span))
    assert abs(np.mean([bool(c.accommodation) for c in candidates]) - cfg.accommodation_p) < 0.015
    assert all(len(c.accommodation) <= 1 and c.accommodation <= set(ACCOMMODATIONS)
               for c in candidates)  # fmt: skip


def test_candidates_agree_with_their_columns_and_truths(large: Season) -> None:
    cfg, cand = large.config, large.cand
    candidates, truths = large.snapshot.candidates, large.truths
    assert len(candidates) == len(truths) == cfg.n_candidates
    assert [c.candidate_id for c in candidates] == [f"C{c:05d}" for c in range(len(candidates))]
    assert list(large.applied_day) == sorted(large.applied_day)
    for c, (cd, truth) in enumerate(zip(candidates, truths, strict=True)):
        assert cd.applied_date == large.days[large.applied_day[c]]
        f = int(large.form_day[c])
        assert (cd.form_completed_date is None) == (f < 0)
        assert cd.stage == ("new" if f >= 0 else "applied")
        if f >= 0:
            assert f >= large.applied_day[c] and cd.form_completed_date == large.days[f]
        assert cd.primary_area == AREAS[cand.primary_area[c]]
        assert cd.secondary_area != cd.primary_area
        assert cd.publications == cand.publications[c]
        assert cand.quality_prior[c] == quality_prior(cd.publications, cfg.publications_mean)
        assert truth.quality == cand.quality[c] and truth.patience_days == cand.patience_days[c]
        assert truth.deadline_days == cand.deadline_days[c]
        assert truth.accept_draw == cand.accept_draw[c]
        assert truth.no_show_loop == cand.no_show_loop[c]
    assert type(truths[0].patience_days) is int and type(truths[0].no_show_screen) is bool
    assert type(candidates[0].publications) is int and type(candidates[0].onsite) is bool
    # Frozen dataclasses built without __init__ still behave as constructed ones.
    again = dataclasses.replace(candidates[0])
    assert again == candidates[0] and hash(again) == hash(candidates[0])


def test_postings_teams_and_interviewers(large: Season) -> None:
    """Every posting can be screened and looped by its own team, with a hiring manager."""
    cfg, snap = large.config, large.snapshot
    assert {p.area for p in snap.postings} == set(AREAS)
    assert [p.area for p in snap.postings[: len(AREAS)]] == list(AREAS)
    headcounts = {p.headcount for p in snap.postings}
    assert headcounts == set(range(cfg.headcount_min, cfg.headcount_max + 1))
    assert all(40 <= p.hourly_rate <= 110 and p.hourly_rate == round(p.hourly_rate)
               for p in snap.postings)  # fmt: skip
    assert all(p.area in RESEARCH_AREAS for p in snap.postings if p.research)
    first_half = large.days[: len(large.days) // 2]
    assert all(p.open_date in first_half for p in snap.postings)
    assert 0.45 < np.mean([p.open_date == large.days[0] for p in snap.postings]) < 0.8
    assert len(snap.interviewers) == cfg.n_interviewers
    assert len({i.interviewer_id for i in snap.interviewers}) == cfg.n_interviewers
    by_team: dict[str, list] = {}
    for iv in snap.interviewers:
        by_team.setdefault(iv.team, []).append(iv)
        assert cfg.max_per_day[0] <= iv.max_per_day <= cfg.max_per_day[1]
        assert cfg.max_per_week[0] <= iv.max_per_week <= cfg.max_per_week[1]
        assert "loop" in iv.roles and set(iv.roles) <= {"loop", "screen", "hiring_manager"}
        assert len(set(iv.areas)) == len(iv.areas) and set(iv.areas) <= set(AREAS)
    assert {iv.max_per_day for iv in snap.interviewers} == set(range(1, 3))
    assert {iv.max_per_week for iv in snap.interviewers} == set(range(1, 3))
    for posting in snap.postings:
        team = by_team[posting.team]
        assert {iv.office for iv in team} == {posting.office}
        assert sum("hiring_manager" in iv.roles for iv in team) >= 1
        assert all(posting.area in iv.areas for iv in team)
        assert any("screen" in iv.roles and "hiring_manager" not in iv.roles for iv in team)
    for team in by_team.values():
        managers = sum("hiring_manager" in iv.roles for iv in team)
        assert managers == (2 if len(team) >= 6 else 1)
    screen = np.mean(["screen" in iv.roles for iv in snap.interviewers])
    assert cfg.screen_role_p - 0.07 < screen < cfg.screen_role_p + 0.15  # plus one per team
    assert {iv.office for iv in snap.interviewers} == set(OFFICES)


def test_rooms_windows_calendars_and_sick_days(large: Season) -> None:
    cfg, snap = large.config, large.snapshot
    assert len(snap.rooms) == 2 * cfg.rooms_per_office
    for office in OFFICES:
        rooms = [r for r in snap.rooms if r.office == office]
        assert sum(r.accessible for r in rooms) == cfg.accessible_rooms_per_office
        assert all(4 <= r.capacity <= 8 for r in rooms)
        headcount = sum(p.headcount for p in snap.postings if p.office == office)
        windows = [w for w in snap.start_windows if w.office == office]
        assert [w.start_date for w in windows] == list(cfg.start_window_dates)
        assert all(w.capacity == max(1, math.ceil(cfg.onboarding_share * headcount))
                   for w in windows)  # fmt: skip
    assert min(cfg.start_window_dates) + dt.timedelta(weeks=INTERNSHIP_WEEKS) > large.days[-1]
    slots = cfg.hours.slots_per_day
    busy = large.busy
    assert busy.shape == (cfg.n_interviewers, cfg.working_days) and busy.dtype == np.int64
    assert busy.min() > 0 and busy.max() < 1 << slots  # at least one block, inside the day
    bits = np.unpackbits(busy.astype(">u8").view(np.uint8)).reshape(*busy.shape, 64)
    per_day = bits.sum(axis=2)
    lo, hi = cfg.busy_blocks_per_day
    assert per_day.max() <= 4 * hi and per_day.min() >= 1
    # Mean busy slots: blocks of mean 2.5 slots, some overlapping (bounds, not an exact mean).
    assert 2.5 * (lo + hi) / 2 * 0.7 < per_day.mean() < 2.5 * (lo + hi) / 2
    assert large.sick_mask is not None
    assert large.sick == {
        (int(i), int(d)) for i, d in zip(*np.nonzero(large.sick_mask), strict=True)
    }
    assert abs(large.sick_mask.mean() - cfg.sick_p) < 0.005


def test_calendar_rows_rebuild_the_bitmasks() -> None:
    config = NAMED["tiny"]
    season = generate_season(config, 3)
    lazy = generate_season(config, 3, calendar_rows=False)
    assert season.snapshot.busy and not lazy.snapshot.busy
    assert lazy.busy_blocks() == season.snapshot.busy
    ids = {iv.interviewer_id: k for k, iv in enumerate(season.snapshot.interviewers)}
    day_index = {d: k for k, d in enumerate(season.days)}
    rebuilt = np.zeros_like(season.busy)
    minutes = config.hours.slot_minutes
    for block in season.snapshot.busy:
        assert block.start.tzinfo is not None and block.start < block.end
        assert block.start.date() == block.end.date()
        first = (block.start.hour - config.hours.start_hour) * 60 + block.start.minute
        last = (block.end.hour - config.hours.start_hour) * 60 + block.end.minute
        width = (last - first) // minutes
        rebuilt[ids[block.person_id], day_index[block.start.date()]] |= ((1 << width) - 1) << (
            first // minutes
        )
    assert np.array_equal(rebuilt, season.busy)
    assert season.snapshot.busy == busy_blocks_from_masks(
        season.snapshot.interviewers, season.days, season.busy, config
    )


def test_edge_configs_generate() -> None:
    """No busy blocks, no candidates and one-off sizes still give a consistent season."""
    config = dataclasses.replace(
        NAMED["tiny"], busy_blocks_per_day=(0, 0), n_candidates=1, n_postings=1, sick_p=0.0
    )
    season = generate_season(config, 0)
    assert not season.busy.any() and not season.sick and not season.snapshot.busy
    assert len(season.truths) == 1
    empty = generate_season(dataclasses.replace(ScenarioConfig(), n_candidates=0), 0)
    assert empty.snapshot.candidates == [] and empty.truths == []


FRICTIONS = ["patient", "ample_caps", "patient_ample", "free_calendars", "frictionless"]


@pytest.mark.parametrize("name", FRICTIONS)
def test_friction_scenarios_draw_the_default_season_seed_for_seed(name: str) -> None:
    """``experiments/configs/frictions.yaml`` pairs its scenarios with ``default`` season by
    season: each draws the same candidates, arrivals, calendars and hidden truths, and
    differs only in the frictions it removes (patience, the interviewers' caps, their
    meetings and the rooms, no-shows and sick days)."""
    from pathlib import Path

    from scheduler.scenario import load_scenario

    path = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / f"{name}.yaml"
    config = load_scenario(str(path))
    for seed in (0, 1):
        base = generate_season(NAMED["default"], seed, calendar_rows=False)
        shifted = generate_season(config, seed, calendar_rows=False)
        assert np.array_equal(base.form_day, shifted.form_day)
        assert base.snapshot.candidates == shifted.snapshot.candidates
        frictionless = name == "frictionless"
        if name == "free_calendars" or frictionless:
            assert base.busy.any() and not shifted.busy.any()
            assert shifted.snapshot.rooms[: len(base.snapshot.rooms)] == base.snapshot.rooms
            extra = shifted.snapshot.rooms[len(base.snapshot.rooms) :]
            assert len(extra) == 3 * 2 and all(r.accessible for r in extra)
        else:
            assert np.array_equal(base.busy, shifted.busy)
            assert shifted.snapshot.rooms == base.snapshot.rooms
        if frictionless:
            assert base.sick and not shifted.sick
        else:
            assert shifted.sick == base.sick
        keep = {"patience_days"} if "patient" in name or frictionless else set()
        if frictionless:
            keep |= {"no_show_screen", "no_show_loop"}
            assert not any(t.no_show_screen or t.no_show_loop for t in shifted.truths)
        for a, b in zip(base.truths, shifted.truths, strict=True):
            assert dataclasses.replace(b, **{k: getattr(a, k) for k in keep}) == a
        if "patient" in name or frictionless:
            assert min(t.patience_days for t in shifted.truths) > 1000  # the season is 80 days
        caps = [(i.max_per_day, i.max_per_week) for i in shifted.snapshot.interviewers]
        base_caps = [(i.max_per_day, i.max_per_week) for i in base.snapshot.interviewers]
        if "ample" in name or frictionless:
            assert min(w for _, w in caps) >= 4 and min(d for d, _ in caps) >= 2
        else:
            assert caps == base_caps


def test_tight_onboarding_draws_the_default_season_with_smaller_start_windows() -> None:
    """``experiments/scenarios/tight_onboarding.yaml``: the default season's candidates and
    truths, start windows at most as large and smaller in all, a longer onboarding lead."""
    from pathlib import Path

    from scheduler.scenario import load_scenario

    path = Path(__file__).resolve().parents[1] / "experiments/scenarios/tight_onboarding.yaml"
    config = load_scenario(str(path))
    assert config.onboarding_lead_days > NAMED["default"].onboarding_lead_days
    base = generate_season(NAMED["default"], 0, calendar_rows=False)
    tight = generate_season(config, 0, calendar_rows=False)
    assert base.snapshot.candidates == tight.snapshot.candidates and base.truths == tight.truths
    pairs = list(zip(base.snapshot.start_windows, tight.snapshot.start_windows, strict=True))
    assert all(b.capacity >= t.capacity for b, t in pairs)
    assert sum(t.capacity for _, t in pairs) < sum(b.capacity for b, _ in pairs)
