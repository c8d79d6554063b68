"""Export a collected dataset to Minari, the Farama format for offline-RL datasets.

    python -m experiments.minari_export DATASET_DIR isched/default-mixed-v0

Each logged season becomes one Minari episode: observations (the season's
observations plus the final one), actions, rewards, terminations, truncations, and
``infos["action_mask"]`` (the mask of every observation, the final one included)
and ``infos["behavior"]`` (the index of the behaviour policy in ``behaviors``, which
the dataset's description lists in order). The env spec is the season
env with the dataset's scenario, so ``MinariDataset.recover_environment()`` builds
it back. Minari writes under ``$MINARI_DATASETS_PATH`` (``~/.minari/datasets``
unless set); it is imported only here, and only ``create_dataset_from_buffers`` is
used (its ``DataCollector`` needs JAX).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import envs
from policies.offline.dataset import check_shapes, episode_rows, load_dataset, load_manifest


def episode_buffers(data: dict[str, np.ndarray], behaviors: list[str]) -> list[Any]:
    """One ``minari.EpisodeBuffer`` per logged season, in episode-id order."""
    from minari.data_collector import EpisodeBuffer

    buffers = []
    for number, rows in enumerate(episode_rows(data)):
        last = rows[-1]
        masks = np.concatenate([data["action_mask"][rows], data["next_action_mask"][last][None]])
        behavior = behaviors.index(str(data["behavior"][rows[0]]))
        buffers.append(
            EpisodeBuffer(
                id=number,
                seed=int(data["seed"][rows[0]]),
                observations=np.concatenate([data["obs"][rows], data["next_obs"][last][None]]),
                actions=np.asarray(data["action"][rows], dtype=np.int64),
                rewards=np.asarray(data["reward"][rows], dtype=np.float64).tolist(),
                terminations=np.asarray(data["terminated"][rows], dtype=bool).tolist(),
                truncations=np.asarray(data["truncated"][rows], dtype=bool).tolist(),
                infos={
                    "action_mask": masks.astype(np.int8),
                    # a list: Minari's arrow storage cannot read back 1-d info arrays
                    "behavior": [behavior] * len(masks),
                },
            )
        )
    return buffers


def export_minari(dataset_dir: str | Path, dataset_id: str, data_format: str = "arrow") -> Any:
    """Write the dataset in ``dataset_dir`` as the Minari dataset ``dataset_id``; return it."""
    data = load_dataset(dataset_dir)
    check_shapes(data)
    return to_minari(data, load_manifest(dataset_dir), dataset_id, data_format)


def to_minari(
    data: dict[str, np.ndarray],
    manifest: dict[str, Any],
    dataset_id: str,
    data_format: str = "arrow",
) -> Any:
    """Write a dataset's columns (as ``collect`` returns them) as the Minari dataset
    ``dataset_id``; return it."""
    import warnings

    import minari

    env = gym.make(envs.ENV_ID, scenario=manifest.get("scenario") or "default")
    behaviors = sorted({str(b) for b in data["behavior"]})
    with warnings.catch_warnings():  # no author, e-mail, permalink or eval env to name
        warnings.filterwarnings("ignore", category=UserWarning, module="minari")
        return minari.create_dataset_from_buffers(
            dataset_id=dataset_id,
            buffer=episode_buffers(data, behaviors),
            env=env,
            algorithm_name=", ".join(behaviors),
            description=(
                f"isched season env, scenario {manifest.get('scenario')}: "
                f"{data['action'].size} transitions. infos['action_mask'] is the mask of "
                "valid actions of each observation; infos['behavior'] indexes the behaviour "
                f"policies {behaviors}."
            ),
            data_format=data_format,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="dataset directory (isched collect)")
    parser.add_argument("dataset_id", help="Minari id, e.g. isched/default-mixed-v0")
    parser.add_argument("--format", default="arrow", choices=["arrow", "hdf5"])
    args = parser.parse_args(argv)
    dataset = export_minari(args.dataset, args.dataset_id, args.format)
    print(f"wrote Minari dataset {args.dataset_id}: {dataset.total_episodes} episodes, "
          f"{dataset.total_steps} steps")  # fmt: skip


if __name__ == "__main__":
    main()
