"""The trained model that ships in the repository, ``rl:models/default``, and its model card."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from cli_runner import isched

import envs
import envs.layout
from policies import make_policy

MODEL = Path(__file__).resolve().parents[1] / "models" / "default"
CARD = MODEL / "README.md"


def card_returns() -> dict[int, float]:
    """The exact returns the model card states: its lines ``- default seed N: return R``."""
    found = re.findall(r"^- `default` seed (\d+): return (-?\d+\.\d+)", CARD.read_text(), re.M)
    return {int(seed): float(value) for seed, value in found}


def play(scenario: str, seed: int) -> float:
    """One whole season with the shipped model, asserting every action is valid; its return."""
    policy = make_policy(f"rl:{MODEL}")
    env = gym.make(envs.ENV_ID, scenario=scenario)
    obs, info = env.reset(seed=seed)
    policy.reset(env)
    while True:
        action = policy.act(obs, info)
        assert info["action_mask"][action] == 1, (scenario, seed, action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            assert info["kpis"]["invalid_actions"] == 0
            return float(info["kpis"]["return"])


def test_the_shipped_model_is_in_the_repository_and_loads() -> None:
    from policies.offline.policy import load_model

    for name in ("model.pt", "config.json", "README.md"):
        assert (MODEL / name).is_file(), name
    assert sum(p.stat().st_size for p in MODEL.iterdir()) < 5_000_000
    model = load_model(MODEL)
    env = gym.make(envs.ENV_ID, scenario="default")
    assert (model.obs_size,) == env.observation_space.shape
    assert model.n_actions == env.action_space.n
    assert envs.layout.LAYOUT_VERSION in CARD.read_text()


def test_its_name_resolves_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rl:models/default`` is the project's model, not ``./models/default``, outside the repo."""
    from policies.offline.policy import load_model

    monkeypatch.chdir(tmp_path)
    assert load_model("models/default") is load_model(MODEL)
    with pytest.raises(ValueError, match="models/elsewhere: no model.pt"):
        load_model("models/elsewhere")
    shutil.copytree(MODEL, tmp_path / "models" / "default")  # a local model of that name wins
    assert load_model("models/default") is not load_model(MODEL)


def test_acts_only_on_valid_actions_over_a_tiny_season() -> None:
    assert np.isfinite(play("tiny", 0))


def test_reproduces_the_model_cards_returns_on_two_default_seasons() -> None:
    """Two whole ``default`` seasons, valid actions only, returns as the card states them."""
    stated = card_returns()
    assert sorted(stated) == [500000, 500001]
    for seed, value in stated.items():
        assert play("default", seed) == pytest.approx(value, abs=1e-6)


def test_a_copy_for_another_layout_is_refused_in_one_line(tmp_path: Path) -> None:
    import torch

    old = tmp_path / "old"
    shutil.copytree(MODEL, old)
    payload = torch.load(old / "model.pt", weights_only=True)
    payload["layout"] = "v0:40+10x20:31"
    torch.save(payload, old / "model.pt")
    result = isched("simulate", "--scenario", "tiny", "--policy", f"rl:{old}", "--episodes", "1")
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "v0:40+10x20:31" in result.stderr and "retrain" in result.stderr


def test_solve_plans_a_snapshot_with_the_shipped_model(tmp_path: Path) -> None:
    from scheduler.validator import check_schedule

    snap, out = tmp_path / "snap", tmp_path / "plan"
    assert isched("generate", "--scenario", "tiny", "--seed", "0", "--out", snap).returncode == 0
    result = isched("solve", snap, "--out", out, "--solver", f"rl:{MODEL}")
    assert result.returncode == 0, result.stderr
    assert check_schedule(snap, out / "schedule.csv") == []


def test_models_are_not_ignored_by_git() -> None:
    import subprocess

    root = MODEL.parents[1]
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    for name in ("model.pt", "config.json", "README.md"):
        result = subprocess.run(["git", "check-ignore", "-q", str(MODEL / name)], cwd=root)
        assert result.returncode == 1, f"models/default/{name} is ignored by git"


FORKED_LOADS = """
import sys
from concurrent.futures import wait
from policies import make_policy
from scheduler.processes import process_pool

def load(path):
    return make_policy("rl:" + path).model.n_actions

make_policy("rl:models/default")  # as `isched compare` checks its policies, before forking
with process_pool(2) as pool:
    futures = [pool.submit(load, path) for path in sys.argv[1:]]
    done, pending = wait(futures, timeout=60)
    print(len(done), len(pending), flush=True)
    if pending:  # hung workers: leave without joining them
        import os
        os._exit(1)
"""


def test_workers_forked_after_a_model_load_load_other_models(tmp_path: Path) -> None:
    """A model loaded before a pool forks leaves no lock behind for the workers: each
    loads another model (not in the cache) and returns. They used to hang in torch."""
    copies = []
    for k in range(4):
        copy = tmp_path / f"copy{k}"
        shutil.copytree(MODEL, copy)
        copies.append(str(copy))
    script = tmp_path / "forked_loads.py"
    script.write_text(FORKED_LOADS)
    root = MODEL.parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(script), *copies], capture_output=True, text=True,
                         timeout=180, cwd=root, env=env, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["4", "0"]
