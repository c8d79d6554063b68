"""Cross-check: d3rlpy's DiscreteCQL on the same logged data, played on held-out seasons.

d3rlpy 2.8.1 pins gymnasium 1.0.0 and pulls in the old ``gym``, so it is not a
dependency of this project: run this file from its own virtual environment, with the
project on the path (the env, policies and dataset reader work with gymnasium 1.0)::

    python -m venv .venv-d3rlpy
    .venv-d3rlpy/bin/pip install -c constraints.txt d3rlpy==2.8.1 pandas pyarrow pyyaml \\
        scipy "ortools>=9.15,<9.16" highspy rich typer
    PYTHONPATH=. .venv-d3rlpy/bin/python -m experiments.d3rlpy_crosscheck out/offline_eval/dataset

d3rlpy cannot mask the Bellman target, so, as is usual with it, the action mask is
appended to the observation and the target maximises over every action; at decision
time the argmax is taken over the valid actions only (invalid ones never appear in the
data, so the conservative term already pushes their values down). It discounts every
step (this project's CQL discounts per day by default), copies its target network
every ``--target-update`` steps and uses its default MLP (256, 256).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np


def mdp_dataset(data: dict[str, np.ndarray]) -> Any:
    """The logged transitions as a d3rlpy ``MDPDataset`` (observation = obs + mask)."""
    import d3rlpy

    from policies.offline.dataset import episode_rows

    episodes = episode_rows(data)
    order = np.concatenate(episodes)
    observations = np.concatenate(
        [data["obs"][order], data["action_mask"][order].astype(np.float32)], axis=1
    )
    terminated = np.asarray(data["terminated"][order], dtype=np.float32)
    ends = np.zeros(order.size, bool)
    ends[np.cumsum([rows.size for rows in episodes]) - 1] = True
    timeouts = (ends & (terminated == 0)).astype(np.float32)
    return d3rlpy.dataset.MDPDataset(
        observations=observations.astype(np.float32),
        actions=np.asarray(data["action"][order], dtype=np.int64),
        rewards=np.asarray(data["reward"][order], dtype=np.float32),
        terminals=terminated,
        timeouts=timeouts,
        action_space=d3rlpy.ActionSpace.DISCRETE,
        action_size=data["action_mask"].shape[1],
    )


class D3rlpyPolicy:
    """Acts with a trained d3rlpy Q-function: argmax over the valid actions."""

    name = "d3rlpy-cql"

    def __init__(self, algo: Any, n_actions: int) -> None:
        self.algo = algo
        self.actions = np.arange(n_actions)
        self.latencies: list[float] = []

    def reset(self, env: Any) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        mask = np.asarray(info["action_mask"])
        x = np.concatenate([obs, mask.astype(np.float32)])[None].astype(np.float32)
        q = self.algo.predict_value(np.repeat(x, len(self.actions), axis=0), self.actions)
        return int(np.argmax(np.where(mask > 0, q, -np.inf)))


def main(argv: list[str] | None = None) -> None:
    import d3rlpy
    import gymnasium as gym

    import envs
    from policies.offline.dataset import load_dataset
    from policies.rollout import mean_ci, run_episode

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--steps", type=int, default=15_000)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--target-update", type=int, default=1000, help="steps between target-network copies"
    )
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument("--eval-seed", type=int, default=100_000)
    args = parser.parse_args(argv)

    d3rlpy.seed(args.seed)
    data = load_dataset(args.dataset)
    dataset = mdp_dataset(data)
    cql = d3rlpy.algos.DiscreteCQLConfig(
        alpha=args.alpha,
        gamma=0.99,
        batch_size=256,
        learning_rate=3e-4,
        target_update_interval=args.target_update,
        observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
    ).create(device="cpu:0")
    started = time.perf_counter()
    cql.fit(dataset, n_steps=args.steps, n_steps_per_epoch=args.steps, show_progress=False,
            save_interval=args.steps + 1,
            logger_adapter=d3rlpy.logging.NoopAdapterFactory())  # fmt: skip
    trained = time.perf_counter() - started
    env = gym.make(envs.ENV_ID, scenario=args.scenario)
    policy = D3rlpyPolicy(cql, data["action_mask"].shape[1])
    seeds = range(args.eval_seed, args.eval_seed + args.eval_episodes)
    returns = [run_episode(env, policy, seed)[0]["return"] for seed in seeds]
    m, lo, hi = mean_ci(returns)
    print(f"d3rlpy DiscreteCQL (alpha {args.alpha}, {args.steps} steps, {trained:.0f} s): "
          f"mean return {m:.2f} [{lo:.2f}, {hi:.2f}] on seeds {seeds[0]}..{seeds[-1]}")  # fmt: skip
    print("returns", [round(r, 2) for r in returns])


if __name__ == "__main__":
    main()
