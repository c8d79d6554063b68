"""The offline evaluation's summary: paired differences and the answers to the three bars."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.evaluate_offline import bar_lines, summarise


def _rows(policy: str, returns: list[float], ms: float) -> list[dict]:
    return [
        {
            "policy": policy,
            "seed": 100 + i,
            "return": r,
            "hires": 3,
            "fill_rate": 0.5,
            "decision_ms_median": ms,
            "decision_ms_mean": ms,
        }
        for i, r in enumerate(returns)
    ]


def test_summary_pairs_seasons_and_answers_the_bars() -> None:
    rows = (
        _rows("CQL", [12.0, 22.0, 32.0, 41.0], 0.1)
        + _rows("greedy_fit", [10.0, 20.0, 30.0, 40.0], 0.02)  # the best behaviour
        + _rows("cpsat", [11.0, 11.0, 11.0, 11.0], 20.0)
        + _rows("random", [0.0, 0.0, 0.0, 0.0], 0.01)
    )
    table, numbers = summarise(rows, ["CQL", "greedy_fit", "cpsat", "random"],
                               ["greedy_fit", "cpsat", "random"])  # fmt: skip
    assert numbers["best_behaviour"] == "greedy_fit"
    cql = numbers["policies"]["CQL"]
    # paired by season: differences 2, 2, 2, 1 (unpaired, the spread of returns would hide it)
    assert cql["diff_best"][0] == pytest.approx(1.75)
    assert cql["diff_best"][1] > 0
    assert cql["diff_planner"][0] == pytest.approx(np.mean([1, 11, 21, 30]))
    assert "minus greedy_fit" in table and "minus cpsat" in table
    (line,) = bar_lines(numbers, ["CQL"])
    assert line.startswith("- CQL beats the best behaviour `greedy_fit`")
    assert "reaches `cpsat`'s mean" in line and "200x less" in line

    worse = _rows("CQL", [9.0, 21.0, 28.0, 40.0], 0.1) + rows[4:]
    _, numbers = summarise(worse, ["CQL", "greedy_fit", "cpsat", "random"],
                           ["greedy_fit", "cpsat", "random"])  # fmt: skip
    (line,) = bar_lines(numbers, ["CQL"])
    assert "does not beat (CI spans 0)" in line
