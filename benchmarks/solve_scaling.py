"""How ``isched solve`` (CP-SAT, 2 workers) scales with the size of the scheduling job.

Generates a coordinator snapshot (seed 0, as ``isched generate`` does: the
season played by the greedy policy to a fifth of its days) for ``tiny``,
``default``, ``default`` with more candidates (bigger backlogs), ``large`` and
``large`` with twice the candidates (big enough to be decomposed); solves each
with CP-SAT on 2 workers (30 s; the ``large`` ones 120 s), checks the
schedule with the independent validator, and prints a Markdown table. The
greedy column is the objective of the greedy schedule alone (the CP-SAT hint).
Saves ``benchmarks/solve_scaling.png`` (solve time against requests) and writes the
rows to ``out/bench/solve_scaling.csv``.

    .venv/bin/python benchmarks/solve_scaling.py [--only NAME ...] [--time-scale 0.1]

Bars (SOLVER-NOTES): default OPTIMAL or gap <= 1% within 30 s; large a valid
schedule with gap <= 5% within 120 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from pathlib import Path

import gymnasium as gym
import matplotlib
from bench_csv import write_rows

import envs
from envs.export import coordinator_snapshot
from policies.rollout import play_until
from scheduler.scenario import NAMED, ScenarioConfig
from scheduler.solver import SolveOptions, solve_snapshot
from scheduler.validator import check_schedule

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
SCENARIOS: dict[str, tuple[ScenarioConfig, float]] = {
    "tiny": (NAMED["tiny"], 30.0),
    "default": (NAMED["default"], 30.0),
    "default-1500": (dataclasses.replace(NAMED["default"], n_candidates=1500), 30.0),
    "default-3000": (dataclasses.replace(NAMED["default"], n_candidates=3000), 30.0),
    "large": (NAMED["large"], 120.0),
    "large-10000": (dataclasses.replace(NAMED["large"], n_candidates=10_000), 120.0),
}
COLUMNS = ("scenario", "requests (screens/loops)", "variables", "status", "objective", "greedy",
           "bound", "bound_source", "gap", "seconds", "scheduled", "violations")  # fmt: skip


def make_snapshot(config: ScenarioConfig, seed: int, out: Path) -> Path:
    """The coordinator snapshot ``isched generate`` writes for ``config`` and ``seed``."""
    env = gym.make(envs.ENV_ID, scenario=config)
    play_until(env, seed)
    return coordinator_snapshot(env, seed, out)


def run(name: str, config: ScenarioConfig, limit: float, root: Path) -> dict[str, object]:
    snap = make_snapshot(config, 0, root / name)
    greedy = solve_snapshot(snap, SolveOptions(solver="greedy", lp_bound=False))
    began = time.perf_counter()
    result = solve_snapshot(snap, SolveOptions(time_limit=limit, workers=2, seed=0))
    seconds = time.perf_counter() - began
    out = root / f"{name}-out"
    result.write(out)
    r = result.report
    return {
        "scenario": name,
        "requests (screens/loops)": f"{r['requests']['screens']}/{r['requests']['loops']}",
        "n_requests": r["requests"]["screens"] + r["requests"]["loops"],
        "variables": r["variables"],
        "status": r["status"],
        "objective": r["objective"],
        "greedy": greedy.report["objective"],
        "bound": r["bound"],
        "bound_source": r["bound_source"],
        "gap": r["gap"],
        "seconds": round(seconds, 1),
        "scheduled": r["scheduled"],
        "violations": len(check_schedule(snap, out / "schedule.csv")),
        "parts": len(r["parts"]),
    }


def cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() else f"{value:g}"
    return "" if value is None else str(value)


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    for row in rows:
        values = [cell(row[c]) if c != "gap" else _gap(row[c]) for c in COLUMNS]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def _gap(value: object) -> str:
    return "" if value is None else f"{100 * float(value):.2f}%"  # type: ignore[arg-type]


def plot(rows: list[dict[str, object]], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    xs = [float(r["n_requests"]) for r in rows]  # type: ignore[arg-type]
    ys = [float(r["seconds"]) for r in rows]  # type: ignore[arg-type]
    ax.plot(xs, ys, "o", color="tab:blue")
    for n, (row, x, y) in enumerate(zip(rows, xs, ys, strict=True)):
        label = f"{row['scenario']}\n{row['status']}, gap {_gap(row['gap'])}"
        offset = (6, -22) if n % 2 else (6, 6)
        ax.annotate(label, (x, y), fontsize=7, textcoords="offset points", xytext=offset)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("requests (screens + loops)")
    ax.set_ylabel("solve seconds (CP-SAT, 2 workers)")
    ax.set_title("isched solve: time against job size (limits 30 s / 120 s)")
    ax.set_xlim(min(xs) / 1.5, max(xs) * 4)
    ax.set_ylim(min(ys) / 2, max(ys) * 3)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


CSV_PATH = Path("out/bench/solve_scaling.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="scenarios to run")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply time limits")
    parser.add_argument("--plot", type=Path, default=HERE / "solve_scaling.png")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (config, limit) in SCENARIOS.items():
            if args.only and name not in args.only:
                continue
            rows.append(run(name, config, limit * args.time_scale, Path(tmp)))
            print(f"done {name}: {rows[-1]['status']} in {rows[-1]['seconds']} s", flush=True)
    print(table(rows))
    plot(rows, args.plot)
    args.plot.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"plot: {args.plot} (rows: {args.plot.with_suffix('.json')})")
    if rows:
        write_rows(CSV_PATH, rows)
        print(f"wrote {CSV_PATH}")


if __name__ == "__main__":
    main()
