"""Planner labels for hindsight learning: what the ``cpsat`` planner would do in a logged state.

A season's exogenous inputs (arrivals, qualities, acceptances, withdrawals) are drawn
up front from its seed, so a logged season can be played again under any decisions.
Hindsight learning (Sinclair et al., "Hindsight Learning for MDPs with Exogenous
Inputs", ICML 2023) trains a policy on targets that a planner computes on those logged
traces. Their clairvoyant target, the hindsight-optimal plan of the whole trace,
knows the future draws and so overvalues waiting (the hindsight bias they describe).
The target here respects the information structure instead: at every state a
behaviour policy visits, ``PlannerLabeller`` asks the bid-price planner
(``policies/planner.py``) what it would do. The planner reads only the known-state
view (``KnownState``: what a coordinator knows that day) and forecasts from the
scenario's generator, never the season's future draws, so the label is an action
an online policy could take in that state. Labelling every state of every behaviour
(greedy rules, their epsilon-noisy variants, the planner itself) gives the
coverage of DAgger (Ross et al., 2011): the learner sees the planner's choice in
states the planner itself would not reach.

The planner keeps per-day state: on the first decision of each day it solves one LP
and fixes a plan (candidate -> decision), then hands the planned actions out one by
one, removing each from the plan as it returns it. Asked about a state it did not
produce, it must not lose plan entries the behaviour did not execute. ``label``
therefore keeps the plan as it was before the question, and removes the returned
entry only when the behaviour took that same action, so with the planner as the
behaviour every label equals the logged action (tested). A new day (the behaviour
ended the day) triggers the planner's morning solve on the behaviour's morning
state, as it would online; entries of candidates the behaviour decided otherwise
stay in the plan, and the planner's own mask check skips those no longer valid.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from policies import make_policy


class PlannerLabeller:
    """The action a planner would take in each state of another policy's season."""

    def __init__(self, planner: str = "cpsat", seed: int = 0) -> None:
        self.planner = make_policy(planner, seed=seed)
        self.name = planner

    def reset(self, env: gym.Env) -> None:
        """Start a season (the env the behaviour plays)."""
        self.planner.reset(env)

    def label(self, obs: np.ndarray, info: dict[str, Any], taken: int) -> int:
        """The planner's action in this state; ``taken`` is the behaviour's action here."""
        planner: Any = self.planner
        known = getattr(planner, "known", None)
        if known is None or not hasattr(planner, "plan"):  # a policy without a day plan
            return self._checked(int(planner.act(obs, info)), info)
        if not known.done and known.day != planner.day:  # the morning solve, as online
            planner.day = known.day
            planner._plan_day()
        plan = dict(planner.plan)
        action = self._checked(int(planner.act(obs, info)), info)
        if action != taken:
            planner.plan = plan  # the behaviour did otherwise: the entry is not spent
        return action

    def _checked(self, action: int, info: dict[str, Any]) -> int:
        if not info["action_mask"][action]:
            raise ValueError(f"labeller '{self.name}' chose invalid action {action}")
        return action
