"""Where the project lies: the folder holding ``scheduler/``, ``policies/``, ``experiments/``
and ``models/`` (the shipped model and the configs' scenario paths resolve there)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
