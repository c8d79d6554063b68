"""Planner labels on logged seasons (hindsight learning): valid, exact, and learnable."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import envs
from policies import make_policy
from policies.offline import get_algorithm
from policies.offline.dataset import (
    LABEL_COLUMN,
    collect,
    collect_episode,
    load_dataset,
    write_dataset,
)
from policies.offline.labels import PlannerLabeller

BEHAVIOURS = ["greedy_fit", "random"]


@pytest.fixture(scope="module")
def labelled() -> tuple[dict[str, np.ndarray], dict]:
    return collect("tiny", BEHAVIOURS, episodes=6, seed=11, epsilons=(0.0,), label_with="cpsat")


def test_every_logged_state_has_a_valid_planner_label(labelled) -> None:
    data, manifest = labelled
    target, mask = data[LABEL_COLUMN], data["action_mask"]
    assert target.shape == data["action"].shape and target.dtype == np.int64
    assert mask[np.arange(target.size), target].all()  # valid under the state's mask
    assert manifest["label"] == {"planner": "cpsat", "column": LABEL_COLUMN}
    # the labels are the planner's, not the behaviour's: they disagree somewhere
    assert (target != data["action"]).any()


def test_labels_do_not_change_the_behaviours_transitions(labelled) -> None:
    data, _ = labelled
    plain, _ = collect("tiny", BEHAVIOURS, episodes=6, seed=11, epsilons=(0.0,))
    assert LABEL_COLUMN not in plain
    for key in ("action", "reward", "obs", "seed"):
        assert np.array_equal(plain[key], data[key]), key


def test_the_planner_labelling_its_own_season_labels_its_own_actions() -> None:
    # the labeller keeps the planner's day plan intact when asked about a state, so on
    # the planner's own trajectory every label is the action it took
    env = gym.make(envs.ENV_ID, scenario="tiny")
    for seed in (3, 4):
        episode = collect_episode(env, make_policy("cpsat", seed=seed), seed,
                                  PlannerLabeller("cpsat", seed=seed))  # fmt: skip
        assert np.array_equal(episode[LABEL_COLUMN], episode["action"])


def test_a_labelled_dataset_round_trips(labelled, tmp_path) -> None:
    data, manifest = labelled
    write_dataset(tmp_path, data, manifest)
    loaded = load_dataset(tmp_path)
    assert np.array_equal(loaded[LABEL_COLUMN], data[LABEL_COLUMN])


def test_a_model_trained_on_the_labels_imitates_the_planner_better_than_chance(labelled) -> None:
    data, _ = labelled
    algorithm = get_algorithm("hindsight")
    settings = algorithm.make_settings(steps=400, seed=0, hidden=(64, 64), learning_rate=1e-3)
    networks = algorithm.train(data, settings)
    act = algorithm.numpy_actor({k: v.state_dict() for k, v in networks.items()}, settings)
    # held-out seasons of another behaviour, labelled the same way
    test, _ = collect("tiny", ["greedy"], episodes=3, seed=900, epsilons=(0.0,), label_with="cpsat")
    mask, target = test["action_mask"], test[LABEL_COLUMN]
    chosen = np.array([act(o, m) for o, m in zip(test["obs"], mask, strict=True)])
    assert mask[np.arange(chosen.size), chosen].all()
    agreement = float(np.mean(chosen == target))
    chance = float(np.mean(1.0 / mask.sum(axis=1)))  # a uniformly random valid action
    behaviour = float(np.mean(test["action"] == target))  # what greedy itself agrees
    assert agreement > max(2 * chance, 2 * behaviour), (agreement, chance, behaviour)
