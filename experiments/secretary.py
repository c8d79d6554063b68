"""How much a fluid bound overstates deciding online: the multi-secretary estimate of a season.

    python -m experiments.secretary --scenario default --episodes 20 --seed 100000 --jobs 2

A back-of-envelope model, not the env: per area, the seats of its postings
and the candidates whose primary area it is and whom some posting could hire
(``experiments.best_candidates.hireable_candidates``), in the order their forms arrive.
Each candidate's quality ``q ~ N(prior, 1)`` (the generator's law, prior from
publications) is known on arrival, and a seat is filled or not on the spot; a
hire is worth ``hire_value + quality_weight * q + unfilled_penalty`` (the
reward of a primary-area hire, and the penalty it avoids), an empty seat
nothing more. Four values per season, summed over the areas:

- **offline**: the expected best hires with every quality known in advance;
- **fluid**: the fluid bound (seats in expectation over quality: the best
  threshold rule whose expected hires fit the seats), the relaxation the
  ``information`` LP makes;
- **online**: the optimal policy that decides on arrival, by dynamic programming
  over (candidate, seats left) with each candidate's own prior (exact
  Gaussian expectations);
- **resolved**: a bid-price rule like ``cpsat``'s, re-solved at every arrival:
  hire iff the value beats the fluid threshold of the candidates still to
  come with the seats left (Monte Carlo over the season seed).

``fluid - online`` is what seats in expectation overstate when seats must be
filled one candidate at a time; ``online - resolved`` is what a better seat
rule than re-solved prices could add. The estimate errs both ways: holding a
candidate for a few days, as the env allows, would earn more online, and so
would a second area per candidate; candidates lost to calendars, patience or
declines are not in it at all.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr

from envs.state import SeasonState
from experiments import season_study
from experiments import stats as ci
from experiments.best_candidates import hireable_candidates
from policies.gaussian_bounds import normal_pdf
from policies.information_bound import season_for
from scheduler.rules import quality_prior


def online_value(means: np.ndarray, sd: float, seats: int) -> float:
    """Expected value hired by the optimal decide-on-arrival policy (candidates in order,
    values ``v ~ N(mean, sd**2)``): with ``k`` seats left, hire iff ``v`` beats the seat's
    worth ``K = value[k] - value[k - 1]``, so ``value[k] += E[(v - K)^+]`` (exact)."""
    value = np.zeros(seats + 1)  # value[k]: expected best with k seats left, later candidates
    for m in np.asarray(means, float)[::-1]:
        worth = value[1:] - value[:-1]
        z = (worth - m) / sd
        value[1:] += sd * normal_pdf(z) + (m - worth) * ndtr(-z)
    return float(value[seats])


def fluid_value(means: np.ndarray, sd: float, seats: int) -> float:
    """The fluid bound: hire every value above the threshold ``t >= 0`` whose expected
    hires fit the seats, ``sum E[v 1{v > t}]``."""
    means = np.asarray(means, float)
    z = (fluid_threshold(means, sd, seats) - means) / sd
    return float(np.sum(means * ndtr(-z) + sd * normal_pdf(z)))


def fluid_threshold(means: np.ndarray, sd: float, seats: int) -> float:
    """The fluid bound's threshold: the least ``t >= 0`` whose expected hires among
    values ``N(means, sd**2)`` fit ``seats`` (``inf`` without a seat)."""
    from scipy import optimize  # only here: scipy.optimize is slow to import

    means = np.asarray(means, float)
    if seats <= 0:
        return math.inf

    def hires(t: float) -> float:
        return float(ndtr((means - t) / sd).sum())

    return 0.0 if hires(0.0) <= seats else optimize.brentq(lambda t: hires(t) - seats, 0.0, 1e3)


def resolved_value(
    means: np.ndarray, sd: float, seats: int, rng: np.random.Generator, draws: int
) -> float:
    """Expected value hired by re-solving the fluid problem at every arrival: hire iff the
    value beats the threshold of the later candidates with the seats left (Monte Carlo)."""
    means = np.asarray(means, float)
    cut = np.array([[fluid_threshold(means[i + 1 :], sd, k) for k in range(seats + 1)]
                    for i in range(means.size)])  # fmt: skip
    v = means[None, :] + sd * rng.standard_normal((draws, means.size))
    total, left = np.zeros(draws), np.full(draws, seats)
    for i in range(means.size):
        hire = v[:, i] > cut[i, left]
        total += np.where(hire, v[:, i], 0.0)
        left -= hire
    return float(total.mean())


def offline_value(
    means: np.ndarray, sd: float, seats: int, rng: np.random.Generator, draws: int
) -> float:
    """Expected sum of the ``seats`` best positive values (Monte Carlo)."""
    v = np.maximum(0.0, np.asarray(means, float)[None, :] + sd * rng.standard_normal(
        (draws, len(means))))  # fmt: skip
    return float(np.sort(v, axis=1)[:, -seats:].sum(axis=1).mean())


def season_estimate(scenario: str, seed: int) -> list[dict[str, Any]]:
    """The three values of the season ``seed`` (reward units), as one row."""
    season = season_for(scenario, seed)
    state = SeasonState(season)
    cfg = state.config
    rw = cfg.rewards
    hireable = hireable_candidates(state)
    rng = np.random.default_rng(seed)
    totals = {"offline": 0.0, "fluid": 0.0, "online": 0.0, "resolved": 0.0}
    for area, postings in enumerate(state.area_postings):
        seats = sum(state.postings[p].headcount for p in postings)
        order = sorted((c for c in hireable if state.c_areas[c][0] == area),
                       key=lambda c: (int(season.form_day[c]), c))  # fmt: skip
        priors = [quality_prior(state.candidates[c].publications, cfg.publications_mean)
                  for c in order]  # fmt: skip
        if seats == 0 or not priors:
            continue
        means = rw.hire_value + rw.unfilled_penalty + rw.quality_weight * np.array(priors)
        seats = min(seats, means.size)
        totals["offline"] += offline_value(means, rw.quality_weight, seats, rng, 4000)
        totals["fluid"] += fluid_value(means, rw.quality_weight, seats)
        totals["online"] += online_value(means, rw.quality_weight, seats)
        totals["resolved"] += resolved_value(means, rw.quality_weight, seats, rng, 4000)
    return [{"scenario": scenario, "seed": seed, **totals}]


def table(rows: pd.DataFrame) -> str:
    """Means and paired differences as markdown."""

    def est(name: str) -> str:
        return str(ci.bootstrap_ci(col[name], ci.mean))

    def paired(high: str, low: str) -> str:
        return str(ci.paired_difference(col[high], col[low]))

    col = {k: rows[k].to_numpy(dtype=float) for k in ("offline", "fluid", "online", "resolved")}
    return "\n".join([
        f"{len(rows)} seasons of {rows['scenario'].iloc[0]} from seed {int(rows['seed'].min())}",
        "",
        "| value hired (reward units) | mean [95% CI] |",
        "| --- | --- |",
        f"| offline (every quality known in advance) | {est('offline')} |",
        f"| fluid bound (seats in expectation) | {est('fluid')} |",
        f"| online optimum (decide on arrival) | {est('online')} |",
        f"| re-solved fluid prices (decide on arrival) | {est('resolved')} |",
        f"| fluid - online: what seats in expectation overstate | "
        f"{paired('fluid', 'online')} |",
        f"| offline - online: what foresight is worth | {paired('offline', 'online')} |",
        f"| online - re-solved: what a better seat rule could add | "
        f"{paired('online', 'resolved')} |",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    return season_study.season_main(
        "secretary", __doc__ or "", season_estimate, table, argv, 100000
    )


if __name__ == "__main__":
    sys.exit(main())
