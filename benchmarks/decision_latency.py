"""Decision latency per policy, one default season each: a table and a CSV under out/bench/.

    python benchmarks/decision_latency.py [--scenario default] [--seed 490000] [--policies ...]

The seed is a tuning seed (below 500000). One process, one thread per policy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
from bench_csv import write_rows

import envs
from policies import make_policy
from policies.rollout import run_episode
from scheduler.scenario import load_scenario

OUT = Path("out/bench")
POLICIES = "random,fifo,urgency,greedy,greedy_fit,cpsat,rl:models/default"


def measure(scenario: str, policy: str, seed: int) -> dict[str, object]:
    env = gym.make(envs.ENV_ID, scenario=scenario)
    started = time.perf_counter()
    kpis, steps, latencies = run_episode(env, make_policy(policy, seed=seed), seed)
    ms = 1000 * np.asarray(latencies)
    days = load_scenario(scenario).working_days
    return {
        "scenario": scenario,
        "policy": policy,
        "decisions": steps,
        "median_ms": round(float(np.median(ms)), 4),
        "mean_ms": round(float(ms.mean()), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "per_day_ms": round(float(ms.sum() / days), 2),
        "season_s": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--seed", type=int, default=490_000)
    parser.add_argument("--policies", default=POLICIES)
    args = parser.parse_args()
    rows = [measure(args.scenario, p, args.seed) for p in args.policies.split(",")]
    write_rows(OUT / "decision_latency.csv", rows)
    print("| policy | decisions | median (ms) | mean (ms) | p95 (ms) | per day (ms) | season (s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['policy']} | {r['decisions']} | {r['median_ms']} | {r['mean_ms']} | "
            f"{r['p95_ms']} | {r['per_day_ms']} | {r['season_s']} |"
        )
    print(f"wrote {OUT / 'decision_latency.csv'}")


if __name__ == "__main__":
    main()
