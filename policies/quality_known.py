"""``cpsat_quality_known``: the ``cpsat`` planner told every arrived candidate's true quality.

    python -m experiments.quality_known --scenario default --episodes 100 --seed 500000 --jobs 2

**Not an online policy**: it reads the season's hidden quality draws, which no
coordinator has. It is a reference point that splits the gap between ``cpsat``
and its bounds into what *learning quality* costs and what everything else
costs (seats and start windows held per season, calendars, patience,
deadlines, declines, the 16-slot window):

- ``cpsat`` against ``cpsat_quality_known``: what not knowing quality costs
  this planner;
- ``cpsat_quality_known`` against the ``quality_known`` bound
  (``policies.information_bound.quality_known_row``: the information LP with
  the season's qualities revealed from the start, hence a valid upper bound on
  the mean return of any policy that knows them, this one included, which
  learns each quality on arrival): what is left when there is nothing to learn.

Everything else is ``cpsat``'s, unchanged: a candidate who has arrived enters
the planner's tree at its true quality with no uncertainty left (screens and
loops still have to be held, since the env offers only after a loop, but they
reveal nothing); forecast arrivals are still drawn from the generator at the
prior, since their quality is not known before they arrive.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym

from envs.season_env import season_state
from policies.base import register_policy
from policies.bid_prices import Prospect
from policies.planner import BidPricePlanner

KNOWN_PRECISION = 1e9
"""Posterior precision of a known quality: an interview's signal moves it by nothing."""


class QualityKnownPlanner(BidPricePlanner):
    """``cpsat`` deciding on true qualities instead of posteriors (reads hidden draws)."""

    name = "cpsat_quality_known"

    def reset(self, env: gym.Env) -> None:
        """As ``cpsat``, and keep the season's true qualities."""
        super().reset(env)
        self.quality = list(season_state(env).hidden.quality)

    def _current(self, c: int, seated: list[int]) -> Prospect:
        prospect = super()._current(c, seated)
        return dataclasses.replace(prospect, mean=float(self.quality[c]), precision=KNOWN_PRECISION)


register_policy("cpsat_quality_known")(QualityKnownPlanner)
