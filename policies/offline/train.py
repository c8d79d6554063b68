"""Train an offline-RL algorithm on a dataset directory (what ``isched train`` runs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from policies.offline.algorithm import get_algorithm


def train_model(
    dataset_dir: str | Path,
    algo: str,
    out_dir: str | Path,
    device: str = "cpu",
    **overrides: Any,
) -> dict[str, Any]:
    """Load the dataset, train ``algo`` and write the model; a summary of the run."""
    from policies.offline.dataset import check_shapes, load_dataset, load_manifest
    from policies.rollout import code_version

    algorithm = get_algorithm(algo)
    settings = algorithm.make_settings(**overrides)
    manifest = load_manifest(dataset_dir)
    data = load_dataset(dataset_dir)
    check_shapes(data)
    started = time.perf_counter()
    algorithm.train(
        data,
        settings,
        out_dir,
        device=device,
        extra_config={
            "dataset": str(Path(dataset_dir).resolve()),
            "dataset_transitions": manifest["transitions"],
            "dataset_behaviors": sorted(manifest.get("behaviors", {})),
            "dataset_scenario": manifest.get("scenario"),
            "dataset_code_version": manifest.get("code_version"),
            "code_version": code_version(),
        },
    )
    return {
        "algo": algo,
        "out": str(out_dir),
        "steps": settings.steps,
        "transitions": int(data["action"].size),
        "seconds": time.perf_counter() - started,
    }
