"""Checking a policy's settings when it is made, so a bad value fails in one line at once.

A settings dataclass calls ``check_settings`` from ``__post_init__``: every ``int``,
``float`` and ``bool`` field must hold a value of its kind (an ``int`` is a number; a
``bool`` is not), and the named fields their least values. The message names the field,
so ``isched compare`` can name the config key as well.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any


def _kind_ok(kind: str, value: Any) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "int":
        return isinstance(value, int)
    return isinstance(value, (int, float)) and math.isfinite(value)


def check_settings(
    settings: Any, at_least: Mapping[str, float], above: Mapping[str, float] | None = None
) -> None:
    """``ValueError`` naming the first field of ``settings`` whose value is of the wrong kind,
    below its ``at_least`` value or not above its ``above`` value."""
    for field in dataclasses.fields(settings):
        kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", "")
        if kind not in ("int", "float", "bool"):
            continue
        value = getattr(settings, field.name)
        if not _kind_ok(kind, value):
            wanted = {"int": "a whole number", "float": "a number", "bool": "true or false"}[kind]
            raise ValueError(f"{field.name}: expected {wanted}, got {value!r}")
        low = at_least.get(field.name)
        if low is not None and value < low:
            raise ValueError(f"{field.name}: must be at least {low:g}, got {value!r}")
        floor = (above or {}).get(field.name)
        if floor is not None and value <= floor:
            raise ValueError(f"{field.name}: must be above {floor:g}, got {value!r}")
