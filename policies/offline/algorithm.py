"""What an offline-RL algorithm declares, and the registry of algorithms.

Each algorithm (``cql.py``, ``bcq.py``, ``bc.py``, ``iql.py``, ``hindsight.py``) is one
class derived from ``OfflineAlgorithm``: its name, its settings dataclass, the networks a checkpoint
holds (``build``), how it learns (``train``) and how it acts, with torch on a batch
(``act_batch``) and with numpy on one observation (``numpy_actor``): by default the
best valid action of one network. ``ALGORITHMS``
names every algorithm and where its class lives; ``get_algorithm`` imports it on
first use, so importing this module does not load torch.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    import torch
    from torch import nn

ALGORITHMS: dict[str, str] = {
    "cql": "policies.offline.cql:CQL",
    "bcq": "policies.offline.bcq:BCQ",
    "bc": "policies.offline.bc:BC",
    "iql": "policies.offline.iql:IQL",
    "hindsight": "policies.offline.hindsight:Hindsight",
}
"""Algorithm name -> ``module:Class`` of its ``OfflineAlgorithm``."""

NumpyActor = Callable[[np.ndarray, np.ndarray], int]
"""``act(obs, mask) -> action`` for one observation, in numpy."""


class OfflineAlgorithm(ABC):
    """An offline-RL algorithm over a discrete action space with an action mask.

    Subclasses set ``name`` and ``settings_type`` (a dataclass with at least ``steps``,
    ``batch_size``, ``seed``, ``threads`` and ``log_every``) and implement ``build`` and
    ``train``; acting greedily on ``acting_network``, loading a checkpoint and making
    settings are shared.
    """

    name: ClassVar[str]
    """The name ``isched train --algo`` and ``model.pt`` use."""
    settings_type: ClassVar[type]
    """The settings dataclass."""
    acting_network: ClassVar[str]
    """The network whose best valid action is the greedy action (unless ``act_batch``
    and ``numpy_actor`` are overridden, as BCQ does)."""

    @abstractmethod
    def build(
        self,
        settings: Any,
        obs_size: int,
        n_actions: int,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> dict[str, nn.Module]:
        """The freshly initialised networks a checkpoint holds, by name."""

    @abstractmethod
    def train(
        self,
        data: dict[str, np.ndarray],
        settings: Any,
        out_dir: str | Path | None = None,
        device: str = "cpu",
        extra_config: dict[str, Any] | None = None,
    ) -> dict[str, nn.Module]:
        """Train on a dataset's arrays; write model.pt, config.json and train_log.csv to
        ``out_dir`` when given. Returns the trained networks on the CPU, in eval mode."""

    def act_batch(
        self,
        networks: dict[str, nn.Module],
        obs: torch.Tensor,
        mask: torch.Tensor,
        settings: Any,
    ) -> torch.Tensor:
        """The greedy action of each observation in a batch (``mask``: bool): the valid
        action that ``networks[acting_network]`` scores highest (the torch path)."""
        import torch

        from policies.offline.networks import masked_argmax

        with torch.inference_mode():
            return masked_argmax(networks[self.acting_network](obs), mask.bool())

    def numpy_actor(self, state_dicts: dict[str, Any], settings: Any) -> NumpyActor:
        """A numpy ``act(obs, mask) -> int`` for one observation that picks what
        ``act_batch`` picks (the fast path of the ``rl:MODEL_DIR`` policy)."""
        from policies.offline.networks import masked_argmax_np
        from policies.offline.numpy_inference import NumpySlotNet, numpy_network

        scores = numpy_network(state_dicts[self.acting_network])
        if isinstance(scores, NumpySlotNet) and len(scores.head) == 1:
            from policies.offline.compiled_slotnet import CompiledSlotActor

            return CompiledSlotActor(scores)

        def act(obs: np.ndarray, mask: np.ndarray) -> int:
            return masked_argmax_np(scores(obs), mask)

        return act

    def make_settings(self, **overrides: Any) -> Any:
        """The settings with ``overrides`` (``None`` values are ignored; unknown names fail)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(given) - {f.name for f in dataclasses.fields(self.settings_type)})
        if unknown:
            raise ValueError(f"{self.name} has no setting {', '.join(unknown)}")
        return self.settings_type(**given)

    def settings_from(self, values: dict[str, Any]) -> Any:
        """The settings of a saved dict (lists back to tuples; unknown keys dropped)."""
        names = {f.name for f in dataclasses.fields(self.settings_type)}
        kept = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
        return self.settings_type(**kept)

    def load_networks(
        self, state_dicts: dict[str, Any], settings: Any, obs_size: int, n_actions: int
    ) -> dict[str, nn.Module]:
        """The networks of a checkpoint with its weights, in eval mode."""
        networks = self.build(settings, obs_size, n_actions)
        for name, net in networks.items():
            net.load_state_dict(state_dicts[name])
            net.eval()
        return networks


@functools.cache
def get_algorithm(name: str) -> OfflineAlgorithm:
    """The registered algorithm called ``name`` (imports its module on first use)."""
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm '{name}': choose from {', '.join(ALGORITHMS)}")
    module_name, class_name = ALGORITHMS[name].split(":")
    algorithm = getattr(importlib.import_module(module_name), class_name)()
    if not isinstance(algorithm, OfflineAlgorithm) or algorithm.name != name:
        raise TypeError(f"{ALGORITHMS[name]} is not the OfflineAlgorithm '{name}'")
    return algorithm
