"""The compiled slot-network actor decides as the numpy forward pass does, in any call order."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import envs
from envs.layout import GLOBAL_FEATURES, N_VERBS, SLOT_FEATURES, WINDOW
from policies.offline.algorithm import get_algorithm
from policies.offline.checkpoint import load_checkpoint
from policies.offline.compiled_slotnet import CompiledSlotActor
from policies.offline.networks import SlotNet, masked_argmax_np
from policies.offline.numpy_inference import NumpySlotNet, numpy_network

MODEL = Path(__file__).resolve().parents[1] / "models" / "default"
OBS = GLOBAL_FEATURES + WINDOW * SLOT_FEATURES
N_ACT = WINDOW * N_VERBS + 1
LAYOUT = (GLOBAL_FEATURES, WINDOW, SLOT_FEATURES, N_VERBS)


def random_net(seed: int, hidden: tuple[int, ...] = (16, 16)) -> NumpySlotNet:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = SlotNet(OBS, N_ACT, hidden, rng.normal(size=OBS), rng.random(OBS) + 0.5)
    return NumpySlotNet(net.state_dict(), LAYOUT)


def season_like(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Observations that change one or two slot rows and the season features per step,
    as the env's do within a day, with now and then a whole new window."""
    obs = rng.normal(size=OBS).astype(np.float32)
    rows, masks = [], []
    for step in range(steps):
        obs = obs.copy()
        obs[:GLOBAL_FEATURES] += rng.normal(size=GLOBAL_FEATURES).astype(np.float32)
        if step % 17 == 0:
            obs[GLOBAL_FEATURES:] = rng.normal(size=WINDOW * SLOT_FEATURES)
        for slot in rng.choice(WINDOW, size=rng.integers(1, 3), replace=False):
            start = GLOBAL_FEATURES + slot * SLOT_FEATURES
            if rng.random() < 0.5:  # one feature only, as a day's count moving
                obs[start + rng.integers(SLOT_FEATURES)] += 3 * rng.normal()
            else:
                obs[start : start + SLOT_FEATURES] = rng.normal(size=SLOT_FEATURES)
        mask = (rng.random(N_ACT) < 0.4).astype(np.int8)
        mask[-1] = 1
        rows.append(obs)
        masks.append(mask)
    return np.stack(rows), np.stack(masks)


def test_it_picks_what_the_numpy_pass_picks_in_order_and_out_of_order() -> None:
    net = random_net(0)
    obs, masks = season_like(np.random.default_rng(1), 300)
    expected = [masked_argmax_np(net(o), m) for o, m in zip(obs, masks, strict=True)]
    assert len(set(expected)) > 5  # the masks and scores make it choose among many actions
    actor = CompiledSlotActor(net)
    assert [actor(o, m) for o, m in zip(obs, masks, strict=True)] == expected
    order = np.random.default_rng(2).permutation(len(obs))
    assert [actor(obs[i], masks[i]) for i in order] == [expected[i] for i in order]


def test_a_changed_slot_is_recomputed_even_when_one_feature_moves() -> None:
    net = random_net(3)
    actor = CompiledSlotActor(net)
    obs, masks = season_like(np.random.default_rng(4), 1)
    mask = np.ones(N_ACT, dtype=np.int8)
    first = actor(obs[0], mask)
    changed = obs[0].copy()
    slot = first // N_VERBS if first < WINDOW * N_VERBS else 0
    # push the chosen slot's last feature far: its scores move, and so may the choice
    changed[GLOBAL_FEATURES + slot * SLOT_FEATURES + SLOT_FEATURES - 1] += 50.0
    assert actor(changed, mask) == masked_argmax_np(net(changed), mask)
    assert actor(obs[0], mask) == first == masked_argmax_np(net(obs[0]), mask)


def test_no_valid_action_gives_zero_as_numpy_does_one_gives_it_and_a_bad_shape_fails() -> None:
    actor = CompiledSlotActor(random_net(5))
    obs = np.zeros(OBS, dtype=np.float32)
    assert actor(obs, np.zeros(N_ACT, dtype=np.int8)) == 0
    only = np.zeros(N_ACT, dtype=np.int8)
    only[37] = 1
    assert actor(obs, only) == 37
    with pytest.raises(ValueError, match="observation of shape"):
        actor(np.zeros(OBS - 1, dtype=np.float32), np.ones(N_ACT, dtype=np.int8))


def test_a_deeper_verb_head_keeps_the_numpy_pass() -> None:
    net = random_net(6, hidden=(16, 16, 16))
    with pytest.raises(ValueError, match="one-layer verb head"):
        CompiledSlotActor(net)
    algorithm = get_algorithm("iql")
    settings = algorithm.make_settings(arch="slots", hidden=(16, 16, 16))
    networks = algorithm.build(settings, OBS, N_ACT)
    act = algorithm.numpy_actor({k: v.state_dict() for k, v in networks.items()}, settings)
    assert not isinstance(act, CompiledSlotActor)


def test_the_shipped_model_decides_a_played_season_as_its_numpy_pass() -> None:
    """Replay a `tiny` season the shipped model played, forwards and backwards."""
    from policies import make_policy

    policy = make_policy(f"rl:{MODEL}")
    assert isinstance(policy._act, CompiledSlotActor)
    env = gym.make(envs.ENV_ID, scenario="tiny")
    obs, info = env.reset(seed=7)
    policy.reset(env)
    seen, masks, chosen = [], [], []
    while True:
        action = policy.act(obs, info)
        seen.append(obs.copy())
        masks.append(info["action_mask"].copy())
        chosen.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            break
    ckpt = load_checkpoint(MODEL)
    net = numpy_network(ckpt.state_dicts[get_algorithm(ckpt.algo).acting_network])
    assert [masked_argmax_np(net(o), m) for o, m in zip(seen, masks, strict=True)] == chosen
    actor = CompiledSlotActor(net)
    assert [actor(o, m) for o, m in zip(seen[::-1], masks[::-1], strict=True)] == chosen[::-1]
