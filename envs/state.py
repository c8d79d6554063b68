"""The state of one season in play: fixed indexes of the season and everything a play changes.

``SeasonState(season)`` builds it on reset. The env (``envs.season_env``) moves
it day by day; ``envs.feasibility`` answers what can be booked or offered;
``envs.observation`` writes the observation and mask from it; ``envs.known``
is the public, read-only view a planner may use. The hidden draws
(``truths``, and the same draws as flat lists in ``hidden`` for the env's
dynamics) live here too, read only by the env's dynamics, the export and the
bounds, never by a policy.

Reset is on the training path (a new season per episode), so the tables are
built from lists and columns, never value by value from numpy, and the
``CandidateTruth`` objects are not built unless someone reads ``truths``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from envs.calendar import Booking, Calendar
from envs.layout import GLOBAL_FEATURES, N_ACTIONS, N_VERBS, OBS_SIZE, SLOT_FEATURES, WINDOW
from envs.layout import Stage as S
from scheduler.domain import AREAS, OFFICES, Candidate, CandidateTruth
from scheduler.generator import Season
from scheduler.rules import interviewer_cost, quality_prior, week_of_day

AREA_INDEX = {a: k for k, a in enumerate(AREAS)}
OFFICE_INDEX = {o: k for k, o in enumerate(OFFICES)}
APPLIED, SCREENED, OFFERED = int(S.APPLIED), int(S.SCREENED), int(S.OFFERED)
_AREA_NAMES = attrgetter("primary_area", "secondary_area")
_PUBLICATIONS = attrgetter("publications")


@dataclass
class HiddenDraws:
    """The candidates' hidden draws as flat lists (index: candidate), for the dynamics.

    The same values as ``Season.truths``, read by the env one number at a time.
    """

    quality: list[float]
    screen_noise: list[float]
    loop_noise: list[float]
    patience_days: list[int]
    deadline_days: list[int]
    no_show: tuple[list[bool], list[bool]]
    """(screen, loop): whether the candidate misses their first interview of that kind."""
    accept_draw: list[float]

    @classmethod
    def of_season(cls, season: Season) -> HiddenDraws:
        """From the season's columns, or from its truths when they were built or replaced."""
        truths = season.__dict__.get("truths")  # a cached_property, set once read
        if truths is not None:
            return cls.of_truths(truths)
        cols = season.cand
        return cls(
            quality=cols.quality.tolist(),
            screen_noise=cols.screen_noise.tolist(),
            loop_noise=cols.loop_noise.tolist(),
            patience_days=cols.patience_days.tolist(),
            deadline_days=cols.deadline_days.tolist(),
            no_show=(cols.no_show_screen.tolist(), cols.no_show_loop.tolist()),
            accept_draw=cols.accept_draw.tolist(),
        )

    @classmethod
    def of_truths(cls, truths: Sequence[CandidateTruth]) -> HiddenDraws:
        return cls(
            quality=[t.quality for t in truths],
            screen_noise=[t.screen_noise for t in truths],
            loop_noise=[t.loop_noise for t in truths],
            patience_days=[t.patience_days for t in truths],
            deadline_days=[t.deadline_days for t in truths],
            no_show=([t.no_show_screen for t in truths], [t.no_show_loop for t in truths]),
            accept_draw=[t.accept_draw for t in truths],
        )


def area_indexes(candidates: Sequence[Candidate]) -> list[tuple[int, ...]]:
    """(primary, secondary) area indexes of each candidate (secondary only if any).

    Read from the candidate tables (not ``Season.cand``) so that a season whose
    tables were edited by hand stays consistent; one tuple per area pair.
    """
    pairs: dict[tuple[str, str | None], tuple[int, ...]] = {}
    out = []
    for names in map(_AREA_NAMES, candidates):
        areas = pairs.get(names)
        if areas is None:
            areas = pairs[names] = tuple(AREA_INDEX[a] for a in names if a)
        out.append(areas)
    return out


def prior_means(candidates: Sequence[Candidate], publications_mean: float) -> list[float]:
    """The quality prior of each candidate from their publications (one call per count)."""
    prior: dict[int, float] = {}
    out = []
    for pubs in map(_PUBLICATIONS, candidates):
        mean = prior.get(pubs)
        if mean is None:
            mean = prior[pubs] = quality_prior(pubs, publications_mean)
        out.append(mean)
    return out


@dataclass(frozen=True)
class Withdrawal:
    """A candidate who left the season: when, at which stage, and why."""

    candidate: int
    day: int
    stage: int
    """The stage they left from (``envs.layout.Stage``)."""
    booked: bool
    """An interview was booked and not yet held (it is cancelled)."""
    cause: str
    """``patience`` (no contact for their patience) or ``deadline`` (a competing offer)."""


class SeasonState:
    """One season in play (built on reset from a generated ``Season``)."""

    def __init__(self, season: Season) -> None:
        self.season = season
        cfg = self.config = season.config
        snap = season.snapshot
        self.days = season.days
        self.days_key = tuple(season.days)
        """The days as a hashable key (for the hours masks shared across seasons)."""
        self.n_days = len(season.days)
        self.candidates = snap.candidates
        self.hidden = HiddenDraws.of_season(season)
        self._truths: list[CandidateTruth] | None = None
        self.form_day = season.form_day
        self.form_days: list[int] = season.form_day.tolist()
        """``form_day`` as a list, for the hot paths."""
        self.postings = snap.postings
        self.interviewers = snap.interviewers
        n = len(snap.candidates)
        self.calendar = Calendar(
            busy=season.busy.tolist(),
            max_per_day=[i.max_per_day for i in snap.interviewers],
            max_per_week=[i.max_per_week for i in snap.interviewers],
            n_rooms=len(snap.rooms),
            n_days=self.n_days,
            week_of_day=week_of_day(season.days),
            slots_per_day=cfg.hours.slots_per_day,
        )
        self._index_people(season)
        self._index_postings(season)
        # per-candidate state
        self.stage: list[int] = [APPLIED] * n
        self.pending = [-1] * n
        """Index in ``bookings`` of the candidate's booked interview not yet held (-1: none)."""
        self.last_contact = [0] * n
        self.contact_version = [0] * n
        self.post_mean = prior_means(snap.candidates, cfg.publications_mean)
        self.post_prec = [1.0] * n
        self.screen_day = [-1] * n
        self.loop_day = [-1] * n
        self.loop_posting = [-1] * n
        """The posting whose team held the candidate's loop: offers go to that team only."""
        self.rebook = [False] * n
        self.no_show_used = ([False] * n, [False] * n)
        """(screen, loop): whether the candidate's no-show of that kind has happened."""
        self.slot_of = [-1] * n
        self.queued = [False] * n
        self.offer: list[tuple[int, int, int, int] | None] = [None] * n
        """(posting, start window, offer day, index in ``offers``) of each candidate's offer."""
        self.answers: list[list[int]] = [[] for _ in range(self.n_days)]
        self.ready: deque[int] = deque()
        self.window = [-1] * WINDOW
        self.arrivals: list[list[int]] = [[] for _ in range(self.n_days)]
        for c, d in enumerate(self.form_days):
            if d >= 0:
                self.arrivals[d].append(c)
        self.events: list[list[tuple[str, int, int]]] = [[] for _ in range(self.n_days + 1)]
        self.bookings: list[Booking] = []
        self.bookings_on: list[list[int]] = [[] for _ in range(self.n_days)]
        self.sick_on: list[set[int]] = [set() for _ in range(self.n_days)]
        for i, d in season.sick:
            self.sick_on[d].add(i)
        self.offers: list[tuple[int, int, int, int, bool]] = []  # c, posting, window, day, accepted
        # caches, invalidated by versions
        self.epoch = 0
        self.area_version = [0] * len(AREAS)
        self.team_version = [0] * len(self.team_members)
        self.room_version = [0, 0]
        self.offer_version = 0
        self.calendar_version = 0
        self.mask_versions = (-1, -1, -1)
        """(epoch, offer version, calendar version) when the mask was last refreshed."""
        self.screen_cache: dict[tuple, tuple[tuple, int, Any]] = {}
        """(stamp, calendar releases, earliest screen) per (areas, time zone, extended)."""
        self.loop_cache: dict[int, tuple[tuple, Any]] = {}
        self.option_cache: dict[int, tuple[tuple, list[tuple[int, int]]]] = {}
        self.seat_cache: dict[int, tuple[tuple, tuple[bool, int]]] = {}
        self.area_seat_cache: dict[tuple, tuple[int, tuple[int, list[int]]]] = {}
        self.c_windows: list[list[list[int]] | None] = [None] * n
        """Per candidate, per office, the windows their availability fits (on first use)."""
        self.tz_masks: dict[str, list[int]] = {}
        # season counters
        self.n_offers_out = 0
        self.n_hires = 0
        self.n_offerable = 0
        self.area_pipeline = [0] * len(AREAS)
        """Candidates screened, looped or with an offer out, per primary area (each morning)."""
        self.pipeline_now = [0] * len(AREAS)
        """``area_pipeline`` as it stands (kept by ``set_stage``; copied each morning)."""
        self.pending_count = [0, 0]
        """Booked screens and loops not yet held (the pipeline the window no longer shows)."""
        self.pending_quality = [0.0, 0.0]
        """Sum of the posterior means of the candidates of those screens and loops."""
        self.day = 0
        self.n_active = 0
        self.n_completed = 0
        self.n_withdrawn = 0
        self.withdrawals: list[Withdrawal] = []
        """Every withdrawal of the play so far, with its stage and cause (for diagnostics)."""
        self.n_invalid = 0
        self.actions_today = 0
        self.parts = {"hires": 0.0, "interviewer_time": 0.0, "waiting": 0.0, "unfilled": 0.0,
                      "invalid": 0.0}  # fmt: skip
        self.reward = 0.0
        """Reward of the step in progress."""
        self.done = False
        # observation buffers (written by ``envs.observation``)
        self.obs = np.zeros(OBS_SIZE, dtype=np.float32)
        self.mask = np.zeros(N_ACTIONS, dtype=np.int8)
        self._views()
        self.slot_memo: list[Any] = [None] * WINDOW
        """What each slot's mask was written from (``envs.observation.SlotMemo``; None:
        to be written)."""

    def _views(self) -> None:
        self.slot_rows = self.obs[GLOBAL_FEATURES:].reshape(WINDOW, SLOT_FEATURES)
        self.mask2d = self.mask[: WINDOW * N_VERBS].reshape(WINDOW, N_VERBS)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("slot_rows", None)  # views: rebuilt on unpickling
        state.pop("mask2d", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._views()

    def _index_people(self, season: Season) -> None:
        """Areas, teams, screeners, loop members and hiring managers as indexes."""
        snap = season.snapshot
        self.c_areas = area_indexes(snap.candidates)
        self.c_primary = [areas[0] for areas in self.c_areas]
        self.screeners: dict[tuple[int, ...], list[int]] = {}
        self.area_screeners = [
            [i for i, iv in enumerate(snap.interviewers) if "screen" in iv.roles and a in iv.areas]
            for a in AREAS
        ]
        teams = sorted({p.team for p in snap.postings} | {i.team for i in snap.interviewers})
        self.team_index = {t: k for k, t in enumerate(teams)}
        self.team_members: list[list[int]] = [[] for _ in teams]
        self.team_managers: list[list[int]] = [[] for _ in teams]
        for i, iv in enumerate(snap.interviewers):
            if "loop" in iv.roles:
                self.team_members[self.team_index[iv.team]].append(i)
                if "hiring_manager" in iv.roles:
                    self.team_managers[self.team_index[iv.team]].append(i)
        self.i_areas = [tuple(AREA_INDEX[a] for a in iv.areas) for iv in snap.interviewers]
        self.i_team = [self.team_index[iv.team] for iv in snap.interviewers]
        self.office_index = OFFICE_INDEX
        self.rooms_of = [
            [r for r, room in enumerate(snap.rooms) if room.office == o] for o in OFFICES
        ]
        self.accessible_rooms_of = [
            [r for r, room in enumerate(snap.rooms) if room.office == o and room.accessible]
            for o in OFFICES
        ]

    def _index_postings(self, season: Season) -> None:
        """Postings by area and team, their open and first-offer days, seats and windows."""
        snap = season.snapshot
        self.area_postings = [
            [p for p, post in enumerate(snap.postings) if post.area == a] for a in AREAS
        ]
        self.p_team = [self.team_index[post.team] for post in snap.postings]
        self.p_office = [OFFICE_INDEX[post.office] for post in snap.postings]
        self.p_first_offer = [self.day_on_or_after(post.first_offer_date) for post in snap.postings]
        self.p_open = [self.day_on_or_after(post.open_date) for post in snap.postings]
        self.p_remaining = [post.headcount for post in snap.postings]
        self.total_headcount = sum(post.headcount for post in snap.postings)
        self.windows = snap.start_windows
        self.window_left = [w.capacity for w in snap.start_windows]
        self.window_start = [w.start_date.toordinal() for w in snap.start_windows]
        """Start date of each window as an ordinal."""
        self.total_window_capacity = max(1, sum(self.window_left))
        self.office_windows = [
            sorted(
                (k for k, w in enumerate(snap.start_windows) if w.office == o),
                key=lambda k: snap.start_windows[k].start_date,
            )
            for o in OFFICES
        ]

    def day_on_or_after(self, date: Any) -> int:
        """Index of the first working day on or after ``date`` (``n_days`` if none)."""
        return bisect_left(self.days, date)

    @property
    def truths(self) -> list[CandidateTruth]:
        """The candidates' hidden draws as objects (the season's, unless replaced)."""
        return self._truths if self._truths is not None else self.season.truths

    @truths.setter
    def truths(self, truths: list[CandidateTruth]) -> None:
        """Replace the hidden draws of this play (the dynamics follow them from now on)."""
        self._truths = truths
        self.hidden = HiddenDraws.of_truths(truths)

    # ------------------------------------------------------------ bookkeeping
    def set_stage(self, c: int, stage: int) -> None:
        """Move candidate ``c`` to ``stage``, keeping the pipeline count of their area."""
        was = SCREENED <= self.stage[c] <= OFFERED
        now = SCREENED <= stage <= OFFERED
        if was != now:
            self.pipeline_now[self.c_primary[c]] += 1 if now else -1
        self.stage[c] = stage

    def contact(self, c: int) -> None:
        """Candidate ``c`` hears from us today: their patience clock restarts."""
        self.last_contact[c] = self.day
        self.contact_version[c] += 1
        due = min(self.day + self.hidden.patience_days[c], self.n_days)
        self.events[due].append(("patience", c, self.contact_version[c]))

    def enqueue(self, c: int) -> None:
        """Put ``c`` in the queue for a decision (unless already queued or in the window)."""
        if not self.queued[c] and self.slot_of[c] < 0:
            self.queued[c] = True
            self.ready.append(c)

    def free_slot(self, c: int) -> None:
        """Take ``c`` out of the window; their slot's features read zero until refilled
        (an empty slot's row is always zero, so a refill need not write it)."""
        k = self.slot_of[c]
        if k >= 0:
            self.window[k] = -1
            self.slot_of[c] = -1
            self.slot_rows[k] = 0.0

    def track_pending(self, booking: Booking, sign: int) -> None:
        """Count a booking into (+1) or out of (-1) the pending pipeline features."""
        k = int(booking.stage == "loop")
        self.pending_count[k] += sign
        self.pending_quality[k] += sign * self.post_mean[booking.candidate]

    def charge_interviewer_time(self, booking: Booking, refund: bool = False) -> None:
        """Interviewer-hour cost of ``booking`` (charged at booking, refunded on cancellation)."""
        slots = len(booking.interviewers) * booking.session_length
        minutes = slots * self.config.hours.slot_minutes
        amount = interviewer_cost(self.config.rewards.interviewer_hour_cost, minutes)
        self.add_reward("interviewer_time", amount if refund else -amount)

    def add_reward(self, part: str, amount: float) -> None:
        self.parts[part] += amount
        self.reward += amount

    def bump(self, booking: Booking) -> None:
        """Invalidate the cached searches a booking or cancellation may change."""
        self.calendar_version += 1
        for i in booking.interviewers:
            for a in self.i_areas[i]:
                self.area_version[a] += 1
            self.team_version[self.i_team[i]] += 1
        if booking.room >= 0:
            self.room_version[OFFICE_INDEX[booking.office]] += 1
