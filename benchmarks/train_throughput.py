"""Training throughput: offline CQL gradient steps/s and MaskablePPO env steps/s.

    python benchmarks/train_throughput.py [--scenario default]

Prints a table and writes out/bench/train_throughput.csv. CQL trains on a small
greedy_fit dataset of tuning seasons (seeds below 500000) with one thread; PPO
counts environment steps per second of training (its evaluation excluded).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench_csv import write_rows

from policies.offline.dataset import collect, write_dataset
from policies.offline.train import train_model
from policies.ppo import PpoSettings, train_ppo

OUT = Path("out/bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default")
    parser.add_argument("--cql-steps", type=int, default=500)
    parser.add_argument("--ppo-steps", type=int, default=4096)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data, manifest = collect(args.scenario, ["greedy_fit"], 2, 480_000, [0.0])
        write_dataset(Path(tmp) / "data", data, manifest)
        cql = train_model(
            Path(tmp) / "data", "cql", Path(tmp) / "cql", steps=args.cql_steps, seed=0, threads=1
        )
        rows.append(
            {
                "what": "offline CQL (3 networks, 1 thread)",
                "unit": "gradient steps",
                "steps": cql["steps"],
                "seconds": round(cql["seconds"], 2),
                "per_second": round(cql["steps"] / cql["seconds"], 1),
            }
        )
        settings = PpoSettings(
            scenario=args.scenario,
            steps=args.ppo_steps,
            seed=0,
            eval_every=10 * args.ppo_steps,
            n_steps=1024,
        )
        ppo = train_ppo(settings, Path(tmp) / "ppo")
        done = max(args.ppo_steps, 1024 * -(-args.ppo_steps // 1024))
        rows.append(
            {
                "what": "MaskablePPO (1 thread)",
                "unit": "env steps",
                "steps": done,
                "seconds": round(ppo["train_seconds"], 2),
                "per_second": round(done / ppo["train_seconds"], 1),
            }
        )
    write_rows(OUT / "train_throughput.csv", rows)
    print(f"training throughput on {args.scenario}")
    print("| what | unit | steps | seconds | per second |")
    print("| --- | --- | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['what']} | {r['unit']} | {r['steps']} | {r['seconds']} | {r['per_second']} |")
    print(f"wrote {OUT / 'train_throughput.csv'}")


if __name__ == "__main__":
    main()
