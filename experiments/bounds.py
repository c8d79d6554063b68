"""Upper bounds as a small registry: a bound kind is a name resolved to a row function.

A row function takes ``(scenario, seed)`` (a scenario name or YAML path and a
season seed) and returns a row with at least ``return`` (the bound) and
``status``. Kinds live in ``BOUND_ROWS`` as ``module:function`` and import
lazily, so a kind whose module is not in this checkout yet is reported as one
clear line instead of failing at import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

BoundRow = Callable[[str, int], dict[str, Any]]

BOUND_ROWS: dict[str, str] = {
    "hindsight": "experiments.bounds:hindsight_row",
    "information": "policies.information_bound:information_row",
    "penalized": "policies.penalized_bound:penalized_row",
    "quality_known": "policies.information_bound:quality_known_row",
}
"""Bound kind -> ``module:function`` returning its row for (scenario, seed)."""


def check_bound(kind: str) -> str | None:
    """``None`` when ``kind`` resolves to a row function, else why not (one line)."""
    if kind not in BOUND_ROWS:
        return f"unknown bound {kind!r}: choose from {', '.join(BOUND_ROWS)}"
    try:
        bound_row(kind)
    except (ImportError, AttributeError):
        target = BOUND_ROWS[kind]
        return f"bound {kind!r} is not available in this checkout yet ({target} not found)"
    return None


def bound_row(kind: str) -> BoundRow:
    """The row function of a bound kind (``ImportError`` when its module is missing); its
    ``status`` in one vocabulary whatever the solver (HiGHS' ``Optimal`` is ``OPTIMAL``,
    as CP-SAT says it)."""
    module, _, function = BOUND_ROWS[kind].partition(":")
    found: BoundRow = getattr(importlib.import_module(module), function)

    def row(scenario: str, seed: int) -> dict[str, Any]:
        out = found(scenario, seed)
        out["status"] = solver_status(str(out.get("status", "")))
        return out

    return row


def solver_status(status: str) -> str:
    """A solver's status in CP-SAT's words: upper case, words joined by ``_``."""
    return "_".join(status.upper().split())


def hindsight_row(scenario: str, seed: int) -> dict[str, Any]:
    """The hindsight bound of the season ``seed`` draws (the whole season revealed)."""
    import gymnasium as gym

    import envs
    from policies.rollout import _hindsight_row

    env = gym.make(envs.ENV_ID, scenario=scenario)
    return _hindsight_row(env, seed, 0)
