"""The hiring-season domain: postings, candidates, interviewers, rooms, start windows.

One word per concept, used the same way in code, tables, CLI and docs:

- **posting**: an open internship role of a team, in one ML area and one office,
  with a headcount; no offer before ``open_date + MIN_OPEN_DAYS``.
- **candidate**: a PhD applicant with a primary (and optional secondary) ML area.
  Only a candidate whose follow-up form is submitted can be scheduled.
- **interviewer**: belongs to a team and an office, is qualified in some areas,
  holds roles (``screen``, ``loop``, ``hiring_manager``) and has daily/weekly caps.
- **screen**: one qualified interviewer, virtual.
- **loop**: several sessions with interviewers of one team (one a hiring manager),
  same day, consecutive, onsite at the team's office (a room) or virtual.
- **start window**: a cohort start date with a per-office onboarding capacity;
  an offer names one that leaves ``INTERNSHIP_WEEKS`` inside the candidate's
  availability.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

AREAS: tuple[str, ...] = (
    "recommender_systems",
    "nlp",
    "computer_vision",
    "reinforcement_learning",
    "reliable_ml",
    "multimodal_data",
    "model_optimization",
    "ml_platform",
    "ml_application_engineering",
    "computer_graphics",
)
"""The ten ML areas of the posting, in a fixed order (their index is used in arrays)."""

OFFICES: tuple[str, ...] = ("los_gatos", "los_angeles")
VIRTUAL = "virtual"
OFFICE_TZ = ZoneInfo("America/Los_Angeles")
"""Both offices are on Pacific time; every slot is defined in this zone."""

ROLES: tuple[str, ...] = ("screen", "loop", "hiring_manager")
ACCOMMODATIONS: tuple[str, ...] = ("extended_time", "breaks", "virtual_only", "accessible_room")
STAGES: tuple[str, ...] = (
    "applied",  # form not yet submitted (incomplete application)
    "new",  # complete, waiting for a screen
    "screened",  # passed the screen, waiting for a loop
    "looped",  # loop done, waiting for an offer decision
    "offered",  # offer out, waiting for the answer
    "hired",
    "declined",
    "rejected",
    "withdrawn",
)

MIN_OPEN_DAYS = 7
"""A posting stays open at least 7 calendar days before any offer against it."""
INTERNSHIP_WEEKS = 12
"""Internships last at least 12 weeks."""


@dataclass(frozen=True)
class WorkingHours:
    """The interview day, in Pacific time, cut into equal slots."""

    start_hour: int = 9
    end_hour: int = 17
    slot_minutes: int = 30

    @property
    def slots_per_day(self) -> int:
        return (self.end_hour - self.start_hour) * 60 // self.slot_minutes

    def slot_start(self, day: dt.date, slot: int) -> dt.datetime:
        """Aware datetime (Pacific) at which ``slot`` of ``day`` starts."""
        naive = dt.datetime.combine(day, dt.time(self.start_hour)) + dt.timedelta(
            minutes=slot * self.slot_minutes
        )
        return naive.replace(tzinfo=OFFICE_TZ)


@dataclass(frozen=True)
class InterviewFormat:
    """Lengths of sessions in slots; accommodations stretch them."""

    screen_slots: int = 2
    loop_sessions: int = 3
    session_slots: int = 2
    extended_extra_slots: int = 1
    """``extended_time``: each session gets this many more slots."""
    break_slots: int = 1
    """``breaks``: a gap of this many slots between loop sessions."""
    min_gap_days: int = 2
    """A loop is at least this many days after the screen (results must be in)."""
    candidate_local_start_hour: int = 7
    candidate_local_end_hour: int = 21
    """A candidate is interviewed only between these local hours in their own time zone."""

    def screen_length(self, accommodation: frozenset[str]) -> int:
        return self.screen_slots + (
            self.extended_extra_slots if "extended_time" in accommodation else 0
        )

    def session_length(self, accommodation: frozenset[str]) -> int:
        return self.session_slots + (
            self.extended_extra_slots if "extended_time" in accommodation else 0
        )

    def session_offsets(self, accommodation: frozenset[str]) -> tuple[int, ...]:
        """Start offsets (slots) of each loop session from the loop's first slot."""
        step = self.session_length(accommodation) + (
            self.break_slots if "breaks" in accommodation else 0
        )
        return tuple(i * step for i in range(self.loop_sessions))

    def loop_span(self, accommodation: frozenset[str]) -> int:
        """Slots from the first session's start to the last session's end."""
        return self.session_offsets(accommodation)[-1] + self.session_length(accommodation)


@dataclass(frozen=True)
class Posting:
    posting_id: str
    team: str
    area: str
    office: str
    headcount: int
    open_date: dt.date
    research: bool = False
    hourly_rate: float = 0.0

    @property
    def first_offer_date(self) -> dt.date:
        return self.open_date + dt.timedelta(days=MIN_OPEN_DAYS)


@dataclass(frozen=True)
class Candidate:
    """An applicant as the coordinator sees them (hidden truth lives in ``CandidateTruth``)."""

    candidate_id: str
    primary_area: str
    secondary_area: str | None
    timezone: str
    applied_date: dt.date
    form_completed_date: dt.date | None
    available_from: dt.date
    available_until: dt.date
    office_preference: str | None
    accommodation: frozenset[str] = frozenset()
    publications: int = 0
    onsite: bool = True
    """Willing to travel for an onsite loop (``virtual_only`` overrides)."""
    stage: str = "new"

    @property
    def complete(self) -> bool:
        return self.form_completed_date is not None

    def areas(self) -> tuple[str, ...]:
        return (self.primary_area,) + ((self.secondary_area,) if self.secondary_area else ())


@dataclass(frozen=True)
class CandidateTruth:
    """What the season knows and the coordinator does not: revealed only by events."""

    quality: float
    """Latent quality, N(prior_mean, 1): the value of a hire grows with it."""
    screen_noise: float
    loop_noise: float
    patience_days: int
    """Withdraws after this many working days without contact."""
    deadline_days: int
    """Withdraws this many working days after the form, whatever happens (competing offer)."""
    no_show_screen: bool
    no_show_loop: bool
    accept_draw: float
    """Uniform draw: the offer is accepted if below the acceptance probability."""


@dataclass(frozen=True)
class Interviewer:
    interviewer_id: str
    team: str
    office: str
    areas: tuple[str, ...]
    roles: frozenset[str]
    max_per_day: int
    max_per_week: int


@dataclass(frozen=True)
class Room:
    room_id: str
    office: str
    capacity: int
    accessible: bool


@dataclass(frozen=True)
class StartWindow:
    """A cohort start date in one office, with its onboarding capacity."""

    window_id: str
    office: str
    start_date: dt.date
    capacity: int


@dataclass(frozen=True)
class BusyBlock:
    person_id: str
    start: dt.datetime
    end: dt.datetime


@dataclass
class Snapshot:
    """Everything a coordinator hands over: the tables of ``isched generate``."""

    postings: list[Posting]
    candidates: list[Candidate]
    interviewers: list[Interviewer]
    rooms: list[Room]
    start_windows: list[StartWindow]
    busy: list[BusyBlock] = field(default_factory=list)


def internship_fits(
    window_start: dt.date, available_from: dt.date, available_until: dt.date
) -> bool:
    """Whether a start window leaves ``INTERNSHIP_WEEKS`` inside the candidate's availability."""
    end = window_start + dt.timedelta(weeks=INTERNSHIP_WEEKS)
    return available_from <= window_start and end <= available_until
