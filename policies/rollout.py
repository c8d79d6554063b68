"""Run whole seasons with a policy and summarise their KPIs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import envs
from envs.season_env import season_state, unwrap
from policies import Policy, make_policy


@cache
def code_version() -> str:
    """The git commit of the code, with ``+dirty`` when tracked files differ from it (so a
    row says when it came from uncommitted code); ``unknown`` outside a checkout."""

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                             cwd=Path(__file__).resolve().parent)  # fmt: skip
        return out.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_episode(
    env: gym.Env, policy: Policy, seed: int
) -> tuple[dict[str, float], int, list[float]]:
    """Play one season; returns its KPIs, the step count and each decision's latency (s)."""
    obs, info = env.reset(seed=seed)
    policy.reset(env)
    steps = 0
    latencies: list[float] = []
    while True:
        start = time.perf_counter()
        action = policy.act(obs, info)
        latencies.append(time.perf_counter() - start)
        obs, _, terminated, truncated, info = env.step(action)
        steps += 1
        if terminated or truncated:
            return info["kpis"], steps, latencies


def play_until(env: gym.Env, seed: int, day: int | None = None, policy: str = "greedy") -> int:
    """Reset ``env`` on season ``seed`` and play it with ``policy`` up to the morning of
    working day ``day`` (default: a fifth into the season), the state a snapshot of that
    day holds; returns the day. Raises ``ValueError`` for a day outside the season."""
    obs, info = env.reset(seed=seed)
    inner = season_state(env)
    target = inner.n_days // 5 if day is None else day
    if not 0 <= target < inner.n_days:
        raise ValueError(f"--day must be between 0 and {inner.n_days - 1}")
    player = make_policy(policy, seed=seed)
    player.reset(env)
    while inner.day < target:
        obs, _, terminated, _, info = env.step(player.act(obs, info))
        if terminated:
            break
    return target


def simulate(
    scenario: Any,
    policies: Iterable[str],
    episodes: int,
    seed: int,
    on_episode: Callable[[str, int, gym.Env], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per (policy, episode): scenario, seed, KPIs, steps, latency, code version.

    Episode ``e`` of every policy plays the season drawn from ``seed + e``, so
    policies are compared on the same seasons.
    """
    rows: list[dict[str, Any]] = []
    for name in policies:
        env = gym.make(envs.ENV_ID, scenario=scenario)
        if name == "hindsight":  # a bound, not a policy: one row per season, return = bound
            rows += [_hindsight_row(env, seed + e, e) for e in range(episodes)]
            continue
        for e in range(episodes):
            policy = make_policy(name, seed=seed + e)
            started = time.perf_counter()
            kpis, steps, latencies = run_episode(env, policy, seed + e)
            rows.append(
                {
                    "policy": name,
                    "scenario": unwrap(env).config.name,
                    "seed": seed + e,
                    "episode": e,
                    **kpis,
                    "steps": steps,
                    "seconds": time.perf_counter() - started,
                    "decision_ms_median": 1000 * float(np.median(latencies)),
                    "code_version": code_version(),
                }
            )
            if on_episode is not None:
                on_episode(name, e, env)
    return rows


def _hindsight_row(env: gym.Env, seed: int, episode: int) -> dict[str, Any]:
    """The hindsight bound of the season the env draws for ``seed`` (return = bound)."""
    from policies.hindsight import hindsight_bound

    env.reset(seed=seed)
    inner = season_state(env)
    result = hindsight_bound(inner.season)
    index = {c.candidate_id: k for k, c in enumerate(inner.candidates)}
    quality = [inner.truths[index[cid]].quality for cid, _, _ in result.hires]
    nan = float("nan")
    return {
        "policy": "hindsight",
        "scenario": inner.config.name,
        "seed": seed,
        "episode": episode,
        "return": result.bound,
        "status": result.status,
        "objective": result.objective,
        "hires": float(len(result.hires)),
        "fill_rate": len(result.hires) / max(1, inner.total_headcount),
        "mean_hire_quality": float(np.mean(quality)) if quality else nan,
        **dict.fromkeys(("time_to_offer_days", "drop_off_rate", "interviews_per_hire"), nan),
        "seconds": result.solve_seconds,
        "code_version": code_version(),
    }


def mean_ci(values: Iterable[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and a Student-t confidence interval (low, high)."""
    from scipy.special import stdtrit  # the t quantile; scipy.stats takes 0.7 s to import

    x = np.asarray(list(values), dtype=float)
    m = float(x.mean()) if x.size else float("nan")
    if x.size < 2:
        return m, m, m
    half = float(stdtrit(x.size - 1, 0.5 + level / 2) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half
