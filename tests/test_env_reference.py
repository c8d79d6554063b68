"""The env reproduces recorded seasons exactly: observations, masks, rewards and KPIs.

``tests/data/env_reference.json`` holds, per (scenario, seed), a SHA-256 digest of
every step of a random-valid season (the reset's observation and mask, then each
step's observation, mask, reward and end flags) and the final KPIs, recorded
before the env's performance work (the KPIs of seasons without a hire were set to NaN
later, digests unchanged). Regenerate only for an intended change of behaviour:
``python tests/test_env_reference.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from envs.season_env import InterviewSchedulingEnv

FIXTURE = Path(__file__).parent / "data" / "env_reference.json"
RECORDED = {"tiny": range(5), "default": range(5)}
"""Seasons in the fixture."""
CHECKED = [(name, seed) for name, seeds in RECORDED.items() for seed in seeds]
"""Seasons the test plays (all: a random-valid ``default`` season is ~900 steps, 0.2 s)."""


def play(scenario: str, seed: int) -> dict[str, Any]:
    """Digest, step count and KPIs of a random-valid season (actions from ``seed``)."""
    env = InterviewSchedulingEnv(scenario)
    rng = np.random.default_rng(seed)
    digest = hashlib.sha256()
    obs, info = env.reset(seed=seed)
    digest.update(obs.tobytes() + info["action_mask"].tobytes())
    steps = 0
    while True:
        valid = np.flatnonzero(info["action_mask"])
        action = int(valid[rng.integers(valid.size)])
        obs, reward, terminated, truncated, info = env.step(action)
        steps += 1
        digest.update(obs.tobytes() + info["action_mask"].tobytes())
        digest.update(np.float64(reward).tobytes() + bytes([terminated, truncated]))
        if terminated or truncated:
            break
    assert sorted(info) == ["action_mask", "kpis"]
    return {"steps": steps, "digest": digest.hexdigest(), "kpis": info["kpis"]}


def load() -> dict[str, dict[str, Any]]:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize(("scenario", "seed"), CHECKED)
def test_env_reproduces_the_recorded_season(scenario: str, seed: int) -> None:
    expected = load()[f"{scenario}/{seed}"]
    got = play(scenario, seed)
    assert got["steps"] == expected["steps"]
    assert got["kpis"].keys() == expected["kpis"].keys()
    for key, value in expected["kpis"].items():  # NaN: a KPI of a season without hires
        found = got["kpis"][key]
        assert found == value or (value != value and found != found), (key, found, value)
    assert got["digest"] == expected["digest"]


def write() -> None:
    """Record the fixture from the env as it is now."""
    seasons = {f"{name}/{seed}": play(name, seed) for name, seeds in RECORDED.items()
               for seed in seeds}  # fmt: skip
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(seasons, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}: {len(seasons)} seasons")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/test_env_reference.py --write")
    write()
