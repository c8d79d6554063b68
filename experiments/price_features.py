"""What the learner lacks: hindsight learning with the planner's prices as inputs, and without.

    python -m experiments.price_features --episodes 20 --seed 3000 --eval-episodes 16 \\
        --eval-seed 100000 --training-seeds 0,1,2 --jobs 2 --out out/price_features.csv

Hindsight learning (``--algo hindsight``) imitates the ``cpsat`` planner's action in every
logged state and stays well below it. The planner decides each candidate on an index
at that morning's LP prices (``policies/planner.py``), which the observation does not
carry. This study asks whether those prices are what is missing. Beside every logged
state it records, per window slot, two numbers the planner computes that morning:

- ``price``: the cheapest seat-plus-start-window price among the candidate's offers
  (0 when no posting could hire them);
- ``value``: the candidate's index at its stage (screen, loop or best offer, net of the
  prices; -10 when no offer is possible), clipped to [-10, 10].

Four learners are trained on the same labelled states (masked cross-entropy of the
planner's action, the ``slots`` network of hindsight learning) and played on other
seasons:

- ``observation``: the env's observation only (hindsight learning as shipped);
- ``prices``: each slot row extended by ``price``;
- ``prices_value``: extended by ``price`` and ``value``;
- ``auxiliary``: the observation only, with a second head that regresses both numbers
  per occupied slot (weight ``--aux-weight``); the head is not used in play.

The first and last act from the observation alone, like any ``rl:`` policy. The two
middle ones are not online-deployable at the learned policy's speed: in play they need
the planner's LP every morning to compute their inputs. They measure what the prices
are worth to the learner, not a policy to ship. The data is played by ``cpsat``,
``cpsat+eps0.2`` and ``greedy_fit+eps0.2`` (``--episodes`` seasons each, seeds from
``--seed``); the learners and the two reference policies are played on the
``--eval-episodes`` seasons from ``--eval-seed``. Use tuning seeds for both: the
defaults are. The table gives each learner's mean return per training seed, their
mean, and paired bootstrap 95% CIs (the mean over training seeds, season by season)
against ``observation``, ``greedy_fit`` and ``cpsat``; the csv one row per season, with
each learner's agreement with the labels on its data.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

import envs
from envs.layout import GLOBAL_FEATURES, N_VERBS, SLOT_FEATURES, WINDOW
from experiments.files import write_atomic
from experiments.stats import paired_difference
from policies import make_policy
from policies.offline.dataset import make_behavior
from policies.offline.labels import PlannerLabeller
from policies.offline.networks import SlotNet, normalizer
from policies.planner import ACTIVE, LOOPED, SCREENED, BidPricePlanner
from policies.rollout import run_episode
from scheduler.processes import process_pool

EXTRA = ("price", "value")
"""The planner's numbers recorded per window slot, in this order."""
VARIANTS: dict[str, tuple[str, ...]] = {
    "observation": (),
    "prices": ("price",),
    "prices_value": ("price", "value"),
    "auxiliary": (),
}
"""Learner -> the extra slot inputs it reads."""
BEHAVIORS = ("cpsat", "cpsat+eps0.2", "greedy_fit+eps0.2")
REFERENCES = ("greedy_fit", "cpsat")
WIDTH = 128


class PlannerFeatures:
    """``EXTRA`` per window slot at the planner's prices of the day (cached per candidate,
    day and stage: prices move only in the morning)."""

    def __init__(self, planner: BidPricePlanner) -> None:
        self.planner = planner
        self.cache: dict[tuple[int, int, int], tuple[float, float]] = {}

    def slots(self) -> np.ndarray:
        """(WINDOW, len(EXTRA)); zeros for empty or finished slots and before any prices."""
        out = np.zeros((WINDOW, len(EXTRA)), np.float32)
        planner, k = self.planner, self.planner.known
        if k is None or k.done or planner.prices is None:
            return out
        for slot, c in enumerate(k.window):
            if c >= 0 and k.stage[c] in ACTIVE:
                key = (k.day, c, k.stage[c])
                if key not in self.cache:
                    self.cache[key] = self._numbers(c)
                out[slot] = self.cache[key]
        return out

    def _numbers(self, c: int) -> tuple[float, float]:
        planner = self.planner
        prices = planner.prices
        assert prices is not None
        pr = planner._current(c, planner._seated_postings())
        if not pr.offers:
            return 0.0, -10.0
        price = min(prices.seat[p] + prices.window[w] for p, w, _, _ in pr.offers)
        if pr.stage == LOOPED:
            value = planner._best_offer(pr)
        elif pr.stage == SCREENED:
            value = float(planner._loop_value(pr, np.array([pr.mean]), pr.precision)[0])
        else:
            value = planner._screen_value(pr)
        return float(price), max(-10.0, min(10.0, value))


def widened(obs: np.ndarray, extras: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Observations (n, OBS) with each slot row extended by the named ``extras`` (n, W, E)."""
    n = len(obs)
    slots = obs[:, GLOBAL_FEATURES:].reshape(n, WINDOW, SLOT_FEATURES)
    cols = [EXTRA.index(name) for name in names]
    rows = np.concatenate([slots, extras[:, :, cols]], axis=2).reshape(n, -1)
    return np.concatenate([obs[:, :GLOBAL_FEATURES], rows], axis=1).astype(np.float32)


def collect_season(scenario: str, behavior: str, seed: int) -> dict[str, np.ndarray]:
    """One season of ``behavior``: observations, masks, the planner's labels and ``EXTRA``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    obs, info = env.reset(seed=seed)
    policy = make_behavior(behavior, seed=seed)
    policy.reset(env)
    labeller = PlannerLabeller("cpsat", seed=seed)
    labeller.reset(env)
    planner: Any = labeller.planner
    features = PlannerFeatures(planner)
    rows: dict[str, list[Any]] = {"obs": [], "mask": [], "label": [], "extra": []}
    while True:
        action = policy.act(obs, info)
        rows["label"].append(labeller.label(obs, info, action))  # the morning solve first
        rows["extra"].append(features.slots())
        rows["obs"].append(obs)
        rows["mask"].append(info["action_mask"] > 0)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return {key: np.asarray(value) for key, value in rows.items()}


def _forward(net: SlotNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``SlotNet.forward``'s logits and its per-slot hidden layer (B, W, H)."""
    g, w, f, _ = net.layout
    x = (x - net.obs_mean) / net.obs_std
    slots = torch.relu(net.slot_encoder(x[:, g:].reshape(-1, w, f)))
    season = torch.relu(net.global_encoder(x[:, :g]))
    context = torch.cat([season, slots.mean(1), slots.amax(1)], dim=1)
    hidden = torch.relu(net.head_slot(slots) + net.head_context(context)[:, None])
    logits = torch.cat([net.head(hidden).flatten(1), net.end_head(context)], dim=1)
    return logits, hidden


def train(
    data: dict[str, np.ndarray], variant: str, seed: int, steps: int, aux_weight: float
) -> tuple[SlotNet, float]:
    """A learner of ``variant`` (one thread, seeded) and its agreement with the labels."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    rng = np.random.default_rng(seed)
    names = VARIANTS[variant]
    x = widened(data["obs"], data["extra"], names)
    mean, std = normalizer(x)
    net = SlotNet(x.shape[1], WINDOW * N_VERBS + 1, (WIDTH, WIDTH), mean, std,
                  slot_features=SLOT_FEATURES + len(names))  # fmt: skip
    aux = torch.nn.Linear(WIDTH, len(EXTRA))
    target = data["extra"].astype(np.float32)
    occupied = data["obs"][:, GLOBAL_FEATURES:].reshape(len(x), WINDOW, SLOT_FEATURES)[:, :, 0] > 0
    scale = target[occupied].std(axis=0) + 1e-6
    target = (target - target[occupied].mean(axis=0)) / scale
    xs, masks = torch.as_tensor(x), torch.as_tensor(data["mask"])
    labels, targets = torch.as_tensor(data["label"]), torch.as_tensor(target)
    occ = torch.as_tensor(occupied)
    params = list(net.parameters()) + (list(aux.parameters()) if variant == "auxiliary" else [])
    opt = torch.optim.Adam(params, lr=3e-4)
    for _ in range(steps):
        idx = torch.as_tensor(rng.integers(len(x), size=256))
        logits, hidden = _forward(net, xs[idx])
        loss = F.cross_entropy(logits.masked_fill(~masks[idx], -1e9), labels[idx])
        if variant == "auxiliary":
            squared = ((aux(hidden) - targets[idx]) ** 2).sum(-1)
            loss = loss + aux_weight * squared[occ[idx]].mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        chosen = net(xs).masked_fill(~masks, -1e9).argmax(1)
    return net, float((chosen == labels).float().mean())


def play(scenario: str, net: SlotNet, variant: str, seed: int) -> float:
    """The return of the learner's greedy valid actions on season ``seed``."""
    torch.set_num_threads(1)
    env = gym.make(envs.ENV_ID, scenario=scenario)
    obs, info = env.reset(seed=seed)
    names = VARIANTS[variant]
    planner = BidPricePlanner(seed=seed)
    planner.reset(env)
    features = PlannerFeatures(planner)
    total = 0.0
    while True:
        extras = np.zeros((WINDOW, len(EXTRA)), np.float32)
        if names:
            k = planner.known
            assert k is not None
            if not k.done and k.day != planner.day:  # the morning solve
                planner.day = k.day
                planner._plan_day()
            extras = features.slots()
        x = widened(obs[None], extras[None], names)
        with torch.no_grad():
            logits = net(torch.as_tensor(x))[0].numpy()
        action = int(np.argmax(np.where(info["action_mask"] > 0, logits, -np.inf)))
        obs, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if terminated or truncated:
            return total


def reference_return(scenario: str, policy: str, seed: int) -> float:
    """The return of a reference policy on season ``seed``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    return float(run_episode(env, make_policy(policy, seed=seed), seed)[0]["return"])


def table(rows: pd.DataFrame, agreement: dict[tuple[str, int], float]) -> str:
    """Markdown: each learner's returns per training seed, mean, paired differences."""
    per = rows.pivot_table(index="seed", columns=["policy", "training_seed"], values="return")
    mean_of = {p: per[p].mean(axis=1).to_numpy() for p in dict.fromkeys(rows["policy"])}
    refs = ("observation", *REFERENCES)
    lines = ["| learner | training seeds | mean | agreement | " + " | ".join(f"− {r}" for r in refs)
             + " |", "| --- | --- | ---: | ---: |" + " --- |" * len(refs)]  # fmt: skip
    for variant in (v for v in VARIANTS if v in mean_of):
        seeds = per[variant].mean(axis=0)
        agree = np.mean([a for (v, _), a in agreement.items() if v == variant])
        diffs = ["—" if ref == variant else str(paired_difference(mean_of[variant], mean_of[ref]))
                 if ref in mean_of else "" for ref in refs]  # fmt: skip
        lines.append(
            f"| `{variant}` | {' / '.join(f'{s:.2f}' for s in seeds)} | "
            f"{mean_of[variant].mean():.2f} | {agree:.3f} | " + " | ".join(diffs) + " |"
        )
    for ref in REFERENCES:
        lines.append(f"| `{ref}` | | {mean_of[ref].mean():.2f} |" + " |" * (len(refs) + 1))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--scenario", default="default")
    p.add_argument("--episodes", type=int, default=20, help="data seasons per behaviour")
    p.add_argument("--seed", type=int, default=3000, help="first data season")
    p.add_argument("--eval-episodes", type=int, default=16)
    p.add_argument("--eval-seed", type=int, default=100000, help="first evaluation season")
    p.add_argument("--training-seeds", default="0,1,2")
    p.add_argument("--steps", type=int, default=5000)
    p.add_argument("--aux-weight", type=float, default=1.0)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", type=Path, default=None, help="csv of the rows")
    args = p.parse_args(argv)
    try:
        training_seeds = [int(s) for s in args.training_seeds.split(",") if s]
        gym.make(envs.ENV_ID, scenario=args.scenario)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"price_features: {exc}", file=sys.stderr)
        return 2
    data_tasks = [(args.scenario, b, args.seed + i * args.episodes + e)
                  for i, b in enumerate(BEHAVIORS) for e in range(args.episodes)]  # fmt: skip
    learners = [(v, s) for v in VARIANTS for s in training_seeds]
    evals = [args.eval_seed + e for e in range(args.eval_episodes)]
    with process_pool(max(1, args.jobs)) as pool:
        parts = list(pool.map(collect_season, *zip(*data_tasks, strict=True)))
        data = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
        n = len(learners)
        trained = list(pool.map(train, [data] * n, *zip(*learners, strict=True),
                                [args.steps] * n, [args.aux_weight] * n))  # fmt: skip
        plays = [
            (args.scenario, net, v, seed)
            for (v, _), (net, _) in zip(learners, trained, strict=True)
            for seed in evals
        ]
        returns = list(pool.map(play, *zip(*plays, strict=True)))
        refs = [(args.scenario, ref, seed) for ref in REFERENCES for seed in evals]
        ref_returns = list(pool.map(reference_return, *zip(*refs, strict=True)))
    agreement = {learner: acc for learner, (_, acc) in zip(learners, trained, strict=True)}
    played = [(v, s, seed) for v, s in learners for seed in evals]
    rows = [{"policy": v, "training_seed": s, "seed": seed, "return": r,
             "agreement": agreement[(v, s)]}
            for (v, s, seed), r in zip(played, returns, strict=True)]  # fmt: skip
    rows += [{"policy": ref, "training_seed": -1, "seed": seed, "return": r}
             for (_, ref, seed), r in zip(refs, ref_returns, strict=True)]  # fmt: skip
    frame = pd.DataFrame(rows)
    if args.out is not None:
        write_atomic(args.out, frame.to_csv(index=False))
    print(f"{len(data['label'])} labelled states from {len(data_tasks)} seasons")
    print(table(frame, agreement))
    return 0


if __name__ == "__main__":
    sys.exit(main())
