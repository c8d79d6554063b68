"""An ensemble's members trained as one batched network.

``BatchedEnsemble`` stacks the weights of an ``Ensemble``'s members along a leading
member dimension (``torch.func.stack_module_state``): one optimizer, one clip and one
target update act on K members at once. On a GPU every member runs on its own
minibatch in one ``torch.vmap``-ed forward pass (K members for one network's kernel
launches); on a CPU, where a step is bound by the matrix products and ``bmm`` is
slower than K plain ones, the members run one after another on the same stacked
weights. Each member keeps the initialisation it was made with, sees its own rows,
has its own target weights (``target_weights``), and its gradient is clipped on its own.

The member modules keep working: their parameters become views of the stacked
weights, so the optimizer's in-place updates show in them and the checkpoint format
(``members.K.*``) does not change. With one member no vmap is used and training is
exactly that of the single network.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, stack_module_state

from policies.offline.networks import ensemble_members

Weights = dict[str, torch.Tensor]


class BatchedEnsemble:
    """The members of ``net`` (an ``Ensemble``, or one network) as one batched network."""

    def __init__(self, net: nn.Module) -> None:
        self.members = ensemble_members(net)
        self.size = len(self.members)
        if self.size == 1:
            self.weights: Weights = dict(self.members[0].named_parameters())
            self.buffers: Weights = dict(self.members[0].named_buffers())
            self.module = self.members[0]
            return
        self.weights, self.buffers = stack_module_state(self.members)
        for name, stacked in self.weights.items():  # members view the stacked weights
            for k, member in enumerate(self.members):
                member.get_parameter(name).data = stacked.data[k]
        self.module = copy.deepcopy(self.members[0]).to("meta")

        def one(weights: Weights, buffers: Weights, obs: torch.Tensor) -> torch.Tensor:
            return functional_call(self.module, (weights, buffers), (obs,))

        self._each = torch.vmap(one)

    def parameters(self) -> list[torch.Tensor]:
        """The trained tensors (stacked over members), for the optimizer."""
        return list(self.weights.values())

    def __call__(self, obs: torch.Tensor, weights: Weights | None = None) -> torch.Tensor:
        """Member k's output on ``obs[k]``: ``(K, B, ...)`` in, ``(K, B, outputs)`` out.

        ``weights``: other weights of the same shapes (the target weights).
        """
        weights = self.weights if weights is None else weights
        if self.size == 1:
            return functional_call(self.module, (weights, self.buffers), (obs[0],))[None]
        if obs.device.type != "cpu":
            return self._each(weights, self.buffers, obs)
        # on a CPU, K matrix products beat one batched product (bmm): same weights, same graph
        return torch.stack(
            [
                functional_call(
                    self.module,
                    (
                        {n: w[k] for n, w in weights.items()},
                        {n: b[k] for n, b in self.buffers.items()},
                    ),
                    (obs[k],),
                )
                for k in range(self.size)
            ]
        )

    def target_weights(self) -> Weights:
        """A detached copy of the weights: each member's target network."""
        return {name: w.detach().clone() for name, w in self.weights.items()}

    def soft_update(self, target: Weights, tau: float) -> None:
        """Polyak averaging of each member's target: ``target <- tau * w + (1 - tau) * target``."""
        with torch.no_grad():
            for name, w in self.weights.items():
                target[name].lerp_(w, tau)

    def clip_grad_norm_(self, max_norm: float) -> None:
        """Scale each member's gradient to norm at most ``max_norm`` (as
        ``torch.nn.utils.clip_grad_norm_`` does for one network)."""
        grads = [w.grad for w in self.weights.values() if w.grad is not None]
        if self.size == 1:
            torch.nn.utils.clip_grad_norm_(self.parameters(), max_norm)
            return
        norms = torch.stack([g.flatten(1).norm(dim=1) for g in grads], dim=1).norm(dim=1)
        scale = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.view(-1, *[1] * (g.dim() - 1)))


def per_member(rows: torch.Tensor, members: int) -> torch.Tensor:
    """``(K * B, ...)`` rows as ``(K, B, ...)``: member k gets the k-th block of rows."""
    return rows.view(members, -1, *rows.shape[1:])
