"""From ``results.parquet`` to the numbers a report shows, per scenario and policy.

A policy trained with several seeds (a train step's ``training_seeds``) has one row per
member and season; it is summarised as one policy whose return on a season is the mean
over its members (``with_groups``), and its members' means give the spread
(``TrainingSpread``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from experiments import stats
from experiments.stats import Estimate

RULES = ("random", "fifo", "urgency", "greedy", "greedy_fit")
"""Hand rules: the baseline is the best of them unless the config names one."""


@dataclass
class PolicyLine:
    """One policy on one scenario."""

    policy: str
    seasons: int
    mean: Estimate
    iqm: Estimate
    versus_baseline: Estimate | None
    """Paired mean difference to the baseline (None for the baseline itself)."""
    improvement: Estimate | None
    """Probability of improvement over the baseline."""
    gap: Estimate | None
    """Absolute gap to the tightest bound (None without bounds)."""
    kpis: dict[str, float] = field(default_factory=dict)
    paired: int = 0
    """Seasons played by both this policy and the baseline (what ``versus_baseline`` uses)."""
    baseline_time_ratio: Estimate | None = None
    """The baseline's decision time per working day over this policy's, paired by season."""
    training_seeds: int = 0
    """Members averaged season by season (a policy trained with several seeds), else 0."""


@dataclass
class TrainingSpread:
    """A policy trained with several seeds: each member's mean return on one scenario."""

    policy: str
    seeds: list[int]
    means: list[float]
    """Mean return of each member over the seasons every member played, seed by seed."""
    versus_baseline: list[Estimate | None]
    """Each member's paired difference to the baseline."""

    @property
    def sd(self) -> float:
        """Standard deviation of the members' means (0 with one member)."""
        return float(np.std(self.means, ddof=1)) if len(self.means) > 1 else 0.0


@dataclass
class ScenarioSummary:
    """Every policy and bound of one scenario."""

    scenario: str
    baseline: str
    lines: list[PolicyLine]
    bounds: dict[str, Estimate]
    """Mean bound per kind with its interval."""
    floor: float
    ceiling: float
    """Means that normalised scores map to 0 and 1 (random or worst; tightest bound or best)."""
    training: list[TrainingSpread] = field(default_factory=list)
    """The policies trained with several seeds, member by member."""


KPI_COLUMNS = (
    "hires",
    "fill_rate",
    "mean_hire_quality",
    "interviews_per_hire",
    "decision_ms_median",
    "decision_ms_mean",
    "decision_ms_per_day",
)


def returns_table(
    frame: pd.DataFrame, scenario: str, kind: str = "policy", values: str = "return"
) -> pd.DataFrame:
    """Return (or another column, ``values``) per seed (rows) and policy or bound kind
    (columns) of one scenario."""
    part = frame[(frame["scenario"] == scenario) & (frame["kind"] == kind)]
    table = part.pivot(index="seed", columns="policy", values=values)
    return table[list(dict.fromkeys(part["policy"]))]


def is_member(frame: pd.DataFrame) -> pd.Series:
    """Rows that are one member of a policy trained with several seeds."""
    if "group" not in frame:
        return pd.Series(False, index=frame.index)
    return frame["group"].notna() & (frame["group"] != "")


def with_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with each trained group's member rows replaced by one row per season: the
    mean of every numeric column over the members, on the seasons all of them played
    (``training_seeds`` says how many)."""
    member = is_member(frame)
    if not member.any():
        return frame
    key = frame["group"].where(member, frame["policy"])
    parts = []
    for (scenario, kind, name), part in frame.groupby(
        [frame["scenario"], frame["kind"], key], sort=False
    ):
        if not member[part.index].any():
            parts.append(part)
            continue
        n = part["training_seed"].nunique()
        numeric = [c for c in part.select_dtypes("number").columns
                   if c not in ("seed", "training_seed")]  # fmt: skip
        by_season = part.groupby("seed", sort=True)
        means = by_season[numeric].mean()[by_season.size() == n].reset_index()
        parts.append(means.assign(scenario=scenario, kind=kind, policy=name, training_seeds=n))
    out = pd.concat(parts, ignore_index=True)
    return out.drop(columns=[c for c in ("group", "training_seed") if c in out])


def training_spread(
    frame: pd.DataFrame, scenario: str, base: str, baseline: pd.Series | None, seed: int = 0
) -> list[TrainingSpread]:
    """Member by member, each group of ``scenario`` in the rows ``frame``: mean return and
    paired difference to the baseline ``base`` (its returns by season, ``baseline``: an
    ungrouped policy's, or a group's mean), over the seasons every member played."""
    member = is_member(frame)
    rows = frame[member & (frame["scenario"] == scenario) & (frame["kind"] == "policy")]
    if rows.empty:
        return []
    out = []
    for group, part in rows.groupby("group", sort=False):
        table = part.pivot(index="seed", columns="training_seed", values="return").dropna()
        versus: list[Estimate | None] = []
        for s in table.columns:
            if baseline is None or group == base:
                versus.append(None)
                continue
            both = pd.concat([table[s], baseline], axis=1, join="inner").dropna().to_numpy()
            versus.append(stats.paired_difference(both[:, 0], both[:, 1], seed=seed)
                          if len(both) else None)  # fmt: skip
        out.append(TrainingSpread(str(group), [int(s) for s in table.columns],
                                  [float(m) for m in table.mean()], versus))  # fmt: skip
    return out


def pick_baseline(table: pd.DataFrame, named: str | None) -> str:
    """The named baseline, else the rule with the best mean, else the first policy."""
    if named is not None and named in table.columns:
        return named
    rules = [p for p in table.columns if p in RULES]
    if not rules:
        return str(table.columns[0])
    return str(table[rules].mean().idxmax())


def summarize(
    frame: pd.DataFrame, baseline: str | None = None, seed: int = 0
) -> list[ScenarioSummary]:
    """Per scenario: every policy's mean, IQM, paired difference and PoI against the baseline,
    and the gap to the tightest bound (all with seeded bootstrap intervals). A policy trained
    with several seeds is one line (the members' mean, season by season) and a spread."""
    raw, frame = frame, with_groups(frame)
    out = []
    for scenario in dict.fromkeys(frame["scenario"]):
        table = returns_table(frame, scenario)
        bound_table = returns_table(frame, scenario, "bound")
        base = pick_baseline(table, baseline) if len(table.columns) else ""
        bounds = {
            k: stats.bootstrap_ci(bound_table[k].dropna().to_numpy(), stats.mean, seed=seed)
            for k in bound_table.columns
        }
        times = (
            returns_table(frame, scenario, values="decision_ms_per_day")
            if "decision_ms_per_day" in frame
            else None
        )
        lines = [
            _line(frame, scenario, table, bound_table, times, policy, base, seed)
            for policy in table.columns
        ]
        means = table.mean()
        floor = float(means.get("random", means.min())) if len(means) else 0.0
        # the tightest kind on the mean (as ``stats.gap_to_bound`` picks it): a per-season
        # minimum of several kinds need not be a bound of anything
        tight = bound_table.mean().min() if len(bound_table.columns) else float("nan")
        ceiling = float(tight) if np.isfinite(tight) else float(means.max())
        spread = training_spread(raw, str(scenario), base, table.get(base), seed)
        out.append(ScenarioSummary(str(scenario), base, lines, bounds, floor, ceiling, spread))
    return out


def _line(
    frame: pd.DataFrame,
    scenario: str,
    table: pd.DataFrame,
    bound_table: pd.DataFrame,
    times: pd.DataFrame | None,
    policy: str,
    base: str,
    seed: int,
) -> PolicyLine:
    """``times``: decision time per working day per seed and policy (None: not recorded)."""
    x = table[policy].dropna()
    versus = improvement = gap = None
    paired = 0
    if policy != base:
        both = table[[policy, base]].dropna()
        paired = len(both)
        versus = stats.paired_difference(both[policy].to_numpy(), both[base].to_numpy(), seed=seed)
        improvement = stats.probability_of_improvement_ci(
            both[policy].to_numpy(), both[base].to_numpy(), seed=seed
        )
    if len(bound_table.columns):
        joined = bound_table.join(x.rename("_return"), how="inner").dropna()
        gap = stats.gap_to_bound(
            joined["_return"].to_numpy(), joined[bound_table.columns].to_numpy(), seed=seed
        )
    rows = frame[
        (frame["scenario"] == scenario) & (frame["policy"] == policy) & (frame["kind"] == "policy")
    ]
    kpis = {k: float(rows[k].mean()) for k in KPI_COLUMNS if k in rows}
    most = rows["training_seeds"].max() if "training_seeds" in rows else float("nan")
    members = int(most) if most == most else 0  # NaN outside a group
    ratio = None
    if policy != base and times is not None:
        both = times[[policy, base]].dropna()
        if len(both) and (both > 0).all().all():
            ratio = stats.ratio_of_means(both[base].to_numpy(), both[policy].to_numpy(), seed=seed)
    return PolicyLine(
        policy=policy,
        seasons=int(x.size),
        mean=stats.bootstrap_ci(x.to_numpy(), stats.mean, seed=seed),
        iqm=stats.bootstrap_ci(x.to_numpy(), stats.iqm, seed=seed),
        versus_baseline=versus,
        improvement=improvement,
        gap=gap,
        kpis=kpis,
        paired=paired,
        baseline_time_ratio=ratio,
        training_seeds=members,
    )


def normalized_scores(
    frame: pd.DataFrame, summaries: list[ScenarioSummary]
) -> dict[str, np.ndarray]:
    """Per policy, its normalised returns as runs x scenarios (seeds common to all scenarios)."""
    frame = with_groups(frame)
    out: dict[str, np.ndarray] = {}
    tables = {s.scenario: returns_table(frame, s.scenario) for s in summaries}
    policies = [
        p
        for p in tables[summaries[0].scenario].columns
        if all(p in t.columns for t in tables.values())
    ]
    for policy in policies:
        columns = []
        for s in summaries:
            columns.append(
                stats.normalized(tables[s.scenario][policy].dropna().to_numpy(), s.floor, s.ceiling)
            )
        runs = min(len(c) for c in columns)
        out[policy] = np.stack([c[:runs] for c in columns], axis=1)
    return out
