"""The ``cpsat`` planner: valid, reproducible, blind to the hidden draws, and checked.

``cpsat`` reads only ``envs.known.KnownState``: replacing a season's hidden
draws after reset (true quality, signal noise, acceptance draws, patience,
deadlines, no-shows) must change none of its first-day decisions. Its
exported seasons pass the independent validator on ``tiny``, ``default`` and
a shifted scenario.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs
from envs.export import export_season
from envs.season_env import season_state
from policies import make_policy
from policies.bid_prices import patience_survival
from policies.rollout import run_episode
from scheduler.generator import patience_draw
from scheduler.validator import check_schedule

SHIFTED = Path(__file__).resolve().parents[1] / "experiments" / "scenarios" / "outage.yaml"


def first_day(
    scenario: str, seed: int, scramble: bool, **options: object
) -> tuple[list[int], list[float]]:
    """The planner's actions and prices on the first day, hidden draws scrambled or not."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    obs, info = env.reset(seed=seed)
    if scramble:
        state = season_state(env)
        rng = np.random.default_rng(99)
        state.truths = [
            dataclasses.replace(
                t,
                quality=float(rng.normal(0.0, 3.0)),
                screen_noise=float(rng.normal()),
                loop_noise=float(rng.normal()),
                accept_draw=float(rng.random()),
                patience_days=int(rng.integers(1, 30)),
                deadline_days=int(rng.integers(1, 60)),
                no_show_screen=bool(rng.random() < 0.5),
                no_show_loop=bool(rng.random() < 0.5),
            )
            for t in state.truths
        ]
    policy = make_policy("cpsat", seed=seed, **options)
    policy.reset(env)
    actions: list[int] = []
    end_day = env.action_space.n - 1
    while True:
        action = policy.act(obs, info)
        actions.append(action)
        if action == end_day:
            prices = policy.prices  # type: ignore[attr-defined]
            return actions, [*prices.seat, *prices.window, prices.session]
        obs, _, _, _, info = env.step(action)


@pytest.mark.parametrize(("scenario", "seed"), [("tiny", 4), ("tiny", 6), ("default", 1)])
def test_the_planner_never_reads_hidden_draws(scenario: str, seed: int) -> None:
    actions, prices = first_day(scenario, seed, scramble=False)
    assert len(actions) > 1, "the planner decided nothing on the first day"
    assert any(prices), "no resource is priced"
    assert first_day(scenario, seed, scramble=True) == (actions, prices)


@pytest.mark.parametrize("seed", [0, 1100, 500000])
def test_the_planner_never_forecasts_the_season_in_play(seed: int) -> None:
    """Seeded as ``isched compare`` seeds it (the season's own seed), the planner's forecast
    seasons are other seasons: none of its forecast candidates is one of the season's."""
    env = gym.make(envs.ENV_ID, scenario="default")
    env.reset(seed=seed)
    season = season_state(env).season
    real = {
        (int(season.form_day[c]), cand)
        for c, cand in enumerate(season.snapshot.candidates)
        if season.form_day[c] >= 0
    }
    policy = make_policy("cpsat", seed=seed)
    policy.reset(env)
    forecast = {(f.form_day, f.candidate) for f in policy.futures}  # type: ignore[attr-defined]
    assert len(forecast) > len(real)
    assert len(real & forecast) <= 0.01 * len(real)


def test_booked_waits_read_only_calendars_and_the_patience_law() -> None:
    """Timing each next interview by its earliest bookable slot reads the calendars (known)
    and the scenario's patience law, never a candidate's own patience."""
    actions, prices = first_day("default", 1, scramble=False, booked_waits=True)
    assert len(actions) > 1
    assert first_day("default", 1, scramble=True, booked_waits=True) == (actions, prices)


@pytest.mark.parametrize("wait", [0, 1, 2, 4, 9])
def test_patience_survival_is_the_generators_law(wait: int) -> None:
    """P(patience > wait) for patience drawn as the generator draws it."""
    mean = 8.0
    draws = patience_draw(np.random.default_rng(wait), mean, 200_000)
    assert patience_survival(mean, wait) == pytest.approx(float((draws > wait).mean()), abs=0.005)


def play(scenario: str | Path, seed: int, where: Path) -> tuple[dict[str, float], Path]:
    env = gym.make(envs.ENV_ID, scenario=str(scenario))
    kpis, _, _ = run_episode(env, make_policy("cpsat", seed=seed), seed)
    return kpis, export_season(env, where)


@pytest.mark.parametrize(
    ("scenario", "seed"),
    [("tiny", 0), ("tiny", 1), ("tiny", 2), ("tiny", 5), ("default", 2), (SHIFTED, 3)],
    ids=["tiny-0", "tiny-1", "tiny-2", "tiny-5", "default-2", "outage-3"],
)
def test_planner_seasons_replay_without_violations(
    scenario: str | Path, seed: int, tmp_path: Path
) -> None:
    kpis, where = play(scenario, seed, tmp_path / "season")
    assert kpis["invalid_actions"] == 0
    assert check_schedule(where, where / "schedule.csv", where / "offers.csv") == []
    if scenario != "tiny":
        assert kpis["hires"] > 10


@pytest.mark.slow
def test_the_planner_plans_large_and_its_season_replays_without_violations(
    tmp_path: Path,
) -> None:
    """On ``large`` (100 postings, 5,000 applicants) the planner plans for real: its
    season passes the validator and it hires more than the best rule."""
    kpis, where = play("large", 0, tmp_path / "season")
    assert kpis["invalid_actions"] == 0
    assert check_schedule(where, where / "schedule.csv", where / "offers.csv") == []
    env = gym.make(envs.ENV_ID, scenario="large")
    rule, _, _ = run_episode(env, make_policy("greedy_fit", seed=0), 0)
    assert kpis["return"] > rule["return"]


def test_the_planner_is_reproducible(tmp_path: Path) -> None:
    a, _ = play("tiny", 4, tmp_path / "a")
    b, _ = play("tiny", 4, tmp_path / "b")
    assert a == b
