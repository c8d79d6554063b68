"""The training loop the algorithms share: seeding, device, gradient steps, saving.

Each algorithm builds its networks and an ``update(batch, step) -> metrics`` closure;
``fit_and_save`` runs it for ``settings.steps`` steps with a progress bar, writes
``train_log.csv`` and then the checkpoint.
"""

from __future__ import annotations

import contextlib
import csv
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from policies.offline.checkpoint import save_checkpoint
from policies.offline.networks import normalizer
from policies.offline.replay import Batch, Replay


def pick_device(name: str = "cpu") -> torch.device:
    """``cpu``, ``cuda`` (an error when absent) or ``auto`` (cuda when available)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda: no CUDA device is available")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device {name}: choose auto, cpu or cuda")
    return torch.device(name)


def seed_everything(seed: int, threads: int = 1) -> torch.Generator:
    """Seed python, numpy and torch; limit torch's CPU threads; a generator for sampling."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if threads > 0:
        torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)


class Start(NamedTuple):
    """What every algorithm's training starts from."""

    generator: torch.Generator
    """Draws the minibatches."""
    device: torch.device
    obs_size: int
    n_actions: int
    obs_mean: np.ndarray
    """Per-feature mean of the dataset's observations (the networks' normalisation)."""
    obs_std: np.ndarray


def start_training(data: dict[str, np.ndarray], settings: Any, device: str) -> Start:
    """Seed everything (``settings.seed``, ``settings.threads``), pick the device, and read
    the sizes and the observation normalisation of the dataset."""
    generator = seed_everything(settings.seed, settings.threads)
    dev = pick_device(device)
    obs_size, n_actions = data["obs"].shape[1], data["action_mask"].shape[1]
    mean, std = normalizer(data["obs"])
    return Start(generator, dev, int(obs_size), int(n_actions), mean, std)


def train_loop(
    update: Callable[[Batch, int], dict[str, float]],
    replay: Replay,
    steps: int,
    batch_size: int,
    generator: torch.Generator,
    log_path: Path | None,
    log_every: int = 500,
    description: str = "training",
) -> list[dict[str, float]]:
    """Run ``update(batch, step)`` for ``steps`` gradient steps; log every ``log_every``.

    The log rows (``step``, ``seconds`` and the means of what ``update`` returned since
    the last row) go to ``log_path`` as CSV and are returned. A progress bar shows on
    an interactive stderr.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    rows: list[dict[str, float]] = []
    sums: dict[str, float] = {}
    count = 0
    started = time.perf_counter()
    writer: csv.DictWriter | None = None
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[loss]}"),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    with contextlib.ExitStack() as stack:
        handle = None
        if log_path is not None:
            handle = stack.enter_context(open(log_path, "w", newline=""))
        with bar:
            task = bar.add_task(description, total=steps, loss="")
            for step in range(1, steps + 1):
                metrics = update(replay.sample(batch_size, generator), step)
                for key, value in metrics.items():
                    sums[key] = sums.get(key, 0.0) + value
                count += 1
                if step % log_every == 0 or step == steps:
                    row = {"step": float(step), "seconds": time.perf_counter() - started}
                    row.update({k: v / count for k, v in sums.items()})
                    rows.append(row)
                    sums, count = {}, 0
                    if handle is not None:
                        if writer is None:
                            writer = csv.DictWriter(handle, fieldnames=list(row))
                            writer.writeheader()
                        writer.writerow({k: f"{v:.6g}" for k, v in row.items()})
                        handle.flush()
                    shown = ", ".join(f"{k} {v:.3g}" for k, v in row.items() if k != "seconds")
                    bar.update(task, loss=shown)
                bar.advance(task)
    return rows


def fit_and_save(
    algo: str,
    settings: Any,
    update: Callable[[Batch, int], dict[str, float]],
    replay: Replay,
    generator: torch.Generator,
    networks: dict[str, nn.Module],
    device: torch.device,
    obs_size: int,
    n_actions: int,
    out_dir: str | Path | None,
    extra_config: dict[str, Any] | None = None,
    batches_per_step: int = 1,
) -> dict[str, nn.Module]:
    """Run ``train_loop``; return the trained networks on the CPU, saved when ``out_dir``.

    Each step samples ``batches_per_step`` minibatches of ``settings.batch_size`` at
    once (``update`` splits them, one per ensemble member)."""
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    train_loop(
        update,
        replay,
        settings.steps,
        settings.batch_size * batches_per_step,
        generator,
        out / "train_log.csv" if out is not None else None,
        settings.log_every,
        description=algo,
    )
    trained = {name: net.cpu().eval() for name, net in networks.items()}
    if out is not None:
        info = {"device": str(device), "train_seconds": round(time.perf_counter() - started, 2)}
        save_checkpoint(out, algo, settings, trained, obs_size, n_actions,
                        {**info, **(extra_config or {})})  # fmt: skip
    return trained
