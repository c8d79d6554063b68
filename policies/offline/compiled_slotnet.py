"""A ``SlotNet`` actor's decision as one compiled function (numba), for the ``rl:`` policy.

One decision scores the valid actions of one observation and returns the best. The
numpy forward pass (``NumpySlotNet``) costs about a dozen numpy calls, whatever the
width; here the whole pass is one call. Between two decisions of a day most of the
window's slots are unchanged (1.9 of 16 change on average on `default`), so the
actor keeps, per slot, the features it last saw, their encoding and the encoding's
projection into the head, and recomputes a slot only when one of its features has
changed. Every other step (season encoding, mean and max over the slots, the context's
projections into the slot head and the end-of-day head, the verb scores of the slots
with a valid action) is recomputed on every call, so the result does not depend on
the order of the calls: it is the network's output for the observation given.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

from policies.offline.numpy_inference import NumpySlotNet

FAST = {"reassoc", "contract"}
"""Sums may run in any order (so they vectorise); infinities and NaNs keep their meaning."""


@numba.njit(cache=True, fastmath=FAST)
def _affine(x: np.ndarray, w: np.ndarray, b: np.ndarray, out: np.ndarray, relu: bool) -> None:
    """``out = x @ w + b`` (then ``max(out, 0)`` when ``relu``), skipping zeros of ``x``."""
    for j in range(out.shape[0]):
        out[j] = b[j]
    for i in range(x.shape[0]):
        xi = x[i]
        if xi != 0.0:
            for j in range(out.shape[0]):
                out[j] += xi * w[i, j]
    if relu:
        for j in range(out.shape[0]):
            out[j] = max(out[j], np.float32(0.0))


@numba.njit(cache=True, fastmath=FAST)
def _decide(
    obs: np.ndarray,
    mask: np.ndarray,
    weights: tuple[np.ndarray, ...],
    seen: np.ndarray,
    encoded: np.ndarray,
    projected: np.ndarray,
    fresh: np.ndarray,
) -> int:
    """The valid action of highest score (the only one, without scoring, when one is
    valid); ``seen``/``encoded``/``projected`` are the per-slot caches and
    ``fresh[0] == 0`` marks them empty."""
    slot_w, slot_b, global_w, global_b, head_w, head_b = weights[:6]
    context_w, end_b, verb_w, verb_b, end_w = weights[6:]
    n_global, width = global_w.shape
    n_slots, n_features = seen.shape
    n_verbs = verb_w.shape[0]
    valid_count, only = 0, 0
    for a in range(mask.shape[0]):
        if mask[a] != 0:
            valid_count += 1
            only = a
    if valid_count == 1:  # no choice to make: the caches stay as they are
        return only
    zero = np.float32(0.0)
    context = np.empty(3 * width, np.float32)
    _affine(obs[:n_global], global_w, global_b, context[:width], True)
    for k in range(n_slots):
        row = obs[n_global + k * n_features : n_global + (k + 1) * n_features]
        if fresh[0] == 1 and np.array_equal(row, seen[k]):
            continue
        seen[k] = row
        _affine(row, slot_w, slot_b, encoded[k], True)
        _affine(encoded[k], head_w, head_b, projected[k], False)
    fresh[0] = 1
    mean, top = context[width : 2 * width], context[2 * width :]
    mean[:] = encoded[0]
    top[:] = encoded[0]
    for k in range(1, n_slots):
        for j in range(width):
            mean[j] += encoded[k, j]
            top[j] = max(top[j], encoded[k, j])
    for j in range(width):
        mean[j] /= np.float32(n_slots)
    shared = np.dot(context, context_w)  # (2 * width): slot head's context part, end head
    best = -np.inf
    chosen = -1
    hidden = np.empty(width, np.float32)
    for k in range(n_slots):
        valid = False
        for v in range(n_verbs):
            if mask[k * n_verbs + v] != 0:
                valid = True
        if not valid:
            continue
        for j in range(width):
            hidden[j] = max(projected[k, j] + shared[j], zero)
        for v in range(n_verbs):
            if mask[k * n_verbs + v] != 0:
                score = verb_b[v]
                for j in range(width):
                    score += hidden[j] * verb_w[v, j]
                if chosen < 0 or score > best:
                    best = score
                    chosen = k * n_verbs + v
    end = n_slots * n_verbs
    if mask[end] != 0:
        score = end_w[width]
        for j in range(width):
            score += max(shared[width + j] + end_b[j], zero) * end_w[j]
        if chosen < 0 or score > best:
            chosen = end
    return max(chosen, 0)  # no valid action: 0, as numpy's argmax over all -inf


class CompiledSlotActor:
    """``act(obs, mask) -> int`` of a ``SlotNet`` with a one-layer verb head, compiled.

    Picks what ``masked_argmax_np(NumpySlotNet(...)(obs), mask)`` picks, up to
    float rounding (the sums run in another order). Not thread-safe: the per-slot
    caches belong to the actor (the compiled function holds the GIL while it runs).
    """

    def __init__(self, net: NumpySlotNet) -> None:
        if len(net.head) != 1:
            raise ValueError("CompiledSlotActor needs a SlotNet with a one-layer verb head")
        g, w, f, _ = net.layout
        width = net.slot_w.shape[1]
        (head_w, head_b), (context_w, _) = net.head_slot, net.head_context
        (verb_w, verb_b), ((end_w0, end_b0), (end_w1, end_b1)) = net.head[0], net.end

        def f32(a: Any) -> np.ndarray:
            return np.ascontiguousarray(a, dtype=np.float32)

        self.weights = (
            f32(net.slot_w),
            f32(net.slot_b),
            f32(net.global_w),
            f32(net.global_b),
            f32(head_w),
            f32(head_b),
            f32(np.concatenate([context_w, end_w0], axis=1)),
            f32(end_b0),
            f32(verb_w.T),
            f32(verb_b),
            f32(np.concatenate([end_w1[:, 0], end_b1])),
        )
        self.seen = np.zeros((w, f), dtype=np.float32)
        self.encoded = np.zeros((w, width), dtype=np.float32)
        self.projected = np.zeros((w, width), dtype=np.float32)
        self.fresh = np.zeros(1, dtype=np.int64)
        self.size = g + w * f
        # compile (or load the compiled code) now, not inside the first decision
        self(np.zeros(self.size, dtype=np.float32), np.zeros(w * net.layout[3] + 1, np.int8))
        self.fresh[0] = 0

    def __call__(self, obs: np.ndarray, mask: np.ndarray) -> int:
        x = np.asarray(obs)
        if x.shape != (self.size,):
            raise ValueError(f"observation of shape {x.shape}: the model needs ({self.size},)")
        valid = np.asarray(mask)
        return _decide(  # type: ignore[no-any-return]
            x, valid, self.weights, self.seen, self.encoded, self.projected, self.fresh
        )
