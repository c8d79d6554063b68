"""Online-RL peer: MaskablePPO (sb3-contrib) trained on the season env, and ``ppo:MODEL_PATH``.

``train_ppo`` trains on seasons drawn from the tuning seeds (``TRAINING_SEASONS``:
never a test seed), evaluates the deterministic policy every ``eval_every``
steps on a few fixed tuning seasons (once per policy: not again before PPO has
updated it) and writes MODEL_PATH/model.zip,
config.json and train_log.csv (step, wall seconds, steps/s, evaluation return,
mean return of the training episodes). ``ppo:MODEL_PATH`` loads a model
directory (or a ``.zip``) and acts on the mask, deterministically.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from policies.base import register_policy

TRAINING_SEASONS = (0, 500_000)
"""Seeds [low, high) PPO trains on: tuning seeds; test seeds start at ``high``."""
EVAL_SEEDS = tuple(range(490_000, 490_003))
"""Tuning seasons the learning curve is measured on."""


@dataclass
class PpoSettings:
    """What ``isched train-ppo`` and an experiment's ``kind: ppo`` step set."""

    scenario: str = "tiny"
    """Scenario name or YAML path of the training seasons."""
    steps: int = 20_000
    """Environment steps of training."""
    seed: int = 0
    """Seed of the network, the sampling and the training seasons drawn."""
    eval_every: int = 0
    """Steps between learning-curve rows (0: a tenth of ``steps``)."""
    n_steps: int = 1024
    """Rollout length per update."""
    batch_size: int = 128
    learning_rate: float = 3e-4
    gamma: float = 0.999


class TuningSeasons(gym.Wrapper):
    """Resets without a seed draw the season's seed from ``TRAINING_SEASONS``."""

    def __init__(self, env: gym.Env, seed: int) -> None:
        super().__init__(env)
        self.season_rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        if seed is None:
            seed = int(self.season_rng.integers(*TRAINING_SEASONS))
        return self.env.reset(seed=seed, options=options)


def evaluate(model: Any, scenario: str, seeds: tuple[int, ...]) -> float:
    """Mean return of the deterministic policy over ``seeds``."""
    import envs
    from policies.rollout import run_episode

    env = gym.make(envs.ENV_ID, scenario=scenario)
    policy = PpoPolicy(model=model)
    return float(np.mean([run_episode(env, policy, s)[0]["return"] for s in seeds]))


def train_ppo(settings: PpoSettings, out_dir: str | Path, threads: int = 1) -> dict[str, Any]:
    """Train MaskablePPO and write the model directory; a summary of the run."""
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor

    import envs
    from policies.rollout import code_version

    torch.set_num_threads(threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = TuningSeasons(Monitor(gym.make(envs.ENV_ID, scenario=settings.scenario)), settings.seed)
    model = MaskablePPO(
        "MlpPolicy",
        env,
        seed=settings.seed,
        n_steps=settings.n_steps,
        batch_size=settings.batch_size,
        learning_rate=settings.learning_rate,
        gamma=settings.gamma,
        device="cpu",
        verbose=0,
    )
    every = settings.eval_every or max(1, settings.steps // 10)
    log: list[dict[str, float]] = []
    started = time.perf_counter()
    evaluating = 0.0

    def record(step: int) -> None:
        nonlocal evaluating
        t0 = time.perf_counter()
        value = evaluate(model, settings.scenario, EVAL_SEEDS)
        evaluating += time.perf_counter() - t0
        wall = time.perf_counter() - started
        episodes = [e["r"] for e in model.ep_info_buffer] if model.ep_info_buffer else []
        log.append(
            {
                "step": step,
                "seconds": round(wall, 3),
                "train_seconds": round(wall - evaluating, 3),
                "steps_per_s": round(step / max(wall - evaluating, 1e-9), 1),
                "eval_return": value,
                "train_return": float(np.mean(episodes)) if episodes else float("nan"),
            }
        )

    seen_updates = [-1]  # PPO's update count at the last evaluation

    class Curve(BaseCallback):
        def _on_step(self) -> bool:
            updates = int(getattr(model, "_n_updates", 0))
            if self.num_timesteps % every == 0 and updates != seen_updates[0]:
                seen_updates[0] = updates  # the same policy is not evaluated twice
                record(self.num_timesteps)
            return True

    model.learn(total_timesteps=settings.steps, callback=Curve())
    if not log or log[-1]["step"] != model.num_timesteps:
        record(model.num_timesteps)
    model.save(out / "model.zip")
    with open(out / "train_log.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(log[0]))
        writer.writeheader()
        writer.writerows(log)
    summary = {
        "algo": "maskable_ppo",
        **asdict(settings),
        "code_version": code_version(),
        "train_seconds": log[-1]["train_seconds"],
        "trained_steps": int(model.num_timesteps),
        "final_eval_return": log[-1]["eval_return"],
        "eval_seeds": list(EVAL_SEEDS),
        "training_seasons": list(TRAINING_SEASONS),
    }
    (out / "config.json").write_text(json.dumps(summary, indent=2))
    return summary


class PpoPolicy:
    """A trained MaskablePPO acting deterministically on the mask."""

    name = "ppo"

    def __init__(self, path: str | Path | None = None, seed: int = 0, model: Any = None) -> None:
        if model is None:
            model = load_model(path)
        self.model = model
        self.seed = seed

    def reset(self, env: gym.Env) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        mask = np.asarray(info["action_mask"], dtype=bool)
        action, _ = self.model.predict(obs, action_masks=mask, deterministic=True)
        return int(action)


def load_model(path: str | Path | None) -> Any:
    """A MaskablePPO from a model directory (its model.zip) or a ``.zip`` file."""
    from sb3_contrib import MaskablePPO

    if path is None:
        raise ValueError("ppo needs a model: ppo:MODEL_PATH (train one with isched train-ppo)")
    where = Path(path)
    file = where / "model.zip" if where.is_dir() else where
    if not file.is_file():
        raise ValueError(f"ppo:{path}: no model.zip there (train one with isched train-ppo)")
    return MaskablePPO.load(file, device="cpu")


register_policy("ppo")(PpoPolicy)
