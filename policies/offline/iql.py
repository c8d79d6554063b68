"""Masked discrete Implicit Q-Learning (Kostrikov et al., ICLR 2022).

IQL never asks a Q-network about an action the data does not show: the value ``V(s)``
is an upper expectile of ``Q(s, a)`` over the *logged* actions, and the policy imitates
the logged actions weighted by how much better than ``V`` they are. Reads top to
bottom in the order it runs:

1. settings (``Settings``);
2. the value loss: expectile regression of ``V(s)`` on ``min_k Q_target_k(s, a_logged)``;
   with ``expectile`` tau > 0.5 errors above ``V`` count more, so ``V`` tracks the best
   logged actions rather than the average one;
3. the Q loss: each of the ``critics`` Q-networks regresses ``Q(s, a_logged)`` on
   ``r + gamma * (1 - terminated) * V(s')``. The target reads ``V`` only, which was fit
   to Q-values of logged (hence valid) actions: no invalid action enters a target;
4. the policy loss (advantage-weighted regression): ``-exp(beta * A) * log pi(a_logged|s)``
   with ``A = min_k Q_target_k(s, a) - V(s)`` (weights capped at ``max_weight``) and
   ``pi`` a softmax over the *valid* actions only (invalid logits at -inf);
5. training: Adam, Polyak-averaged target Q-networks, a log row every ``log_every`` steps;
6. acting: the valid action of highest policy logit.

The critics are one ``BatchedEnsemble`` (each with its own initialisation and target,
all on the same minibatch, as in the paper). The value network is an ``MLP`` whatever
``arch`` says (it only serves training); Q and the policy follow ``arch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from policies.offline.algorithm import OfflineAlgorithm
from policies.offline.batched import BatchedEnsemble
from policies.offline.networks import make_network, mask_invalid
from policies.offline.replay import Batch, Replay, step_discounts
from policies.offline.training import fit_and_save, start_training


@dataclass
class Settings:
    """Settings of masked discrete IQL."""

    steps: int = 15_000
    """Gradient steps."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_rate: float = 3e-4
    """Adam step size (all networks)."""
    gamma: float = 0.99
    """Discount per day (the default ``discount_per="day"``) or per step."""
    discount_per: str = "day"
    """``step``: discount every transition; ``day``: only transitions that end the day
    (the last action), so the order of decisions within a day costs nothing."""
    n_step: int = 1
    """Logged rewards summed before bootstrapping (1: the one-step target)."""
    expectile: float = 0.8
    """tau of the value regression (0.5: the mean over logged actions; towards 1: their max)."""
    temperature: float = 3.0
    """beta of the advantage weights ``exp(beta * A)`` (0: behaviour cloning)."""
    max_weight: float = 100.0
    """Cap of the advantage weights."""
    critics: int = 2
    """Q-networks; the value and advantage read the minimum of their targets."""
    target_tau: float = 0.005
    """Polyak rate of the target Q-networks per step."""
    arch: str = "slots"
    """Q and policy networks: ``mlp`` (flat) or ``slots`` (shared across candidate slots)."""
    hidden: tuple[int, ...] = (128, 128)
    """Widths of the hidden layers."""
    reward_scale: float = 1.0
    """Rewards are multiplied by this before learning."""
    max_grad_norm: float = 10.0
    """Gradient-norm clip (per network)."""
    seed: int = 0
    """Seeds torch, numpy and minibatch sampling."""
    threads: int = 1
    """Torch CPU threads (0: leave torch's default)."""
    log_every: int = 500
    """Steps between rows of ``train_log.csv``."""


def expectile_loss(diff: torch.Tensor, expectile: float) -> torch.Tensor:
    """Mean of ``|tau - 1(diff < 0)| * diff**2`` (``diff = target - V``)."""
    weight = torch.where(diff < 0, 1.0 - expectile, expectile)
    return (weight * diff.pow(2)).mean()


def value_target(
    value_next: torch.Tensor,
    reward: torch.Tensor,
    terminated: torch.Tensor,
    gamma: float | torch.Tensor,
) -> torch.Tensor:
    """``r + gamma * (1 - terminated) * V(s')``: the Q target, free of any action's value."""
    return reward + gamma * (1.0 - terminated) * value_next


def advantage_weighted_loss(
    logits: torch.Tensor,
    action: torch.Tensor,
    mask: torch.Tensor,
    advantage: torch.Tensor,
    temperature: float,
    max_weight: float,
) -> torch.Tensor:
    """``-mean(min(exp(beta * A), max_weight) * log pi(a|s))`` with pi over valid actions."""
    log_pi = F.log_softmax(mask_invalid(logits, mask), dim=1)
    log_pi_taken = log_pi.gather(1, action[:, None]).squeeze(1)
    weight = torch.exp(temperature * advantage).clamp(max=max_weight)
    return -(weight * log_pi_taken).mean()


class IQL(OfflineAlgorithm):
    """Masked discrete IQL: expectile value, twin Q-networks, advantage-weighted policy."""

    name = "iql"
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
        """``policy`` (logits), ``q`` (an ``Ensemble`` of ``critics``) and ``value`` (an MLP)."""
        hidden = settings.hidden
        return {
            "policy": make_network(settings.arch, obs_size, n_actions, hidden, obs_mean, obs_std),
            "q": make_network(
                settings.arch,
                obs_size,
                n_actions,
                hidden,
                obs_mean,
                obs_std,
                ensemble=settings.critics,
            ),  # fmt: skip
            "value": make_network("mlp", obs_size, 1, hidden, obs_mean, obs_std),
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
        if not 0.5 <= settings.expectile < 1.0:
            raise ValueError(f"expectile {settings.expectile}: choose in [0.5, 1)")
        start = start_training(data, settings, device)
        generator, dev, obs_size, n_actions, mean, std = start
        built = self.build(settings, obs_size, n_actions, mean, std)
        networks = {k: v.to(dev) for k, v in built.items()}
        policy, value = networks["policy"], networks["value"]
        q = BatchedEnsemble(networks["q"])
        targets = q.target_weights()
        params = [*q.parameters(), *value.parameters(), *policy.parameters()]
        optimizer = torch.optim.Adam(params, lr=settings.learning_rate)
        discounts = step_discounts(data["action"], settings.gamma, settings.discount_per, n_actions)
        replay = Replay(data, dev, settings.reward_scale, discounts, settings.n_step)

        def update(batch: Batch, step: int) -> dict[str, float]:
            taken = batch.action[None, :, None].expand(q.size, -1, 1)
            every = batch.obs.expand(q.size, *batch.obs.shape)  # the critics share the rows
            with torch.no_grad():
                q_target = q(every, targets).gather(2, taken).squeeze(2).amin(0)
                target = value_target(value(batch.next_obs).squeeze(1), batch.reward,
                                      batch.terminated, batch.discount)  # fmt: skip
            v = value(batch.obs).squeeze(1)
            value_loss = expectile_loss(q_target - v, settings.expectile)
            q_taken = q(every).gather(2, taken).squeeze(2)  # (critics, B)
            q_loss = F.mse_loss(q_taken, target.expand_as(q_taken)) * q.size
            advantage = q_target - v.detach()
            policy_loss = advantage_weighted_loss(policy(batch.obs), batch.action, batch.mask,
                                                  advantage, settings.temperature,
                                                  settings.max_weight)  # fmt: skip
            optimizer.zero_grad(set_to_none=True)
            (q_loss + value_loss + policy_loss).backward()  # each loss reaches one network
            q.clip_grad_norm_(settings.max_grad_norm)
            for net in (value, policy):
                torch.nn.utils.clip_grad_norm_(net.parameters(), settings.max_grad_norm)
            optimizer.step()
            q.soft_update(targets, settings.target_tau)
            return {
                "q_loss": q_loss.item() / q.size,
                "value_loss": value_loss.item(),
                "policy_loss": policy_loss.item(),
                "advantage": advantage.mean().item(),
                "value": v.mean().item(),
            }

        return fit_and_save(self.name, settings, update, replay, generator, networks, dev,
                            obs_size, n_actions, out_dir, extra_config)  # fmt: skip
