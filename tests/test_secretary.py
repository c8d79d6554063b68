"""``experiments.secretary``: its values checked in closed form and by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments import secretary


def test_two_candidates_one_seat_in_closed_form() -> None:
    """Values N(0, 1): online hires the first iff it beats the second's E[max(v, 0)] = phi(0)."""
    c = stats.norm.pdf(0.0)
    assert secretary.online_value(np.zeros(2), 1.0, 1) == pytest.approx(
        c * stats.norm.cdf(c) + stats.norm.pdf(c), abs=1e-12
    )
    assert secretary.fluid_value(np.zeros(2), 1.0, 1) == pytest.approx(2 * c, abs=1e-9)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200_000, 2))
    exact_offline = np.maximum(0.0, z.max(axis=1)).mean()
    assert secretary.offline_value(np.zeros(2), 1.0, 1, rng, 200_000) == pytest.approx(
        exact_offline, abs=5e-3
    )


def test_resolved_prices_in_closed_form_and_below_the_optimum() -> None:
    """Values N(0, 1), one seat: the second's fluid threshold is 0 (its expected hires, 1/2,
    fit the seat), so the rule hires the first iff positive: phi(0) + phi(0) / 2."""
    rng = np.random.default_rng(1)
    c = stats.norm.pdf(0.0)
    assert secretary.resolved_value(np.zeros(2), 1.0, 1, rng, 400_000) == pytest.approx(
        1.5 * c, abs=4e-3
    )
    means, sd, seats = rng.normal(1.0, 0.8, size=10), 0.7, 3
    resolved = secretary.resolved_value(means, sd, seats, rng, 100_000)
    assert resolved < secretary.online_value(means, sd, seats) + 0.01
    assert secretary.resolved_value(means, sd, 0, rng, 10) == 0.0


def test_dynamic_programme_is_what_its_policy_earns_and_the_order_holds() -> None:
    rng = np.random.default_rng(3)
    means, sd, seats = rng.normal(1.0, 0.8, size=8), 0.7, 3
    dp = secretary.online_value(means, sd, seats)
    # play the DP's own rule: hire iff the value beats the seat's worth with k seats left
    worths = []  # worths[i][k]: value[k] - value[k - 1] after candidate i
    value = np.zeros(seats + 1)
    for m in means[::-1]:
        worths.append(value[1:] - value[:-1])
        z = (worths[-1] - m) / sd
        value[1:] += sd * stats.norm.pdf(z) + (m - worths[-1]) * stats.norm.sf(z)
    worths = worths[::-1]
    draws = means + sd * rng.standard_normal((100_000, means.size))
    total, left = np.zeros(len(draws)), np.full(len(draws), seats)
    for i in range(means.size):
        worth = np.where(left > 0, np.asarray(worths[i])[np.maximum(left - 1, 0)], np.inf)
        hire = draws[:, i] > worth
        total += np.where(hire, draws[:, i], 0.0)
        left -= hire
    assert total.mean() == pytest.approx(dp, abs=0.02)
    offline = secretary.offline_value(means, sd, seats, rng, 50_000)
    assert dp < offline < secretary.fluid_value(means, sd, seats)


def test_cli_rows(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rows.csv"
    args = ["--scenario", "tiny", "--episodes", "3", "--seed", "0", "--out", str(out)]
    assert secretary.main(args) == 0
    rows = pd.read_csv(out)
    assert list(rows["seed"]) == [0, 1, 2]
    assert (rows["fluid"] >= rows["online"] - 1e-9).all()
    assert (rows["online"] >= rows["resolved"] - 0.5).all()  # Monte Carlo, 4000 draws
    assert "what a better seat rule could add" in capsys.readouterr().out
