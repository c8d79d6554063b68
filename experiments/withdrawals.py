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

import argparse
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym
import pandas as pd

import envs
from envs.layout import Stage
from envs.season_env import season_state
from experiments.files import write_atomic
from policies import make_policy
from policies.rollout import run_episode


def kind_of(stage: int, booked: bool, cause: str) -> str:
    """A readable name of one kind of withdrawal."""
    where = Stage(stage).name.lower()
    return f"{where}, {'interview booked' if booked else 'nothing booked'}, {cause}"


def season_withdrawals(scenario: str, policy: str, seed: int) -> list[dict[str, Any]]:
    """One row per kind of withdrawal in the season ``seed`` played by ``policy``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    kpis, _, _ = run_episode(env, make_policy(policy, seed=0), seed)
    state = season_state(env)
    counts = Counter(kind_of(w.stage, w.booked, w.cause) for w in state.withdrawals)
    base = {"scenario": scenario, "policy": policy, "seed": seed, "return": kpis["return"],
            "forms": state.n_completed}  # fmt: skip
    return [{**base, "kind": kind, "withdrawals": n} for kind, n in sorted(counts.items())] or [
        {**base, "kind": "none", "withdrawals": 0}
    ]


def table(rows: pd.DataFrame) -> str:
    """Withdrawals per season by kind (columns: policies), as markdown."""
    seasons = rows.groupby("policy")["seed"].nunique()
    per = rows[rows["kind"] != "none"].pivot_table(
        index="kind", columns="policy", values="withdrawals", aggfunc="sum", fill_value=0
    )
    per = per / seasons[per.columns]
    per = per.loc[per.sum(axis=1).sort_values(ascending=False).index]
    forms = rows.drop_duplicates(["policy", "seed"]).groupby("policy")["forms"].mean()
    policies = list(per.columns)
    lines = ["| withdrawals per season | " + " | ".join(f"`{p}`" for p in policies) + " |",
             "| --- |" + " ---: |" * len(policies)]  # fmt: skip
    for kind, values in per.iterrows():
        lines.append(f"| {kind} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
    total = per.sum()
    lines.append("| **all** | " + " | ".join(f"**{total[p]:.1f}**" for p in policies) + " |")
    lines.append("| forms completed | " + " | ".join(f"{forms[p]:.1f}" for p in policies) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--policy", default="cpsat,greedy_fit", help="comma-separated policies")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=100000, help="first season seed")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="csv of the rows")
    args = parser.parse_args(argv)
    policies = [p for p in args.policy.split(",") if p]
    tasks = [(args.scenario, p, args.seed + i) for p in policies for i in range(args.episodes)]
    try:
        if args.jobs > 1:
            with ProcessPoolExecutor(args.jobs) as pool:
                parts = list(pool.map(season_withdrawals, *zip(*tasks, strict=True)))
        else:
            parts = [season_withdrawals(*t) for t in tasks]
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"withdrawals: {exc}", file=sys.stderr)
        return 2
    rows = pd.DataFrame([r for part in parts for r in part])
    if args.out is not None:
        write_atomic(args.out, rows.to_csv(index=False))
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
