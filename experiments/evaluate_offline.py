"""Offline RL on ``default``: collect, train CQL, BCQ and BC, evaluate on held-out seasons.

    python -m experiments.evaluate_offline --out out/offline_eval

1. Collect behaviour data on the training seeds (``isched collect`` semantics: each
   behaviour plain and with epsilon-random valid actions).
2. Train masked CQL, BCQ and BC on it (wall-clock time measured; the budget is 15
   minutes for all three on 2 CPU cores).
3. Evaluate every trained policy beside every behaviour policy of the dataset (and
   ``cpsat`` / ``hindsight`` when they exist) on held-out seeds, the same seasons for
   all: mean return with a 95% CI, the paired difference to the best behaviour
   policy with a 95% CI, the fraction of the hindsight bound, median decision latency.

Writes ``OUT/results.md`` (the Markdown table, also printed), ``OUT/episodes.csv``
(one row per policy and season), ``OUT/training.json``, the dataset and the models.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import envs
from policies import make_policy
from policies.offline.dataset import (
    collect,
    load_manifest,
    make_behavior,
    merge_datasets,
    write_dataset,
)
from policies.offline.train import train_model
from policies.rollout import code_version, mean_ci, run_episode, simulate

EVAL_SEED = 100_000
"""Held-out seasons start here; training seasons are ``0 ... `` (far below)."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def available(name: str) -> bool:
    """Whether ``make_policy(name)`` works in this checkout."""
    try:
        make_policy(name)
    except Exception:  # noqa: BLE001  (any failure: not available here)
        return False
    return True


def _evaluate_season(task: tuple[str, str, str | None, int]) -> dict[str, Any]:
    """One held-out season of a behaviour label (or of the policy ``name``) in a fresh env."""
    scenario, label, name, seed = task
    env = gym.make(envs.ENV_ID, scenario=scenario)
    policy = make_policy(name, seed=seed) if name else make_behavior(label, seed=seed)
    started = time.perf_counter()
    kpis, steps, latencies = run_episode(env, policy, seed)
    return {
        "policy": label,
        "seed": seed,
        **kpis,
        "steps": steps,
        "seconds": time.perf_counter() - started,
        "decision_ms_median": 1000 * float(np.median(latencies)),
        "decision_ms_mean": 1000 * float(np.mean(latencies)),
        "code_version": code_version(),
    }


def evaluate(
    scenario: str, label: str, seeds: list[int], name: str | None = None, jobs: int = 1
) -> list[dict[str, Any]]:
    """One row per held-out season for a behaviour label, or for policy ``name`` shown as
    ``label``; ``jobs`` processes play the seasons (latencies are then measured under load
    from the other processes: use ``jobs=1`` for latency numbers).
    """
    tasks = [(scenario, label, name, seed) for seed in seeds]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            rows = list(pool.map(_evaluate_season, tasks))
    else:
        rows = [_evaluate_season(task) for task in tasks]
    log(f"evaluated {label}: mean return {np.mean([r['return'] for r in rows]):.2f}")
    return rows


def number(value: float, fmt: str) -> str:
    """``value`` formatted, or ``n/a`` for NaN."""
    return "n/a" if np.isnan(value) else format(value, fmt)


def summarise(
    rows: list[dict[str, Any]], policies: list[str], behaviours: list[str]
) -> tuple[str, dict[str, Any]]:
    """The Markdown table and the numbers behind it."""
    by = {p: {r["seed"]: r for r in rows if r["policy"] == p} for p in policies}
    seeds = sorted(next(iter(by.values())))
    returns = {p: np.array([by[p][s]["return"] for s in seeds]) for p in policies}
    best = max(behaviours, key=lambda p: returns[p].mean())
    planner = "cpsat" if "cpsat" in returns else None
    bound, floor = returns.get("hindsight"), returns.get("random")
    lines = [
        f"| policy | mean return (95% CI) | minus {best} (paired 95% CI) | "
        + (f"minus {planner} (paired 95% CI) | " if planner else "")
        + "fraction of hindsight (random = 0) | hires | fill rate | median decision (ms) | "
        "mean decision (ms) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if planner else ""),
    ]
    numbers: dict[str, Any] = {"best_behaviour": best, "seeds": seeds, "policies": {}}
    for p in policies:
        m, lo, hi = mean_ci(returns[p])
        dm, dlo, dhi = mean_ci(returns[p] - returns[best])
        frac = "n/a"
        if bound is not None and floor is not None and bound.mean() > floor.mean():
            frac = f"{(returns[p].mean() - floor.mean()) / (bound.mean() - floor.mean()):.2f}"
        latency = float(np.median([by[p][s]["decision_ms_median"] for s in seeds]))
        mean_ms = float(np.mean([by[p][s]["decision_ms_mean"] for s in seeds]))
        hires = float(np.mean([by[p][s]["hires"] for s in seeds]))
        fill = float(np.mean([by[p][s]["fill_rate"] for s in seeds]))
        diff = "—" if p == best else f"{dm:+.2f} [{dlo:+.2f}, {dhi:+.2f}]"
        versus_planner = ""
        if planner:
            pm, plo, phi = mean_ci(returns[p] - returns[planner])
            versus_planner = "— | " if p == planner else f"{pm:+.2f} [{plo:+.2f}, {phi:+.2f}] | "
        lines.append(
            f"| {p} | {m:.2f} [{lo:.2f}, {hi:.2f}] | {diff} | {versus_planner}{frac} | "
            f"{hires:.1f} | {number(fill, '.2f')} | {number(latency, '.3f')} | "
            f"{number(mean_ms, '.3f')} |"
        )
        numbers["policies"][p] = {
            "mean": m, "ci": [lo, hi], "diff_best": [dm, dlo, dhi], "latency_ms": latency,
            "mean_decision_ms": mean_ms,
        }  # fmt: skip
        if planner:
            numbers["policies"][p]["diff_planner"] = [pm, plo, phi]
    return "\n".join(lines), numbers


def bar_lines(numbers: dict[str, Any], learned: list[str]) -> list[str]:
    """The issue's three questions for each learned policy, answered from ``numbers``."""
    best = numbers["best_behaviour"]
    stats = numbers["policies"]
    planner = stats.get("cpsat")
    lines = []
    for p in learned:
        mine = stats[p]
        _, low, high = mine["diff_best"]
        verdict = "beats" if low > 0 else ("loses to" if high < 0 else "does not beat (CI spans 0)")
        line = (
            f"- {p} {verdict} the best behaviour `{best}` (paired 95% CI [{low:+.2f}, {high:+.2f}])"
        )
        if planner is not None:
            reached = "reaches" if mine["mean"] >= planner["mean"] else "does not reach"
            speedup = planner["mean_decision_ms"] / max(mine["latency_ms"], 1e-9)
            line += (
                f"; {reached} `cpsat`'s mean ({mine['mean']:.2f} vs {planner['mean']:.2f}), "
                f"deciding in {mine['latency_ms']:.3f} ms (median), {speedup:.0f}x less than "
                f"`cpsat`'s mean {planner['mean_decision_ms']:.1f} ms"
            )
        lines.append(line + ".")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/offline_eval"))
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--behaviors", default="random,fifo,urgency,greedy")
    parser.add_argument("--epsilons", default="0,0.2,0.5")
    parser.add_argument("--episodes", type=int, default=30, help="seasons per behaviour variant")
    parser.add_argument("--seed", type=int, default=0, help="first training season")
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument(
        "--reference",
        default="",
        help="comma-separated policies evaluated for reference though not in the dataset",
    )
    parser.add_argument(
        "--skip-eval", default="", help="comma-separated behaviour labels not to evaluate (slow)"
    )
    parser.add_argument("--algos", default="cql,bcq,bc")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="processes for collecting and for evaluating the baselines (the learned "
        "policies are always evaluated in one process, for their latency)",
    )
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads in training")
    parser.add_argument("--settings", default="{}", help='JSON: {"cql": {"alpha": 1.0}, ...}')
    parser.add_argument(
        "--add-datasets",
        default="",
        help="comma-separated dataset directories (e.g. slow cpsat rollouts) merged with the "
        "collected one; with --episodes 0 only these are used",
    )
    args = parser.parse_args(argv)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    behaviours = [b for b in args.behaviors.split(",") if b]
    epsilons = [float(e) for e in args.epsilons.split(",")]
    overrides: dict[str, dict[str, Any]] = json.loads(args.settings)

    # 1. data ------------------------------------------------------------------------
    sources = [Path(d) for d in args.add_datasets.split(",") if d]
    if args.episodes > 0:
        log(f"collecting {behaviours} x epsilons {epsilons}, {args.episodes} seasons each")
        data, manifest = collect(
            args.scenario, behaviours, args.episodes, args.seed, epsilons, jobs=args.jobs
        )
        write_dataset(out / "collected", data, manifest)
        log(f"collected {data['action'].size} transitions in {manifest['collect_seconds']} s")
        sources.insert(0, out / "collected")
    if not sources:
        raise SystemExit("nothing to train on: --episodes 0 and no --add-datasets")
    dataset = out / "dataset"
    merge_datasets(sources, dataset)
    manifest = load_manifest(dataset)
    labels = list(manifest["behaviors"])

    # 2. training --------------------------------------------------------------------
    training: dict[str, Any] = {}
    algos = [a for a in args.algos.split(",") if a]
    for algo in algos:
        settings = {"threads": args.threads, **overrides.get(algo, {})}
        settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
        log(f"training {algo} with {settings}")
        summary = train_model(dataset, algo, out / algo, **settings)
        training[algo] = {"seconds": round(summary["seconds"], 1), "settings": settings}
        log(f"trained {algo} in {summary['seconds']:.0f} s")
    training["total_seconds"] = round(sum(t["seconds"] for t in training.values()), 1)
    (out / "training.json").write_text(json.dumps(training, indent=2) + "\n")

    # 3. evaluation ------------------------------------------------------------------
    seeds = [EVAL_SEED + e for e in range(args.eval_episodes)]
    rows: list[dict[str, Any]] = []
    notes = []
    for algo in algos:
        name = f"rl:{out / algo}"
        rows += evaluate(args.scenario, algo.upper(), seeds, name)
    skipped = [label for label in args.skip_eval.split(",") if label in labels]
    if skipped:
        notes.append(f"Not evaluated (time): {', '.join(skipped)}.")
    labels = [label for label in labels if label not in skipped]
    for label in labels:
        rows += evaluate(args.scenario, label, seeds, jobs=args.jobs)
    extra = [r for r in args.reference.split(",") if r and r not in labels]
    for name in extra:
        rows += evaluate(args.scenario, name, seeds, name, jobs=args.jobs)
    if "cpsat" in labels:
        pass  # a behaviour of the dataset: evaluated above
    elif available("cpsat"):
        rows += evaluate(args.scenario, "cpsat", seeds, "cpsat", jobs=args.jobs)
        extra.append("cpsat")
    else:
        notes.append("`cpsat` is not available in this checkout: skipped.")
    try:
        from policies.hindsight import hindsight_bound  # noqa: F401
    except ImportError:
        notes.append("The hindsight bound (policies/hindsight.py) is not available: skipped.")
    else:
        log("computing the hindsight bound")
        bounds = simulate(args.scenario, ["hindsight"], len(seeds), seeds[0])
        nan = float("nan")
        rows += [{**r, "policy": "hindsight", "decision_ms_median": nan, "decision_ms_mean": nan,
                  "fill_rate": nan} for r in bounds]  # fmt: skip
        extra.append("hindsight")
    policies = [a.upper() for a in algos] + labels + extra
    table, numbers = summarise(rows, policies, labels)
    notes = bar_lines(numbers, [a.upper() for a in algos]) + [""] + notes

    import pandas as pd

    pd.DataFrame(rows).to_csv(out / "episodes.csv", index=False)
    header = (
        f"## Offline RL on `{args.scenario}`\n\n"
        f"Dataset: {manifest['transitions']} transitions, {manifest['episodes']} seasons "
        f"(seeds {args.seed}...), behaviours {', '.join(labels)}. Held-out seasons: seeds "
        f"{seeds[0]}..{seeds[-1]} ({len(seeds)}), the same for every policy. Training "
        f"wall-clock: {training['total_seconds']:.0f} s in total "
        + ", ".join(f"{a} {training[a]['seconds']:.0f} s" for a in algos)
        + f" ({args.threads} torch threads). Code version {code_version()}.\n"
    )
    header += (
        "\nFraction of hindsight: (mean return - random's) / (hindsight bound - random's). "
        "Decision times include the daily solve of planners (their median hides it: see the "
        "mean).\n"
    )
    text = header + "\n" + table + "\n" + "".join(f"\n{n}" for n in notes) + "\n"
    (out / "results.md").write_text(text)
    (out / "results.json").write_text(json.dumps({**numbers, "training": training}, indent=2))
    print(text)


if __name__ == "__main__":
    main()
