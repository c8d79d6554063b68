"""The one interface every policy shares, and the registry behind ``make_policy``."""

from __future__ import annotations

import dataclasses
import inspect
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

    ``PREFIX:ARG`` names (``rl:MODEL_DIR``) go to the factory registered as ``PREFIX``;
    ``kwargs`` are its options, refused in one line when it does not take them.
    """
    key, _, arg = name.partition(":")
    factory = _REGISTRY.get(key)
    if factory is None:
        raise ValueError(f"unknown policy '{name}': choose from {', '.join(policy_names())}")
    _check_call(factory, key, name, arg, seed, kwargs)
    if arg:
        return factory(arg, seed=seed, **kwargs)
    return factory(seed=seed, **kwargs)


def option_names(factory: Any, signature: inspect.Signature | None = None) -> list[str] | None:
    """The options ``factory`` (of ``signature``, when known) takes: its keyword parameters,
    or, where it passes ``**kwargs`` on, the fields of its ``options_class`` dataclass;
    None: not known."""
    if signature is None:
        try:
            signature = inspect.signature(factory)
        except (TypeError, ValueError):  # a builtin: nothing to check
            return None
    params = list(signature.parameters.values())
    names = [
        p.name
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "seed"
    ]
    if any(p.kind == p.VAR_KEYWORD for p in params):
        options = getattr(factory, "options_class", None)
        if options is None or not dataclasses.is_dataclass(options):
            return None
        names += [f.name for f in dataclasses.fields(options)]
    return names


def _check_call(
    factory: Any, key: str, name: str, arg: str, seed: int, kwargs: dict[str, Any]
) -> None:
    """One clear line when ``name``'s ``:ARG`` or options do not suit the factory."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin: nothing to check
        return
    positional = [
        p
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "seed"
    ]
    if arg and not positional:
        raise ValueError(f"policy '{name}': {key} takes no ':' argument; use '{key}'")
    if not arg and positional and positional[0].default is inspect.Parameter.empty:
        what = positional[0].name.upper()
        raise ValueError(f"policy '{name}': {key} needs an argument, {key}:{what}")
    known = option_names(factory, signature)
    if known is not None:
        if positional:  # the ':' argument is not an option
            known = [n for n in known if n != positional[0].name]
        for option in kwargs:
            if option not in known:
                takes = f"takes: {', '.join(known)}" if known else "takes no options"
                raise ValueError(f"policy '{name}': unknown option '{option}' ({key} {takes})")
    try:
        signature.bind(*([arg] if arg else []), seed=seed, **kwargs)
    except TypeError as problem:
        raise ValueError(f"policy '{name}': {problem}") from None
