"""The one wording of a YAML file that does not parse, for snapshots, scenarios and configs."""

from __future__ import annotations

import yaml


def yaml_problem(problem: yaml.YAMLError) -> str:
    """``line L, column C: not valid YAML (what the parser found)``, where it says where."""
    mark = getattr(problem, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = getattr(problem, "problem", None)
    return f"{where}not valid YAML" + (f" ({what})" if what else "")
