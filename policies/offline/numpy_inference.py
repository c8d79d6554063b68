"""The numpy forward pass of a saved network, for fast batch-size-1 decisions.

Normalisation is folded into the first layer and buffers are allocated once, so a
decision of the ``rl:MODEL_DIR`` policy costs a few small matrix-vector products.
A single ``SlotNet`` with a one-layer verb head (the shipped model's shape) is then
compiled into one call by ``policies.offline.compiled_slotnet``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


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
