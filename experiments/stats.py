"""Honest statistics for few-run comparisons (Agarwal et al., NeurIPS 2021), numpy/scipy only.

Scores are arrays ``runs x tasks`` (seasons x scenarios); a 1-d array is one
task. Confidence intervals are percentile intervals of a stratified bootstrap:
runs are resampled with replacement within each task, never across tasks.
Every bootstrap takes a seed, so the same scores give the same interval.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Statistic = Callable[[np.ndarray], float]
REPS = 2000
"""Bootstrap resamples by default."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a confidence interval."""

    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.2f} [{self.low:.2f}, {self.high:.2f}]"


def _as_runs_by_tasks(scores: np.ndarray) -> np.ndarray:
    x = np.asarray(scores, dtype=float)
    return x[:, None] if x.ndim == 1 else x


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% of all scores (25% cut each side)."""
    from scipy.stats import trim_mean  # scipy.stats takes a second to import

    return float(trim_mean(np.asarray(scores, dtype=float).ravel(), 0.25))


def mean(scores: np.ndarray) -> float:
    return float(np.mean(scores))


def stratified_resamples(scores: np.ndarray, reps: int = REPS, seed: int = 0) -> np.ndarray:
    """``reps`` resamples of ``scores`` (runs x tasks), runs redrawn within each task."""
    x = _as_runs_by_tasks(scores)
    return _resampled(x, _run_index(x.shape, reps, seed))


def _run_index(shape: tuple[int, ...], reps: int, seed: int) -> np.ndarray:
    """``reps`` draws of run indices (runs x tasks), redrawn within each task."""
    runs, tasks = shape
    return np.random.default_rng(seed).integers(0, runs, size=(reps, runs, tasks))


def _resampled(x: np.ndarray, index: np.ndarray) -> np.ndarray:
    return np.take_along_axis(np.broadcast_to(x, index.shape), index, axis=1)


def bootstrap_ci(
    scores: np.ndarray,
    statistic: Statistic = iqm,
    level: float = 0.95,
    reps: int = REPS,
    seed: int = 0,
) -> Estimate:
    """``statistic`` of ``scores`` with a stratified-bootstrap percentile interval."""
    x = _as_runs_by_tasks(scores)
    samples = stratified_resamples(x, reps, seed)
    values = (
        np.array([statistic(s) for s in samples])
        if statistic not in _FAST
        else _FAST[statistic](samples)
    )
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return Estimate(statistic(x), float(low), float(high))


def _fast_mean(samples: np.ndarray) -> np.ndarray:
    return samples.reshape(len(samples), -1).mean(axis=1)


def _fast_iqm(samples: np.ndarray) -> np.ndarray:
    from scipy.stats import trim_mean

    return trim_mean(samples.reshape(len(samples), -1), 0.25, axis=1)


_FAST: dict[Statistic, Callable[[np.ndarray], np.ndarray]] = {mean: _fast_mean, iqm: _fast_iqm}


def paired_difference(
    a: np.ndarray, b: np.ndarray, level: float = 0.95, reps: int = REPS, seed: int = 0
) -> Estimate:
    """Mean of ``a - b`` over the same seasons (runs x tasks), with a bootstrap interval."""
    a, b = _as_runs_by_tasks(a), _as_runs_by_tasks(b)
    if a.shape != b.shape:
        raise ValueError(f"paired scores differ in shape: {a.shape} and {b.shape}")
    return bootstrap_ci(a - b, mean, level, reps, seed)


def ratio_of_means(
    num: np.ndarray, den: np.ndarray, level: float = 0.95, reps: int = REPS, seed: int = 0
) -> Estimate:
    """``mean(num) / mean(den)`` over the same seasons (say, one policy's time per day over
    another's), with a paired stratified-bootstrap interval: both redrawn on one index."""
    num, den = _as_runs_by_tasks(num), _as_runs_by_tasks(den)
    if num.shape != den.shape:
        raise ValueError(f"paired scores differ in shape: {num.shape} and {den.shape}")
    index = _run_index(num.shape, reps, seed)  # one index for both: paired
    tops, bottoms = _resampled(num, index), _resampled(den, index)
    values = tops.reshape(reps, -1).sum(axis=1) / bottoms.reshape(reps, -1).sum(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return Estimate(float(num.sum() / den.sum()), float(low), float(high))


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y): a run of X beats a run of Y (ties count half), averaged over tasks.

    Per task this is the Mann-Whitney U statistic over ``n * m`` (rliable's definition).
    """
    x, y = _as_runs_by_tasks(x), _as_runs_by_tasks(y)
    per_task = []
    for k in range(x.shape[1]):
        greater = (x[:, k, None] > y[None, :, k]).mean()
        ties = (x[:, k, None] == y[None, :, k]).mean()
        per_task.append(greater + 0.5 * ties)
    return float(np.mean(per_task))


def probability_of_improvement_ci(
    x: np.ndarray, y: np.ndarray, level: float = 0.95, reps: int = 500, seed: int = 0
) -> Estimate:
    """P(X > Y) with a stratified-bootstrap interval (both resampled within each task)."""
    xs = stratified_resamples(x, reps, seed)
    ys = stratified_resamples(y, reps, seed + 1)
    values = [probability_of_improvement(a, b) for a, b in zip(xs, ys, strict=True)]
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return Estimate(probability_of_improvement(x, y), float(low), float(high))


def performance_profile(
    scores: np.ndarray, taus: np.ndarray, reps: int = 500, seed: int = 0, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fraction of runs scoring above each tau, with a bootstrap band: (profile, low, high)."""
    x = _as_runs_by_tasks(scores)

    def profile(s: np.ndarray) -> np.ndarray:
        flat = s.reshape(len(s), -1) if s.ndim == 3 else s.reshape(1, -1)
        return (flat[:, :, None] > taus[None, None, :]).mean(axis=1)

    point = profile(x)[0]
    band = profile(stratified_resamples(x, reps, seed))
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(band, [tail, 100 - tail], axis=0)
    return point, low, high


def normalized(scores: np.ndarray, floor: float, ceiling: float) -> np.ndarray:
    """Scores mapped so that ``floor`` is 0 and ``ceiling`` is 1 (e.g. random and the bound)."""
    span = ceiling - floor
    return (np.asarray(scores, dtype=float) - floor) / (span if span else 1.0)


def gap_to_bound(returns: np.ndarray, bounds: np.ndarray, seed: int = 0) -> Estimate:
    """Mean absolute gap to the tightest bound: the bound kind (a column of ``bounds``, runs x
    kinds) with the least mean, minus the return, paired season by season, with a bootstrap
    interval. The kind is chosen on means, not per season: a bound that holds in expectation
    (``information``) bounds the mean return, not each season's, so a per-season minimum of
    several kinds need not be a bound at all."""
    table = np.asarray(bounds, dtype=float).reshape(len(returns), -1)
    tightest = table[:, int(np.argmin(table.mean(axis=0)))]
    return paired_difference(tightest, np.asarray(returns, dtype=float), seed=seed)
