"""The season env as a Gymnasium contract: checkers, determinism, pickling, masks."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs
from envs.layout import END_DAY, N_ACTIONS, OBS_SIZE
from envs.season_env import InterviewSchedulingEnv
from policies import make_policy


def make(scenario: str = "tiny") -> InterviewSchedulingEnv:
    return gym.make(envs.ENV_ID, scenario=scenario).unwrapped


def random_rollout(env: gym.Env, seed: int, steps: int | None = None) -> list:
    """(obs, reward, mask) per step of a seeded random-valid rollout."""
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace = [(obs.copy(), 0.0, info["action_mask"].copy())]
    while steps is None or len(trace) <= steps:
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, reward, terminated, truncated, info = env.step(action)
        trace.append((obs.copy(), reward, info["action_mask"].copy()))
        if terminated or truncated:
            break
    return trace


@pytest.mark.parametrize("scenario", ["tiny", "default"])
def test_gymnasium_and_sb3_checkers(scenario: str) -> None:
    gym_check_env(make(scenario), skip_render_check=True)
    sb3_check_env(make(scenario), warn=True)


def test_spaces_are_the_same_for_every_scenario() -> None:
    for scenario in ("tiny", "default", "large"):
        env = make(scenario)
        assert env.observation_space.shape == (OBS_SIZE,)
        assert env.action_space.n == N_ACTIONS


def test_same_seed_same_rollout() -> None:
    a, b = random_rollout(make(), 3), random_rollout(make(), 3)
    assert len(a) == len(b) > 10
    for (obs_a, r_a, m_a), (obs_b, r_b, m_b) in zip(a, b, strict=True):
        np.testing.assert_array_equal(obs_a, obs_b)
        assert r_a == r_b
        np.testing.assert_array_equal(m_a, m_b)
    c = random_rollout(make(), 4)
    assert any(not np.array_equal(x[0], y[0]) for x, y in zip(a, c, strict=False))


def test_a_season_option_plays_once_and_seeded_resets_keep_the_scenario() -> None:
    from scheduler.generator import generate_season
    from scheduler.scenario import load_scenario

    env = make("tiny")
    first, _ = env.reset(seed=0)
    other = generate_season(load_scenario("default"), 7, calendar_rows=False)
    env.reset(options={"season": other})
    assert env.config.name == "default" and env.season is other
    again, _ = env.reset(seed=0)
    assert env.config.name == "tiny"
    np.testing.assert_array_equal(first, again)


def test_pickled_env_continues_identically() -> None:
    env = make()
    random_rollout(env, 5, steps=40)
    clone = pickle.loads(pickle.dumps(env))
    rng = np.random.default_rng(9)
    mask = env.state.mask.copy()
    for _ in range(200):
        action = int(rng.choice(np.flatnonzero(mask)))
        obs_a, r_a, term_a, _, info_a = env.step(action)
        obs_b, r_b, term_b, _, info_b = clone.step(action)
        np.testing.assert_array_equal(obs_a, obs_b)
        assert (r_a, term_a) == (r_b, term_b)
        mask = info_a["action_mask"]
        np.testing.assert_array_equal(mask, info_b["action_mask"])
        if term_a:
            break


def test_mask_exposures_agree_and_every_valid_action_is_accepted() -> None:
    env = make()
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    checked = 0
    for _ in range(60):
        mask = info["action_mask"]
        assert mask.dtype == np.int8
        np.testing.assert_array_equal(mask.astype(bool), env.action_masks())
        assert mask[END_DAY] == 1
        for action in np.flatnonzero(mask):
            trial = copy.deepcopy(env)
            trial.step(int(action))
            assert trial.state.n_invalid == 0, f"valid action {action} was refused"
            checked += 1
        obs, _, terminated, _, info = env.step(int(rng.choice(np.flatnonzero(mask))))
        if terminated:
            break
    assert checked > 100


def test_illegal_actions_are_penalised_no_ops() -> None:
    env = make()
    obs, info = env.reset(seed=2)
    invalid = np.flatnonzero(info["action_mask"] == 0)
    assert invalid.size > 0
    before = (env.day, list(env.state.stage), list(env.state.window))
    for action in invalid[:20]:
        obs2, reward, terminated, truncated, info2 = env.step(int(action))
        assert reward == -env.config.rewards.invalid_penalty
        assert not terminated and not truncated
        assert env.observation_space.contains(obs2)
    assert (env.day, list(env.state.stage), list(env.state.window)) == before
    assert env.state.n_invalid == min(20, invalid.size)


def test_unmasked_random_actions_never_crash() -> None:
    env = make()
    env.reset(seed=0)
    for action in np.random.default_rng(1).integers(0, N_ACTIONS, size=3000):
        _, _, terminated, _, _ = env.step(int(action))
        if terminated:
            env.reset()


def test_episode_ends_with_kpis_and_reward_parts_add_up() -> None:
    env = make()
    trace = random_rollout(env, 0)
    kpis = env.kpis()
    total = sum(r for _, r, _ in trace)
    assert kpis["return"] == pytest.approx(total)
    parts = sum(v for k, v in kpis.items() if k.startswith("reward_"))
    assert parts == pytest.approx(total)
    assert 0.0 <= kpis["fill_rate"] <= 1.0


def test_render_ansi_summarises_the_day() -> None:
    env = gym.make(envs.ENV_ID, scenario="tiny", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "tiny day 1/20" in text and "hires 0/" in text


def test_slot_features_agree_with_the_season_state() -> None:
    """Pipeline counts, hireability, open seats, booking wait and acceptance match the env."""
    from envs import feasibility as fz
    from envs.layout import F, G, Stage, slot_rows

    env = make("default")
    rng = np.random.default_rng(3)
    obs, info = env.reset(seed=3)
    s = env.state
    seen_unhireable = seen_offer = seen_pending = 0
    for _ in range(400):
        rows = slot_rows(obs)
        for k, c in enumerate(s.window):
            if c < 0:
                assert not rows[k].any()
                continue
            row = rows[k]
            options = fz.offer_options(s, c) if s.stage[c] == Stage.LOOPED else []
            if options:  # an offer today implies a seat and a window the candidate fits
                assert row[F.hireable] == 1.0
                accept = fz.acceptance_probability(s, c, options[0][0], s.day)
                assert row[F.offer_accept] == pytest.approx(accept)
                seen_offer += 1
            if row[F.hireable] == 0.0:
                assert not options
                seen_unhireable += 1
            seats = sum(s.p_remaining[p] for _, p in fz.candidate_postings(s, c))
            assert row[F.areas_open] == pytest.approx(min(seats, 10) / 10)
            if row[F.can_screen]:
                day = fz.screen_search(s, c)[0]
                wait = (day - s.day) / s.config.horizon_days
                assert row[F.booking_wait] == pytest.approx(wait)
        booked = [b for b in s.bookings if b.status == "booked"]
        counts = ((G.pending_screens, G.pending_screen_quality),
                  (G.pending_loops, G.pending_loop_quality))  # fmt: skip
        for stage, (count, quality_sum) in zip(("screen", "loop"), counts, strict=True):
            mine = [b.candidate for b in booked if b.stage == stage]
            assert obs[count] == pytest.approx(len(mine) / s.total_headcount)
            quality = sum(s.post_mean[c] for c in mine) / s.total_headcount
            assert obs[quality_sum] == pytest.approx(quality, abs=1e-5)
            seen_pending += len(mine)
        action = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, _, terminated, _, info = env.step(action)
        if terminated:
            break
    assert seen_unhireable > 0 and seen_offer > 0 and seen_pending > 0


def test_reset_refuses_options_it_does_not_know() -> None:
    """A typo in ``options`` (``seasons``) or a ``season`` that is not a ``Season`` is an
    error, not a silent reset to a drawn season."""
    env = gym.make(envs.ENV_ID, scenario="tiny")
    with pytest.raises(ValueError, match="unknown 'seasons'"):
        env.reset(seed=0, options={"seasons": 1})
    with pytest.raises(TypeError, match="'season' must be a Season, not int"):
        env.reset(seed=0, options={"season": 5})
    obs, info = env.reset(seed=0, options={})
    assert info["action_mask"].dtype == np.int8 and obs.shape == (OBS_SIZE,)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_actions_per_day": 0}, "max_actions_per_day must be at least 1, not 0"),
        ({"max_actions_per_day": -5}, "max_actions_per_day must be at least 1, not -5"),
        ({"max_actions_per_day": 2.5}, "max_actions_per_day must be a whole number"),
        ({"render_mode": "human"}, "render_mode 'human': choose None or ansi"),
    ],
)
def test_an_env_argument_it_cannot_use_is_refused_when_made(kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        gym.make(envs.ENV_ID, scenario="tiny", **kwargs)


def test_a_huge_patience_or_deadline_mean_plays_a_whole_season(tmp_path: Path) -> None:
    """Draws are capped far beyond any season, so a huge mean cannot overflow a day."""
    path = tmp_path / "patient.yaml"
    path.write_text("base: tiny\npatience_mean_days: 1.0e30\ndeadline_mean_days: 1.0e30\n")
    env = gym.make(envs.ENV_ID, scenario=str(path))
    obs, info = env.reset(seed=0)
    policy = make_policy("greedy_fit")
    policy.reset(env)
    while True:
        obs, _, terminated, truncated, info = env.step(policy.act(obs, info))
        if terminated or truncated:
            break
    assert info["kpis"]["drop_off_rate"] == 0.0
