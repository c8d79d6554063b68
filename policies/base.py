"""The one interface every policy shares, and the registry behind ``make_policy``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np


class Policy(Protocol):
    """Decides one action at a time through the env's normal interface."""

    name: str

    def reset(self, env: gym.Env) -> None:
        """Called at episode start; planners may read ``env.unwrapped``'s known state."""

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """An action that ``info["action_mask"]`` allows."""
        ...


_REGISTRY: dict[str, Callable[..., Policy]] = {}


def register_policy(name: str) -> Callable[[Callable[..., Policy]], Callable[..., Policy]]:
    def wrap(factory: Callable[..., Policy]) -> Callable[..., Policy]:
        _REGISTRY[name] = factory
        return factory

    return wrap


def policy_names() -> list[str]:
    return sorted(_REGISTRY)


def make_policy(name: str, seed: int = 0, **kwargs: Any) -> Policy:
    """A policy by name: ``random``, ``fifo``, ``urgency``, ``greedy``, ``greedy_fit`` (and more).

    ``PREFIX:ARG`` names (``rl:MODEL_DIR``) go to the factory registered as ``PREFIX``.
    """
    key, _, arg = name.partition(":")
    factory = _REGISTRY.get(key)
    if factory is None:
        raise ValueError(f"unknown policy '{name}': choose from {', '.join(policy_names())}")
    if arg:
        return factory(arg, seed=seed, **kwargs)
    return factory(seed=seed, **kwargs)
