"""Load a trained checkpoint and act with it: the ``rl:MODEL_DIR`` policy."""

from __future__ import annotations

import dataclasses
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from policies.offline import ALGOS
from policies.offline.common import load_checkpoint, settings_from


def algo_module(algo: str) -> ModuleType:
    """The module of an algorithm name (``cql``, ``bcq``, ``bc``)."""
    if algo not in ALGOS:
        raise ValueError(f"unknown algorithm '{algo}': choose from {', '.join(ALGOS)}")
    return importlib.import_module(f"policies.offline.{algo}")


class Model(NamedTuple):
    """A loaded checkpoint: torch networks for batches and a numpy actor for single decisions."""

    algo: str
    settings: Any
    networks: dict[str, torch.nn.Module]
    act_one: Any
    """``act_one(obs, mask) -> int``: numpy forward pass, batch size 1."""
    obs_size: int
    n_actions: int

    def act_batch(self, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Greedy valid actions for a batch of observations (torch forward pass)."""
        module = algo_module(self.algo)
        actions = module.act_batch(
            self.networks,
            torch.as_tensor(obs, dtype=torch.float32),
            torch.as_tensor(np.asarray(mask) > 0),
            self.settings,
        )
        return actions.numpy()


_CACHE: dict[tuple[str, float], Model] = {}


def load_model(model_dir: str | Path) -> Model:
    """The model in ``model_dir`` (cached by path and modification time of ``model.pt``)."""
    path = Path(model_dir).resolve()
    if not (path / "model.pt").is_file():
        raise ValueError(f"{model_dir}: no model.pt (train one with `isched train`)")
    key = (str(path), (path / "model.pt").stat().st_mtime)
    if key not in _CACHE:
        ckpt = load_checkpoint(path)
        module = algo_module(ckpt.algo)
        settings = settings_from(module.Settings, ckpt.settings)
        networks = module.load_networks(
            ckpt.state_dicts, dataclasses.asdict(settings), ckpt.obs_size, ckpt.n_actions
        )
        actor = module.numpy_actor(ckpt.state_dicts, dataclasses.asdict(settings))
        _CACHE[key] = Model(ckpt.algo, settings, networks, actor, ckpt.obs_size, ckpt.n_actions)
    return _CACHE[key]


class OfflinePolicy:
    """Acts greedily over the valid actions with a trained offline-RL model, on the CPU."""

    def __init__(self, model_dir: str | Path, seed: int = 0) -> None:
        self.model = load_model(model_dir)
        self.name = f"rl:{model_dir}"
        self.seed = seed
        self._act = self.model.act_one

    def reset(self, env: gym.Env) -> None:
        shape = env.observation_space.shape
        n_actions = getattr(env.action_space, "n", None)
        if shape != (self.model.obs_size,) or n_actions != self.model.n_actions:
            raise ValueError(
                f"{self.name}: model is for observations ({self.model.obs_size},) and "
                f"{self.model.n_actions} actions, the env has {shape} and {n_actions}"
            )

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        return self._act(obs, info["action_mask"])
