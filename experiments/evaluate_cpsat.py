"""Compare the heuristics, the CP-SAT rolling-horizon policy and the hindsight bound.

Every policy plays the same seasons (episode ``e`` is the season of seed
``seed + e``); the hindsight bound is computed on each of those seasons. Prints
a Markdown table: mean return with a 95% Student-t confidence interval, hires,
mean hire quality, and for ``cpsat`` the mean decision time per working day
(total ``act()`` time divided by the season's working days).

    python -m experiments.evaluate_cpsat --scenario default --episodes 10 --seed 0
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import envs
from envs.season_env import unwrap
from policies import make_policy
from policies.rollout import mean_ci, run_episode, simulate

POLICIES = ("random", "fifo", "urgency", "greedy", "cpsat", "hindsight")


def play(scenario: str, name: str, seed: int, time_limit: float | None) -> dict[str, Any]:
    """One season of one policy: return, hires, quality, act() time per working day."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    kwargs = {"time_limit": time_limit} if name == "cpsat" and time_limit is not None else {}
    policy = make_policy(name, seed=seed, **kwargs)
    started = time.perf_counter()
    kpis, steps, latencies = run_episode(env, policy, seed)
    return {
        "policy": name,
        "seed": seed,
        "return": kpis["return"],
        "hires": kpis["hires"],
        "mean_hire_quality": kpis["mean_hire_quality"],
        "act_seconds_per_day": float(np.sum(latencies)) / unwrap(env).n_days,
        "seconds": time.perf_counter() - started,
    }


def evaluate(
    scenario: str,
    policies: tuple[str, ...],
    episodes: int,
    seed: int,
    time_limit: float | None,
    workers: int,
) -> pd.DataFrame:
    """One row per (policy, season)."""
    jobs = [
        (scenario, name, seed + e, time_limit)
        for name in policies
        if name != "hindsight"
        for e in range(episodes)
    ]
    rows: list[dict[str, Any]] = []
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows += list(pool.map(play, *zip(*jobs, strict=True)))
    else:
        for job in jobs:
            rows.append(play(*job))
            print(f"  {job[1]} seed {job[2]}: {rows[-1]['return']:.2f}", flush=True)
    if "hindsight" in policies:
        for row in simulate(scenario, ["hindsight"], episodes, seed):
            rows.append(
                {
                    "policy": "hindsight",
                    "seed": row["seed"],
                    "return": row["return"],
                    "hires": row["hires"],
                    "status": row["status"],
                    "seconds": row["seconds"],
                }
            )
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame, policies: tuple[str, ...]) -> str:
    """The summary table."""
    lines = [
        "| policy | mean return | 95% CI | hires | mean hire quality | decision time / day |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name in policies:
        part = frame[frame["policy"] == name]
        if part.empty:
            continue
        m, lo, hi = mean_ci(part["return"])
        quality = f"{part['mean_hire_quality'].mean():.2f}" if name != "hindsight" else "(revealed)"
        if name == "cpsat":
            per_day = f"{1000 * part['act_seconds_per_day'].mean():.0f} ms"
        elif name == "hindsight":
            statuses = ", ".join(
                f"{k} x{v}" for k, v in part["status"].value_counts().sort_index().items()
            )
            per_day = f"bound ({statuses})"
        else:
            per_day = ""
        lines.append(
            f"| {name} | {m:.2f} | [{lo:.2f}, {hi:.2f}] | {part['hires'].mean():.1f} "
            f"| {quality} | {per_day} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--time-limit", type=float, default=None, help="cpsat time limit per day")
    parser.add_argument("--workers", type=int, default=1, help="parallel episodes")
    parser.add_argument("--out", default=None, help="also write the per-episode rows (CSV)")
    args = parser.parse_args()
    policies = tuple(p for p in args.policies.split(",") if p)
    started = time.perf_counter()
    frame = evaluate(
        args.scenario, policies, args.episodes, args.seed, args.time_limit, args.workers
    )
    if args.out:
        frame.to_csv(args.out, index=False)
    print(
        f"\n{args.scenario}, {args.episodes} seasons (seeds {args.seed}.."
        f"{args.seed + args.episodes - 1}), {time.perf_counter() - started:.0f} s\n"
    )
    print(markdown(frame, policies))


if __name__ == "__main__":
    main()
