"""The funnel study: a played season's counts agree with its KPIs, the LP's with its optimum."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments import funnel


def test_a_played_funnel_narrows_and_matches_the_seasons_kpis() -> None:
    for seed in (0, 1):
        row = funnel.season_funnel("tiny", "greedy_fit", seed)[0]
        assert row["screens"] >= row["loops"] >= row["offers"] >= row["hires"] > 0
        assert row["hires"] <= row["headcount"]
        parts = row["value_hires"] + row["value_interviews"] + row["value_waiting"]
        assert parts - 1.5 * row["headcount"] == pytest.approx(row["return"], abs=1e-6)
        assert row["value_interviews"] < 0 and row["mean_offers"] > row["mean_screens"]


def test_the_bounds_funnel_adds_up_to_the_lp_optimum_within_the_seats() -> None:
    for seed in (0, 1):
        row = funnel.season_funnel("tiny", funnel.BOUND, seed)[0]
        assert row["hires"] <= row["headcount"] + 1e-6
        assert row["screens"] >= row["loops"] >= row["offers"] >= row["hires"] > 0
        value = row["value_hires"] + row["value_interviews"] - 1.5 * row["headcount"]
        assert value == pytest.approx(row["return"], abs=1e-6)
        assert row["mean_hires"] >= row["mean_loops"] >= row["mean_screens"]


def test_cli_prints_the_table_and_writes_the_rows(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "funnel.csv"
    args = ["--scenario", "tiny", "--policy", "greedy_fit,information", "--episodes", "2",
            "--seed", "0", "--out", str(out)]  # fmt: skip
    assert funnel.main(args) == 0
    rows = pd.read_csv(out)
    assert sorted(rows["policy"].unique()) == ["greedy_fit", "information"]
    assert len(rows) == 4
    printed = capsys.readouterr().out
    assert "| held loops |" in printed and "`information`" in printed
