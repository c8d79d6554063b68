"""Masked discrete Batch-Constrained Q-learning (Fujimoto et al., 2019, "Benchmarking Batch
Deep Reinforcement Learning Algorithms").

Reads top to bottom in the order it runs:

1. settings (``Settings``);
2. the filter: an imitation network ``G(a|s)`` is trained by (masked) cross-entropy on
   the logged actions; an action is *allowed* when it is valid and
   ``G(a|s) / max_{valid a'} G(a'|s) > threshold``; the ratio of softmax probabilities
   is ``exp(logit_a - max logit)``, so it needs no softmax;
3. the Bellman target: Double DQN over the allowed next actions (valid ones only);
4. the loss: Huber TD error + cross-entropy of ``G`` + a small penalty on its logits;
5. acting: argmax of ``Q(s, .)`` over the allowed actions.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from policies.offline.algorithm import NumpyActor, OfflineAlgorithm
from policies.offline.networks import make_network, mask_invalid, soft_update
from policies.offline.numpy_inference import numpy_network
from policies.offline.replay import Batch, Replay, step_discounts
from policies.offline.training import fit_and_save, start_training


@dataclass
class Settings:
    """Settings of masked discrete BCQ."""

    steps: int = 20_000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_rate: float = 3e-4
    """Adam step size (both networks)."""
    gamma: float = 0.99
    """Discount per day (the default ``discount_per="day"``) or per step."""
    discount_per: str = "day"
    """``step``: discount every transition; ``day``: only transitions that end the day
    (the last action), so the order of decisions within a day costs nothing."""
    n_step: int = 1
    """Logged rewards summed before bootstrapping (1: the one-step target)."""
    threshold: float = 0.3
    """tau of the paper: allowed actions have imitator probability > threshold * the max."""
    target_tau: float = 0.005
    """Polyak rate of the target Q-network per step."""
    arch: str = "mlp"
    """Network: ``mlp`` (flat) or ``slots`` (weights shared across the candidate slots)."""
    hidden: tuple[int, ...] = (256, 256)
    """Widths of the hidden layers (Q and imitator)."""
    imitation_logit_penalty: float = 1e-2
    """Weight of the squared imitator logits in the loss (as in the paper)."""
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


def allowed_actions(logits: torch.Tensor, mask: torch.Tensor, threshold: float) -> torch.Tensor:
    """Valid actions whose imitator probability is > ``threshold`` times the best valid one."""
    masked = mask_invalid(logits, mask)
    best = masked.max(dim=1, keepdim=True).values
    return mask & (masked - best > math.log(threshold))


def filtered_argmax(q: torch.Tensor, logits: torch.Tensor, mask: torch.Tensor,
                    threshold: float) -> torch.Tensor:  # fmt: skip
    """Argmax of ``q`` over the allowed actions (the best valid imitator action always is)."""
    return mask_invalid(q, allowed_actions(logits, mask, threshold)).argmax(dim=1)


def bcq_target(
    q_next_online: torch.Tensor,
    q_next_target: torch.Tensor,
    next_logits: torch.Tensor,
    next_mask: torch.Tensor,
    reward: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float | torch.Tensor,
    threshold: float,
) -> torch.Tensor:
    """``r + gamma * (1 - terminated) * Q_target(s', argmax over allowed a' of Q_online)``."""
    next_action = filtered_argmax(q_next_online, next_logits, next_mask, threshold)
    next_value = q_next_target.gather(1, next_action[:, None]).squeeze(1)
    return reward + gamma * (1.0 - terminated) * next_value


def imitation_loss(logits: torch.Tensor, action: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the logged action with invalid logits at -inf."""
    return F.cross_entropy(mask_invalid(logits, mask), action)


def greedy_actions(networks: dict[str, torch.nn.Module], obs: torch.Tensor, mask: torch.Tensor,
                   threshold: float) -> torch.Tensor:  # fmt: skip
    """The best allowed action of each observation in a batch."""
    with torch.inference_mode():
        return filtered_argmax(networks["q"](obs), networks["imitator"](obs), mask.bool(),
                               threshold)  # fmt: skip


class BCQ(OfflineAlgorithm):
    """Masked discrete BCQ: a Q-network acting over the actions an imitator allows."""

    name = "bcq"
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
        """``q`` (Q-network) and ``imitator`` (logits of the logged action)."""
        return {
            "q": make_network(
                settings.arch, obs_size, n_actions, settings.hidden, obs_mean, obs_std
            ),
            "imitator": make_network(
                settings.arch, obs_size, n_actions, settings.hidden, obs_mean, obs_std
            ),
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
        built = self.build(settings, obs_size, n_actions, mean, std)
        networks = {k: v.to(dev) for k, v in built.items()}
        q_net, imitator = networks["q"], networks["imitator"]
        target_net = copy.deepcopy(q_net)
        params = [*q_net.parameters(), *imitator.parameters()]
        optimizer = torch.optim.Adam(params, lr=settings.learning_rate)
        discounts = step_discounts(data["action"], settings.gamma, settings.discount_per, n_actions)
        replay = Replay(data, dev, settings.reward_scale, discounts, settings.n_step)

        def update(batch: Batch, step: int) -> dict[str, float]:
            with torch.no_grad():
                target = bcq_target(
                    q_net(batch.next_obs),
                    target_net(batch.next_obs),
                    imitator(batch.next_obs),
                    batch.next_mask,
                    batch.reward,
                    batch.terminated,
                    batch.discount,
                    settings.threshold,
                )
            q_taken = q_net(batch.obs).gather(1, batch.action[:, None]).squeeze(1)
            td = F.smooth_l1_loss(q_taken, target)
            logits = imitator(batch.obs)
            imitation = imitation_loss(logits, batch.action, batch.mask)
            penalty = logits.pow(2).mean()
            loss = td + imitation + settings.imitation_logit_penalty * penalty
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, settings.max_grad_norm)
            optimizer.step()
            soft_update(target_net, q_net, settings.target_tau)
            return {"loss": loss.item(), "td_loss": td.item(), "imitation_loss": imitation.item(),
                    "q_taken": q_taken.mean().item()}  # fmt: skip

        return fit_and_save(self.name, settings, update, replay, generator, networks, dev,
                            obs_size, n_actions, out_dir, extra_config)  # fmt: skip

    def act_batch(
        self,
        networks: dict[str, torch.nn.Module],
        obs: torch.Tensor,
        mask: torch.Tensor,
        settings: Settings,
    ) -> torch.Tensor:
        """Greedy allowed actions for a batch (the torch path)."""
        return greedy_actions(networks, obs, mask, settings.threshold)

    def numpy_actor(self, state_dicts: dict[str, Any], settings: Settings) -> NumpyActor:
        """A fast ``act(obs, mask) -> int`` for one observation (the numpy path)."""
        q, imitator = numpy_network(state_dicts["q"]), numpy_network(state_dicts["imitator"])
        log_threshold = math.log(settings.threshold)

        def act(obs: np.ndarray, mask: np.ndarray) -> int:
            valid = mask.astype(bool)
            logits = np.where(valid, imitator(obs), -np.inf)
            allowed = valid & (logits - logits.max() > log_threshold)
            return int(np.argmax(np.where(allowed, q(obs), -np.inf)))

        return act
