"""Where the season's best candidates go under each policy.

    python -m experiments.best_candidates --scenario default \\
        --policy cpsat,cpsat_quality_known,greedy_fit --episodes 20 --seed 100000 --jobs 2

Per season, the *best candidates* are as many as there are seats: those of
highest true quality among the candidates some posting could hire (a loop
inside their local hours, a posting in their areas past its 7-day minimum, a
start window their availability fits, before their competing-offer deadline:
``policies.information_bound.candidate_types`` with the season's deadlines).
Each is counted by its fate: hired, declined, rejected (at the stage it had
reached), withdrawn (stage and cause) or still active at the end. The table
gives candidates per season, mean over the seasons, per policy; the csv one row
per season and fate.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

import envs
from envs.layout import Stage
from envs.season_env import season_state
from envs.state import SeasonState
from experiments import season_study
from experiments.withdrawals import kind_of
from policies import make_policy
from policies.information_bound import InformationOptions, candidate_types
from policies.rollout import run_episode
from scheduler.generator import Season

HIREABLE = InformationOptions(quality="realised", withdrawals="realised")


def hireable_candidates(state: SeasonState) -> set[int]:
    """Candidates some posting could hire before their deadline (in the state before play)."""
    return {t.candidate for t in candidate_types(state, HIREABLE)}


def best_candidates(season: Season) -> list[int]:
    """The season's best hireable candidates by true quality, as many as its seats."""
    state = SeasonState(season)
    hireable = sorted(hireable_candidates(state))
    quality = np.array([season.truths[c].quality for c in hireable])
    order = np.argsort(-quality, kind="stable")[: state.total_headcount]
    return [hireable[i] for i in order]


def fate_of(state: SeasonState, c: int) -> str:
    """What became of candidate ``c`` by the end of the season played in ``state``."""
    stage = Stage(state.stage[c])
    if stage == Stage.WITHDRAWN:
        w = next(w for w in state.withdrawals if w.candidate == c)
        return "withdrawn: " + kind_of(w.stage, w.booked, w.cause)
    if stage == Stage.REJECTED:
        if state.loop_day[c] >= 0:
            return "rejected when looped"
        return "rejected when screened" if state.screen_day[c] >= 0 else "rejected when new"
    if stage in (Stage.HIRED, Stage.DECLINED):
        return stage.name.lower()
    return f"still {stage.name.lower()} at the end"


def season_fates(scenario: str, policy: str, seed: int) -> list[dict[str, Any]]:
    """One row per fate of the best candidates in the season ``seed`` played by ``policy``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    kpis, _, _ = run_episode(env, make_policy(policy, seed=seed), seed)
    state = season_state(env)
    best = best_candidates(state.season)
    counts = Counter(fate_of(state, c) for c in best)
    quality = [state.hidden.quality[c] for c in best]
    base = {"scenario": scenario, "policy": policy, "seed": seed, "return": kpis["return"],
            "best": len(best), "best_quality": float(np.mean(quality)) if best else 0.0,
            "hire_quality": kpis["mean_hire_quality"]}  # fmt: skip
    return season_study.count_rows(base, counts, "fate", "candidates")


def table(rows: pd.DataFrame) -> str:
    """The best candidates per season by fate (columns: policies), as markdown."""
    lines = season_study.counts_table(rows, "fate", "candidates", "best candidates per season")
    lines.append(season_study.per_policy_line(rows, "**best candidates (= seats)**", "best"))
    lines.append(
        season_study.per_policy_line(rows, "their mean true quality", "best_quality", "{:.2f}")
    )
    lines.append(season_study.per_policy_line(
        rows, "mean true quality of all the policy's hires", "hire_quality", "{:.2f}"))  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return season_study.policy_main("best_candidates", __doc__ or "", season_fates, table, argv)


if __name__ == "__main__":
    sys.exit(main())
