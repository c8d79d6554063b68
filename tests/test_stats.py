"""experiments.stats against hand-computed values, and its bootstrap's behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import stats


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    assert stats.iqm(np.arange(1, 9)) == pytest.approx(4.5)  # mean of 3, 4, 5, 6
    assert stats.iqm([10, 1, 3, 2, 100, 4, 5, 6, 7, 8]) == pytest.approx(5.5)  # 3..8
    assert stats.iqm(np.array([[1.0, 5.0], [2.0, 6.0], [3.0, 7.0], [4.0, 8.0]])) == 4.5


def test_paired_difference_is_the_mean_of_per_season_differences() -> None:
    d = stats.paired_difference(np.array([3.0, 5.0, 7.0]), np.array([1.0, 2.0, 3.0]))
    assert d.value == pytest.approx(3.0)
    assert 2.0 <= d.low <= d.value <= d.high <= 4.0
    with pytest.raises(ValueError):
        stats.paired_difference(np.ones(3), np.ones(4))


def test_probability_of_improvement_counts_pairs_and_half_ties() -> None:
    assert stats.probability_of_improvement([1, 2, 3], [2, 2, 2]) == pytest.approx(0.5)
    assert stats.probability_of_improvement([3, 4], [1, 2, 3]) == pytest.approx(5.5 / 6)
    # two tasks: averaged per task (1.0 and 0.0)
    x, y = np.array([[2.0, 0.0], [3.0, 1.0]]), np.array([[1.0, 5.0], [1.0, 6.0]])
    assert stats.probability_of_improvement(x, y) == pytest.approx(0.5)


def test_gap_to_bound_takes_the_bound_kind_of_least_mean() -> None:
    gap = stats.gap_to_bound(np.array([1.0, 2.0]), np.array([[5.0, 4.0], [6.0, 6.0]]))
    assert gap.value == pytest.approx(3.5)  # kind means 5.5, 5.0: (4 - 1 + 6 - 2) / 2
    # the second kind stays the tightest where the first is lower in a season (not 3.0)
    gap = stats.gap_to_bound(np.array([1.0, 2.0]), np.array([[5.0, 6.0], [6.0, 4.0]]))
    assert gap.value == pytest.approx(3.5)  # (6 - 1 + 4 - 2) / 2


def test_performance_profile_is_the_fraction_above_tau() -> None:
    point, low, high = stats.performance_profile(np.array([0.1, 0.5, 0.9]), np.array([0, 0.5, 1]))
    assert point == pytest.approx([1.0, 1 / 3, 0.0])
    assert np.all(low <= point) and np.all(point <= high)


def test_bootstrap_is_reproducible_for_a_seed() -> None:
    x = np.random.default_rng(1).normal(size=40)
    assert stats.bootstrap_ci(x, seed=7) == stats.bootstrap_ci(x, seed=7)
    assert stats.bootstrap_ci(x, seed=7) != stats.bootstrap_ci(x, seed=8)


def test_stratified_bootstrap_resamples_within_each_task() -> None:
    x = np.stack([np.zeros(5), np.full(5, 100.0)], axis=1)
    samples = stats.stratified_resamples(x, reps=50, seed=0)
    assert np.all(samples[:, :, 0] == 0) and np.all(samples[:, :, 1] == 100)


@pytest.mark.parametrize("statistic", [stats.mean, stats.iqm])
def test_bootstrap_intervals_cover_the_true_centre_at_about_the_nominal_rate(statistic) -> None:
    rng = np.random.default_rng(0)
    trials, covered = 300, 0
    for trial in range(trials):
        x = rng.normal(loc=2.0, scale=3.0, size=40)  # symmetric: mean = IQM of the law = 2
        e = stats.bootstrap_ci(x, statistic, reps=1000, seed=trial)
        covered += e.low <= 2.0 <= e.high
    assert 0.89 <= covered / trials <= 0.99


def test_ratio_of_means_is_paired_by_season() -> None:
    """Per-day times of two policies on the same seasons: the ratio of their means, with
    an interval from resampling seasons (both columns on one index)."""
    slow = np.array([40.0, 50.0, 60.0, 45.0, 55.0])
    fast = slow / 200.0  # a constant ratio: every paired resample gives exactly it
    exact = stats.ratio_of_means(slow, fast)
    assert (exact.value, exact.low, exact.high) == pytest.approx((200.0, 200.0, 200.0))
    rng = np.random.default_rng(0)
    noisy = stats.ratio_of_means(slow, fast * rng.uniform(0.9, 1.1, size=5), seed=3)
    assert noisy.low < noisy.value < noisy.high
    assert noisy == stats.ratio_of_means(slow, fast * np.random.default_rng(0).uniform(
        0.9, 1.1, size=5), seed=3)  # fmt: skip
    with pytest.raises(ValueError, match="differ in shape"):
        stats.ratio_of_means(slow, fast[:4])


def test_the_t_interval_of_simulate_and_bound_has_students_quantile() -> None:
    from policies.rollout import mean_ci

    m, low, high = mean_ci([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2  # t(3) at 0.975, from tables
    assert m == 2.5 and low == pytest.approx(2.5 - half, rel=1e-12)
    assert high == pytest.approx(2.5 + half, rel=1e-12)
    assert mean_ci([5.0]) == (5.0, 5.0, 5.0)
