"""Masked behaviour cloning: imitate the logged actions, never an invalid one.

Reads top to bottom in the order it runs:

1. settings (``Settings``);
2. the loss: cross-entropy of the logged action, with the logits of invalid actions
   set to -inf before the softmax (their probability is exactly 0);
3. training: Adam on minibatches, a log row every ``log_every`` steps;
4. acting: the valid action of highest logit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from policies.offline.algorithm import OfflineAlgorithm
from policies.offline.networks import (
    make_network,
    mask_invalid,
    masked_argmax,
)
from policies.offline.replay import Batch, Replay
from policies.offline.training import fit_and_save, start_training


@dataclass
class Settings:
    """Settings of masked behaviour cloning."""

    steps: int = 10_000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_rate: float = 3e-4
    """Adam step size."""
    arch: str = "mlp"
    """Network: ``mlp`` (flat) or ``slots`` (weights shared across the candidate slots)."""
    hidden: tuple[int, ...] = (256, 256)
    """Widths of the hidden layers."""
    weight_decay: float = 0.0
    """Adam weight decay."""
    seed: int = 0
    """Seeds torch, numpy and minibatch sampling."""
    threads: int = 1
    """Torch CPU threads (0: leave torch's default)."""
    log_every: int = 500
    """Steps between rows of ``train_log.csv``."""


def bc_loss(logits: torch.Tensor, action: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the logged action over the valid actions only."""
    return F.cross_entropy(mask_invalid(logits, mask), action)


class BC(OfflineAlgorithm):
    """Masked behaviour cloning: a policy network imitating the logged actions."""

    name = "bc"
    settings_type = Settings
    acting_network = "policy"

    def build(
        self,
        settings: Settings,
        obs_size: int,
        n_actions: int,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> dict[str, torch.nn.Module]:
        """``policy``: logits of the logged action."""
        return {
            "policy": make_network(
                settings.arch, obs_size, n_actions, settings.hidden, obs_mean, obs_std
            )
        }

    def train(
        self,
        data: dict[str, np.ndarray],
        settings: Settings,
        out_dir: str | Path | None = None,
        device: str = "cpu",
        extra_config: dict[str, Any] | None = None,
    ) -> dict[str, torch.nn.Module]:
        """Train on a dataset's arrays; write model.pt, config.json, train_log.csv."""
        start = start_training(data, settings, device)
        generator, dev, obs_size, n_actions, mean, std = start
        policy_net = self.build(settings, obs_size, n_actions, mean, std)["policy"].to(dev)
        optimizer = torch.optim.Adam(
            policy_net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
        )
        replay = Replay(data, dev)

        def update(batch: Batch, step: int) -> dict[str, float]:
            logits = policy_net(batch.obs)
            loss = bc_loss(logits, batch.action, batch.mask)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            accuracy = (masked_argmax(logits.detach(), batch.mask) == batch.action).float().mean()
            return {"loss": loss.item(), "accuracy": accuracy.item()}

        networks = {"policy": policy_net}
        return fit_and_save(self.name, settings, update, replay, generator, networks, dev,
                            obs_size, n_actions, out_dir, extra_config)  # fmt: skip
