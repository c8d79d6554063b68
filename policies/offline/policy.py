"""Load a trained checkpoint and act with it: the ``rl:MODEL_DIR`` policy."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
import torch

from policies.offline.algorithm import NumpyActor, get_algorithm
from policies.offline.checkpoint import load_checkpoint, model_dir_of


class Model(NamedTuple):
    """A loaded checkpoint: torch networks for batches and a numpy actor for single decisions."""

    algo: str
    settings: Any
    networks: dict[str, torch.nn.Module]
    act_one: NumpyActor
    """``act_one(obs, mask) -> int``: numpy forward pass, batch size 1."""
    obs_size: int
    n_actions: int

    def act_batch(self, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Greedy valid actions for a batch of observations (torch forward pass)."""
        actions = get_algorithm(self.algo).act_batch(
            self.networks,
            torch.as_tensor(obs, dtype=torch.float32),
            torch.as_tensor(np.asarray(mask) > 0),
            self.settings,
        )
        return actions.numpy()


_CACHE: dict[tuple[str, float], Model] = {}


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread inside, as before outside.

    Copying weights of this size runs in parallel on torch's OpenMP pool, and a process
    forked after that pool exists hangs in its own first parallel call: loading a model
    in ``isched compare`` (which checks its policies before forking workers) left a
    worker loading another model stuck for ever. On one thread no pool is started.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_model(model_dir: str | Path) -> Model:
    """The model in ``model_dir`` (cached by path and modification time of ``model.pt``)."""
    path = model_dir_of(model_dir).resolve()
    if not (path / "model.pt").is_file():
        raise ValueError(f"{model_dir}: no model.pt (train one with `isched train`)")
    key = (str(path), (path / "model.pt").stat().st_mtime)
    if key not in _CACHE:
        ckpt = load_checkpoint(path)
        algorithm = get_algorithm(ckpt.algo)
        settings = algorithm.settings_from(ckpt.settings)
        with one_torch_thread():
            networks = algorithm.load_networks(
                ckpt.state_dicts, settings, ckpt.obs_size, ckpt.n_actions
            )
            actor = algorithm.numpy_actor(ckpt.state_dicts, settings)
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
