"""Decompose the gap from the best policy to ``hindsight``, one piece of information at a time.

    python -m experiments.bound_decomposition --scenario default --episodes 100 \\
        --seed 500000 --policy greedy_fit --jobs 2 --out out/bound_decomposition.csv

Each step of the ladder is a valid upper bound on the expected return (the
information bound of ``policies.information_bound`` with more revealed or
relaxed), except the first row (the policy's mean return). The worth of a
piece is the mean paired difference to the step before, over the same seasons.
Side rows relax one thing of the information bound alone. Patience, calendars,
rooms and slot-level timing are relaxed in every bound here, so their worth
stays inside the gap from the policy to the information bound.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policies.information_bound import InformationOptions, information_bound, season_for
from policies.rollout import mean_ci, simulate
from scheduler.processes import process_pool

REVEAL_ACCEPTANCE = InformationOptions(acceptance="realised")
REVEAL_WITHDRAWALS = InformationOptions(
    acceptance="realised", withdrawals="realised", no_shows="realised"
)
LADDER: list[tuple[str, str, InformationOptions | None]] = [
    ("information", "information bound (quality through screen and loop)", InformationOptions()),
    ("acceptance", "+ acceptance draws known", REVEAL_ACCEPTANCE),
    ("withdrawals", "+ deadlines and no-shows known", REVEAL_WITHDRAWALS),
    (
        "quality_arrival",
        "+ quality known at arrival (seats on average)",
        InformationOptions(
            acceptance="realised", withdrawals="realised", no_shows="realised", quality="arrival"
        ),
    ),  # fmt: skip
    (
        "quality_season",
        "+ seats per season (all revealed: LP of hindsight)",
        InformationOptions(
            acceptance="realised", withdrawals="realised", no_shows="realised", quality="realised"
        ),
    ),  # fmt: skip
    ("hindsight", "hindsight (CP-SAT, whole hires)", None),
]
"""(column, label, options; None = ``policies.hindsight``) from the information bound up."""
SIDE: list[tuple[str, str, InformationOptions]] = [
    (
        "no_capacity",
        "information bound without interviewer capacity",
        InformationOptions(interviewer_capacity=False),
    ),
    (
        "no_team_rule",
        "information bound without the loop-team offer rule",
        InformationOptions(loop_team_rule=False),
    ),
]


def season_row(scenario: str, seed: int, side: bool = True) -> dict[str, Any]:
    """Every bound of the ladder (and the side rows if ``side``) on one season."""
    from policies.hindsight import hindsight_bound

    season = season_for(scenario, seed)
    row: dict[str, Any] = {"seed": seed}
    for column, _, opts in [*LADDER, *(SIDE if side else [])]:
        started = time.perf_counter()
        if opts is None:
            result = hindsight_bound(season)
            row[column], row[f"{column}_status"] = result.bound, result.status
        else:
            info = information_bound(season, opts)
            row[column], row[f"{column}_status"] = info.bound, info.status
            row[f"{column}_lp"] = info.lp
        row[f"{column}_seconds"] = time.perf_counter() - started
    return row


def decomposition_table(frame: pd.DataFrame, policy: str) -> list[dict[str, Any]]:
    """Rows: step, mean [95% CI], worth over the step before (paired mean [95% CI])."""
    steps = [(policy, f"{policy} (mean return)")] + [(c, label) for c, label, _ in LADDER]
    rows = []
    for k, (column, label) in enumerate(steps):
        m, lo, hi = mean_ci(frame[column])
        row = {"step": label, "mean": m, "low": lo, "high": hi}
        if k > 0:
            row["worth"], row["worth_low"], row["worth_high"] = mean_ci(
                frame[column] - frame[steps[k - 1][0]]
            )
        rows.append(row)
    for column, label, _ in SIDE:
        some = frame.dropna(subset=[column])
        m, lo, hi = mean_ci(some[column])
        d = mean_ci(some[column] - some["information"])
        label = f"{label} ({len(some)} seasons)"
        rows.append({"step": label, "mean": m, "low": lo, "high": hi, "worth": d[0],
                     "worth_low": d[1], "worth_high": d[2]})  # fmt: skip
    return rows


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| step | mean [95% CI] | worth of the step (paired, 95% CI) |",
        "| --- | --- | --- |",
    ]
    for r in rows:
        worth = (
            f"{r['worth']:+.2f} [{r['worth_low']:+.2f}, {r['worth_high']:+.2f}]"
            if "worth" in r
            else ""
        )
        lines.append(
            f"| {r['step']} | {r['mean']:.2f} [{r['low']:.2f}, {r['high']:.2f}] | {worth} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=500000)
    parser.add_argument("--policy", default="greedy_fit")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--side-episodes", type=int, default=20, help="Seasons of the side rows.")
    parser.add_argument("--out", type=Path, default=Path("out/bound_decomposition.csv"))
    args = parser.parse_args()
    seeds = list(range(args.seed, args.seed + args.episodes))
    with process_pool(args.jobs) as pool:
        played = pool.submit(simulate, args.scenario, [args.policy], args.episodes, args.seed)
        sides = [k < args.side_episodes for k in range(len(seeds))]
        bounds = []
        for row in pool.map(season_row, [args.scenario] * len(seeds), seeds, sides):
            bounds.append(row)
            print(f"season {row['seed']}: information {row['information']:.2f}, "
                  f"hindsight {row['hindsight']:.2f}", file=sys.stderr, flush=True)  # fmt: skip
        returns = {r["seed"]: r["return"] for r in played.result()}
    frame = pd.DataFrame(bounds)
    frame[args.policy] = frame["seed"].map(returns)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"{args.scenario}, seeds {seeds[0]}-{seeds[-1]} ({len(seeds)} seasons)")
    print(markdown(decomposition_table(frame, args.policy)))
    secs = frame["information_seconds"]
    print(
        f"information bound: {np.mean(secs):.2f} s per season (max {np.max(secs):.2f}); "
        f"LP status {', '.join(sorted(set(frame['information_status'])))}; "
        f"hindsight status {', '.join(sorted(set(frame['hindsight_status'])))}; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
