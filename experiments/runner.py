"""Run an experiment: one task per (scenario, policy or bound, seed), locally or on Ray.

Every finished task is one row, written by the driver as its own file
``DIR/rows/TASK_ID.json`` (temporary file, fsync, rename), so a run killed at
any moment loses no finished row and can never hold one twice; re-running
skips the tasks whose file exists. ``DIR/results.parquet`` is compacted from
those files (temporary file + rename) after every run. A task's id hashes
everything that decides its numbers (scenario and its YAML, policy and
options, the train step behind a learned policy, seed), so a changed
definition runs again instead of reusing a stale row.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.config import (
    ExperimentConfig,
    PolicySpec,
    ScenarioSpec,
    member_dir,
    member_label,
    short_hash,
)
from experiments.files import write_atomic
from scheduler.processes import process_pool

BACKENDS = ("local", "ray")
PACKAGES = (
    "numpy",
    "pandas",
    "gymnasium",
    "ortools",
    "torch",
    "stable-baselines3",
    "sb3-contrib",
    "ray",
)
TIMING_COLUMNS = (
    "seconds",
    "decision_ms_mean",
    "decision_ms_median",
    "decision_ms_p95",
    "decision_ms_per_day",
)
"""Columns measured on the wall clock: they differ between runs, the rest does not."""


@dataclass(frozen=True)
class Task:
    """One season to play (a policy) or to bound (a bound kind)."""

    scenario: ScenarioSpec
    label: str
    """The policy's label, or the bound's kind."""
    kind: str
    """``policy`` or ``bound``."""
    policy_name: str
    """What ``make_policy`` receives (a learned policy's model path resolved); "" for bounds."""
    options: tuple[tuple[str, Any], ...]
    seed: int
    task_id: str
    config_hash: str
    group: str = ""
    """The config's policy label when this is one member of a policy trained with several
    seeds (``label`` is then the member's, ``experiments.config.member_label``)."""
    training_seed: int = -1
    """The member's training seed (-1 outside a group)."""


def model_fingerprint(policy: str) -> str:
    """The SHA-256 of a model's files (``rl:DIR`` or ``ppo:PATH``; its README and training
    log aside), so that a model replaced under the same path is a new task, not the old
    model's rows read back."""
    path = Path(policy.partition(":")[2])
    files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
    digest = hashlib.sha256()
    for file in files:
        if file.is_file() and file.name not in ("README.md", "train_log.csv"):
            digest.update(str(file.relative_to(path) if file != path else "").encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:16]


def members(p: PolicySpec) -> list[tuple[str, str, int]]:
    """(label, group, training seed) of what plays for ``p``: itself, or one member per
    training seed of its step."""
    if not p.training_seeds:
        return [(p.label, "", -1)]
    return [(member_label(p.label, s), p.label, s) for s in p.training_seeds]


def plan_tasks(config: ExperimentConfig, out_dir: Path) -> list[Task]:
    """Every task of the config, seed by seed (so progress and ETA move evenly)."""
    steps = {t.name: asdict(t) for t in config.train}
    digest = config.digest()
    fingerprints: dict[str, str] = {}
    tasks: list[Task] = []
    for seed in config.seeds:
        for scenario in config.scenarios:
            where = {"label": scenario.label, "text": scenario.text}
            for p in config.policies:
                if p.seed_count is not None and seed >= config.seed_start + p.seed_count:
                    continue
                name = p.name
                prefix, _, path = name.partition(":")
                step_dir = (out_dir / "models" / (p.model_step or "")).resolve()
                if p.model_step is not None:
                    name = f"{prefix}:{step_dir}"
                elif prefix == "rl" and path:  # a model path: the same in every worker
                    from policies.offline.checkpoint import model_dir_of

                    name = f"rl:{model_dir_of(path).resolve()}"  # models/default from anywhere
                elif prefix == "ppo" and path:
                    name = f"ppo:{Path(path).resolve()}"
                identity: dict[str, Any] = {
                    "scenario": where,
                    "policy": p.name,
                    "options": p.options,
                    "step": steps.get(p.model_step or ""),
                    "seed": seed,
                }
                if prefix in ("rl", "ppo") and path and p.model_step is None:  # a model file
                    identity["model"] = fingerprints.setdefault(name, model_fingerprint(name))
                options = tuple(sorted(p.options.items()))
                for label, group, training_seed in members(p):
                    played, task_identity = name, identity
                    if group:  # one member of the step's models
                        played = f"{prefix}:{member_dir(step_dir, training_seed)}"
                        task_identity = {**identity, "training_seed": training_seed}
                    task_id = short_hash(task_identity)
                    tasks.append(Task(scenario, label, "policy", played, options, seed, task_id,
                                      digest, group, training_seed))  # fmt: skip
            for kind in config.bounds:
                identity = {"scenario": where, "bound": kind, "seed": seed}
                tasks.append(
                    Task(scenario, kind, "bound", "", (), seed, short_hash(identity), digest)
                )
    return tasks


@cache
def package_versions() -> str:
    """``name=version`` of the packages that decide the numbers, ``;``-separated."""
    from importlib.metadata import PackageNotFoundError, version

    found = [f"python={sys.version.split()[0]}"]
    for name in PACKAGES:
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            continue
    return ";".join(found)


def run_task(task: Task) -> dict[str, Any]:
    """Play (or bound) one season; its row. Runs in a worker process or a Ray task."""
    from policies.rollout import code_version

    head: dict[str, Any] = {
        "scenario": task.scenario.label,
        "policy": task.label,
        "kind": task.kind,
        "seed": task.seed,
    }
    if task.group:
        head.update(group=task.group, training_seed=task.training_seed)
    started = time.perf_counter()
    if task.kind == "bound":
        from experiments.bounds import bound_row

        found = bound_row(task.label)(task.scenario.source, task.seed)
        own = ("policy", "scenario", "kind", "episode")
        keep = {k: v for k, v in found.items() if k not in own}
        row = {**head, **keep, "seconds": time.perf_counter() - started}
    else:
        row = {**head, **_play(task), "seconds": time.perf_counter() - started}
    row.update(
        task_id=task.task_id,
        config_hash=task.config_hash,
        code_version=code_version(),
        packages=package_versions(),
    )
    return row


def _play(task: Task) -> dict[str, Any]:
    import gymnasium as gym

    import envs
    from policies import make_policy
    from policies.rollout import run_episode
    from scheduler.scenario import load_scenario

    env = gym.make(envs.ENV_ID, scenario=task.scenario.source)
    policy = make_policy(task.policy_name, seed=task.seed, **dict(task.options))
    if "torch" in sys.modules:  # one thread per task: the pool supplies the parallelism
        sys.modules["torch"].set_num_threads(1)
    kpis, steps, latencies = run_episode(env, policy, task.seed)
    ms = 1000 * np.asarray(latencies)
    days = load_scenario(task.scenario.source).working_days
    return {
        **kpis,
        "steps": steps,
        "days": days,
        "decision_ms_mean": float(ms.mean()),
        "decision_ms_median": float(np.median(ms)),
        "decision_ms_p95": float(np.percentile(ms, 95)),
        "decision_ms_per_day": float(ms.sum() / days),
    }


class RowStore:
    """Finished rows, one file each under ``DIR/rows`` (atomic, never duplicated)."""

    def __init__(self, out_dir: Path) -> None:
        self.dir = out_dir / "rows"

    def done(self) -> set[str]:
        """Ids of the finished tasks (and away with temporary files a killed run left, and
        with row files damaged outside the run, whose tasks then run again)."""
        if not self.dir.is_dir():
            return set()
        for stale in self.dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        finished = set()
        for path in self.dir.glob("*.json"):
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                row = None
            if isinstance(row, dict) and row.get("task_id") == path.stem:
                finished.add(path.stem)
            else:
                path.unlink()
        return finished

    def forget(self, task_id: str) -> None:
        """Drop a finished row, so that its task runs again."""
        (self.dir / f"{task_id}.json").unlink(missing_ok=True)

    def write(self, row: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.dir / f"{row['task_id']}.json", json.dumps(row, default=_plain))

    def read(self, task_ids: Iterable[str]) -> list[dict[str, Any]]:
        rows = []
        for task_id in task_ids:
            path = self.dir / f"{task_id}.json"
            if path.is_file():
                rows.append(json.loads(path.read_text()))
        return rows


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def compact(out_dir: Path, tasks: list[Task]) -> pd.DataFrame:
    """``DIR/results.parquet`` from the rows of ``tasks`` that have finished, in task order."""
    rows = RowStore(out_dir).read(t.task_id for t in tasks)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        rank = {t.task_id: k for k, t in enumerate(sorted(tasks, key=_table_order(tasks)))}
        frame = frame.sort_values("task_id", key=lambda s: s.map(rank), ignore_index=True)
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    write_atomic(out_dir / "results.parquet", buffer.getvalue())
    return frame


def _table_order(tasks: list[Task]) -> Callable[[Task], tuple[int, int, int, int]]:
    """Rows by scenario and policy in config order (bounds last), then seed."""
    scenarios = {s: k for k, s in enumerate(dict.fromkeys(t.scenario.label for t in tasks))}
    labels = {s: k for k, s in enumerate(dict.fromkeys(t.label for t in tasks))}
    return lambda t: (scenarios[t.scenario.label], t.kind == "bound", labels[t.label], t.seed)


OnRow = Callable[[dict[str, Any]], None]


def run_experiment(
    config: ExperimentConfig,
    out_dir: Path,
    backend: str = "local",
    workers: int = 2,
    address: str | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_row: OnRow | None = None,
    on_message: Callable[[str], None] | None = None,
    rerun: Iterable[str] = (),
) -> pd.DataFrame:
    """Train what the config asks for, run every missing task and compact the results.

    ``on_start(done, total)`` is called once the tasks are known; ``on_row`` after each row.
    ``rerun`` names policy labels or bound kinds whose finished rows are dropped and run
    again (a row is reused whenever its task is the same, whatever the code version, so
    a change to the code behind a policy or a bound needs this).
    """
    from experiments.training import build_models

    if backend not in BACKENDS:
        raise ValueError(f"--backend {backend}: choose from {', '.join(BACKENDS)}")
    again = set(rerun)
    labels = {p.label for p in config.policies} | set(config.bounds)
    if again - labels:
        raise ValueError(
            f"--rerun {', '.join(sorted(again - labels))}: not a policy or bound of the "
            f"config (choose from {', '.join(sorted(labels))})"
        )
    if backend == "ray" and address:
        check_ray_address(address)
    out_dir.mkdir(parents=True, exist_ok=True)
    build_models(config, out_dir, workers=workers, on_message=on_message)
    tasks = plan_tasks(config, out_dir)
    store = RowStore(out_dir)
    for t in tasks:
        if t.label in again or t.group in again:
            store.forget(t.task_id)
    finished = store.done()
    todo = [t for t in tasks if t.task_id not in finished]
    if on_start is not None:
        on_start(len(tasks) - len(todo), len(tasks))
    if todo:
        rows = _run_ray(todo, workers, address) if backend == "ray" else _run_local(todo, workers)
        for row in rows:
            store.write(row)
            if on_row is not None:
                on_row(row)
    return compact(out_dir, tasks)


def _run_local(tasks: list[Task], workers: int) -> Iterator[dict[str, Any]]:
    """Rows as they finish, from a pool of ``workers`` processes (in-process for one)."""
    if workers <= 1:
        yield from map(run_task, tasks)
        return
    with process_pool(workers) as pool:
        pending: set[Future[dict[str, Any]]] = set()
        queue = iter(tasks)
        for task in queue:  # keep the pool a little ahead, not the whole plan queued
            pending.add(pool.submit(run_task, task))
            if len(pending) >= 2 * workers:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                following = next(queue, None)
                if following is not None:
                    pending.add(pool.submit(run_task, following))


def check_ray_address(address: str, timeout: float = 5.0) -> None:
    """Refuse, before any work, a ``--address HOST:PORT`` where nothing answers (Ray itself
    retries it for minutes); ``auto``, ``local`` and other forms are left to Ray."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as problem:
        why = problem.strerror or type(problem).__name__
        raise ValueError(f"--address {address}: no Ray cluster answers there ({why})") from None


def _run_ray(tasks: list[Task], workers: int, address: str | None) -> Iterator[dict[str, Any]]:
    """The same tasks as Ray tasks (a local Ray of ``workers`` CPUs, or the cluster at address)."""
    import ray

    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
        )
    try:
        remote = ray.remote(num_cpus=1)(run_task)
        pending = [remote.remote(task) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()
