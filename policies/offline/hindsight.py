"""Hindsight learning from planner labels: imitate the planner in every logged state.

The dataset (``isched collect --label cpsat``) holds, beside each logged transition,
``target_action``: the action the ``cpsat`` bid-price planner would take in that
state (``policies/offline/labels.py``: an information-respecting target, not the
clairvoyant hindsight-optimal plan, so free of the hindsight bias of Sinclair et al.,
ICML 2023). The learner fits a policy network to those labels over *all* logged
states, including those that greedy rules and noisy behaviours reached and the
planner would not (DAgger-style coverage). Reads top to bottom in the order it runs:

1. settings (``Settings``: behaviour cloning's, a slot network of 128x128 by default);
2. the labels replace the logged actions (``labelled``: present and valid, or an error);
3. the loss and training are masked behaviour cloning's (``bc.py``): cross-entropy of
   the planner's action over the valid actions only;
4. acting: the valid action of highest logit (numpy, like the other algorithms).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from policies.offline import bc
from policies.offline.dataset import LABEL_COLUMN


@dataclass
class Settings(bc.Settings):
    """Settings of hindsight learning: those of behaviour cloning, with its own defaults."""

    steps: int = 5_000
    arch: str = "slots"
    hidden: tuple[int, ...] = (128, 128)


def labelled(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The dataset with the planner's labels as its actions (a ``ValueError`` without them)."""
    if LABEL_COLUMN not in data:
        raise ValueError(
            f"--algo hindsight needs planner labels: collect with --label cpsat "
            f"(the dataset has no {LABEL_COLUMN} column)"
        )
    target = np.asarray(data[LABEL_COLUMN], np.int64)
    mask = np.asarray(data["action_mask"])
    if target.min() < 0 or not mask[np.arange(target.size), target].all():
        raise ValueError(f"{LABEL_COLUMN}: a label is not a valid action of its state")
    return {**data, "action": target}


class Hindsight(bc.BC):
    """A policy network imitating the planner's label in every logged state: masked
    behaviour cloning of the labels instead of the logged actions (its ``accuracy`` in
    ``train_log.csv`` is the agreement with the planner)."""

    name = "hindsight"
    settings_type = Settings

    def train(
        self,
        data: dict[str, np.ndarray],
        settings: Any,
        out_dir: str | Path | None = None,
        device: str = "cpu",
        extra_config: dict[str, Any] | None = None,
    ) -> dict[str, torch.nn.Module]:
        """Train on a labelled dataset's arrays; write model.pt, config.json, train_log.csv."""
        return super().train(labelled(data), settings, out_dir, device, extra_config)
