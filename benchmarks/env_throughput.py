"""Season env throughput on one core: random-valid steps/s without and with resets.

Run with ``make bench`` (or ``python benchmarks/env_throughput.py [--quick]``).
Per scenario: random-valid steps per second (the random choice and
``env.step`` together) excluding resets and including them (a new seed each
episode, the way training runs), the mean ``generate_season`` time and the mean
``env.reset`` time (generation plus the env's setup). Prints Markdown tables
(copied into the README) and writes ``out/bench/env_throughput.csv``. The last
table shows that the cost of a step does not grow with the season's candidates.

Times are wall-clock (``--clock wall``, the default). On a machine shared with
other work, ``--clock cpu`` times the process's own CPU (``time.process_time``
of this one-core, one-thread process): what a quiet core would give, less the
cache and memory-bus contention the neighbours still cause.

Bars: on ``default``, >= 12,000 steps/s including resets; reset <= 15 ms on
``default`` and <= 120 ms on ``large``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread, set before numpy loads

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from bench_csv import write_rows  # noqa: E402

from envs.season_env import InterviewSchedulingEnv  # noqa: E402
from scheduler.generator import generate_season  # noqa: E402
from scheduler.scenario import ScenarioConfig, load_scenario  # noqa: E402

CSV_PATH = Path("out/bench/env_throughput.csv")
BARS = {"default": (12_000.0, 0.015), "large": (None, 0.120)}
"""Scenario: (min steps/s including resets, max mean reset seconds)."""


@dataclasses.dataclass
class Throughput:
    """Random-valid play of whole episodes, a new seed each."""

    episodes: int
    steps: int
    step_s: float
    reset_s: float

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.step_s

    @property
    def steps_per_s_with_resets(self) -> float:
        return self.steps / (self.step_s + self.reset_s)

    @property
    def mean_reset_s(self) -> float:
        return self.reset_s / self.episodes


Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}
"""``--clock``: what the measurements read."""


def measure(
    env: InterviewSchedulingEnv, min_steps: int, clock: Clock = time.perf_counter, seed: int = 0
) -> Throughput:
    """Play random-valid episodes until ``min_steps``, timing steps and resets apart."""
    rng = np.random.default_rng(seed)
    steps, step_s, reset_s, episode = 0, 0.0, 0.0, 0
    while steps < min_steps:
        began = clock()
        _, info = env.reset(seed=seed + episode)
        reset_s += clock() - began
        episode += 1
        began = clock()
        while True:
            valid = np.flatnonzero(info["action_mask"])
            _, _, terminated, truncated, info = env.step(int(valid[rng.integers(valid.size)]))
            steps += 1
            if terminated or truncated:
                break
        step_s += clock() - began
    return Throughput(episode, steps, step_s, reset_s)


def generation_s(
    config: ScenarioConfig, seeds: int, clock: Clock = time.perf_counter
) -> tuple[float, float]:
    """(mean, median) seconds of ``generate_season`` as ``env.reset`` calls it."""
    times = []
    for seed in range(seeds):
        began = clock()
        generate_season(config, 1000 + seed, calendar_rows=False)
        times.append(clock() - began)
    return statistics.fmean(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, no scaling table")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="wall time, or this process's CPU"
    )
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    min_steps = 5_000 if args.quick else 20_000
    header = ("scenario", "candidates", "steps/s without resets", "steps/s with resets",
              "generate (ms)", "reset (ms)")  # fmt: skip
    print(f"{args.clock} clock; episodes and steps measured: {CSV_PATH}")
    print("| " + " | ".join(header) + " |")
    print("| --- |" + " ---: |" * (len(header) - 1))
    rows: list[dict[str, object]] = []
    failed: list[str] = []
    for name in ("tiny", "default", "large"):
        env = InterviewSchedulingEnv(name)
        gen_mean, gen_median = generation_s(env.config, 10 if name == "large" else 50, clock)
        run = measure(env, min_steps, clock)
        row: dict[str, object] = {
            "scenario": name,
            "candidates": env.config.n_candidates,
            "episodes": run.episodes,
            "steps": run.steps,
            "steps_per_s": round(run.steps_per_s, 1),
            "steps_per_s_with_resets": round(run.steps_per_s_with_resets, 1),
            "generate_season_ms": round(gen_mean * 1e3, 3),
            "generate_season_median_ms": round(gen_median * 1e3, 3),
            "reset_ms": round(run.mean_reset_s * 1e3, 3),
        }
        rows.append(row)
        print(
            f"| {name} | {env.config.n_candidates} "
            f"| {run.steps_per_s:,.0f} | {run.steps_per_s_with_resets:,.0f} "
            f"| {gen_mean * 1e3:.1f} | {run.mean_reset_s * 1e3:.1f} |"
        )
        min_sps, max_reset = BARS.get(name, (None, None))
        if min_sps is not None and run.steps_per_s_with_resets < min_sps:
            failed.append(f"{name}: {run.steps_per_s_with_resets:,.0f} steps/s < {min_sps:,.0f}")
        if max_reset is not None and run.mean_reset_s > max_reset:
            failed.append(f"{name}: reset {run.mean_reset_s * 1e3:.1f} ms > {max_reset * 1e3:.0f}")
    write_rows(CSV_PATH, rows)
    print(f"\nwrote {CSV_PATH}")
    for line in failed:
        print(f"below the bar: {line}")
    if args.quick:
        return
    print()
    print("| default with N candidates | µs per step |")
    print("| ---: | ---: |")
    base = load_scenario("default")
    for n in (600, 1200, 2400, 4800):
        config = dataclasses.replace(base, n_candidates=n, name=f"default-{n}")
        run = measure(InterviewSchedulingEnv(config), 10_000, clock)
        print(f"| {n} | {1e6 / run.steps_per_s:.0f} |")


if __name__ == "__main__":
    main()
