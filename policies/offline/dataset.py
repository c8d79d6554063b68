"""Logged transitions of behaviour policies, for offline RL.

A dataset directory holds three files:

- ``transitions.parquet``: one row per transition with the scalar columns
  ``action, reward, terminated, truncated, episode_id, step, behavior, scenario, seed``;
- ``arrays.npz`` (compressed): ``obs``, ``next_obs`` (float32, ``(N, OBS_SIZE)``),
  ``action_mask``, ``next_action_mask`` (int8, ``(N, N_ACTIONS)``), row-aligned with the table;
- ``manifest.json``: env id and version, scenario, seeds, behaviours, shapes, counts,
  code version.

A labelled dataset (``isched collect --label cpsat``) has one more scalar column,
``target_action``: the action the labelling planner would take in the logged state
(``policies/offline/labels.py``); datasets without it load as before.

Both formats store the exact values (no float rounding), and ``load_dataset`` returns
plain numpy arrays. Behaviour names are policy names (``greedy``, ``cpsat``...) with an
optional ``+epsE`` suffix: with probability E the action is a uniformly random *valid*
one instead (``greedy+eps0.2``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import envs
from envs.layout import N_ACTIONS, OBS_SIZE
from policies import Policy, make_policy
from policies.offline.labels import PlannerLabeller
from policies.rollout import code_version
from scheduler.processes import process_pool

ARRAY_COLUMNS = ("obs", "next_obs", "action_mask", "next_action_mask")
SCALAR_COLUMNS = (
    "action", "reward", "terminated", "truncated", "episode_id", "step", "behavior", "scenario",
    "seed",
)  # fmt: skip
LABEL_COLUMN = "target_action"
"""The optional column of planner labels (absent from unlabelled datasets)."""
DEFAULT_EPSILONS = (0.0, 0.2, 0.5)
FORMAT_VERSION = 1


class EpsilonPolicy:
    """A behaviour policy that takes a uniformly random valid action with probability epsilon."""

    def __init__(self, inner: Policy, epsilon: float, seed: int = 0) -> None:
        self.inner = inner
        self.epsilon = epsilon
        self.name = f"{inner.name}+eps{epsilon:g}"
        self.rng = np.random.default_rng(seed)

    def reset(self, env: gym.Env) -> None:
        self.inner.reset(env)

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        # The inner policy always decides, so a stateful planner sees every step.
        action = self.inner.act(obs, info)
        if self.rng.random() < self.epsilon:
            valid = np.flatnonzero(info["action_mask"])
            return int(valid[self.rng.integers(valid.size)])
        return action


def parse_behavior(label: str) -> tuple[str, float]:
    """``"greedy+eps0.2"`` -> ``("greedy", 0.2)``; ``"greedy"`` -> ``("greedy", 0.0)``."""
    name, sep, eps = label.partition("+eps")
    if not sep:
        return label, 0.0
    try:
        epsilon = float(eps)
    except ValueError:
        raise ValueError(f"behaviour '{label}': expected NAME+epsE with E a number") from None
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"behaviour '{label}': epsilon must be between 0 and 1")
    return name, epsilon


def make_behavior(label: str, seed: int = 0) -> Policy:
    """The behaviour policy of a label (a policy name, optionally with ``+epsE``)."""
    name, epsilon = parse_behavior(label)
    inner = make_policy(name, seed=seed)
    if epsilon == 0.0:
        return inner
    wrapped = EpsilonPolicy(inner, epsilon, seed=seed + 7919)
    wrapped.name = label
    return wrapped


def behavior_labels(names: Iterable[str], epsilons: Sequence[float]) -> list[str]:
    """Each name plain and with each epsilon; ``random`` and labels with ``+eps`` stay as given."""
    labels: list[str] = []
    for name in names:
        if "+eps" in name or name == "random":
            variants = [name]
        else:
            variants = [name if e == 0 else f"{name}+eps{e:g}" for e in epsilons]
        labels += [v for v in variants if v not in labels]
    return labels


def collect_episode(
    env: gym.Env, policy: Policy, seed: int, labeller: PlannerLabeller | None = None
) -> dict[str, np.ndarray]:
    """One season's transitions as arrays (without the id columns); with a ``labeller``,
    also ``target_action``: what it would do in each visited state."""
    obs, info = env.reset(seed=seed)
    policy.reset(env)
    if labeller is not None:
        labeller.reset(env)
    observations, masks = [obs], [info["action_mask"]]
    actions, rewards, terms, truncs, targets = [], [], [], [], []
    while True:
        action = policy.act(obs, info)
        if not info["action_mask"][action]:
            raise ValueError(f"behaviour '{policy.name}' took invalid action {action}")
        if labeller is not None:
            targets.append(labeller.label(obs, info, action))
        obs, reward, terminated, truncated, info = env.step(action)
        observations.append(obs)
        masks.append(info["action_mask"])
        actions.append(action)
        rewards.append(reward)
        terms.append(terminated)
        truncs.append(truncated)
        if terminated or truncated:
            break
    all_obs = np.asarray(observations, dtype=np.float32)
    all_masks = np.asarray(masks, dtype=np.int8)
    labels = {LABEL_COLUMN: np.asarray(targets, dtype=np.int64)} if labeller is not None else {}
    return {
        **labels,
        "obs": all_obs[:-1],
        "next_obs": all_obs[1:],
        "action_mask": all_masks[:-1],
        "next_action_mask": all_masks[1:],
        "action": np.asarray(actions, dtype=np.int64),
        "reward": np.asarray(rewards, dtype=np.float64),
        "terminated": np.asarray(terms, dtype=bool),
        "truncated": np.asarray(truncs, dtype=bool),
        "step": np.arange(len(actions), dtype=np.int64),
    }


def _collect_season(task: tuple[Any, str, int, str | None]) -> dict[str, np.ndarray]:
    """One season of one behaviour in a fresh env (a unit of work for a process pool)."""
    scenario, label, season_seed, planner = task
    env = gym.make(envs.ENV_ID, scenario=scenario)
    return _season(env, label, season_seed, planner)


def _season(env: gym.Env, label: str, season_seed: int, planner: str | None) -> dict[str, Any]:
    """One season of behaviour ``label``, labelled by ``planner`` when given. The planner
    labels its own plain behaviour with the actions it took (the same decisions: both
    are seeded by the season)."""
    behavior = make_behavior(label, seed=season_seed)
    if planner is None or label == planner:
        episode = collect_episode(env, behavior, season_seed)
        if planner is not None:
            episode[LABEL_COLUMN] = episode["action"].copy()
        return episode
    labeller = PlannerLabeller(planner, seed=season_seed)
    return collect_episode(env, behavior, season_seed, labeller)


def collect(
    scenario: Any,
    behaviors: Sequence[str],
    episodes: int,
    seed: int,
    epsilons: Sequence[float] = DEFAULT_EPSILONS,
    on_episode: Callable[[str, int], None] | None = None,
    jobs: int = 1,
    label_with: str | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Roll out every behaviour variant for ``episodes`` seasons; (columns, manifest).

    Variant ``v`` (in ``behavior_labels`` order) plays the seasons drawn from
    ``seed + v * episodes + e`` for ``e < episodes``, so every episode is a different season.
    With ``jobs > 1`` seasons run in that many processes; the data is the same. With
    ``label_with`` (a planner's policy name, e.g. ``cpsat``) every row also gets
    ``target_action``, the planner's action in that state (``PlannerLabeller``); the
    behaviour's transitions are the same as without.
    """
    labels = behavior_labels(behaviors, epsilons)
    for label in labels:
        make_behavior(label)  # fail early on an unknown name
    env = gym.make(envs.ENV_ID, scenario=scenario)
    parts: list[dict[str, np.ndarray]] = []
    per_behavior: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    tasks = [(scenario, name, seed + v * episodes + e, label_with)
             for v, name in enumerate(labels) for e in range(episodes)]  # fmt: skip
    returns: dict[str, list[float]] = {label: [] for label in labels}
    with contextlib.ExitStack() as stack:
        if jobs > 1:  # seasons come back in task order as they finish
            pool = stack.enter_context(process_pool(jobs))
            seasons: Iterable[dict[str, np.ndarray]] = pool.map(_collect_season, tasks)
        else:
            seasons = (_season(env, name, s, planner) for _, name, s, planner in tasks)
        for (_, label, season_seed, _), episode in zip(tasks, seasons, strict=True):
            n = episode["action"].size
            episode["episode_id"] = np.full(n, len(parts), dtype=np.int64)
            episode["seed"] = np.full(n, season_seed, dtype=np.int64)
            episode["behavior"] = np.full(n, label, dtype=object)
            parts.append(episode)
            returns[label].append(float(episode["reward"].sum()))
            if on_episode is not None:
                on_episode(label, len(returns[label]) - 1)
    for v, label in enumerate(labels):
        per_behavior[label] = {
            "episodes": episodes,
            "seeds": [seed + v * episodes, seed + (v + 1) * episodes - 1],
            "transitions": int(
                sum(p["action"].size for p in parts[v * episodes : (v + 1) * episodes])
            ),
            "mean_return": float(np.mean(returns[label])),
        }
    data = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    name = env.unwrapped.config.name  # type: ignore[attr-defined]
    data["scenario"] = np.full(data["action"].size, name, dtype=object)
    manifest = {
        "scenario": name,
        "scenario_spec": str(scenario) if not isinstance(scenario, str) else scenario,
        "seed": seed,
        "episodes_per_behavior": episodes,
        "epsilons": [float(e) for e in epsilons],
        "behaviors": per_behavior,
        "collect_seconds": round(time.perf_counter() - started, 2),
        **({"label": {"planner": label_with, "column": LABEL_COLUMN}} if label_with else {}),
    }
    return data, manifest


def write_dataset(
    out_dir: str | Path, data: dict[str, np.ndarray], extra: dict | None = None
) -> Path:
    """Write ``data`` (the columns of ``SCALAR_COLUMNS`` and ``ARRAY_COLUMNS``) to ``out_dir``.

    Files are written under temporary names and renamed, so a failed write leaves no
    half-written dataset behind.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    missing = [c for c in (*SCALAR_COLUMNS, *ARRAY_COLUMNS) if c not in data]
    if missing:
        raise ValueError(f"dataset is missing columns: {', '.join(missing)}")
    n = int(data["action"].size)
    for column in (*SCALAR_COLUMNS, *ARRAY_COLUMNS):
        if len(data[column]) != n:
            raise ValueError(f"column {column} has {len(data[column])} rows, expected {n}")
    out.mkdir(parents=True, exist_ok=True)
    labels = {}
    if LABEL_COLUMN in data:
        labels[LABEL_COLUMN] = pa.array(np.asarray(data[LABEL_COLUMN]), pa.int64())
        if len(labels[LABEL_COLUMN]) != n:
            raise ValueError(f"column {LABEL_COLUMN} has {len(labels[LABEL_COLUMN])} rows")
    table = pa.table(
        {
            "action": pa.array(data["action"], pa.int64()),
            "reward": pa.array(data["reward"], pa.float64()),
            "terminated": pa.array(data["terminated"], pa.bool_()),
            "truncated": pa.array(data["truncated"], pa.bool_()),
            "episode_id": pa.array(data["episode_id"], pa.int64()),
            "step": pa.array(data["step"], pa.int64()),
            "behavior": pa.array(data["behavior"].astype(str), pa.string()).dictionary_encode(),
            "scenario": pa.array(data["scenario"].astype(str), pa.string()).dictionary_encode(),
            "seed": pa.array(data["seed"], pa.int64()),
            **labels,
        }
    )
    pq.write_table(table, out / "transitions.parquet.tmp", compression="zstd")
    with open(out / "arrays.npz.tmp", "wb") as handle:
        np.savez_compressed(
            handle,
            obs=np.ascontiguousarray(data["obs"], dtype=np.float32),
            next_obs=np.ascontiguousarray(data["next_obs"], dtype=np.float32),
            action_mask=np.ascontiguousarray(data["action_mask"], dtype=np.int8),
            next_action_mask=np.ascontiguousarray(data["next_action_mask"], dtype=np.int8),
        )
    manifest = {
        "format_version": FORMAT_VERSION,
        "env_id": envs.ENV_ID,
        "env_version": envs.ENV_ID.rsplit("-", 1)[-1],
        "obs_shape": list(data["obs"].shape[1:]),
        "obs_dtype": "float32",
        "n_actions": int(data["action_mask"].shape[1]),
        "transitions": n,
        "episodes": int(np.unique(data["episode_id"]).size),
        "terminated": int(np.sum(data["terminated"])),
        "truncated": int(np.sum(data["truncated"])),
        "code_version": code_version(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": {
            "transitions.parquet": [*SCALAR_COLUMNS, *labels],
            "arrays.npz": list(ARRAY_COLUMNS),
        },
        **(extra or {}),
    }
    (out / "manifest.json.tmp").write_text(json.dumps(manifest, indent=2) + "\n")
    for name in ("transitions.parquet", "arrays.npz", "manifest.json"):
        (out / f"{name}.tmp").replace(out / name)
    return out


def merge_datasets(dirs: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Concatenate datasets (episode ids renumbered) into ``out_dir``.

    The merged manifest lists, per behaviour, the entries of the source manifests.
    """
    parts = [load_dataset(d) for d in dirs]
    manifests = [load_manifest(d) for d in dirs]
    offset = 0
    for part in parts:
        _, part["episode_id"] = np.unique(part["episode_id"], return_inverse=True)
        part["episode_id"] = part["episode_id"].astype(np.int64) + offset
        offset = int(part["episode_id"].max()) + 1 if part["episode_id"].size else offset
    keys = [key for key in parts[0] if all(key in p for p in parts)]  # labels if all have them
    data = {key: np.concatenate([p[key] for p in parts]) for key in keys}
    behaviors: dict[str, Any] = {}
    for m in manifests:
        for label, info in m.get("behaviors", {}).items():
            behaviors.setdefault(label, []).append(info)
    extra = {
        "scenario": ",".join(sorted({str(m.get("scenario")) for m in manifests})),
        "behaviors": behaviors,
        "merged_from": [str(Path(d).resolve()) for d in dirs],
    }
    return write_dataset(out_dir, data, extra)


def load_manifest(dataset_dir: str | Path) -> dict[str, Any]:
    """The manifest of a dataset directory."""
    path = Path(dataset_dir) / "manifest.json"
    if not path.is_file():
        raise ValueError(f"{dataset_dir}: not a dataset directory (no manifest.json)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"{path}: not valid JSON (collect the dataset again)") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path}: not a dataset manifest (a JSON object)")
    return manifest


def load_dataset(dataset_dir: str | Path) -> dict[str, np.ndarray]:
    """All columns of a dataset as numpy arrays (strings as object arrays), row-aligned."""
    import pyarrow.parquet as pq

    root = Path(dataset_dir)
    manifest = load_manifest(root)
    try:
        table = pq.read_table(root / "transitions.parquet")
    except Exception as exc:  # pyarrow raises many kinds
        raise ValueError(f"{root / 'transitions.parquet'}: not a readable table ({exc})") from None
    data: dict[str, np.ndarray] = {}
    for column in SCALAR_COLUMNS:
        chunked = table.column(column)
        if column in ("behavior", "scenario"):
            data[column] = np.asarray(chunked.cast("string").to_pylist(), dtype=object)
        else:
            data[column] = chunked.to_numpy()
    if LABEL_COLUMN in table.column_names:
        data[LABEL_COLUMN] = table.column(LABEL_COLUMN).to_numpy()
    try:
        with np.load(root / "arrays.npz") as arrays:
            for column in ARRAY_COLUMNS:
                data[column] = arrays[column]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"{root / 'arrays.npz'}: not readable arrays ({first})") from None
    if data["action"].size != manifest["transitions"]:
        raise ValueError(f"{dataset_dir}: row count does not match manifest.json")
    return data


def episode_rows(data: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Row indices of each logged episode, in episode-id order, in step order within."""
    episode = np.asarray(data["episode_id"])
    order = np.lexsort((np.asarray(data["step"]), episode))
    return np.split(order, np.flatnonzero(np.diff(episode[order])) + 1)


def check_shapes(data: dict[str, np.ndarray]) -> None:
    """Raise ``ValueError`` unless the arrays have this env's observation and action sizes."""
    if data["obs"].shape[1:] != (OBS_SIZE,) or data["action_mask"].shape[1:] != (N_ACTIONS,):
        raise ValueError(
            f"dataset shapes {data['obs'].shape[1:]}, {data['action_mask'].shape[1:]} do not "
            f"match the env ({OBS_SIZE},), ({N_ACTIONS},)"
        )
