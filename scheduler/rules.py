"""The one home of the season's behavioural rules and calendar conventions.

The env, the planners, the bounds, the learned-policy solver and the generator
all call these functions; none keeps a copy of a formula or a constant. (The
independent validator keeps its own constraint code, but reads the same
defaults: ``scheduler.domain.InterviewFormat`` and ``WorkingHours``.)

- **Quality prior.** A candidate's latent quality is drawn
  ``N(quality_prior(publications), 1)``; a policy knows the prior from the
  candidate's publications.
- **Acceptance.** A candidate accepts an offer with probability
  ``accept_base`` x ``SECONDARY_AREA_FACTOR`` (when the posting is in their
  secondary area) x ``OTHER_OFFICE_FACTOR`` (when they prefer the other office)
  x ``max(ACCEPT_FLOOR, 1 - ACCEPT_DECAY_PER_DAY * working days since the form)``.
- **Weeks.** Weekly interviewer caps count ISO weeks (Monday to Sunday), in the
  env, the solver and the validator alike, whatever weekday a season starts on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

QUALITY_PER_PUBLICATION = 0.15
"""Prior mean of quality per publication above the scenario's ``publications_mean``."""
SECONDARY_AREA_FACTOR = 0.9
"""Acceptance factor when the posting is in the candidate's secondary area."""
OTHER_OFFICE_FACTOR = 0.85
"""Acceptance factor when the candidate prefers the other office."""
ACCEPT_DECAY_PER_DAY = 0.01
"""Acceptance lost per working day between the form and the offer."""
ACCEPT_FLOOR = 0.5
"""The delay factor never falls below this."""
OFFICE_PREFERENCE_P = 0.6
"""Share of candidates who state an office preference (either office equally)."""


def quality_prior(publications: float, publications_mean: float) -> float:
    """Prior mean of a candidate's quality from their publications."""
    return QUALITY_PER_PUBLICATION * (publications - publications_mean)


def delay_factor(days_since_form: float) -> float:
    """Acceptance factor for an offer ``days_since_form`` working days after the form."""
    return max(ACCEPT_FLOOR, 1.0 - ACCEPT_DECAY_PER_DAY * days_since_form)


def acceptance_probability(
    accept_base: float, *, primary_area: bool, preferred_office: bool, days_since_form: float
) -> float:
    """Chance that a candidate accepts an offer.

    ``primary_area``: the posting is in the candidate's primary area;
    ``preferred_office``: the candidate has no office preference or prefers the
    posting's office; ``days_since_form``: working days from the form to the offer.
    """
    prob = accept_base
    if not primary_area:
        prob *= SECONDARY_AREA_FACTOR
    if not preferred_office:
        prob *= OTHER_OFFICE_FACTOR
    return prob * delay_factor(days_since_form)


def interviewer_cost(hour_cost: float, minutes: float) -> float:
    """What ``minutes`` of interviewer time cost at ``hour_cost`` per interviewer-hour."""
    return hour_cost * minutes / 60


def mixed_area_factor(primary_share: float, secondary_share: float) -> float:
    """Mean area factor of acceptance over candidates who have the posting's area as their
    primary (``primary_share``) or secondary (``secondary_share``) area."""
    return (primary_share + secondary_share * SECONDARY_AREA_FACTOR) / (
        primary_share + secondary_share
    )


def expected_office_factor() -> float:
    """Mean office factor over candidates whose preference is not yet known."""
    other = OFFICE_PREFERENCE_P / 2
    return (1.0 - other) + other * OTHER_OFFICE_FACTOR


def iso_week(day: dt.date) -> tuple[int, int]:
    """(ISO year, ISO week) of ``day``: the week a weekly cap counts in."""
    year, week, _ = day.isocalendar()
    return year, week


def week_of_day(days: Sequence[dt.date]) -> list[int]:
    """Per day, the index of its ISO week among the weeks ``days`` touch (0, 1, ...)."""
    index: dict[tuple[int, int], int] = {}
    return [index.setdefault(iso_week(d), len(index)) for d in days]
