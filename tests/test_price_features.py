"""The price-features study: the planner's numbers per slot, the widened rows, the whole run."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

import envs
from envs.layout import GLOBAL_FEATURES, OBS_SIZE, SLOT_FEATURES, WINDOW, Verb
from experiments import price_features as pf
from experiments.stats import paired_difference
from policies.offline.networks import SlotNet
from policies.planner import BidPricePlanner


def test_a_slots_value_has_the_sign_of_the_planners_decision_every_morning() -> None:
    seen: dict[int, int] = {}
    for seed in (0, 1):
        env = gym.make(envs.ENV_ID, scenario="tiny")
        obs, info = env.reset(seed=seed)
        planner = BidPricePlanner(seed=seed)
        planner.reset(env)
        features = pf.PlannerFeatures(planner)
        known = planner.known
        assert known is not None
        while True:
            if not known.done and known.day != planner.day:  # the morning plan
                planner.day = known.day
                planner._plan_day()
                extras = features.slots()
                for slot, c in enumerate(known.window):
                    price, value = extras[slot]
                    if c < 0:
                        assert price == value == 0.0
                        continue
                    verb = planner.plan.get(c, (-1, -1, 0.0))[0]
                    if verb in (Verb.SCREEN, Verb.LOOP, Verb.OFFER_0):
                        assert value > 0 and price >= 0
                    seen[verb] = seen.get(verb, 0) + 1
            obs, _, terminated, truncated, info = env.step(planner.act(obs, info))
            if terminated or truncated:
                break
    assert all(seen.get(int(v), 0) > 0 for v in (Verb.SCREEN, Verb.LOOP, Verb.OFFER_0))


def test_widened_rows_end_with_the_named_extras() -> None:
    rng = np.random.default_rng(0)
    obs = rng.random((3, OBS_SIZE)).astype(np.float32)
    extras = rng.random((3, WINDOW, len(pf.EXTRA))).astype(np.float32)
    assert np.array_equal(pf.widened(obs, extras, ()), obs)
    wide = pf.widened(obs, extras, ("value",))
    rows = wide[:, GLOBAL_FEATURES:].reshape(3, WINDOW, SLOT_FEATURES + 1)
    assert np.array_equal(wide[:, :GLOBAL_FEATURES], obs[:, :GLOBAL_FEATURES])
    assert np.array_equal(rows[:, :, -1], extras[:, :, pf.EXTRA.index("value")])
    assert np.array_equal(rows[:, :, :-1].reshape(3, -1), obs[:, GLOBAL_FEATURES:])
    SlotNet(wide.shape[1], 113, slot_features=SLOT_FEATURES + 1)
    with pytest.raises(ValueError, match="layout"):
        SlotNet(wide.shape[1], 113)


def test_the_study_plays_every_learner_and_gives_the_same_rows_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--scenario", "tiny", "--episodes", "1", "--seed", "0", "--eval-episodes", "2",
            "--eval-seed", "10", "--training-seeds", "0", "--steps", "20",
            "--jobs", "2"]  # fmt: skip
    frames = []
    for run in ("a", "b"):
        assert pf.main([*args, "--out", str(tmp_path / f"{run}.csv")]) == 0
        frames.append(pd.read_csv(tmp_path / f"{run}.csv"))
    pd.testing.assert_frame_equal(frames[0], frames[1])
    rows = frames[0]
    assert sorted(rows["policy"].unique()) == sorted([*pf.VARIANTS, *pf.REFERENCES])
    assert len(rows) == (len(pf.VARIANTS) + len(pf.REFERENCES)) * 2
    printed = capsys.readouterr().out
    returns = rows.sort_values("seed").groupby("policy")["return"]
    ours, rule = (returns.get_group(p).to_numpy() for p in ("observation", "greedy_fit"))
    line = next(x for x in printed.splitlines() if x.startswith("| `observation` |"))
    header = next(x for x in printed.splitlines() if x.startswith("| learner |"))
    cells = dict(zip(header.split("|"), line.split("|"), strict=True))
    assert cells[" − greedy_fit "].strip() == str(paired_difference(ours, rule))
    assert 0 <= rows["agreement"].dropna().min() <= rows["agreement"].max() <= 1
    assert "| `prices_value` |" in printed and "labelled states from 3 seasons" in printed


def test_a_bad_scenario_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert pf.main(["--scenario", "no_such_scenario"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("price_features:") and err.count("\n") == 1
