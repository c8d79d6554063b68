"""The command line shared by the per-season studies (``withdrawals``, ``best_candidates``,
``quality_known``, ``secretary``): seasons from a first seed, optionally several policies, run in a
process pool, one row list per task, a markdown table printed and a csv written."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import write_atomic
from scheduler.processes import process_pool


def parser(doc: str, seed: int, policies: str | None = None) -> argparse.ArgumentParser:
    """``--scenario --episodes --seed --jobs --out`` (and ``--policy`` when ``policies``)."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--scenario", default="default")
    if policies is not None:
        p.add_argument("--policy", default=policies, help="comma-separated policies")
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--seed", type=int, default=seed, help="first season seed")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", type=Path, default=None, help="csv of the rows")
    return p


def run(
    name: str,
    task: Callable[..., list[dict[str, Any]]],
    tasks: Sequence[tuple[Any, ...]],
    jobs: int,
    out: Path | None,
    table: Callable[[pd.DataFrame], str],
) -> int:
    """Run ``task`` on each argument tuple (``jobs`` processes), write the csv, print the
    table; exit code 2 with one line for a bad scenario or policy."""
    try:
        if jobs > 1:
            with process_pool(jobs) as pool:
                parts = list(pool.map(task, *zip(*tasks, strict=True)))
        else:
            parts = [task(*t) for t in tasks]
    except (ValueError, KeyError, FileNotFoundError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    rows = pd.DataFrame([r for part in parts for r in part])
    if out is not None:
        write_atomic(out, rows.to_csv(index=False))
    print(table(rows))
    return 0


def count_rows(
    base: dict[str, Any], counts: dict[str, int], key: str, value: str
) -> list[dict[str, Any]]:
    """One row per counted kind (``key``: its name, ``value``: its count), or one ``none`` row."""
    rows = [{**base, key: kind, value: n} for kind, n in sorted(counts.items())]
    return rows or [{**base, key: "none", value: 0}]


def counts_table(rows: pd.DataFrame, key: str, value: str, title: str) -> list[str]:
    """Markdown lines: counts per season by ``key`` (rows, most first) and policy (columns,
    in the order they come)."""
    seasons = rows.groupby("policy")["seed"].nunique()
    per = rows[rows[key] != "none"].pivot_table(
        index=key, columns="policy", values=value, aggfunc="sum", fill_value=0
    )
    policies = list(dict.fromkeys(rows["policy"]))
    per = (per / seasons[per.columns]).reindex(columns=policies, fill_value=0.0)
    per = per.loc[per.sum(axis=1).sort_values(ascending=False).index]
    lines = [f"| {title} | " + " | ".join(f"`{p}`" for p in policies) + " |",
             "| --- |" + " ---: |" * len(policies)]  # fmt: skip
    for kind, values in per.iterrows():
        lines.append(f"| {kind} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
    return lines


def per_policy_line(rows: pd.DataFrame, label: str, column: str, fmt: str = "{:.1f}") -> str:
    """A markdown line of ``column``'s mean over each policy's seasons."""
    means = rows.drop_duplicates(["policy", "seed"]).groupby("policy")[column].mean()
    policies = list(dict.fromkeys(rows["policy"]))
    return f"| {label} | " + " | ".join(fmt.format(means[p]) for p in policies) + " |"


def policy_main(
    name: str,
    doc: str,
    task: Callable[[str, str, int], list[dict[str, Any]]],
    table: Callable[[pd.DataFrame], str],
    argv: list[str] | None,
) -> int:
    """The whole command of a study of several policies: ``task(scenario, policy, seed)``
    on every policy and season (first seed 100000: tuning seeds)."""
    args = parser(doc, seed=100000, policies="cpsat,greedy_fit").parse_args(argv)
    policies = [p for p in args.policy.split(",") if p]
    tasks = [(args.scenario, p, args.seed + i) for p in policies for i in range(args.episodes)]
    return run(name, task, tasks, args.jobs, args.out, table)


def season_main(
    name: str,
    doc: str,
    task: Callable[[str, int], list[dict[str, Any]]],
    table: Callable[[pd.DataFrame], str],
    argv: list[str] | None,
    seed: int,
) -> int:
    """The whole command of a study without policies: ``task(scenario, seed)`` on every
    season from ``seed`` (the default first seed)."""
    args = parser(doc, seed=seed).parse_args(argv)
    tasks = [(args.scenario, args.seed + i) for i in range(args.episodes)]
    return run(name, task, tasks, args.jobs, args.out, table)
