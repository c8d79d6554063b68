"""Masked discrete Conservative Q-Learning (Kumar et al., NeurIPS 2020) with a Double-DQN target.

Reads top to bottom in the order it runs:

1. settings (``Settings``);
2. the Bellman target: Double DQN (the online network picks the next action, the
   target network scores it), with the pick restricted to the *valid* next actions
   (``next_action_mask``) so that an invalid action never leaks value into the target;
3. the loss: Huber TD error + ``alpha`` * (logsumexp over the *valid* actions of
   ``Q(s, .)`` - ``Q(s, a_logged)``), the CQL(H) term that pushes down the values of
   actions the data does not support;
4. training: Adam, Polyak-averaged target network, a log row every ``log_every`` steps;
5. acting: argmax of ``Q(s, .)`` over the valid actions only.

With ``ensemble`` K > 1, K Q-networks are trained side by side, each as above with
its own initialisation, minibatches and target network (K independent CQL runs),
batched into one network (``BatchedEnsemble``); acting uses the mean of their Q-values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from policies.offline.algorithm import OfflineAlgorithm
from policies.offline.batched import BatchedEnsemble, per_member
from policies.offline.networks import make_network, mask_invalid, masked_argmax
from policies.offline.replay import Batch, Replay, step_discounts
from policies.offline.training import fit_and_save, start_training


@dataclass
class Settings:
    """Settings of masked discrete CQL."""

    steps: int = 15_000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_rate: float = 3e-4
    """Adam step size."""
    gamma: float = 0.99
    """Discount per day (the default ``discount_per="day"``) or per step."""
    discount_per: str = "day"
    """``step``: discount every transition; ``day``: only transitions that end the day
    (the last action), so the order of decisions within a day costs nothing."""
    n_step: int = 1
    """Logged rewards summed before bootstrapping (1: the one-step target)."""
    alpha: float = 1.0
    """Weight of the conservative term; 0 is plain (masked) Double DQN."""
    target_tau: float = 0.005
    """Polyak rate of the target network per step."""
    arch: str = "slots"
    """Network: ``mlp`` (flat) or ``slots`` (weights shared across the candidate slots)."""
    hidden: tuple[int, ...] = (128, 128)
    """Widths of the hidden layers."""
    ensemble: int = 3
    """Q-networks trained independently; acting averages their Q-values (1: one network)."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this before learning."""
    max_grad_norm: float = 10.0
    """Gradient-norm clip."""
    seed: int = 0
    """Seeds torch, numpy and minibatch sampling."""
    threads: int = 1
    """Torch CPU threads (0: leave torch's default)."""
    log_every: int = 500
    """Steps between rows of ``train_log.csv``."""


def double_dqn_target(
    q_next_online: torch.Tensor,
    q_next_target: torch.Tensor,
    next_mask: torch.Tensor,
    reward: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float | torch.Tensor,
) -> torch.Tensor:
    """``r + gamma * (1 - terminated) * Q_target(s', argmax_{a' valid} Q_online(s', a'))``."""
    next_action = masked_argmax(q_next_online, next_mask)
    next_value = q_next_target.gather(1, next_action[:, None]).squeeze(1)
    return reward + gamma * (1.0 - terminated) * next_value


def cql_loss(
    q: torch.Tensor, action: torch.Tensor, mask: torch.Tensor, target: torch.Tensor, alpha: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """TD (Huber) loss + ``alpha`` * (logsumexp over valid actions - Q of the logged action)."""
    q_taken = q.gather(1, action[:, None]).squeeze(1)
    td = F.smooth_l1_loss(q_taken, target)
    conservative = (torch.logsumexp(mask_invalid(q, mask), dim=1) - q_taken).mean()
    loss = td + alpha * conservative
    return loss, {
        "loss": loss.item(),
        "td_loss": td.item(),
        "cql_gap": conservative.item(),
        "q_taken": q_taken.mean().item(),
    }


class CQL(OfflineAlgorithm):
    """Masked discrete CQL: one Q-network, or an ensemble acting on the mean Q-value."""

    name = "cql"
    settings_type = Settings
    acting_network = "q"

    def build(
        self,
        settings: Settings,
        obs_size: int,
        n_actions: int,
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> dict[str, torch.nn.Module]:
        """``q``: the Q-network (an ``Ensemble`` when ``settings.ensemble > 1``)."""
        return {
            "q": make_network(
                settings.arch,
                obs_size,
                n_actions,
                settings.hidden,
                obs_mean,
                obs_std,
                ensemble=settings.ensemble,
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
        q_net = self.build(settings, obs_size, n_actions, mean, std)["q"].to(dev)
        q = BatchedEnsemble(q_net)  # the members as one network, each on its own rows
        targets = q.target_weights()
        optimizer = torch.optim.Adam(q.parameters(), lr=settings.learning_rate)
        discounts = step_discounts(data["action"], settings.gamma, settings.discount_per, n_actions)
        replay = Replay(data, dev, settings.reward_scale, discounts, settings.n_step)

        def update(batch: Batch, step: int) -> dict[str, float]:
            # member k learns from the k-th block of settings.batch_size rows
            obs, next_obs = per_member(batch.obs, q.size), per_member(batch.next_obs, q.size)
            with torch.no_grad():
                target = double_dqn_target(
                    q(next_obs).flatten(0, 1),
                    q(next_obs, targets).flatten(0, 1),
                    batch.next_mask,
                    batch.reward,
                    batch.terminated,
                    batch.discount,
                )
            loss, metrics = cql_loss(q(obs).flatten(0, 1), batch.action, batch.mask, target,
                                     settings.alpha)  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            (loss * q.size).backward()  # the sum of the members' own losses
            q.clip_grad_norm_(settings.max_grad_norm)
            optimizer.step()
            q.soft_update(targets, settings.target_tau)
            return metrics

        networks = {"q": q_net}
        return fit_and_save(self.name, settings, update, replay, generator, networks, dev,
                            obs_size, n_actions, out_dir, extra_config, q.size)  # fmt: skip
