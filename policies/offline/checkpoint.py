"""A trained model on disk: ``model.pt`` (weights, settings, sizes, layout) + ``config.json``.

A checkpoint records the env layout it was trained on (``envs.layout.LAYOUT_VERSION``:
what each observation feature and action index means). Loading one made for another
layout fails with a one-line ``ValueError``: its weights would read the wrong features.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from envs.layout import LAYOUT_VERSION
from scheduler.paths import PROJECT_ROOT


class Checkpoint(NamedTuple):
    """What ``model.pt`` holds."""

    algo: str
    settings: dict[str, Any]
    obs_size: int
    n_actions: int
    state_dicts: dict[str, dict[str, torch.Tensor]]
    layout: str
    """The ``LAYOUT_VERSION`` of the env the model was trained for."""


def save_checkpoint(
    out_dir: str | Path,
    algo: str,
    settings: Any,
    networks: dict[str, nn.Module],
    obs_size: int,
    n_actions: int,
    extra_config: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.pt`` (state dicts, settings, sizes, layout) and ``config.json``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    settings_dict = dataclasses.asdict(settings)
    payload = {
        "algo": algo,
        "settings": settings_dict,
        "obs_size": obs_size,
        "n_actions": n_actions,
        "layout": LAYOUT_VERSION,
        "state_dicts": {
            name: {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
            for name, net in networks.items()
        },
    }
    torch.save(payload, out / "model.pt.tmp")
    (out / "model.pt.tmp").replace(out / "model.pt")
    config = {
        "algo": algo,
        "settings": settings_dict,
        "obs_size": obs_size,
        "n_actions": n_actions,
        "layout": LAYOUT_VERSION,
        **(extra_config or {}),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str) + "\n")
    return out / "model.pt"


def model_dir_of(name: str | Path) -> Path:
    """The directory a model name means: the path as given when it holds ``model.pt`` (or is
    absolute), else the same relative path under the project root when that holds
    ``model.pt`` (so ``models/default`` works from any directory), else the path as given
    (whose loading then fails in one line). ``isched.web.jobs.model_dir`` follows this rule."""
    given = Path(name).expanduser()
    if (given / "model.pt").is_file() or given.is_absolute():
        return given
    shipped = PROJECT_ROOT / given
    return shipped if (shipped / "model.pt").is_file() else given


def load_checkpoint(model_dir: str | Path) -> Checkpoint:
    """Read ``MODEL_DIR/model.pt`` (on the CPU); a ``ValueError`` if made for another layout."""
    path = model_dir_of(model_dir) / "model.pt"
    if not path.is_file():
        raise ValueError(f"{model_dir}: no model.pt (train one with `isched train`)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many kinds for a damaged file
        raise ValueError(
            f"{model_dir}: model.pt cannot be read (damaged, or not written by `isched train`)"
        ) from None
    if not isinstance(payload, dict) or "state_dicts" not in payload:
        raise ValueError(f"{model_dir}: model.pt is not an isched model (see `isched train`)")
    layout = payload.get("layout")
    if layout != LAYOUT_VERSION:
        made_for = "an env layout not recorded" if layout is None else f"env layout {layout}"
        raise ValueError(
            f"{model_dir}: the model was trained for {made_for}, this code's env layout is "
            f"{LAYOUT_VERSION}; retrain it with `isched train`"
        )
    return Checkpoint(
        payload["algo"],
        payload["settings"],
        int(payload["obs_size"]),
        int(payload["n_actions"]),
        payload["state_dicts"],
        layout,
    )
