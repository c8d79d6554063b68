"""``cpsat_quality_known`` (a reference that reads true quality) and its ``quality_known`` bound."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import envs
from envs.layout import Verb
from envs.season_env import season_state
from experiments import quality_known
from policies import make_policy
from policies.information_bound import information_bound, quality_known_row, season_for
from policies.rollout import mean_ci, simulate


def first_day_verbs(seed: int, quality: float | None) -> list[int]:
    """The verbs ``cpsat_quality_known`` takes on the first day of tiny season ``seed`` with
    candidates in the window, every true quality set to ``quality`` (None: the season's own)."""
    env = gym.make(envs.ENV_ID, scenario="tiny")
    obs, info = env.reset(seed=seed)
    end_day = env.action_space.n - 1
    while all(c < 0 for c in season_state(env).window):
        obs, _, _, _, info = env.step(end_day)
    if quality is not None:
        state = season_state(env)
        state.truths = [dataclasses.replace(t, quality=quality) for t in state.truths]
    policy = make_policy("cpsat_quality_known", seed=0)
    policy.reset(env)
    verbs = []
    while (action := policy.act(obs, info)) != end_day:
        assert info["action_mask"][action], "an action the mask forbids"
        verbs.append(action % len(Verb))
        obs, _, _, _, info = env.step(action)
    return verbs


@pytest.mark.parametrize("seed", [3, 5, 7])
def test_it_decides_on_true_quality(seed: int) -> None:
    """Nobody worth hiring: it rejects everyone; everybody excellent: it interviews all
    but those no posting can take."""
    weak, strong = first_day_verbs(seed, -6.0), first_day_verbs(seed, 4.0)
    assert set(weak) == {int(Verb.REJECT)}
    assert int(Verb.SCREEN) in strong
    assert strong.count(int(Verb.REJECT)) < len(weak)


def test_quality_known_bound_holds_for_it_and_is_above_information() -> None:
    n = 6  # the planner plays ~1.5 s per tiny season
    bound = np.array([quality_known_row("tiny", s)["bound"] for s in range(n)])
    ret = np.array([r["return"] for r in simulate("tiny", ["cpsat_quality_known"], n, 0)])
    _, low, _ = mean_ci(bound - ret)
    assert low > 0
    seasons = 30
    known = np.array([quality_known_row("tiny", s)["bound"] for s in range(seasons)])
    info = np.array([information_bound(season_for("tiny", s)).bound for s in range(seasons)])
    assert known.mean() > info.mean()  # knowing quality is worth something on average


def test_experiment_runs_and_writes_rows(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rows.csv"
    code = quality_known.main(
        ["--scenario", "tiny", "--episodes", "2", "--seed", "0", "--out", str(out)]
    )
    assert code == 0
    rows = pd.read_csv(out)
    assert list(rows["seed"]) == [0, 1]
    for column in ("cpsat", "cpsat_quality_known", "information", "penalized", "quality_known"):
        assert rows[column].notna().all()
    assert "what learning costs the planner" in capsys.readouterr().out
