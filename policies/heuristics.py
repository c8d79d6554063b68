"""Heuristic policies: floors for comparison and behaviour policies for logged data.

All four read only the observation and the mask, so they run on any scenario:

- ``random``: a uniformly random valid action (ending the day included).
- ``fifo``: advances the candidate who submitted the form earliest; offers the
  top-ranked option; never rejects.
- ``urgency``: advances the candidate most at risk of withdrawing first
  (days without contact against mean patience, days since the form against the
  mean deadline); rejects a candidate with nothing bookable for 5 days.
- ``greedy``: advances the best estimated quality first; rejects candidates
  whose posterior mean falls below a per-stage threshold, and those with
  nothing bookable for 5 days.
- ``greedy_fit``: ``greedy`` that first rejects candidates no posting can hire
  (no seat left in their areas, or no start window with onboarding capacity
  that their availability fits: the ``hireable`` feature), instead of spending
  interviewer hours on them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from envs.layout import END_DAY, F, Verb, action_of, slot_rows, verb_mask
from policies.base import register_policy

SCREEN, LOOP, REJECT, OFFER_0 = Verb.SCREEN, Verb.LOOP, Verb.REJECT, Verb.OFFER_0


class RandomPolicy:
    """Uniformly random among valid actions."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def reset(self, env: gym.Env) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        valid = np.flatnonzero(info["action_mask"])
        return int(valid[self.rng.integers(len(valid))])


class PriorityPolicy:
    """Advance the valid candidate of highest priority; subclasses set the priority."""

    name = "priority"
    reject_below: tuple[float, float, float] | None = None
    """Posterior-mean thresholds for (new, screened, looped); below them: reject."""
    reject_stuck_after: float | None = None
    """Reject a candidate with nothing bookable after this many days without contact."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def reset(self, env: gym.Env) -> None:
        pass

    def priority(self, slots: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        mask = verb_mask(info["action_mask"])
        slots = slot_rows(obs)
        if self.reject_below is not None:
            stage = slots[:, [F.stage_new, F.stage_screened, F.stage_looped]]
            limit = stage @ np.asarray(self.reject_below)
            low = (slots[:, F.present] > 0) & (slots[:, F.quality_mean] < limit)
            low &= mask[:, REJECT] > 0
            if low.any():
                return action_of(int(np.flatnonzero(low)[0]), REJECT)
        advance = mask[:, [SCREEN, LOOP, OFFER_0]].any(axis=1)
        if self.reject_stuck_after is not None:
            stuck = (mask[:, REJECT] > 0) & ~advance
            stuck &= slots[:, F.days_since_contact] * 10.0 >= self.reject_stuck_after
            if stuck.any():
                return action_of(int(np.flatnonzero(stuck)[0]), REJECT)
        if not advance.any():
            return END_DAY
        score = np.where(advance, self.priority(slots), -np.inf)
        k = int(np.argmax(score))
        for verb in (OFFER_0, LOOP, SCREEN):
            if mask[k, verb]:
                return action_of(k, verb)
        return END_DAY


class FifoPolicy(PriorityPolicy):
    name = "fifo"

    def priority(self, slots: np.ndarray) -> np.ndarray:
        return slots[:, F.days_since_form]


class UrgencyPolicy(PriorityPolicy):
    name = "urgency"
    reject_stuck_after = 5.0

    def priority(self, slots: np.ndarray) -> np.ndarray:
        return np.maximum(slots[:, F.patience_risk], slots[:, F.deadline_risk])


class GreedyPolicy(PriorityPolicy):
    name = "greedy"
    reject_below = (-0.6, -0.1, 0.2)
    reject_stuck_after = 5.0

    def priority(self, slots: np.ndarray) -> np.ndarray:
        return slots[:, F.quality_mean]


class GreedyFitPolicy(GreedyPolicy):
    name = "greedy_fit"

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        mask = verb_mask(info["action_mask"])
        slots = slot_rows(obs)
        unfit = (slots[:, F.present] > 0) & (slots[:, F.hireable] < 0.5)
        unfit &= mask[:, REJECT] > 0
        if unfit.any():
            return action_of(int(np.flatnonzero(unfit)[0]), REJECT)
        return super().act(obs, info)


for _cls in (RandomPolicy, FifoPolicy, UrgencyPolicy, GreedyPolicy, GreedyFitPolicy):
    register_policy(_cls.name)(_cls)
