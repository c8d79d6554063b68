"""Masked offline RL on a small MDP whose optimal policy is known, and masking guarantees.

The MDP is a chain of four states. In each state: action 0 advances (reward 0; in the last
state it pays +3 and ends), action 1 cashes in (+0.5, ends), action 2 fails (-1, ends);
action 3 is valid only in state 1 (-0.5, ends) and invalid elsewhere. The behaviour
policy cashes in most often (p = 0.5) and advances with p = 0.35, so the logged data is
of mixed quality: the optimal policy (always advance) is not the behaviour's most
frequent action, which behaviour cloning must copy.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from envs.layout import GLOBAL_FEATURES, N_ACTIONS, N_VERBS, OBS_SIZE, SLOT_FEATURES, WINDOW, Verb
from policies.offline import ALGOS, bc, bcq, cql, get_algorithm, iql
from policies.offline.algorithm import OfflineAlgorithm
from policies.offline.batched import BatchedEnsemble
from policies.offline.networks import ensemble_members, masked_argmax
from policies.offline.numpy_inference import numpy_network
from policies.offline.policy import load_model

N_STATES, N_ACT, OBS = 4, 4, 6
BEHAVIOUR = np.array([0.35, 0.5, 0.15, 0.0])
GAMMA = 0.9
CQL, BCQ, BC, IQL, HINDSIGHT = (
    get_algorithm(name) for name in ("cql", "bcq", "bc", "iql", "hindsight")
)


def state_obs(s: int) -> np.ndarray:
    obs = np.zeros(OBS, dtype=np.float32)
    if s < N_STATES:
        obs[s] = 1.0
    obs[-1] = 1.0
    return obs


def state_mask(s: int) -> np.ndarray:
    mask = np.array([1, 1, 1, 1 if s == 1 else 0], dtype=np.int8)
    return mask if s < N_STATES else np.array([1, 0, 0, 0], dtype=np.int8)


def chain_dataset(episodes: int = 3000, seed: int = 0) -> dict[str, np.ndarray]:
    """Logged transitions of the mixed-quality behaviour on the chain MDP."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("obs", "action", "reward", "terminated",
                                             "action_mask", "next_obs", "next_action_mask",
                                             "episode_id", "step")}  # fmt: skip
    for e in range(episodes):
        s = 0
        for t in range(N_STATES):
            mask = state_mask(s)
            p = BEHAVIOUR * mask
            p[3] = 0.1 if mask[3] else 0.0
            a = int(rng.choice(N_ACT, p=p / p.sum()))
            if a == 0 and s < N_STATES - 1:
                reward, done, nxt = 0.0, False, s + 1
            else:
                reward = {0: 3.0, 1: 0.5, 2: -1.0, 3: -0.5}[a]
                done, nxt = True, N_STATES
            for key, value in (("obs", state_obs(s)), ("action", a), ("reward", reward),
                               ("terminated", done), ("action_mask", mask),
                               ("next_obs", state_obs(nxt)), ("next_action_mask", state_mask(nxt)),
                               ("episode_id", e), ("step", t)):  # fmt: skip
                rows[key].append(value)
            s = nxt
            if done:
                break
    data = {k: np.asarray(v) for k, v in rows.items()}
    data["obs"] = data["obs"].astype(np.float32)
    data["next_obs"] = data["next_obs"].astype(np.float32)
    data["action_mask"] = data["action_mask"].astype(np.int8)
    data["next_action_mask"] = data["next_action_mask"].astype(np.int8)
    data["truncated"] = np.zeros_like(data["terminated"])
    data["target_action"] = np.zeros_like(data["action"])  # a planner's label: advance
    return data


@pytest.fixture(scope="module")
def chain() -> dict[str, np.ndarray]:
    return chain_dataset()


def chosen_actions(algorithm: OfflineAlgorithm, networks, settings) -> list[int]:
    obs = torch.as_tensor(np.stack([state_obs(s) for s in range(N_STATES)]))
    mask = torch.as_tensor(np.stack([state_mask(s) for s in range(N_STATES)]) > 0)
    return algorithm.act_batch(networks, obs, mask, settings).tolist()


SMALL = {
    "arch": "mlp",
    "hidden": (32, 32),
    "batch_size": 128,
    "learning_rate": 1e-3,
    "log_every": 100,
}


def test_cql_learns_the_optimal_policy_from_mixed_data(chain) -> None:
    settings = cql.Settings(
        steps=1500, gamma=GAMMA, discount_per="step", alpha=0.2, target_tau=0.02, **SMALL
    )
    networks = CQL.train(chain, settings)
    assert chosen_actions(CQL, networks, settings) == [0, 0, 0, 0]
    with torch.no_grad():
        q0 = networks["q"](torch.as_tensor(state_obs(0))[None])[0]
    assert 0.5 < float(q0[0]) < 3.0 * GAMMA**3  # conservative: below the true value


def test_iql_learns_the_optimal_policy_from_mixed_data(chain) -> None:
    settings = iql.Settings(
        steps=1000, gamma=GAMMA, discount_per="step", expectile=0.9, temperature=3.0,
        target_tau=0.02, **SMALL,
    )  # fmt: skip
    networks = IQL.train(chain, settings)
    assert chosen_actions(IQL, networks, settings) == [0, 0, 0, 0]  # BC cashes in instead
    with torch.no_grad():
        q0 = networks["q"](torch.as_tensor(state_obs(0))[None])[0]
        v0 = networks["value"](torch.as_tensor(state_obs(0))[None])[0, 0]
    # an upper expectile of the logged actions' values: above cashing in, below optimal
    assert 0.5 < float(v0) < float(q0[0]) < 3.0 * GAMMA**3


def test_hindsight_learns_the_planners_policy_from_mixed_data(chain) -> None:
    # every logged state carries the planner's label (advance): the learner copies the
    # planner, not the behaviour, in all the states the behaviour visited
    settings = HINDSIGHT.make_settings(steps=300, **SMALL)
    networks = HINDSIGHT.train(chain, settings)
    assert chosen_actions(HINDSIGHT, networks, settings) == [0, 0, 0, 0]  # BC cashes in
    unlabelled = {k: v for k, v in chain.items() if k != "target_action"}
    with pytest.raises(ValueError, match="--label cpsat"):
        HINDSIGHT.train(unlabelled, settings)


def test_bcq_learns_the_optimal_policy_from_mixed_data(chain) -> None:
    settings = bcq.Settings(
        steps=1500, gamma=GAMMA, discount_per="step", threshold=0.3, target_tau=0.02, **SMALL
    )
    networks = BCQ.train(chain, settings)
    assert chosen_actions(BCQ, networks, settings) == [0, 0, 0, 0]


def test_bc_learns_the_most_frequent_behaviour_action(chain) -> None:
    settings = bc.Settings(steps=600, **SMALL)
    networks = BC.train(chain, settings)
    assert chosen_actions(BC, networks, settings) == [1, 1, 1, 1]
    with torch.no_grad():
        logits = networks["policy"](torch.as_tensor(state_obs(0))[None])[0]
    probs = torch.softmax(logits[:3], 0).numpy()
    assert np.allclose(probs, BEHAVIOUR[:3], atol=0.05)


# Masking ------------------------------------------------------------------------------


def test_double_dqn_target_ignores_an_invalid_next_action() -> None:
    q_next = torch.tensor([[1.0, 9.0, 2.0, 0.5], [5.0, -1.0, 7.0, 3.0]])
    next_mask = torch.tensor([[True, False, True, True], [True, True, False, True]])
    reward, terminated = torch.tensor([0.5, -1.0]), torch.tensor([0.0, 0.0])
    target = cql.double_dqn_target(q_next, q_next, next_mask, reward, terminated, 0.9)
    expected = reward + 0.9 * torch.tensor([2.0, 5.0])  # max over the valid next actions
    assert torch.allclose(target, expected)
    done = cql.double_dqn_target(q_next, q_next, next_mask, reward, torch.ones(2), 0.9)
    assert torch.allclose(done, reward)


def test_bcq_target_ignores_an_invalid_next_action() -> None:
    q_next = torch.tensor([[1.0, 9.0, 2.0, 0.5]])
    logits = torch.tensor([[0.0, 50.0, 0.0, 0.0]])  # the imitator favours the invalid one too
    next_mask = torch.tensor([[True, False, True, True]])
    target = bcq.bcq_target(q_next, q_next, logits, next_mask, torch.zeros(1), torch.zeros(1),
                            1.0, 0.3)  # fmt: skip
    assert torch.allclose(target, torch.tensor([2.0]))


def test_bcq_filter_is_relative_to_the_best_valid_action() -> None:
    probs = torch.tensor([[0.05, 0.5, 0.2, 0.25]])
    mask = torch.tensor([[True, False, True, True]])  # best valid: 0.25 -> keep p > 0.075
    allowed = bcq.allowed_actions(probs.log(), mask, 0.3)
    assert allowed.tolist() == [[False, False, True, True]]


def test_conservative_term_only_spans_valid_actions() -> None:
    q = torch.tensor([[1.0, 2.0, 100.0]], requires_grad=True)
    mask = torch.tensor([[True, True, False]])
    _, metrics = cql.cql_loss(q, torch.tensor([0]), mask, torch.tensor([1.0]), alpha=1.0)
    assert metrics["cql_gap"] == pytest.approx(float(np.log(np.exp(1) + np.exp(2)) - 1.0))


def test_iql_policy_gives_an_invalid_action_no_probability() -> None:
    logits = torch.tensor([[0.0, 1.0, 2.0, 50.0]])  # the invalid action has the top logit
    mask = torch.tensor([[True, True, True, False]])
    advantage = torch.tensor([0.0])
    loss = iql.advantage_weighted_loss(logits, torch.tensor([2]), mask, advantage, 3.0, 100.0)
    expected = -torch.log_softmax(logits[:, :3], 1)[0, 2]
    assert torch.allclose(loss, expected)
    weighted = iql.advantage_weighted_loss(logits, torch.tensor([2]), mask, torch.tensor([5.0]),
                                           3.0, 100.0)  # fmt: skip
    assert torch.allclose(weighted, 100.0 * expected)  # exp(15) capped at max_weight


def test_expectile_loss_is_minimised_by_the_expectile() -> None:
    # samples {0, 1}: tau * (1 - m) = (1 - tau) * m at the minimum, so m = tau
    diffs = torch.tensor([0.0, 1.0])
    grid = torch.linspace(0, 1, 101)
    losses = torch.stack([iql.expectile_loss(diffs - m, 0.8) for m in grid])
    assert float(grid[losses.argmin()]) == pytest.approx(0.8)
    target = iql.value_target(torch.tensor([2.0, 2.0]), torch.tensor([1.0, 1.0]),
                              torch.tensor([0.0, 1.0]), 0.5)  # fmt: skip
    assert target.tolist() == [2.0, 1.0]


def test_masked_argmax_never_picks_an_invalid_action() -> None:
    values = torch.tensor([[0.0, 5.0, 1.0], [float("nan"), 0.0, 2.0]])
    mask = torch.tensor([[True, False, True], [False, True, True]])
    assert masked_argmax(values, mask).tolist() == [2, 2]


def _favour(net: torch.nn.Module, action: int) -> None:
    """Make ``net`` score ``action`` far above every other one, whatever the input."""
    with torch.no_grad():
        for member in ensemble_members(net):
            last = member.net[-1]
            if last.out_features <= action:  # a value network: it does not act
                continue
            last.weight.zero_()
            last.bias.copy_(torch.arange(last.bias.numel(), dtype=torch.float32) * 0.01)
            last.bias[action] = 100.0


@pytest.mark.parametrize("name", ALGOS)
def test_an_invalid_action_scored_highest_is_never_picked(name: str) -> None:
    algorithm = get_algorithm(name)
    settings = algorithm.make_settings(arch="mlp", hidden=(8,))
    networks = algorithm.build(settings, OBS, N_ACT)
    for net in networks.values():
        _favour(net, 3)
    obs = torch.as_tensor(np.stack([state_obs(s) for s in (0, 1, 2)]))
    mask = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0]]) > 0
    mask[1, 3] = False  # the favoured action is invalid in every row
    torch_actions = algorithm.act_batch(networks, obs, mask, settings).tolist()
    state_dicts = {k: v.state_dict() for k, v in networks.items()}
    act_one = algorithm.numpy_actor(state_dicts, settings)
    numpy_actions = [
        act_one(o.numpy(), m.numpy().astype(np.int8)) for o, m in zip(obs, mask, strict=True)
    ]
    for actions in (torch_actions, numpy_actions):
        assert all(mask[i, a] for i, a in enumerate(actions)), actions
    assert torch_actions == numpy_actions == [2, 0, 1]


@pytest.mark.parametrize("ensemble", [1, 3])
@pytest.mark.parametrize("arch", ["mlp", "slots"])
def test_numpy_forward_matches_torch(arch: str, ensemble: int) -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=OBS_SIZE), rng.random(OBS_SIZE) + 0.5
    settings = cql.Settings(arch=arch, hidden=(16, 16, 16), ensemble=ensemble)
    net = CQL.build(settings, OBS_SIZE, N_ACTIONS, mean, std)["q"]
    x = rng.normal(size=(20, OBS_SIZE)).astype(np.float32)
    fast = numpy_network(net.state_dict())
    with torch.no_grad():
        expected = net(torch.as_tensor(x)).numpy()
    got = np.stack([fast(row).copy() for row in x])
    assert np.allclose(got, expected, atol=1e-4)


def test_slot_network_does_not_care_which_slot_a_candidate_is_in() -> None:
    torch.manual_seed(0)
    net = CQL.build(cql.Settings(arch="slots", hidden=(16, 16)), OBS_SIZE, N_ACTIONS)["q"]
    obs = torch.randn(1, OBS_SIZE)
    order = torch.randperm(WINDOW)
    swapped = obs.clone()
    swapped[0, GLOBAL_FEATURES:] = (
        obs[0, GLOBAL_FEATURES:].reshape(WINDOW, SLOT_FEATURES)[order].flatten()
    )
    with torch.no_grad():
        q, q_swapped = net(obs)[0], net(swapped)[0]
    verbs = q[:-1].reshape(WINDOW, N_VERBS)
    assert torch.allclose(verbs[order], q_swapped[:-1].reshape(WINDOW, N_VERBS), atol=1e-5)
    assert torch.allclose(q[-1], q_swapped[-1], atol=1e-5)


# Checkpoints --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALGOS)
def test_checkpoint_loads_back_to_identical_actions(name: str, chain, tmp_path) -> None:
    algorithm = get_algorithm(name)
    settings = algorithm.make_settings(arch="mlp", steps=50, hidden=(16,), log_every=25)
    networks = algorithm.train(chain, settings, tmp_path)
    for file in ("model.pt", "config.json", "train_log.csv"):
        assert (tmp_path / file).is_file()
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(64, OBS)).astype(np.float32)
    mask = (rng.random((64, N_ACT)) < 0.6).astype(np.int8)
    mask[:, 0] = 1
    before = algorithm.act_batch(
        networks, torch.as_tensor(obs), torch.as_tensor(mask > 0), settings
    )
    model = load_model(tmp_path)
    assert model.algo == name and model.settings == settings
    after = model.act_batch(obs, mask)
    one_by_one = [model.act_one(o, m) for o, m in zip(obs, mask, strict=True)]
    assert before.tolist() == after.tolist() == one_by_one
    assert all(mask[i, a] for i, a in enumerate(one_by_one))


def test_every_registered_algorithm_declares_the_protocol() -> None:
    for name in ALGOS:
        algorithm = get_algorithm(name)
        assert isinstance(algorithm, OfflineAlgorithm) and algorithm.name == name
        settings = algorithm.make_settings()
        for field in ("steps", "batch_size", "seed", "threads", "log_every", "arch", "hidden"):
            assert hasattr(settings, field), (name, field)
    with pytest.raises(ValueError, match="unknown algorithm"):
        get_algorithm("dqn")


@pytest.mark.parametrize("name", ALGOS)
@pytest.mark.parametrize("arch", ["mlp", "slots"])
def test_training_is_seeded_and_numpy_acts_as_torch(name: str, arch: str, chain) -> None:
    algorithm = get_algorithm(name)
    settings = algorithm.make_settings(arch=arch, steps=12, hidden=(16, 16), seed=3)
    data = chain if arch == "mlp" else slot_dataset()
    a, b = algorithm.train(data, settings), algorithm.train(data, settings)
    for net in a:
        for (key, x), y in zip(a[net].state_dict().items(), b[net].state_dict().values(),
                               strict=True):  # fmt: skip
            assert torch.equal(x, y), (net, key)
    other = algorithm.train(data, algorithm.make_settings(arch=arch, steps=12, hidden=(16, 16)))
    assert any(
        not torch.equal(x, y)
        for net in a
        for x, y in zip(a[net].state_dict().values(), other[net].state_dict().values(), strict=True)
    )
    obs, mask = data["obs"][:200], data["action_mask"][:200]
    torch_actions = algorithm.act_batch(a, torch.as_tensor(obs), torch.as_tensor(mask > 0),
                                        settings).tolist()  # fmt: skip
    act_one = algorithm.numpy_actor({k: v.state_dict() for k, v in a.items()}, settings)
    assert [act_one(o, m) for o, m in zip(obs, mask, strict=True)] == torch_actions
    assert all(mask[i, action] for i, action in enumerate(torch_actions))


def slot_dataset(rows: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    """Random transitions shaped like the season env's, for the slot network."""
    rng = np.random.default_rng(seed)
    mask = (rng.random((rows, N_ACTIONS)) < 0.3).astype(np.int8)
    mask[:, -1] = 1
    action = np.array([rng.choice(np.flatnonzero(m)) for m in mask])
    return {
        "obs": rng.normal(size=(rows, OBS_SIZE)).astype(np.float32),
        "action": action,
        "reward": rng.normal(size=rows),
        "terminated": rng.random(rows) < 0.05,
        "truncated": np.zeros(rows, bool),
        "action_mask": mask,
        "next_obs": rng.normal(size=(rows, OBS_SIZE)).astype(np.float32),
        "next_action_mask": np.roll(mask, -1, axis=0),
        "target_action": np.array([rng.choice(np.flatnonzero(m)) for m in mask]),
    }


def test_an_ensemble_acts_on_the_mean_of_independently_trained_members(chain) -> None:
    settings = cql.Settings(arch="mlp", steps=40, hidden=(16,), ensemble=3, seed=1)
    q = CQL.train(chain, settings)["q"]
    members = ensemble_members(q)
    assert len(members) == 3
    obs = torch.as_tensor(np.stack([state_obs(s) for s in range(N_STATES)]))
    with torch.no_grad():
        each = torch.stack([member(obs) for member in members])
        assert torch.allclose(q(obs), each.mean(0), atol=1e-6)
    # each member has its own initialisation and minibatches, so no two agree exactly
    assert not torch.allclose(each[0], each[1]) and not torch.allclose(each[1], each[2])
    # one favoured action in one member is outvoted only if the others disagree strongly
    with torch.no_grad():
        members[0].net[-1].bias[2] += 30.0
        assert (q(obs).argmax(1) == 2).all()
        for member in members[1:]:
            member.net[-1].bias[2] -= 60.0
        assert (q(obs).argmax(1) != 2).all()


@pytest.mark.parametrize("arch", ["mlp", "slots"])
def test_batched_ensemble_is_its_members(arch: str) -> None:
    torch.manual_seed(0)
    q = CQL.build(cql.Settings(arch=arch, hidden=(16, 16), ensemble=3), OBS_SIZE, N_ACTIONS)["q"]
    members = ensemble_members(q)
    batched = BatchedEnsemble(q)
    obs = torch.randn(3, 5, OBS_SIZE)
    out = batched(obs)
    with torch.no_grad():
        for k, member in enumerate(members):
            assert torch.allclose(out[k], member(obs[k]), atol=1e-5)
    # each member's gradient is clipped on its own; members see the optimizer's steps
    (out[0].sum() * 1e6 + out[1].sum() * 1e-6).backward()
    expected = []
    for k in range(3):
        grads = [w.grad[k].clone() for w in batched.weights.values()]
        norm = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
        expected.append([g * min(1.0, 1.0 / (float(norm) + 1e-6)) for g in grads])
    batched.clip_grad_norm_(1.0)
    for k in range(3):
        for g, e in zip((w.grad[k] for w in batched.weights.values()), expected[k], strict=True):
            assert torch.allclose(g, e)
    first, third = ([p.clone() for p in members[k].parameters()] for k in (0, 2))
    torch.optim.SGD(batched.parameters(), lr=0.1).step()
    assert any(not torch.equal(p, b) for p, b in zip(members[0].parameters(), first, strict=True))
    assert all(torch.equal(p, b) for p, b in zip(members[2].parameters(), third, strict=True))
    targets = batched.target_weights()
    batched.soft_update(targets, 1.0)
    assert all(torch.equal(targets[n], w) for n, w in batched.weights.items())


def test_slot_network_never_picks_an_invalid_action() -> None:
    settings = cql.Settings(arch="slots", hidden=(8, 8))
    networks = CQL.build(settings, OBS_SIZE, N_ACTIONS)
    with torch.no_grad():
        for member in ensemble_members(networks["q"]):  # "screen" of every slot scores highest
            member.head[-1].bias[0] = 100.0
    obs = torch.randn(4, OBS_SIZE)
    mask = torch.rand(4, N_ACTIONS) < 0.5
    mask[:, Verb.SCREEN : WINDOW * N_VERBS : N_VERBS] = False  # ... and is invalid everywhere
    mask[:, -1] = True
    actions = CQL.act_batch(networks, obs, mask, settings)
    assert all(mask[i, a] for i, a in enumerate(actions.tolist()))
    act_one = CQL.numpy_actor({"q": networks["q"].state_dict()}, settings)
    for o, m, a in zip(obs, mask, actions.tolist(), strict=True):
        assert act_one(o.numpy(), m.numpy()) == a


def test_n_step_returns_follow_the_episode_and_stop_at_its_end() -> None:
    from policies.offline.replay import n_step_view, step_discounts

    # two episodes: rows 0-2 (ends terminated) and rows 3-4 (step 1 -> 2, then a gap)
    data = {
        "action": np.array([0, N_ACTIONS - 1, 0, 0, 0]),
        "reward": np.array([1.0, 2.0, 4.0, 8.0, 16.0]),
        "terminated": np.array([False, False, True, False, False]),
        "truncated": np.zeros(5, bool),
        "episode_id": np.array([0, 0, 0, 1, 1]),
        "step": np.array([0, 1, 2, 0, 5]),
    }
    per_day = step_discounts(data["action"], 0.5, "day", N_ACTIONS)
    np.testing.assert_allclose(per_day, [1.0, 0.5, 1.0, 1.0, 1.0])
    view = n_step_view(data, per_day, 3)
    np.testing.assert_allclose(view["reward"], [1 + 2 + 0.5 * 4, 2 + 0.5 * 4, 4, 8, 16])
    np.testing.assert_allclose(view["discount"], [0.5, 0.5, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(view["last"], [2, 2, 2, 3, 4])
    np.testing.assert_array_equal(view["terminated"], [True, True, True, False, False])
    one = n_step_view(data, per_day, 1)
    np.testing.assert_allclose(one["reward"], data["reward"])
    np.testing.assert_array_equal(one["last"], np.arange(5))
