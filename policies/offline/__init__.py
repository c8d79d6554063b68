"""Offline RL: masked discrete CQL, IQL, BCQ and behaviour cloning; the ``rl:MODEL_DIR`` policy.

Importing this package is cheap (torch loads only when a model is trained or loaded);
it registers the ``rl`` policy prefix, so ``make_policy("rl:MODEL_DIR")`` works.
"""

from __future__ import annotations

from policies.base import Policy, register_policy
from policies.offline.algorithm import ALGORITHMS, get_algorithm

ALGOS = tuple(ALGORITHMS)
"""The algorithm names ``isched train --algo`` accepts."""


@register_policy("rl")
def make_rl_policy(model_dir: str, seed: int = 0) -> Policy:
    """The greedy policy of a trained checkpoint (``isched train``) in ``model_dir``."""
    from policies.offline.policy import OfflinePolicy

    return OfflinePolicy(model_dir, seed=seed)


__all__ = ["ALGORITHMS", "ALGOS", "get_algorithm", "make_rl_policy"]
