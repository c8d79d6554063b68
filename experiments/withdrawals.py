"""Who withdraws, at which stage and why: the candidates each policy loses.

    python -m experiments.withdrawals --scenario default --policy cpsat,greedy_fit \\
        --episodes 20 --seed 100000 --jobs 2 --out out/withdrawals.csv

Each season is played to its end; every withdrawal is counted by the stage the
candidate left from, whether an interview was booked and not yet held (a
booking further ahead than the candidate's patience is lost on the morning
their patience runs out), and its cause: ``patience`` (no contact for their
patience) or ``deadline`` (a competing offer). The table gives withdrawals per
season, mean over the seasons, per policy; the csv one row per season and kind.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import gymnasium as gym
import pandas as pd

import envs
from envs.layout import Stage
from envs.season_env import season_state
from experiments import season_study
from policies import make_policy
from policies.rollout import run_episode


def kind_of(stage: int, booked: bool, cause: str) -> str:
    """A readable name of one kind of withdrawal."""
    where = Stage(stage).name.lower()
    return f"{where}, {'interview booked' if booked else 'nothing booked'}, {cause}"


def season_withdrawals(scenario: str, policy: str, seed: int) -> list[dict[str, Any]]:
    """One row per kind of withdrawal in the season ``seed`` played by ``policy``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    kpis, _, _ = run_episode(env, make_policy(policy, seed=seed), seed)
    state = season_state(env)
    counts = Counter(kind_of(w.stage, w.booked, w.cause) for w in state.withdrawals)
    base = {"scenario": scenario, "policy": policy, "seed": seed, "return": kpis["return"],
            "forms": state.n_completed}  # fmt: skip
    return season_study.count_rows(base, counts, "kind", "withdrawals")


def table(rows: pd.DataFrame) -> str:
    """Withdrawals per season by kind (columns: policies), as markdown."""
    lines = season_study.counts_table(rows, "kind", "withdrawals", "withdrawals per season")
    totals = rows.groupby(["policy", "seed"])["withdrawals"].sum().groupby("policy").mean()
    policies = list(dict.fromkeys(rows["policy"]))
    lines.append("| **all** | " + " | ".join(f"**{totals[p]:.1f}**" for p in policies) + " |")
    lines.append(season_study.per_policy_line(rows, "forms completed", "forms"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return season_study.policy_main("withdrawals", __doc__ or "", season_withdrawals, table, argv)


if __name__ == "__main__":
    sys.exit(main())
