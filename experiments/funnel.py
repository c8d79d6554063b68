"""The hiring funnel of each policy beside the information LP's: how many candidates each
stage takes, and how good they look there.

    python -m experiments.funnel --scenario default --policy cpsat,greedy_fit,information \\
        --episodes 20 --seed 100000 --jobs 2 --out out/funnel.csv

Per season and policy: held screens, held loops, offers and accepted hires, each with
the mean posterior quality the policy knew there (screens: the prior at arrival; loops:
after the screen; offers and hires: after the loop), the hires' true quality, and the
return's parts (hires with the unfilled penalty they avoid, interviewer time, waiting).
``information`` is not played: its row is the information LP's solution
(``policies.information_lp.funnel``): expected held screens, loops, offers and accepted
hires with the same posterior means, and its objective's parts (an offer's value
includes its waiting). So the table says whether a policy loses to the bound by
interviewing less, or by choosing worse candidates at the same volume.
"""

from __future__ import annotations

import sys
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import envs
from envs.layout import Stage
from envs.season_env import season_state
from envs.state import SeasonState
from experiments import season_study
from policies import make_policy
from policies.hindsight import _season_capacity
from policies.information_bound import InformationOptions, candidate_types, season_for
from policies.information_lp import solve_lp

BOUND = "information"
"""The pseudo-policy whose row is the information LP's solution."""

ROWS = [
    ("screens", "held screens", "{:.1f}"),
    ("mean_screens", "mean prior of the screened", "{:.2f}"),
    ("loops", "held loops", "{:.1f}"),
    ("mean_loops", "mean posterior of the looped, after the screen", "{:.2f}"),
    ("offers", "offers", "{:.1f}"),
    ("mean_offers", "mean posterior of the offered, after the loop", "{:.2f}"),
    ("hires", "accepted hires", "{:.1f}"),
    ("mean_hires", "mean posterior of the hired, after the loop", "{:.2f}"),
    ("quality_hires", "mean true quality of the hired", "{:.2f}"),
    ("headcount", "seats", "{:.1f}"),
    ("value_hires", "hires, with the unfilled penalty they avoid", "{:.2f}"),
    ("value_interviews", "interviewer time", "{:.2f}"),
    ("value_waiting", "waiting", "{:.2f}"),
    ("return", "return (bound: the LP's optimum)", "{:.2f}"),
]
"""(column, label, format) of the table, in order."""


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def played_funnel(scenario: str, policy: str, seed: int) -> dict[str, Any]:
    """The funnel of the season ``seed`` played by ``policy``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    obs, info = env.reset(seed=seed)
    player = make_policy(policy, seed=seed)
    player.reset(env)
    state = season_state(env)
    prior = list(state.post_mean)
    after_screen: dict[int, float] = {}
    while True:
        obs, _, terminated, truncated, info = env.step(player.act(obs, info))
        for c, stage in enumerate(state.stage):
            if stage == Stage.SCREENED and c not in after_screen:
                after_screen[c] = state.post_mean[c]
        if terminated or truncated:
            break
    cfg = state.config
    screened_prec = 1.0 + 1.0 / cfg.screen_noise_sd**2
    looped_prec = screened_prec + 1.0 / cfg.loop_noise_sd**2
    n = len(state.candidates)
    screened = [c for c in range(n) if state.post_prec[c] >= screened_prec - 1e-9]
    looped = [c for c in range(n) if state.post_prec[c] >= looped_prec - 1e-9]
    offered = [o[0] for o in state.offers]
    hired = [o[0] for o in state.offers if o[4]]
    truths = state.season.truths
    parts = state.parts
    kpis = info["kpis"]
    return {
        "screens": len(screened),
        "mean_screens": _mean([prior[c] for c in screened]),
        "loops": len(looped),
        "mean_loops": _mean([after_screen[c] for c in looped if c in after_screen]),
        "offers": len(offered),
        "mean_offers": _mean([state.post_mean[c] for c in offered]),
        "hires": len(hired),
        "mean_hires": _mean([state.post_mean[c] for c in hired]),
        "quality_hires": _mean([truths[c].quality for c in hired]),
        "headcount": state.total_headcount,
        "value_hires": parts["hires"] + cfg.rewards.unfilled_penalty * len(hired),
        "value_interviews": parts["interviewer_time"],
        "value_waiting": parts["waiting"],
        "return": float(kpis["return"]),
    }


def bound_funnel(scenario: str, seed: int) -> dict[str, Any]:
    """The funnel of the information LP's solution of the season ``seed``."""
    state = SeasonState(season_for(scenario, seed))
    opts = InformationOptions()
    lp = solve_lp(state, candidate_types(state, opts), _season_capacity(state), opts)
    f = lp.funnel
    penalty = state.config.rewards.unfilled_penalty
    return {
        **{k: f[k] for k in ("screens", "loops", "offers", "hires")},
        **{f"mean_{k}": f[f"mean_{k}"] for k in ("screens", "loops", "offers", "hires")},
        "quality_hires": float("nan"),
        "headcount": state.total_headcount,
        "value_hires": f["value_offers"],
        "value_interviews": f["value_screens"] + f["value_loops"],
        "value_waiting": float("nan"),
        "return": lp.objective - penalty * state.total_headcount,
    }


def season_funnel(scenario: str, policy: str, seed: int) -> list[dict[str, Any]]:
    """One row: the funnel of ``policy`` (or of the LP, for ``information``) in a season."""
    if policy == BOUND:
        found = bound_funnel(scenario, seed)
    else:
        found = played_funnel(scenario, policy, seed)
    return [{"scenario": scenario, "policy": policy, "seed": seed, **found}]


def table(rows: pd.DataFrame) -> str:
    """Each funnel row's mean over the seasons (columns: policies), as markdown."""
    policies = list(dict.fromkeys(rows["policy"]))
    means = rows.groupby("policy")[[c for c, _, _ in ROWS]].mean()
    lines = ["| per season | " + " | ".join(f"`{p}`" for p in policies) + " |",
             "| --- |" + " ---: |" * len(policies)]  # fmt: skip
    for column, label, fmt in ROWS:
        cells = ["" if np.isnan(means.loc[p, column]) else fmt.format(means.loc[p, column])
                 for p in policies]  # fmt: skip
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return season_study.policy_main("funnel", __doc__ or "", season_funnel, table, argv)


if __name__ == "__main__":
    sys.exit(main())
