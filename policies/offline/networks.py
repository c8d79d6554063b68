"""The networks of the offline-RL algorithms, and how invalid actions are kept out.

- ``MLP``: a ReLU network with the dataset's observation normalisation built in;
- ``SlotNet``: one set of weights shared across the candidate slots of the window;
- ``Ensemble``: networks of one shape, acting on their mean output;
- ``mask_invalid`` / ``masked_argmax``: invalid actions never win a max or an argmax.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

NEG_INF = float("-inf")


class MLP(nn.Module):
    """``(obs - mean) / std`` followed by Linear-ReLU layers and a linear head."""

    def __init__(
        self,
        in_size: int,
        out_size: int,
        hidden: tuple[int, ...] = (256, 256),
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        mean = torch.zeros(in_size) if obs_mean is None else torch.as_tensor(obs_mean).float()
        std = torch.ones(in_size) if obs_std is None else torch.as_tensor(obs_std).float()
        self.register_buffer("obs_mean", mean.clone())
        self.register_buffer("obs_std", std.clone())
        layers: list[nn.Module] = []
        size = in_size
        for width in hidden:
            layers += [nn.Linear(size, width), nn.ReLU()]
            size = width
        layers.append(nn.Linear(size, out_size))
        self.net = nn.Sequential(*layers)

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net((obs - self.obs_mean) / self.obs_std)


class SlotNet(nn.Module):
    """A network that shares its weights across the ``WINDOW`` candidate slots.

    The observation is ``GLOBAL_FEATURES`` season features followed by ``WINDOW`` rows of
    ``SLOT_FEATURES``; action ``k * N_VERBS + v`` applies verb ``v`` to slot ``k`` and the
    last action ends the day (``envs.season_env``). Each slot row and the season
    features are encoded; a context (season encoding, mean and max over the slot
    encodings) is added to every slot's encoding, and one head scores the verbs of each
    slot; another scores ending the day from the context. A candidate's value then does
    not depend on the slot it happens to occupy. ``slot_features`` widens each slot row
    beyond the env's (a study's extra per-slot inputs, ``experiments.price_features``).
    """

    def __init__(
        self,
        in_size: int,
        out_size: int,
        hidden: tuple[int, ...] = (128, 128),
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
        slot_features: int | None = None,
    ) -> None:
        super().__init__()
        from envs.layout import GLOBAL_FEATURES, N_VERBS, SLOT_FEATURES, WINDOW

        f = SLOT_FEATURES if slot_features is None else slot_features
        if in_size != GLOBAL_FEATURES + WINDOW * f or out_size != WINDOW * N_VERBS + 1:
            raise ValueError("SlotNet needs the season env's observation and action layout")
        self.layout = (GLOBAL_FEATURES, WINDOW, f, N_VERBS)
        mean = np.zeros(in_size) if obs_mean is None else np.asarray(obs_mean, np.float64)
        std = np.ones(in_size) if obs_std is None else np.asarray(obs_std, np.float64)
        g, w = GLOBAL_FEATURES, WINDOW
        slot_mean = mean[g:].reshape(w, f)  # one normalisation for all slots
        slot_var = (std[g:].reshape(w, f) ** 2).mean(0) + slot_mean.var(0)
        mean = np.concatenate([mean[:g], np.tile(slot_mean.mean(0), w)])
        std = np.concatenate([std[:g], np.tile(np.sqrt(slot_var), w)])
        self.register_buffer("obs_mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(std, dtype=torch.float32))
        width = hidden[0]
        self.slot_encoder = nn.Linear(f, width)
        self.global_encoder = nn.Linear(g, width)
        self.head_slot = nn.Linear(width, width)
        self.head_context = nn.Linear(3 * width, width, bias=False)
        deeper: list[nn.Module] = []
        for _ in hidden[2:]:
            deeper += [nn.Linear(width, width), nn.ReLU()]
        self.head = nn.Sequential(*deeper, nn.Linear(width, N_VERBS))
        self.end_head = nn.Sequential(nn.Linear(3 * width, width), nn.ReLU(), nn.Linear(width, 1))

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        g, w, f, _ = self.layout
        x = (obs - self.obs_mean) / self.obs_std
        slots = torch.relu(self.slot_encoder(x[:, g:].reshape(-1, w, f)))  # (B, W, H)
        season = torch.relu(self.global_encoder(x[:, :g]))  # (B, H)
        context = torch.cat([season, slots.mean(1), slots.amax(1)], dim=1)  # (B, 3H)
        hidden = torch.relu(self.head_slot(slots) + self.head_context(context)[:, None])
        verbs = self.head(hidden).flatten(1)  # (B, W * V)
        return torch.cat([verbs, self.end_head(context)], dim=1)


class Ensemble(nn.Module):
    """Networks of one shape, each initialised (and trained) on its own; the output is
    their mean. Averaging the Q-values of independently trained networks cancels much
    of the error any one of them makes on actions the data rarely shows."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.stack([member(obs) for member in self.members]).mean(0)


def make_network(
    arch: str,
    in_size: int,
    out_size: int,
    hidden: tuple[int, ...],
    obs_mean: np.ndarray | None = None,
    obs_std: np.ndarray | None = None,
    ensemble: int = 1,
) -> nn.Module:
    """``MLP`` (``arch="mlp"``) or ``SlotNet`` (``arch="slots"``); an ``Ensemble`` of
    ``ensemble`` of them when ``ensemble > 1``."""
    if ensemble < 1:
        raise ValueError(f"ensemble {ensemble}: needs at least one network")
    if ensemble > 1:
        return Ensemble(
            [
                make_network(arch, in_size, out_size, hidden, obs_mean, obs_std)
                for _ in range(ensemble)
            ]
        )
    if arch == "mlp":
        return MLP(in_size, out_size, hidden, obs_mean, obs_std)
    if arch == "slots":
        return SlotNet(in_size, out_size, hidden, obs_mean, obs_std)
    raise ValueError(f"unknown network architecture '{arch}': choose mlp or slots")


def ensemble_members(net: nn.Module) -> list[nn.Module]:
    """The members of an ``Ensemble``; a single network is a one-member ensemble."""
    return list(net.members) if isinstance(net, Ensemble) else [net]


def normalizer(obs: np.ndarray, min_std: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std of a dataset's observations (std floored at ``min_std``)."""
    sample = obs if len(obs) <= 200_000 else obs[:: len(obs) // 200_000 + 1]
    mean = sample.mean(axis=0, dtype=np.float64).astype(np.float32)
    std = np.maximum(sample.std(axis=0, dtype=np.float64), min_std).astype(np.float32)
    return mean, std


def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging: ``target <- tau * source + (1 - tau) * target``."""
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.lerp_(s, tau)


def mask_invalid(values: torch.Tensor, mask: torch.Tensor, fill: float = NEG_INF) -> torch.Tensor:
    """``values`` with invalid actions (``mask`` false) replaced by ``fill`` (-inf)."""
    return values.masked_fill(~mask, fill)


def masked_argmax(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Argmax over the valid actions of each row (rows need at least one valid action)."""
    return mask_invalid(values, mask).argmax(dim=-1)


def masked_argmax_np(values: np.ndarray, mask: np.ndarray) -> int:
    """Argmax of a 1-d array over the valid entries of ``mask``."""
    return int(np.argmax(np.where(mask, values, -np.inf)))
