"""The experiment config of ``isched compare``: load, validate, normalise and hash.

A config is a YAML mapping (schema in CLI.md, "Experiment config")::

    name: smoke                                  # optional, shown in the report
    scenarios: [tiny, experiments/scenarios/surge.yaml]
    policies:                                    # names, or {name, options, label, seeds}
      - greedy_fit
      - {name: cpsat, options: {time_limit: 0.1}, label: cpsat-fast, seeds: 20}
      - rl:@cql                                  # @STEP: the model a train step wrote
    bounds: [hindsight]                          # bound kinds (experiments.bounds)
    seeds: {start: 500000, count: 100}           # test seeds, never used for tuning
    baseline: greedy_fit                         # optional: paired differences against it
    train:                                       # optional, run before evaluation
      - {name: cql, kind: offline, scenario: tiny, behaviors: [greedy_fit],
         episodes: 10, seed: 0, algo: cql, steps: 500}
      - {name: ppo, kind: ppo, scenario: tiny, steps: 20000, seed: 0}
      - {name: iql, kind: offline, algo: iql, training_seeds: [0, 1, 2]}

A step with ``training_seeds`` builds one model per training seed (an offline step
collects its data once); its policy (``rl:@iql``) plays every member on every season,
and reports show the mean over the members, season by season, with their spread.

Every problem is a ``ConfigError`` whose message is one line naming the file and key;
the first problem of each section (train, scenarios, policies, bounds, seeds) is reported
together, so one run shows every part to mend.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from policies.ppo import TRAINING_SEASONS, PpoSettings
from scheduler.paths import PROJECT_ROOT
from scheduler.yaml_words import yaml_problem

TUNING_SEEDS_END = TRAINING_SEASONS[1]
"""Seasons below this seed may tune or train anything; test seeds start at or above it."""
TRAIN_KINDS = ("offline", "ppo")
NAMED_SCENARIOS = ("tiny", "default", "large")


class ConfigError(ValueError):
    """A bad experiment config: one line naming the file and the key."""


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario by name or YAML path, with the text of its YAML (part of the hash)."""

    label: str
    """The scenario's name (a YAML file's own ``name``, else its stem)."""
    source: str
    """What ``gym.make`` receives: the name or the resolved path."""
    text: str = ""
    """The YAML file's contents ("" for a named scenario)."""


@dataclass(frozen=True)
class PolicySpec:
    """A policy to evaluate: a ``make_policy`` name with options, shown as ``label``."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    model_step: str | None = None
    """The train step whose model this policy loads (``rl:@STEP``, ``ppo:@STEP``)."""
    training_seeds: tuple[int, ...] = ()
    """The step's training seeds when it builds several models (one member each)."""
    seed_count: int | None = None
    """Play only the first this many test seeds (a slow policy); None: all of them."""


@dataclass(frozen=True)
class TrainStep:
    """A model built before evaluation: an offline dataset + training, or PPO."""

    name: str
    kind: str
    settings: dict[str, Any]

    @property
    def training_seeds(self) -> tuple[int, ...]:
        """The seeds of the step's members; () for a step that builds one model."""
        return tuple(self.settings.get("training_seeds") or ())

    def member_settings(self, seed: int) -> dict[str, Any]:
        """The settings that build the member of training seed ``seed``."""
        key = "train_seed" if self.kind == "offline" else "seed"
        return {k: v for k, v in self.settings.items() if k != "training_seeds"} | {key: seed}


def member_label(group: str, seed: int) -> str:
    """The label of training seed ``seed``'s member of the policy ``group``."""
    return f"{group}#{seed}"


def member_dir(step_dir: Path, seed: int) -> Path:
    """The folder of training seed ``seed``'s model inside its step's folder."""
    return step_dir / f"seed{seed}"


@dataclass(frozen=True)
class ExperimentConfig:
    """A validated experiment config."""

    path: str
    name: str
    scenarios: tuple[ScenarioSpec, ...]
    policies: tuple[PolicySpec, ...]
    bounds: tuple[str, ...]
    seed_start: int
    seed_count: int
    baseline: str | None = None
    train: tuple[TrainStep, ...] = ()
    text: str = ""
    """The config file's text, as given."""

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed_start, self.seed_start + self.seed_count))

    def digest(self) -> str:
        """A short hash of everything that decides the numbers (not of the file's layout)."""
        return short_hash(
            {
                "scenarios": [asdict(s) for s in self.scenarios],
                "policies": [asdict(p) for p in self.policies],
                "bounds": list(self.bounds),
                "seeds": [self.seed_start, self.seed_count],
                "train": [asdict(t) for t in self.train],
            }
        )


def short_hash(value: Any) -> str:
    """The first 12 hex digits of the SHA-256 of ``value`` as canonical JSON."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


OFFLINE_DEFAULTS: dict[str, Any] = {
    "scenario": "tiny",
    "behaviors": ["greedy_fit"],
    "epsilons": [0.0],
    "episodes": 10,
    "seed": 0,
    "algo": "cql",
    "steps": None,
    "train_seed": 0,
}
PPO_DEFAULTS: dict[str, Any] = asdict(PpoSettings())
MAX_TRAINING_SEEDS = 10


def load_config(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment config; ``ConfigError`` names the file and key."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text()
    except OSError as problem:
        raise ConfigError(f"{where}: cannot read ({problem.strerror or problem})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise ConfigError(f"{where}: {yaml_problem(problem)}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with scenarios, policies and seeds")
    known = {"name", "scenarios", "policies", "bounds", "seeds", "baseline", "train"}
    for key in raw:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")
    for key in ("scenarios", "seeds"):
        if key not in raw:
            raise ConfigError(f"{where}: missing key '{key}'")
    if not raw.get("policies") and not raw.get("bounds"):
        raise ConfigError(f"{where}: 'policies': name at least one policy (or a bound)")
    base = path.parent
    errors: list[str] = []  # the first problem of each section, all reported in one line

    def section(parse: Callable[..., Any], *args: Any, default: Any) -> Any:
        try:
            return parse(*args)
        except ConfigError as problem:
            errors.append(str(problem).removeprefix(f"{where}: "))
            return default

    train: tuple[TrainStep, ...] | None = section(
        _train_steps, raw.get("train") or [], where, default=None
    )
    step_kinds = {t.name: t.kind for t in train or ()}
    step_seeds = {t.name: t.training_seeds for t in train or ()}
    scenarios: tuple[ScenarioSpec, ...] = section(
        _scenarios, raw["scenarios"], base, where, default=()
    )
    policies: tuple[PolicySpec, ...] | None = section(
        _policies, raw.get("policies") or [], step_kinds, step_seeds, where, default=None
    )
    bounds: tuple[str, ...] = section(_bounds, raw.get("bounds") or [], where, default=())
    seeds: tuple[int, int] | None = section(_seeds, raw["seeds"], where, default=None)
    section(_cross_checks, train, policies, seeds, where, default=None)
    baseline = raw.get("baseline")
    labels = {p.label for p in policies or ()}
    if policies is not None and baseline is not None and baseline not in labels:
        errors.append(f"'baseline': {baseline!r} is not one of the policies")
    name = raw.get("name", path.stem)
    if not isinstance(name, str):
        errors.append("'name': expected a string")
    if errors:
        raise ConfigError(f"{where}: " + "; ".join(errors))
    assert train is not None and policies is not None and seeds is not None
    start, count = seeds
    return ExperimentConfig(
        path=where,
        name=name,
        scenarios=scenarios,
        policies=policies,
        bounds=bounds,
        seed_start=start,
        seed_count=count,
        baseline=baseline,
        train=train,
        text=text,
    )


def _cross_checks(
    train: tuple[TrainStep, ...] | None,
    policies: tuple[PolicySpec, ...] | None,
    seeds: tuple[int, int] | None,
    where: str,
) -> None:
    """What spans sections: per-policy seed counts, and training seeds below the test seeds."""
    if seeds is None:
        return
    start, count = seeds
    for k, p in enumerate(policies or ()):
        if p.seed_count is not None and p.seed_count > count:
            raise ConfigError(f"{where}: 'policies[{k}].seeds': more than seeds.count ({count})")
    if train and start < TUNING_SEEDS_END:
        raise ConfigError(
            f"{where}: 'seeds.start': test seeds must be at least {TUNING_SEEDS_END} "
            "when the experiment trains (training seasons are drawn below it)"
        )
    for step in train or ():
        _check_training_seeds(step, where)


def seeds_role(start: int, count: int) -> str:
    """What the seeds ``start .. start + count - 1`` are under the protocol, in words."""
    last = start + count - 1
    if start >= TUNING_SEEDS_END:
        return f"{count} test seeds from {start}"
    if last < TUNING_SEEDS_END:
        return f"{count} tuning seeds from {start} (not held out: below {TUNING_SEEDS_END})"
    return (f"{count} seeds from {start}: {start}-{TUNING_SEEDS_END - 1} tuning seeds (not "
            f"held out), {TUNING_SEEDS_END}-{last} test seeds")  # fmt: skip


def _scenarios(raw: Any, base: Path, where: str) -> tuple[ScenarioSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: 'scenarios': expected a list of names or YAML paths")
    out: list[ScenarioSpec] = []
    for k, item in enumerate(raw):
        key = f"scenarios[{k}]"
        if not isinstance(item, str):
            raise ConfigError(f"{where}: '{key}': expected a name or a YAML path")
        out.append(scenario_spec(item, base, f"{where}: '{key}'"))
    _unique([s.label for s in out], where, "scenarios")
    return tuple(out)


def scenario_spec(item: str, base: Path, context: str) -> ScenarioSpec:
    """A named scenario, or a YAML file that loads: relative to the cwd, else to the config,
    else to the project root (so a copy of ``experiments/configs/*.yaml`` runs anywhere)."""
    from scheduler.scenario import load_scenario

    if item in NAMED_SCENARIOS:
        return ScenarioSpec(label=item, source=item)
    candidates = (
        [Path(item)] if Path(item).is_absolute() else [Path(item), base / item, PROJECT_ROOT / item]
    )
    found = next((p for p in candidates if p.is_file()), None)
    if found is None:
        raise ConfigError(
            f"{context}: {item!r} is neither {', '.join(NAMED_SCENARIOS)} nor a YAML file"
        )
    try:
        label = load_scenario(str(found)).name  # the file's stem unless it names itself
    except (ValueError, TypeError, OSError, yaml.YAMLError) as problem:
        first = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
        named = first.startswith((f"{item}", f"{found}"))  # the message names the file
        raise ConfigError(
            f"{context}: {first}" if named else f"{context}: {item}: {first}"
        ) from None
    return ScenarioSpec(label=label, source=str(found.resolve()), text=found.read_text())


def _policies(
    raw: Any, steps: dict[str, str], step_seeds: dict[str, tuple[int, ...]], where: str
) -> tuple[PolicySpec, ...]:
    from policies import make_policy

    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'policies': expected a list")
    out: list[PolicySpec] = []
    for k, item in enumerate(raw):
        key = f"policies[{k}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(
                f"{where}: '{key}': expected a name or {{name, options, label, seeds}}"
            )
        extra = set(item) - {"name", "options", "label", "seeds"}
        if extra:
            raise ConfigError(f"{where}: '{key}.{sorted(extra)[0]}': unknown key")
        name, options = item["name"], item.get("options") or {}
        if not isinstance(options, dict):
            raise ConfigError(f"{where}: '{key}.options': expected a mapping")
        if name == "hindsight":
            raise ConfigError(f"{where}: '{key}': hindsight is a bound: list it under 'bounds'")
        prefix, _, arg = name.partition(":")
        model_step = None
        if arg.startswith("@"):
            model_step = arg[1:]
            wanted = {"rl": "offline", "ppo": "ppo"}.get(prefix)
            if steps.get(model_step) is None or steps[model_step] != wanted:
                raise ConfigError(
                    f"{where}: '{key}': {name} names no {wanted or 'train'} step '{model_step}'"
                )
        else:
            try:  # fail now on an unknown name or option, not in a worker
                make_policy(name, **options)
            except (ValueError, TypeError, OSError) as problem:
                first = str(problem).splitlines()[0]
                raise ConfigError(f"{where}: '{key}': {first}") from None
        count = item.get("seeds")
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 1
        ):
            raise ConfigError(f"{where}: '{key}.seeds': expected a whole number >= 1")
        label = item.get("label") or _label(name, options)
        seeds = step_seeds.get(model_step or "", ())
        out.append(PolicySpec(str(label), name, options, model_step, seeds, count))
    _unique([p.label for p in out], where, "policies")
    return tuple(out)


def _label(name: str, options: dict[str, Any]) -> str:
    if not options:
        return name
    return f"{name}({','.join(f'{k}={v}' for k, v in sorted(options.items()))})"


def _bounds(raw: Any, where: str) -> tuple[str, ...]:
    from experiments.bounds import check_bound

    if not isinstance(raw, list) or not all(isinstance(b, str) for b in raw):
        raise ConfigError(f"{where}: 'bounds': expected a list of bound kinds")
    for k, kind in enumerate(raw):
        problem = check_bound(kind)
        if problem:
            raise ConfigError(f"{where}: 'bounds[{k}]': {problem}")
    _unique(list(raw), where, "bounds")
    return tuple(raw)


def _seeds(raw: Any, where: str) -> tuple[int, int]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: 'seeds': expected {{start: N, count: N}}")
    for key in ("start", "count"):
        value = raw.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{where}: 'seeds.{key}': expected a whole number >= 0")
    if raw["count"] < 1:
        raise ConfigError(f"{where}: 'seeds.count': expected at least 1")
    extra = set(raw) - {"start", "count"}
    if extra:
        raise ConfigError(f"{where}: 'seeds.{sorted(extra)[0]}': unknown key")
    return raw["start"], raw["count"]


def _train_steps(raw: Any, where: str) -> tuple[TrainStep, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: 'train': expected a list of steps")
    out: list[TrainStep] = []
    for k, item in enumerate(raw):
        key = f"train[{k}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: '{key}': expected a mapping with name and kind")
        name, kind = item.get("name"), item.get("kind")
        if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
            raise ConfigError(f"{where}: '{key}.name': expected a word (letters, digits, -, _)")
        if kind not in TRAIN_KINDS:
            raise ConfigError(f"{where}: '{key}.kind': choose from {', '.join(TRAIN_KINDS)}")
        defaults = OFFLINE_DEFAULTS if kind == "offline" else PPO_DEFAULTS
        settings = dict(defaults)
        for option, value in item.items():
            if option in ("name", "kind"):
                continue
            if option == "training_seeds":
                settings[option] = _training_seeds(value, item, kind, f"{where}: '{key}")
                continue
            if option not in defaults:
                raise ConfigError(f"{where}: '{key}.{option}': unknown setting of a {kind} step")
            settings[option] = value
        _check_step(settings, kind, f"{where}: '{key}")
        out.append(TrainStep(name=name, kind=kind, settings=settings))
    _unique([t.name for t in out], where, "train")
    return tuple(out)


def _training_seeds(value: Any, item: dict[str, Any], kind: str, context: str) -> list[int]:
    """A step's ``training_seeds``: distinct whole numbers >= 0, instead of its one seed."""
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_TRAINING_SEEDS
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        or len(set(value)) < len(value)
    ):
        raise ConfigError(
            f"{context}.training_seeds': expected a list of 1 to {MAX_TRAINING_SEEDS} "
            "distinct whole numbers >= 0"
        )
    single = "train_seed" if kind == "offline" else "seed"
    if single in item:
        raise ConfigError(
            f"{context}.training_seeds': give '{single}' or 'training_seeds', not both"
        )
    return list(value)


def _check_step(settings: dict[str, Any], kind: str, context: str) -> None:
    def whole(option: str, low: int) -> None:
        value = settings[option]
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{context}.{option}': expected a whole number >= {low}")

    if kind == "offline":
        from policies.offline import ALGOS

        whole("episodes", 1)
        whole("seed", 0)
        whole("train_seed", 0)
        if settings["steps"] is not None:
            whole("steps", 1)
        if settings["algo"] not in ALGOS:
            raise ConfigError(f"{context}.algo': choose from {', '.join(ALGOS)}")
        behaviors = settings["behaviors"]
        if not isinstance(behaviors, list) or not behaviors:
            raise ConfigError(f"{context}.behaviors': expected a list of policy names")
        eps = settings["epsilons"]
        if not isinstance(eps, list) or not all(
            isinstance(e, int | float) and 0 <= e <= 1 for e in eps
        ):
            raise ConfigError(f"{context}.epsilons': expected a list of numbers in [0, 1]")
    else:
        whole("steps", 1)
        whole("seed", 0)
        whole("eval_every", 0)
    if not isinstance(settings["scenario"], str):
        raise ConfigError(f"{context}.scenario': expected a name or a YAML path")


def _check_training_seeds(step: TrainStep, where: str) -> None:
    """Offline data must come from tuning seeds (below ``TUNING_SEEDS_END``)."""
    s = step.settings
    if step.kind == "offline":
        variants = len(s["behaviors"]) * len(s["epsilons"])
        last = s["seed"] + variants * s["episodes"] - 1
        if last >= TUNING_SEEDS_END:
            raise ConfigError(
                f"{where}: 'train.{step.name}.seed': its seasons reach seed {last}; "
                f"training seasons must stay below {TUNING_SEEDS_END}"
            )


def _unique(labels: list[str], where: str, key: str) -> None:
    hint = {
        "scenarios": "list it once, or give one of the files its own 'name:' inside it",
        "policies": "give each a label",
        "bounds": "list it once",
    }.get(key, "name each differently")
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise ConfigError(f"{where}: '{key}': {label!r} appears twice ({hint})")
        seen.add(label)
