"""The dataset as a replay of transitions: n-step returns, per-day discounts, minibatches."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch


class Batch(NamedTuple):
    """A minibatch of transitions (masks as bool tensors).

    With n-step returns, ``reward`` is the discounted sum of the next ``n`` logged
    rewards, ``next_obs`` / ``next_mask`` the state ``n`` steps later and ``discount``
    the product of the per-step discounts in between.
    """

    obs: torch.Tensor
    action: torch.Tensor
    reward: torch.Tensor
    terminated: torch.Tensor
    mask: torch.Tensor
    next_obs: torch.Tensor
    next_mask: torch.Tensor
    discount: torch.Tensor


def step_discounts(
    action: np.ndarray, gamma: float, discount_per: str, n_actions: int
) -> np.ndarray:
    """Per-transition discount: ``gamma`` every step, or only on the day-ending (last) action."""
    if discount_per not in ("step", "day"):
        raise ValueError(f"discount_per {discount_per}: choose step or day")
    if discount_per == "step":
        return np.full(action.shape, gamma, dtype=np.float64)
    return np.where(np.asarray(action) == n_actions - 1, gamma, 1.0)


def n_step_view(data: dict[str, np.ndarray], discounts: np.ndarray, n: int) -> dict[str, Any]:
    """Rewards, discounts and bootstrap rows of n-step returns along the logged episodes.

    Row ``i`` sums the rewards of ``i .. i+k-1`` (``k <= n``), stopping early at a
    terminal or truncated transition or where the episode's next step is not the next
    row; it then bootstraps from ``next_obs`` of row ``i+k-1``.
    """
    size = int(np.asarray(data["action"]).shape[0])
    reward = np.asarray(data["reward"], np.float64)
    terminated = np.asarray(data["terminated"], bool)
    stop = terminated | np.asarray(data.get("truncated", np.zeros(size, bool)), bool)
    follows = np.zeros(size, bool)  # row i + 1 is the next step of row i's episode
    if "episode_id" in data and "step" in data:
        episode, step = np.asarray(data["episode_id"]), np.asarray(data["step"])
        follows[:-1] = (episode[1:] == episode[:-1]) & (step[1:] == step[:-1] + 1)
    row = np.arange(size)
    total = np.zeros(size)
    factor = np.ones(size)
    open_ = np.ones(size, bool)
    for k in range(n):
        total[open_] += factor[open_] * reward[row[open_]]
        factor[open_] *= discounts[row[open_]]
        advance = open_ & ~stop[row] & follows[row] & (k < n - 1)
        open_ = advance
        row = np.where(advance, row + 1, row)
    return {"reward": total, "discount": factor, "last": row, "terminated": terminated[row]}


class Replay:
    """A dataset held as tensors on ``device``; ``sample`` draws rows uniformly."""

    def __init__(
        self,
        data: dict[str, np.ndarray],
        device: torch.device,
        reward_scale: float = 1.0,
        discounts: np.ndarray | None = None,
        n_step: int = 1,
    ) -> None:
        self.device = device
        self.size = int(data["action"].shape[0])

        def tensor(values: Any, dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor(np.asarray(values), dtype=dtype, device=device)  # a copy

        if discounts is None:
            discounts = np.ones(self.size)
        view = n_step_view(data, np.asarray(discounts, np.float64), max(1, n_step))
        last = view["last"]
        self.obs = tensor(data["obs"], torch.float32)
        self.next_obs = tensor(np.asarray(data["next_obs"])[last], torch.float32)
        self.action = tensor(data["action"], torch.long)
        self.reward = tensor(view["reward"] * reward_scale, torch.float32)
        self.terminated = tensor(view["terminated"], torch.float32)
        self.discount = tensor(view["discount"], torch.float32)
        self.mask = tensor(np.asarray(data["action_mask"]) > 0, torch.bool)
        self.next_mask = tensor(np.asarray(data["next_action_mask"])[last] > 0, torch.bool)

    def sample(self, batch_size: int, generator: torch.Generator) -> Batch:
        """``batch_size`` rows drawn uniformly with replacement."""
        idx = torch.randint(self.size, (batch_size,), generator=generator).to(self.device)
        return Batch(
            self.obs[idx],
            self.action[idx],
            self.reward[idx],
            self.terminated[idx],
            self.mask[idx],
            self.next_obs[idx],
            self.next_mask[idx],
            self.discount[idx],
        )
