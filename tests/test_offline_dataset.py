"""Offline datasets: behaviour variants, exact round trip, the manifest."""

from __future__ import annotations

import json

import numpy as np
import pytest

from envs.layout import N_ACTIONS, OBS_SIZE
from policies.offline.dataset import (
    ARRAY_COLUMNS,
    SCALAR_COLUMNS,
    behavior_labels,
    collect,
    load_dataset,
    make_behavior,
    merge_datasets,
    parse_behavior,
    write_dataset,
)


@pytest.fixture(scope="module")
def tiny_data() -> tuple[dict[str, np.ndarray], dict]:
    return collect("tiny", ["greedy", "random"], episodes=2, seed=5, epsilons=(0.0, 0.5))


def test_labels_add_epsilon_variants_but_not_for_random() -> None:
    labels = behavior_labels(["greedy", "random", "fifo+eps0.3"], (0.0, 0.2, 0.5))
    assert labels == ["greedy", "greedy+eps0.2", "greedy+eps0.5", "random", "fifo+eps0.3"]
    assert parse_behavior("greedy+eps0.2") == ("greedy", 0.2)
    assert make_behavior("urgency+eps0.5").name == "urgency+eps0.5"
    with pytest.raises(ValueError):
        parse_behavior("greedy+epsx")
    with pytest.raises(ValueError):
        make_behavior("nope")


def test_collected_transitions_are_consistent(tiny_data) -> None:
    data, manifest = tiny_data
    n = data["action"].size
    assert data["obs"].shape == data["next_obs"].shape == (n, OBS_SIZE)
    assert data["action_mask"].shape == (n, N_ACTIONS) and data["action_mask"].dtype == np.int8
    assert data["action_mask"][np.arange(n), data["action"]].all()  # logged actions are valid
    assert set(data["behavior"]) == {"greedy", "greedy+eps0.5", "random"}
    assert sorted(manifest["behaviors"]) == ["greedy", "greedy+eps0.5", "random"]
    # every episode is a season of its own; the last step of each terminates
    assert np.unique(data["seed"]).size == np.unique(data["episode_id"]).size == 6
    for e in np.unique(data["episode_id"]):
        rows = np.flatnonzero(data["episode_id"] == e)
        assert data["terminated"][rows[-1]] and not data["terminated"][rows[:-1]].any()
        assert np.array_equal(data["next_obs"][rows[:-1]], data["obs"][rows[1:]])
        assert np.array_equal(data["next_action_mask"][rows[:-1]], data["action_mask"][rows[1:]])
    assert manifest["behaviors"]["random"]["seeds"] == [9, 10]


@pytest.mark.parametrize("jobs", [1, 2])
def test_collection_is_deterministic(tiny_data, jobs: int) -> None:
    again, _ = collect(
        "tiny", ["greedy", "random"], episodes=2, seed=5, epsilons=(0.0, 0.5), jobs=jobs
    )
    for key, values in tiny_data[0].items():
        assert np.array_equal(values, again[key]), key


def test_dataset_round_trip_is_exact(tiny_data, tmp_path) -> None:
    data, manifest = tiny_data
    write_dataset(tmp_path / "ds", data, manifest)
    loaded = load_dataset(tmp_path / "ds")
    assert set(loaded) == set(SCALAR_COLUMNS) | set(ARRAY_COLUMNS)
    for key in loaded:
        assert loaded[key].dtype == data[key].dtype, key
        assert np.array_equal(loaded[key], data[key]), key
    saved = json.loads((tmp_path / "ds" / "manifest.json").read_text())
    assert saved["env_id"] == "isched/InterviewScheduling-v0" and saved["env_version"] == "v0"
    assert saved["obs_shape"] == [OBS_SIZE] and saved["n_actions"] == N_ACTIONS
    assert saved["transitions"] == data["action"].size and saved["episodes"] == 6
    assert saved["scenario"] == "tiny" and "code_version" in saved
    assert not list((tmp_path / "ds").glob("*.tmp"))


def test_round_trip_keeps_odd_floats(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 7
    obs = rng.normal(size=(n, OBS_SIZE)).astype(np.float32)
    obs[0, 0], obs[1, 1] = np.float32(1e-45), np.float32(-0.0)
    data = {
        "obs": obs, "next_obs": obs[::-1].copy(),
        "action_mask": (rng.random((n, N_ACTIONS)) < 0.5).astype(np.int8),
        "next_action_mask": (rng.random((n, N_ACTIONS)) < 0.5).astype(np.int8),
        "action": rng.integers(N_ACTIONS, size=n), "reward": rng.normal(size=n) / 3,
        "terminated": rng.random(n) < 0.5, "truncated": rng.random(n) < 0.5,
        "episode_id": np.arange(n), "step": np.zeros(n, dtype=np.int64),
        "behavior": np.array(["a"] * n, dtype=object),
        "scenario": np.array(["x"] * n, dtype=object),
        "seed": np.arange(n) + 10,
    }  # fmt: skip
    write_dataset(tmp_path, data)
    loaded = load_dataset(tmp_path)
    for key in data:
        assert np.array_equal(loaded[key], data[key]), key
    assert np.signbit(loaded["obs"][1, 1])


def test_loading_a_non_dataset_fails_clearly(tmp_path) -> None:
    with pytest.raises(ValueError, match="not a dataset directory"):
        load_dataset(tmp_path)


def test_merged_datasets_keep_every_row(tiny_data, tmp_path) -> None:
    data, manifest = tiny_data
    write_dataset(tmp_path / "a", data, manifest)
    write_dataset(tmp_path / "b", data, manifest)
    merge_datasets([tmp_path / "a", tmp_path / "b"], tmp_path / "ab")
    merged = load_dataset(tmp_path / "ab")
    n = data["action"].size
    assert merged["action"].size == 2 * n
    assert np.array_equal(merged["obs"][n:], data["obs"])
    assert np.unique(merged["episode_id"]).size == 12
    assert np.array_equal(merged["episode_id"][n:], data["episode_id"] + 6)
