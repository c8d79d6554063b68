"""What learning quality costs, and what is left when there is nothing to learn.

    python -m experiments.quality_known --scenario default --episodes 100 --seed 500000 \\
        --jobs 2 --out out/quality_known.csv

Per season, ``cpsat`` and ``cpsat_quality_known`` (the same planner told every
arrived candidate's true quality: ``policies.quality_known``, not an online
policy) play the same season, and three bounds are computed: ``information``
and ``penalized`` (quality learnt through the interviews: they bound
``cpsat``) and ``quality_known`` (every quality revealed from the start: it bounds
``cpsat_quality_known``). Each policy is compared only with the bounds that
hold for it. The table gives means with bootstrap 95% CIs and paired
differences season by season (``experiments.stats``); the csv one row per
season. Each policy plays with the season's seed as its own, as in ``isched compare``.
"""

from __future__ import annotations

import sys
from typing import Any

import gymnasium as gym
import pandas as pd

import envs
from experiments import season_study, stats
from policies import make_policy
from policies.information_bound import information_row, quality_known_row
from policies.penalized_bound import penalized_row
from policies.rollout import run_episode

POLICIES = ("cpsat", "cpsat_quality_known")
BOUNDS = {"information": information_row, "penalized": penalized_row,
          "quality_known": quality_known_row}  # fmt: skip


def season_row(scenario: str, seed: int) -> list[dict[str, Any]]:
    """Both policies' returns and the three bounds of the season ``seed``."""
    row: dict[str, Any] = {"scenario": scenario, "seed": seed}
    for name in POLICIES:
        env = gym.make(envs.ENV_ID, scenario=scenario)
        kpis, _, _ = run_episode(env, make_policy(name, seed=seed), seed)
        row[name] = kpis["return"]
        row[f"{name}_hires"] = kpis["hires"]
        row[f"{name}_hire_quality"] = kpis["mean_hire_quality"]
    for kind, bound in BOUNDS.items():
        row[kind] = bound(scenario, seed)["bound"]
    return [row]


def table(rows: pd.DataFrame) -> str:
    """Means and paired differences as markdown."""

    def col(name: str) -> Any:
        return rows[name].to_numpy(dtype=float)

    def mean(name: str) -> str:
        return str(stats.bootstrap_ci(col(name), stats.mean))

    def diff(high: str, low: str) -> str:
        e = stats.paired_difference(col(high), col(low))
        return f"{e.value:+.2f} [{e.low:+.2f}, {e.high:+.2f}]"

    tight = min(("information", "penalized"), key=lambda k: float(rows[k].mean()))
    lines = [
        f"{len(rows)} seasons of {rows['scenario'].iloc[0]} from seed {int(rows['seed'].min())}",
        "",
        "| | mean [95% CI] | paired difference [95% CI] |",
        "| --- | --- | --- |",
        f"| `cpsat` | {mean('cpsat')} | |",
        f"| `cpsat_quality_known` (reads true quality) | {mean('cpsat_quality_known')} | "
        f"{diff('cpsat_quality_known', 'cpsat')} above `cpsat`: what learning costs the planner |",
        f"| `{tight}` bound (quality learnt) | {mean(tight)} | "
        f"{diff(tight, 'cpsat')} above `cpsat` |",
        f"| `quality_known` bound (every quality revealed) | {mean('quality_known')} | "
        f"{diff('quality_known', 'cpsat_quality_known')} above `cpsat_quality_known`; "
        f"{diff('quality_known', tight)} above `{tight}`: what learning costs the bound |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return season_study.season_main("quality_known", __doc__ or "", season_row, table, argv, 500000)


if __name__ == "__main__":
    sys.exit(main())
