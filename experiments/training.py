"""The train steps of an experiment: build each learned policy's model before evaluation.

A step writes ``DIR/models/NAME`` (built under a temporary name, then renamed)
with ``step.json`` holding the step's hash last; a step whose directory holds
the same hash is done and is skipped when the experiment runs again. A step with
``training_seeds`` writes one model per seed, ``DIR/models/NAME/seedS`` (an offline
step collects its data once, into ``DIR/models/NAME/data``), trained side by side
on the experiment's workers.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from experiments.config import (
    ExperimentConfig,
    TrainStep,
    member_dir,
    scenario_spec,
    short_hash,
)
from scheduler.processes import process_pool


def build_models(
    config: ExperimentConfig,
    out_dir: Path,
    workers: int = 1,
    on_message: Callable[[str], None] | None = None,
) -> None:
    """Run every train step of ``config`` whose model is missing or stale."""
    say = on_message or (lambda message: None)
    base = Path(config.path).parent
    for step in config.train:
        target = out_dir / "models" / step.name
        digest = short_hash(asdict(step))
        marker = target / "step.json"
        if marker.is_file() and json.loads(marker.read_text()).get("hash") == digest:
            say(f"train step {step.name}: done before, kept ({target})")
            continue
        scenario = scenario_spec(
            step.settings["scenario"], base, f"{config.path}: 'train.{step.name}.scenario'"
        ).source
        building = target.with_name(f".{step.name}.building")
        shutil.rmtree(building, ignore_errors=True)
        say(f"train step {step.name} ({step.kind}) ...")
        started = time.perf_counter()
        if step.training_seeds:
            _members(step, scenario, building, workers)
        elif step.kind == "offline":
            _offline(step, scenario, building, workers)
        else:
            _ppo(step.settings, scenario, building)
        seconds = time.perf_counter() - started
        (building / "step.json").write_text(
            json.dumps({"hash": digest, **asdict(step), "seconds": round(seconds, 1)}, indent=2)
        )
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
        say(f"train step {step.name}: {seconds:.0f} s, wrote {target}")


def _offline(step: TrainStep, scenario: str, out: Path, workers: int) -> None:
    """Collect the behaviour seasons, then train the offline model on them."""
    _collect(step, scenario, out, workers)
    _train_offline(step.settings, out / "data", out)


def _collect(step: TrainStep, scenario: str, out: Path, workers: int) -> None:
    from policies.offline.dataset import collect, write_dataset

    s = step.settings
    data, manifest = collect(
        scenario, s["behaviors"], s["episodes"], s["seed"], s["epsilons"], jobs=workers
    )
    write_dataset(out / "data", data, manifest)


def _train_offline(settings: dict[str, Any], data: Path, out: Path) -> None:
    from policies.offline.train import train_model

    s = settings
    train_model(data, s["algo"], out, steps=s["steps"], seed=s["train_seed"], threads=1)


def _ppo(settings: dict[str, Any], scenario: str, out: Path) -> None:
    from policies.ppo import PpoSettings, train_ppo

    train_ppo(PpoSettings(**{**settings, "scenario": scenario}), out)


def _members(step: TrainStep, scenario: str, out: Path, workers: int) -> None:
    """One model per training seed under ``out/seedS``, up to ``workers`` at a time (an
    offline step's data collected once, before them)."""
    if step.kind == "offline":
        _collect(step, scenario, out, workers)
    jobs = [
        (step.kind, step.member_settings(seed), scenario, out, member_dir(out, seed))
        for seed in step.training_seeds
    ]
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            _member(*job)
        return
    with process_pool(min(workers, len(jobs))) as pool:
        for done in [pool.submit(_member, *job) for job in jobs]:
            done.result()


def _member(kind: str, settings: dict[str, Any], scenario: str, step_dir: Path, out: Path) -> None:
    """Train one member (one torch thread, as the trainers set it)."""
    if kind == "offline":
        _train_offline(settings, step_dir / "data", out)
    else:
        _ppo(settings, scenario, out)
