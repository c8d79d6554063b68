"""``experiments.best_candidates``: the season's best hireable candidates and their fates."""

from __future__ import annotations

import gymnasium as gym
import pandas as pd

import envs
from envs.season_env import season_state
from envs.state import SeasonState
from experiments import best_candidates as bc
from policies import make_policy
from policies.information_bound import candidate_types
from policies.rollout import run_episode


def test_best_are_the_highest_quality_hireable_and_every_one_has_a_fate() -> None:
    env = gym.make(envs.ENV_ID, scenario="tiny")
    run_episode(env, make_policy("greedy_fit"), 5)
    state = season_state(env)
    best = bc.best_candidates(state.season)
    hireable = {t.candidate for t in candidate_types(SeasonState(state.season), bc.HIREABLE)}
    assert len(best) == min(state.total_headcount, len(hireable)) > 0
    quality = state.hidden.quality
    assert set(best) <= hireable
    assert min(quality[c] for c in best) >= max(
        (quality[c] for c in hireable - set(best)), default=-1e9
    )
    fates = [bc.fate_of(state, c) for c in best]
    hired = [c for c in best if fates[best.index(c)] == "hired"]
    assert all(state.offer[c] is not None for c in hired)
    assert all(f.split(":")[0] in {"hired", "declined", "withdrawn"} or f.startswith(
        ("rejected when ", "still ")) for f in fates)  # fmt: skip


def test_cli_table_and_rows(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "fates.csv"
    args = ["--scenario", "tiny", "--policy", "greedy_fit,fifo", "--episodes", "2", "--seed", "0"]
    assert bc.main([*args, "--out", str(out)]) == 0
    rows = pd.read_csv(out)
    assert set(rows["policy"]) == {"greedy_fit", "fifo"}
    per_season = rows.groupby(["policy", "seed"]).agg(
        n=("candidates", "sum"), best=("best", "first")
    )
    assert (per_season["n"] == per_season["best"]).all()
    assert "their mean true quality" in capsys.readouterr().out
