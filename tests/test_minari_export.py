"""``isched collect --minari ID``: the logged seasons read back from Minari unchanged."""

from __future__ import annotations

from pathlib import Path

import minari
import numpy as np
import pytest
from cli_runner import isched

from policies.offline.dataset import load_dataset


def test_minari_export_reads_back_as_the_logged_transitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    result = isched("collect", "--scenario", "tiny", "--behavior", "greedy", "--epsilon", "0,0.5",
                    "--episodes", "2", "--seed", "4", "--out", tmp_path / "data",
                    "--minari", "isched/tiny-greedy-v0")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "minari" / "isched" / "tiny-greedy-v0").is_dir()
    data = load_dataset(tmp_path / "data")
    dataset = minari.load_dataset("isched/tiny-greedy-v0")
    assert dataset.total_episodes == 4 and dataset.total_steps == data["action"].size
    behaviors = sorted(set(data["behavior"]))
    for episode in dataset.iterate_episodes():
        rows = np.flatnonzero(data["episode_id"] == np.unique(data["episode_id"])[episode.id])
        np.testing.assert_array_equal(episode.observations[:-1], data["obs"][rows])
        np.testing.assert_array_equal(episode.observations[1:], data["next_obs"][rows])
        np.testing.assert_array_equal(episode.actions, data["action"][rows])
        np.testing.assert_array_equal(episode.rewards, data["reward"][rows])
        np.testing.assert_array_equal(episode.terminations, data["terminated"][rows])
        masks = episode.infos["action_mask"]
        np.testing.assert_array_equal(masks[:-1], data["action_mask"][rows])
        np.testing.assert_array_equal(masks[1:], data["next_action_mask"][rows])
        assert {behaviors[b] for b in episode.infos["behavior"]} == {data["behavior"][rows[0]]}
        assert episode.terminations[-1]
    seeds = [m["seed"] for m in dataset.storage.get_episode_metadata(dataset.episode_indices)]
    assert seeds == [
        data["seed"][data["episode_id"] == e][0] for e in np.unique(data["episode_id"])
    ]
    env = dataset.recover_environment()
    assert env.observation_space.shape == data["obs"].shape[1:]

    # the same id again, or a malformed one: one line, exit 2, no dataset written
    for dataset_id in ("isched/tiny-greedy-v0", "no version"):
        again = isched("collect", "--scenario", "tiny", "--behavior", "greedy", "--episodes", "1",
                       "--out", tmp_path / "other", "--minari", dataset_id)  # fmt: skip
        assert again.returncode == 2 and "--minari" in again.stderr, again.stderr
        assert len(again.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "other").exists()
