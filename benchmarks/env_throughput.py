"""Season env throughput: random-valid steps per second and reset time, on one core.

Run with ``make bench``. Prints a Markdown table (copied into the README).
Steps/s counts the random-valid choice and ``env.step`` together (reset excluded);
the last table shows that the cost of a step does not grow with the number of
candidates in the season.
"""

from __future__ import annotations

import dataclasses
import os
import time

import gymnasium as gym
import numpy as np

import envs
from envs.season_env import InterviewSchedulingEnv
from scheduler.scenario import load_scenario


def measure(env: gym.Env, min_steps: int, seed: int = 0) -> tuple[float, float, int]:
    """(steps per second, mean reset seconds, steps) of random-valid play."""
    rng = np.random.default_rng(seed)
    steps, step_time, resets, reset_time = 0, 0.0, 0, 0.0
    episode = 0
    while steps < min_steps:
        began = time.perf_counter()
        _, info = env.reset(seed=seed + episode)
        reset_time += time.perf_counter() - began
        resets += 1
        episode += 1
        began = time.perf_counter()
        while True:
            valid = np.flatnonzero(info["action_mask"])
            _, _, terminated, truncated, info = env.step(int(valid[rng.integers(valid.size)]))
            steps += 1
            if terminated or truncated:
                break
        step_time += time.perf_counter() - began
    return steps / step_time, reset_time / resets, steps


def main() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    header = ("scenario", "candidates", "steps measured", "steps/s (env)", "steps/s (gym.make)",
              "reset (s)")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, min_steps in (("tiny", 20_000), ("default", 20_000), ("large", 20_000)):
        raw = InterviewSchedulingEnv(name)
        sps, reset, steps = measure(raw, min_steps)
        wrapped_sps, _, _ = measure(gym.make(envs.ENV_ID, scenario=name), min_steps // 2)
        print(
            f"| {name} | {raw.config.n_candidates} | {steps} | {sps:,.0f} | {wrapped_sps:,.0f} "
            f"| {reset:.3f} |"
        )
    print()
    print("| default with N candidates | µs per step |")
    print("| ---: | ---: |")
    base = load_scenario("default")
    for n in (600, 1200, 2400, 4800):
        config = dataclasses.replace(base, n_candidates=n, name=f"default-{n}")
        sps, _, _ = measure(InterviewSchedulingEnv(config), 10_000)
        print(f"| {n} | {1e6 / sps:.0f} |")


if __name__ == "__main__":
    main()
