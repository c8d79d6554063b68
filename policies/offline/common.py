"""Pieces the offline-RL algorithms share: MLP, masking, replay, training loop, checkpoints.

The algorithms (``cql.py``, ``bcq.py``, ``bc.py``) each stay one readable file; what
they have in common lives here so that it is written once:

- ``MLP``: a ReLU network with the dataset's observation normalisation built in;
- ``mask_invalid`` / ``masked_argmax``: invalid actions never win a max or an argmax;
- ``Replay``: the dataset as tensors, sampled uniformly;
- ``train_loop``: the gradient-step loop with a progress bar and ``train_log.csv``;
- ``save_checkpoint`` / ``load_checkpoint``: ``model.pt`` + ``config.json``;
- ``NumpyMLP``: the same network evaluated in numpy for fast batch-size-1 decisions.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

NEG_INF = float("-inf")


# ------------------------------------------------------------------------ setup
def pick_device(name: str = "cpu") -> torch.device:
    """``cpu``, ``cuda`` (an error when absent) or ``auto`` (cuda when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device {name}: choose auto, cpu or cuda")
    return torch.device(name)


def seed_everything(seed: int, threads: int = 1) -> torch.Generator:
    """Seed python, numpy and torch; limit torch's CPU threads; a generator for sampling."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads > 0:
        torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)


# ---------------------------------------------------------------------- networks
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
    not depend on the slot it happens to occupy.
    """

    def __init__(
        self,
        in_size: int,
        out_size: int,
        hidden: tuple[int, ...] = (128, 128),
        obs_mean: np.ndarray | None = None,
        obs_std: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        from envs.layout import GLOBAL_FEATURES, N_VERBS, SLOT_FEATURES, WINDOW

        if in_size != GLOBAL_FEATURES + WINDOW * SLOT_FEATURES or out_size != WINDOW * N_VERBS + 1:
            raise ValueError("SlotNet needs the season env's observation and action layout")
        self.layout = (GLOBAL_FEATURES, WINDOW, SLOT_FEATURES, N_VERBS)
        mean = np.zeros(in_size) if obs_mean is None else np.asarray(obs_mean, np.float64)
        std = np.ones(in_size) if obs_std is None else np.asarray(obs_std, np.float64)
        g, w, f = GLOBAL_FEATURES, WINDOW, SLOT_FEATURES
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


# ----------------------------------------------------------------------- masking
def mask_invalid(values: torch.Tensor, mask: torch.Tensor, fill: float = NEG_INF) -> torch.Tensor:
    """``values`` with invalid actions (``mask`` false) replaced by ``fill`` (-inf)."""
    return values.masked_fill(~mask, fill)


def masked_argmax(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Argmax over the valid actions of each row (rows need at least one valid action)."""
    return mask_invalid(values, mask).argmax(dim=-1)


def masked_argmax_np(values: np.ndarray, mask: np.ndarray) -> int:
    """Argmax of a 1-d array over the valid entries of ``mask``."""
    return int(np.argmax(np.where(mask, values, -np.inf)))


# ------------------------------------------------------------------------ replay
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


def split_batch(batch: Batch, parts: int) -> list[Batch]:
    """``batch`` cut into ``parts`` equal minibatches (one per ensemble member)."""
    if parts == 1:
        return [batch]
    return [Batch(*fields) for fields in zip(*(t.chunk(parts) for t in batch), strict=True)]


# ------------------------------------------------------------------ training loop
def train_loop(
    update: Callable[[Batch, int], dict[str, float]],
    replay: Replay,
    steps: int,
    batch_size: int,
    generator: torch.Generator,
    log_path: Path | None,
    log_every: int = 500,
    description: str = "training",
) -> list[dict[str, float]]:
    """Run ``update(batch, step)`` for ``steps`` gradient steps; log every ``log_every``.

    The log rows (``step``, ``seconds`` and the means of what ``update`` returned since
    the last row) go to ``log_path`` as CSV and are returned. A progress bar shows on
    an interactive stderr.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    rows: list[dict[str, float]] = []
    sums: dict[str, float] = {}
    count = 0
    started = time.perf_counter()
    writer: csv.DictWriter | None = None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[loss]}"),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    with contextlib.ExitStack() as stack:
        handle = None
        if log_path is not None:
            handle = stack.enter_context(open(log_path, "w", newline=""))
        with bar:
            task = bar.add_task(description, total=steps, loss="")
            for step in range(1, steps + 1):
                metrics = update(replay.sample(batch_size, generator), step)
                for key, value in metrics.items():
                    sums[key] = sums.get(key, 0.0) + value
                count += 1
                if step % log_every == 0 or step == steps:
                    row = {"step": float(step), "seconds": time.perf_counter() - started}
                    row.update({k: v / count for k, v in sums.items()})
                    rows.append(row)
                    sums, count = {}, 0
                    if handle is not None:
                        if writer is None:
                            writer = csv.DictWriter(handle, fieldnames=list(row))
                            writer.writeheader()
                        writer.writerow({k: f"{v:.6g}" for k, v in row.items()})
                        handle.flush()
                    shown = ", ".join(f"{k} {v:.3g}" for k, v in row.items() if k != "seconds")
                    bar.update(task, loss=shown)
                bar.advance(task)
    return rows


# ------------------------------------------------------------------- checkpoints
class Checkpoint(NamedTuple):
    """What ``model.pt`` holds."""

    algo: str
    settings: dict[str, Any]
    obs_size: int
    n_actions: int
    state_dicts: dict[str, dict[str, torch.Tensor]]


def save_checkpoint(
    out_dir: str | Path,
    algo: str,
    settings: Any,
    networks: dict[str, nn.Module],
    obs_size: int,
    n_actions: int,
    extra_config: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.pt`` (state dicts + settings + sizes) and ``config.json`` to ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings_dict = dataclasses.asdict(settings)
    payload = {
        "algo": algo,
        "settings": settings_dict,
        "obs_size": obs_size,
        "n_actions": n_actions,
        "state_dicts": {
            name: {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            for name, net in networks.items()
        },
    }
    torch.save(payload, out / "model.pt.tmp")
    (out / "model.pt.tmp").replace(out / "model.pt")
    config = {
        "algo": algo,
        "settings": settings_dict,
        "obs_size": obs_size,
        "n_actions": n_actions,
        **(extra_config or {}),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
    return out / "model.pt"


def load_checkpoint(model_dir: str | Path) -> Checkpoint:
    """Read ``MODEL_DIR/model.pt`` (on the CPU)."""
    path = Path(model_dir) / "model.pt"
    if not path.is_file():
        raise ValueError(f"{model_dir}: no model.pt (train one with `isched train`)")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    return Checkpoint(
        payload["algo"],
        payload["settings"],
        int(payload["obs_size"]),
        int(payload["n_actions"]),
        payload["state_dicts"],
    )


def settings_from(cls: type, values: dict[str, Any]) -> Any:
    """A settings dataclass from a saved dict (lists back to tuples; unknown keys dropped)."""
    names = {f.name for f in dataclasses.fields(cls)}
    kept = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
    return cls(**kept)


# -------------------------------------------------------------- fast inference
class NumpyMLP:
    """An ``MLP``'s forward pass in numpy for one observation at a time.

    Normalisation is folded into the first layer, and the intermediate buffers are
    allocated once, so a decision costs a few small matrix-vector products.
    """

    def __init__(self, state_dict: dict[str, torch.Tensor]) -> None:
        mean = state_dict["obs_mean"].double().numpy()
        std = state_dict["obs_std"].double().numpy()
        layers = sorted(
            {int(k.split(".")[1]) for k in state_dict if k.startswith("net.")},
        )
        self.weights: list[np.ndarray] = []
        self.biases: list[np.ndarray] = []
        for n, index in enumerate(layers):
            w = state_dict[f"net.{index}.weight"].double().numpy()
            b = state_dict[f"net.{index}.bias"].double().numpy()
            if n == 0:  # W((x - m) / s) + b = (W / s) x + (b - W (m / s))
                w, b = w / std, b - (w / std) @ mean
            self.weights.append(np.ascontiguousarray(w.T, dtype=np.float32))
            self.biases.append(b.astype(np.float32))
        self.buffers = [np.empty(b.shape, dtype=np.float32) for b in self.biases]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The output for one observation (a view into an internal buffer: copy to keep it)."""
        x = obs
        last = len(self.weights) - 1
        for n, (w, b, buf) in enumerate(zip(self.weights, self.biases, self.buffers, strict=True)):
            np.matmul(x, w, out=buf)
            buf += b
            if n < last:
                np.maximum(buf, 0.0, out=buf)
            x = buf
        return x


class NumpySlotNet:
    """A ``SlotNet``'s forward pass in numpy for one observation at a time."""

    def __init__(
        self, state_dict: dict[str, torch.Tensor], layout: tuple[int, int, int, int]
    ) -> None:
        def arr(key: str) -> np.ndarray:
            return state_dict[key].double().numpy()

        self.layout = layout
        g, w, f, _ = layout
        mean, std = arr("obs_mean"), arr("obs_std")
        slot_w, global_w = arr("slot_encoder.weight"), arr("global_encoder.weight")
        # fold the normalisation into the encoders: W((x - m) / s) + b = (W / s) x + b - (W / s) m
        slot_w = slot_w / std[g : g + f]
        self.slot_b = (arr("slot_encoder.bias") - slot_w @ mean[g : g + f]).astype(np.float32)
        self.slot_w = np.ascontiguousarray(slot_w.T, dtype=np.float32)
        global_w = global_w / std[:g]
        self.global_b = (arr("global_encoder.bias") - global_w @ mean[:g]).astype(np.float32)
        self.global_w = np.ascontiguousarray(global_w.T, dtype=np.float32)

        def linear(prefix: str) -> tuple[np.ndarray, np.ndarray | None]:
            weight = np.ascontiguousarray(arr(f"{prefix}.weight").T, dtype=np.float32)
            bias = state_dict.get(f"{prefix}.bias")
            return weight, None if bias is None else bias.numpy().astype(np.float32)

        self.head_slot = linear("head_slot")
        self.head_context = linear("head_context")
        head = sorted({int(k.split(".")[1]) for k in state_dict if k.startswith("head.")})
        self.head = [linear(f"head.{i}") for i in head]
        self.end = [linear("end_head.0"), linear("end_head.2")]
        self.out = np.empty(w * layout[3] + 1, dtype=np.float32)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The output for one observation (a view into an internal buffer: copy to keep it)."""
        g, w, f, v = self.layout
        slots = obs[g:].reshape(w, f) @ self.slot_w
        slots += self.slot_b
        np.maximum(slots, 0.0, out=slots)
        season = np.maximum(obs[:g] @ self.global_w + self.global_b, 0.0)
        context = np.concatenate([season, slots.mean(0), slots.max(0)])
        hidden = slots @ self.head_slot[0]
        hidden += self.head_slot[1] + context @ self.head_context[0]
        np.maximum(hidden, 0.0, out=hidden)
        for n, (weight, bias) in enumerate(self.head):
            hidden = hidden @ weight + bias
            if n < len(self.head) - 1:
                np.maximum(hidden, 0.0, out=hidden)
        self.out[: w * v] = hidden.reshape(-1)
        end = np.maximum(context @ self.end[0][0] + self.end[0][1], 0.0)
        self.out[w * v] = (end @ self.end[1][0] + self.end[1][1])[0]
        return self.out


class NumpyEnsemble:
    """An ``Ensemble``'s forward pass in numpy: the mean of its members' outputs."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members
        self.out: np.ndarray | None = None

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """The output for one observation (a view into an internal buffer: copy to keep it)."""
        first = self.members[0](obs)
        if self.out is None:
            self.out = np.empty_like(first)
        np.copyto(self.out, first)
        for member in self.members[1:]:
            self.out += member(obs)
        self.out /= len(self.members)
        return self.out


def numpy_network(state_dict: dict[str, torch.Tensor]) -> Any:
    """The numpy forward pass of a saved ``MLP``, ``SlotNet`` or ``Ensemble`` of them."""
    if any(key.startswith("members.") for key in state_dict):
        count = 1 + max(int(key.split(".")[1]) for key in state_dict if key.startswith("members."))
        return NumpyEnsemble(
            [
                numpy_network(
                    {
                        key[len(f"members.{k}.") :]: value
                        for key, value in state_dict.items()
                        if key.startswith(f"members.{k}.")
                    }
                )
                for k in range(count)
            ]
        )
    if "slot_encoder.weight" in state_dict:
        from envs.layout import GLOBAL_FEATURES, N_VERBS, SLOT_FEATURES, WINDOW

        return NumpySlotNet(state_dict, (GLOBAL_FEATURES, WINDOW, SLOT_FEATURES, N_VERBS))
    return NumpyMLP(state_dict)


def fit_and_save(
    algo: str,
    settings: Any,
    update: Callable[[Batch, int], dict[str, float]],
    replay: Replay,
    generator: torch.Generator,
    networks: dict[str, nn.Module],
    device: torch.device,
    obs_size: int,
    n_actions: int,
    out_dir: str | Path | None,
    extra_config: dict[str, Any] | None = None,
    batches_per_step: int = 1,
) -> dict[str, nn.Module]:
    """Run ``train_loop``; return the trained networks on the CPU, saved when ``out_dir``.

    Each step samples ``batches_per_step`` minibatches of ``settings.batch_size`` at
    once (``update`` splits them, one per ensemble member)."""
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    train_loop(
        update,
        replay,
        settings.steps,
        settings.batch_size * batches_per_step,
        generator,
        out / "train_log.csv" if out is not None else None,
        settings.log_every,
        description=algo,
    )
    trained = {name: net.cpu().eval() for name, net in networks.items()}
    if out is not None:
        info = {"device": str(device), "train_seconds": round(time.perf_counter() - started, 2)}
        save_checkpoint(out, algo, settings, trained, obs_size, n_actions,
                        {**info, **(extra_config or {})})  # fmt: skip
    return trained


def load_trained(
    build: Callable[[Any, int, int], dict[str, nn.Module]],
    settings_cls: type,
    state_dicts: dict[str, Any],
    settings_dict: dict[str, Any],
    obs_size: int,
    n_actions: int,
) -> dict[str, nn.Module]:
    """The networks ``build`` makes for a checkpoint's settings, with its weights, in eval mode."""
    networks = build(settings_from(settings_cls, settings_dict), obs_size, n_actions)
    for name, net in networks.items():
        net.load_state_dict(state_dicts[name])
        net.eval()
    return networks
