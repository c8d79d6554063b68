"""Scenario configuration: named, seeded sizes and distributions of a hiring season.

A scenario is a ``ScenarioConfig``; ``generate_season(config, seed)`` (in
``scheduler.generator``) turns it into one concrete season. Named scenarios are
``tiny`` (tests), ``default`` and ``large``; a YAML file may start from one of
them (``base: default``) and override any field, e.g.::

    base: default
    n_candidates: 900
    rewards: {unfilled_penalty: 2.0}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from scheduler.domain import InterviewFormat, WorkingHours
from scheduler.yaml_words import yaml_problem


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the one documented objective (see ``envs.season_env``).

    reward = sum over accepted hires of ``hire_value + quality_weight * quality``
    (times ``secondary_fit`` when hired in the secondary area)
    - ``interviewer_hour_cost`` per interviewer-hour booked
    - ``wait_cost`` per active candidate per working day waiting
    - ``unfilled_penalty`` per headcount left unfilled at season end
    - ``invalid_penalty`` per illegal action (a no-op).
    """

    hire_value: float = 1.0
    quality_weight: float = 1.0
    secondary_fit: float = 0.8
    interviewer_hour_cost: float = 0.03
    wait_cost: float = 0.004
    unfilled_penalty: float = 1.5
    invalid_penalty: float = 0.1


@dataclass(frozen=True)
class ScenarioConfig:
    """Sizes and distributions of one season. Every field is documented inline."""

    name: str = "default"
    season_start: dt.date = dt.date(2027, 2, 1)
    """A Monday; working days are Monday to Friday from here."""
    working_days: int = 80
    n_postings: int = 20
    headcount_min: int = 1
    headcount_max: int = 3
    n_candidates: int = 600
    n_interviewers: int = 80
    team_size: int = 6
    """Interviewers per team; teams beyond the posting count are not created."""
    # Scarcity: interviewer hours, rooms and start-window capacity bind in default
    # and large (relaxing any one of them raises the greedy policy's return; see
    # tests/test_dynamics.py). Where capacity is ample a greedy is near-optimal.
    rooms_per_office: int = 1
    accessible_rooms_per_office: int = 1
    extra_rooms_per_office: int = 0
    """Accessible rooms of capacity 8 added per office after every draw (the season
    is otherwise the one without them, seed for seed)."""
    max_per_day: tuple[int, int] = (1, 2)
    """Range (inclusive) of an interviewer's daily interview cap."""
    max_per_week: tuple[int, int] = (1, 2)
    screen_role_p: float = 0.7
    extra_area_p: float = 0.3
    busy_blocks_per_day: tuple[int, int] = (1, 5)
    """Calendar busy blocks per interviewer-day, each 1-4 slots (meetings)."""
    busy_calendars: bool = True
    """False clears every busy block after the draw (the season is otherwise the
    same, seed for seed): interviewers are free whenever their caps allow."""
    start_window_offsets_days: tuple[int, ...] = (105, 119, 133, 147)
    """Cohort start dates, days after ``season_start`` (mid May to late June)."""
    onboarding_share: float = 0.25
    """Per-office capacity of each start window, as a share of the office's headcount."""
    onboarding_lead_days: int = 14
    """Calendar days between an offer and the earliest start window it may name."""
    offer_response_days: int = 3
    """Working days a candidate takes to answer an offer."""
    horizon_days: int = 10
    """Working days ahead in which the env books an interview."""
    # Distributions ------------------------------------------------------------
    arrival_front_share: float = 0.7
    """Share of applicants arriving on a front-loaded Beta(1.5, 3) curve; the rest uniformly."""
    form_never_p: float = 0.12
    """Probability an applicant never submits the follow-up form (incomplete application)."""
    form_delay_p: float = 0.4
    """Form delay in working days ~ Geometric(p) - 1 (mean 1.5)."""
    secondary_area_p: float = 0.6
    publications_mean: float = 2.0
    """Publications ~ Poisson(mean); quality prior mean = 0.15 * (publications - mean)."""
    screen_noise_sd: float = 1.0
    loop_noise_sd: float = 0.5
    patience_mean_days: float = 8.0
    """Working days without contact before withdrawing ~ 2 + Exponential(mean - 2)."""
    deadline_mean_days: float = 30.0
    """Working days after the form until a competing offer is taken ~ 8 + Exponential(mean - 8)."""
    no_show_p: float = 0.05
    sick_p: float = 0.02
    """Chance an interviewer is out on a given day (their interviews that day are cancelled)."""
    accommodation_p: float = 0.08
    onsite_p: float = 0.55
    too_short_availability_p: float = 0.1
    """Share of candidates whose availability cannot hold a 12-week internship."""
    accept_base: float = 0.85
    """Offer acceptance probability, lowered by secondary fit, office mismatch and delay."""
    timezones: dict[str, float] = field(
        default_factory=lambda: {
            "America/Los_Angeles": 0.30,
            "America/Denver": 0.05,
            "America/Chicago": 0.10,
            "America/New_York": 0.25,
            "America/Sao_Paulo": 0.04,
            "Europe/London": 0.09,
            "Europe/Berlin": 0.09,
            "Asia/Shanghai": 0.04,
            "Asia/Tokyo": 0.04,
        }
    )
    hours: WorkingHours = WorkingHours()
    interview: InterviewFormat = InterviewFormat()
    rewards: RewardWeights = RewardWeights()

    @property
    def start_window_dates(self) -> tuple[dt.date, ...]:
        return tuple(
            self.season_start + dt.timedelta(days=d) for d in self.start_window_offsets_days
        )


NAMED: dict[str, ScenarioConfig] = {
    "tiny": ScenarioConfig(
        name="tiny",
        working_days=20,
        n_postings=4,
        n_candidates=50,
        n_interviewers=14,
        team_size=3,
        rooms_per_office=1,
        accessible_rooms_per_office=1,
        start_window_offsets_days=(70, 84),
    ),
    "default": ScenarioConfig(name="default"),
    "large": ScenarioConfig(
        name="large",
        n_postings=100,
        n_candidates=5000,
        n_interviewers=400,
        rooms_per_office=5,
        accessible_rooms_per_office=2,
    ),
}


def _merge(obj: Any, overrides: dict[str, Any], where: str) -> Any:
    """A copy of dataclass ``obj`` with ``overrides`` applied (nested dataclasses merge)."""
    changes: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(obj)}
    for key, value in overrides.items():
        if key not in fields:
            raise ValueError(f"{where}: unknown scenario field '{key}'")
        current = getattr(obj, key)
        what = f"{where}: {key}"
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ValueError(f"{what} must be a mapping of its fields, not {value!r}")
            changes[key] = _merge(current, value, f"{where}.{key}")
        elif isinstance(current, tuple):
            if not isinstance(value, list):
                raise ValueError(f"{what} must be a list, not {value!r}")
            if current:
                value = [_scalar(current[0], v, what) for v in value]
            changes[key] = tuple(value)
        elif isinstance(current, dt.date):
            changes[key] = _date(value, what)
        elif isinstance(current, dict):
            changes[key] = _weights(value, what)
        else:
            changes[key] = _scalar(current, value, what)
    return dataclasses.replace(obj, **changes)


def _date(value: Any, what: str) -> dt.date:
    """A date from YAML (read as a date, or ISO text)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a date (YYYY-MM-DD), not {value!r}") from None


def _weights(value: Any, what: str) -> dict[str, float]:
    """IANA time zone -> non-negative weight, not all zero."""
    if not isinstance(value, dict) or not value:
        raise ValueError(f"{what} must be a mapping of IANA time zones to weights")
    weights: dict[str, float] = {}
    for zone, weight in value.items():
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{what}: unknown IANA time zone {zone!r}") from None
        weights[str(zone)] = _scalar(1.0, weight, f"{what}: {zone}")
        if weights[str(zone)] < 0:
            raise ValueError(f"{what}: {zone} must not be negative")
    if sum(weights.values()) <= 0:
        raise ValueError(f"{what}: the weights must not all be zero")
    return weights


def _scalar(current: Any, value: Any, what: str) -> Any:
    """``value`` as the type of the field's ``current`` value, or one clear error.

    YAML 1.1 reads ``1e9`` (no dot, no sign) as a string; it is taken as the number.
    """
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{what} must be true or false, not {value!r}")
    elif isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{what} must be a whole number, not {value!r}")
    elif isinstance(current, float):
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"{what} must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ValueError(f"{what} must be a number, not {value!r}")
        if math.isinf(value):
            raise ValueError(f"{what} must be a finite number, not {value!r}")
        value = float(value)
    elif isinstance(current, str) and not isinstance(value, str):
        raise ValueError(f"{what} must be text, not {value!r}")
    return value


class _Loader(yaml.SafeLoader):
    """Safe YAML that reads dates as text, so that ``_date`` names a bad one's field."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rule) for tag, rule in rules if tag != "tag:yaml.org,2002:timestamp"]
    for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_scenario(spec: str | Path | ScenarioConfig) -> ScenarioConfig:
    """A named scenario, a YAML file (``base:`` plus overrides, or the ``scenario.yaml``
    of a snapshot, whose ``scenario:`` holds the whole config), or a config as is."""
    if isinstance(spec, ScenarioConfig):
        return spec
    text = str(spec)
    if text in NAMED:
        return NAMED[text]
    path = Path(text)
    if not path.is_file():
        if path.suffix in (".yaml", ".yml"):
            raise ValueError(f"{text}: no such scenario file")
        raise ValueError(f"unknown scenario '{text}': use one of {', '.join(NAMED)} or a YAML file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        if data is None:
            raise ValueError(f"{path}: empty scenario file (write base: default and the changes)")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as problem:
        raise ValueError(f"{path}: {yaml_problem(problem)}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario file must be a mapping")
    if isinstance(data.get("scenario"), dict):  # a snapshot's scenario.yaml (isched generate)
        data = dict(data["scenario"])
    name = str(data.pop("base", "default"))
    base = NAMED.get(name)
    if base is None:
        raise ValueError(f"{path}: base: unknown scenario {name!r} (use one of {', '.join(NAMED)})")
    data.setdefault("name", path.stem)
    return validate_scenario(_merge(base, data, str(path)), str(path))


def validate_scenario(config: ScenarioConfig, where: str) -> ScenarioConfig:
    """Reject sizes and probabilities no season can have, naming the field."""
    counts = ("working_days", "n_postings", "n_candidates", "n_interviewers", "team_size")
    for name in counts:
        if getattr(config, name) < 1:
            raise ValueError(f"{where}: {name} must be at least 1")
    for name in (
        "headcount_min",
        "rooms_per_office",
        "accessible_rooms_per_office",
        "extra_rooms_per_office",
        "onboarding_lead_days",
        "offer_response_days",
        "onboarding_share",
        "publications_mean",
    ):
        if getattr(config, name) < 0:
            raise ValueError(f"{where}: {name} must not be negative")
    for name in ("screen_noise_sd", "loop_noise_sd"):
        if getattr(config, name) <= 0:
            raise ValueError(f"{where}: {name} must be above 0 (an interview's signal is the "
                             "quality plus a normal noise of this sd)")  # fmt: skip
    if config.horizon_days < 1:
        raise ValueError(f"{where}: horizon_days must be at least 1")
    for name, floor in (("patience_mean_days", 2), ("deadline_mean_days", 8)):
        if getattr(config, name) < floor:
            raise ValueError(f"{where}: {name} must be at least {floor} (its draw is {floor} + "
                             "an exponential)")  # fmt: skip
    offsets = config.start_window_offsets_days
    if not offsets or min(offsets) < 0:
        raise ValueError(f"{where}: start_window_offsets_days must list days >= 0")
    if config.headcount_max < config.headcount_min:
        raise ValueError(f"{where}: headcount_max must be at least headcount_min")
    for name in ("max_per_day", "max_per_week", "busy_blocks_per_day"):
        pair = getattr(config, name)
        if len(pair) != 2 or not 0 <= pair[0] <= pair[1]:
            raise ValueError(f"{where}: {name} must be a range [low, high] with 0 <= low <= high")
    probabilities = ("form_never_p", "form_delay_p", "secondary_area_p", "no_show_p", "sick_p",
                     "accommodation_p", "onsite_p", "too_short_availability_p", "accept_base",
                     "screen_role_p", "extra_area_p", "arrival_front_share")  # fmt: skip
    for name in probabilities:
        if not 0.0 <= getattr(config, name) <= 1.0:
            raise ValueError(f"{where}: {name} must be between 0 and 1")
    if config.form_delay_p == 0:
        raise ValueError(f"{where}: form_delay_p must be above 0")
    _check_day(config, where)
    return config


def _check_day(config: ScenarioConfig, where: str) -> None:
    """The working day, its slots and the interview format: a day that holds a screen and
    a loop, as every calendar computation assumes."""
    h, fmt = config.hours, config.interview
    if not 0 <= h.start_hour < h.end_hour <= 24:
        hours = f"{h.start_hour} and {h.end_hour}"
        raise ValueError(f"{where}: hours.start_hour and hours.end_hour must be hours of the "
                         f"day with start_hour < end_hour, not {hours}")  # fmt: skip
    if h.slot_minutes < 1 or 60 % h.slot_minutes:
        raise ValueError(f"{where}: hours.slot_minutes must divide an hour (5, 10, 15, 20, "
                         f"30, 60...), not {h.slot_minutes}")  # fmt: skip
    for name in ("screen_slots", "loop_sessions", "session_slots"):
        if getattr(fmt, name) < 1:
            raise ValueError(f"{where}: interview.{name} must be at least 1")
    for name in ("extended_extra_slots", "break_slots", "min_gap_days"):
        if getattr(fmt, name) < 0:
            raise ValueError(f"{where}: interview.{name} must not be negative")
    local = (fmt.candidate_local_start_hour, fmt.candidate_local_end_hour)
    if not 0 <= local[0] < local[1] <= 24:
        raise ValueError(f"{where}: interview.candidate_local_start_hour and "
                         "candidate_local_end_hour must be hours, start < end")  # fmt: skip
    longest = frozenset({"extended_time", "breaks"})
    for what, span in (
        ("a screen", fmt.screen_length(longest)),
        ("a loop", fmt.loop_span(longest)),
    ):
        if span > h.slots_per_day:
            raise ValueError(f"{where}: {what} with extended time and breaks takes {span} slots; "
                             f"the working day has {h.slots_per_day}")  # fmt: skip


def scenario_to_dict(config: ScenarioConfig) -> dict[str, Any]:
    """Plain-YAML form of a config (dates as ISO strings, tuples as lists)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)
