"""The CP-SAT rolling-horizon policy and the hindsight bound on tiny seasons.

``cpsat`` must play whole seasons with valid actions only, reproducibly, and
leave schedules the independent validator accepts; the hindsight bound must be
proven optimal on tiny and never below what any policy returns on the season.
"""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import pytest

import envs
from envs.export import export_season
from envs.season_env import InterviewSchedulingEnv
from envs.state import SeasonState
from policies import make_policy, policy_names
from policies.hindsight import (
    HindsightResult,
    earliest_offer_day,
    hindsight_bound,
    hire_options,
)
from policies.rollout import run_episode, simulate
from scheduler.validator import check_schedule

SEEDS = (0, 1, 2)
HEURISTICS = ("random", "fifo", "urgency", "greedy", "greedy_fit")


def play(policy: str, seed: int) -> tuple[dict[str, float], InterviewSchedulingEnv]:
    """One whole tiny season; the KPIs and the unwrapped env at its end."""
    env = gym.make(envs.ENV_ID, scenario="tiny")
    kpis, _, _ = run_episode(env, make_policy(policy, seed=seed), seed)
    return kpis, env.unwrapped


@pytest.fixture(scope="module")
def cpsat_runs() -> dict[int, tuple[dict[str, float], InterviewSchedulingEnv]]:
    return {seed: play("cpsat", seed) for seed in SEEDS}


@pytest.fixture(scope="module")
def bounds() -> dict[int, HindsightResult]:
    env = gym.make(envs.ENV_ID, scenario="tiny")
    out = {}
    for seed in SEEDS:
        env.reset(seed=seed)
        out[seed] = hindsight_bound(env.unwrapped.season)
    return out


def test_registered() -> None:
    assert {"cpsat", "hindsight"} <= set(policy_names())


@pytest.mark.parametrize("seed", SEEDS)
def test_cpsat_plays_whole_tiny_seasons_with_valid_actions(
    cpsat_runs: dict[int, tuple[dict[str, float], InterviewSchedulingEnv]], seed: int
) -> None:
    kpis, env = cpsat_runs[seed]
    assert env.done
    assert env.state.n_invalid == 0
    assert kpis["invalid_actions"] == 0
    assert kpis["offers"] >= 1


def test_cpsat_is_reproducible(
    cpsat_runs: dict[int, tuple[dict[str, float], InterviewSchedulingEnv]],
) -> None:
    again, env = play("cpsat", 0)
    first, first_env = cpsat_runs[0]
    assert again["return"] == first["return"]
    assert env.state.offers == first_env.state.offers


@pytest.mark.parametrize("seed", SEEDS)
def test_cpsat_seasons_replay_without_violations(
    cpsat_runs: dict[int, tuple[dict[str, float], InterviewSchedulingEnv]],
    seed: int,
    tmp_path: Path,
) -> None:
    _, env = cpsat_runs[seed]
    where = export_season(env, tmp_path / "season")
    assert check_schedule(where, where / "schedule.csv", where / "offers.csv") == []


@pytest.mark.parametrize("seed", SEEDS)
def test_hindsight_is_optimal_and_bounds_every_policy(
    bounds: dict[int, HindsightResult],
    cpsat_runs: dict[int, tuple[dict[str, float], InterviewSchedulingEnv]],
    seed: int,
) -> None:
    result = bounds[seed]
    assert result.status == "OPTIMAL"
    assert result.bound >= result.objective - 1e-6
    assert result.bound == pytest.approx(result.objective, abs=1e-3)
    assert len(result.hires) <= sum(p.headcount for p in cpsat_runs[seed][1].state.postings)
    returns = {name: play(name, seed)[0]["return"] for name in HEURISTICS}
    returns["cpsat"] = cpsat_runs[seed][0]["return"]
    for name, value in returns.items():
        assert value <= result.bound + 1e-9, f"{name} returned {value} > bound {result.bound}"


@pytest.mark.parametrize("policy", ("greedy", "cpsat"))
def test_every_realised_hire_is_a_hindsight_option(policy: str) -> None:
    """The relaxation keeps every play feasible: each accepted offer is one of its options."""
    for seed in SEEDS:
        _, env = play(policy, seed)
        season = env.season
        assert season is not None
        options = hire_options(SeasonState(season))
        for c, p, w, day, accepted in env.state.offers:
            truth = season.truths[c]
            first = earliest_offer_day(
                int(season.form_day[c]), truth.no_show_screen, truth.no_show_loop
            )
            assert day >= max(first, env.state.p_first_offer[p])
            if accepted:
                assert (c, p, w) in options


def test_hindsight_is_not_a_policy() -> None:
    policy = make_policy("hindsight")
    env = gym.make(envs.ENV_ID, scenario="tiny")
    obs, info = env.reset(seed=0)
    policy.reset(env)
    with pytest.raises(RuntimeError, match="upper bound"):
        policy.act(obs, info)


def test_simulate_reports_the_bound_per_seed(bounds: dict[int, HindsightResult]) -> None:
    rows = simulate("tiny", ["hindsight"], episodes=2, seed=0)
    assert [row["seed"] for row in rows] == [0, 1]
    for row in rows:
        assert row["policy"] == "hindsight"
        assert row["status"] == "OPTIMAL"
        assert row["return"] == pytest.approx(bounds[row["seed"]].bound)
        assert math.isfinite(row["objective"])
        assert row["hires"] == len(bounds[row["seed"]].hires)
