"""The state of one season in play: fixed indexes of the season and everything a play changes.

``SeasonState(season)`` builds it on reset. The env (``envs.season_env``) moves
it day by day; ``envs.feasibility`` answers what can be booked or offered;
``envs.observation`` writes the observation and mask from it; ``envs.known``
is the public, read-only view a planner may use. The hidden draws
(``truths``) live here too, read only by the env's dynamics, the export and
the bounds, never by a policy.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from envs.calendar import Booking, Calendar
from envs.layout import GLOBAL_FEATURES, N_ACTIONS, N_VERBS, OBS_SIZE, SLOT_FEATURES, WINDOW
from envs.layout import Stage as S
from scheduler.domain import AREAS, OFFICES
from scheduler.generator import Season
from scheduler.rules import quality_prior, week_of_day

AREA_INDEX = {a: k for k, a in enumerate(AREAS)}
OFFICE_INDEX = {o: k for k, o in enumerate(OFFICES)}


class SeasonState:
    """One season in play (built on reset from a generated ``Season``)."""

    def __init__(self, season: Season) -> None:
        self.season = season
        cfg = self.config = season.config
        snap = season.snapshot
        self.days = season.days
        self.n_days = len(season.days)
        self.candidates = snap.candidates
        self.truths = season.truths
        self.form_day = season.form_day
        self.postings = snap.postings
        self.interviewers = snap.interviewers
        n = len(snap.candidates)
        self.calendar = Calendar(
            busy=[[int(x) for x in row] for row in season.busy],
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
        self.stage: list[int] = [int(S.APPLIED)] * n
        self.pending = [-1] * n
        """Index in ``bookings`` of the candidate's booked interview not yet held (-1: none)."""
        self.last_contact = [0] * n
        self.contact_version = [0] * n
        self.post_mean = [
            quality_prior(c.publications, cfg.publications_mean) for c in snap.candidates
        ]
        self.post_prec = [1.0] * n
        self.screen_day = [-1] * n
        self.loop_day = [-1] * n
        self.loop_posting = [-1] * n
        """The posting whose team held the candidate's loop: offers go to that team only."""
        self.rebook = [False] * n
        self.no_show_used = [[False, False] for _ in range(n)]
        self.slot_of = [-1] * n
        self.queued = [False] * n
        self.offer: list[tuple[int, int, int, int] | None] = [None] * n
        """(posting, start window, offer day, index in ``offers``) of each candidate's offer."""
        self.answers: list[list[int]] = [[] for _ in range(self.n_days)]
        self.ready: deque[int] = deque()
        self.window = [-1] * WINDOW
        self.arrivals: list[list[int]] = [[] for _ in range(self.n_days)]
        for c, d in enumerate(season.form_day):
            if d >= 0:
                self.arrivals[int(d)].append(c)
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
        self.screen_cache: dict[tuple, tuple[tuple, Any]] = {}
        self.loop_cache: dict[int, tuple[tuple, Any]] = {}
        self.option_cache: dict[int, tuple[tuple, list[tuple[int, int]]]] = {}
        self.seat_cache: dict[int, tuple[tuple, tuple[bool, int]]] = {}
        self.tz_masks: dict[str, list[int]] = {}
        # season counters
        self.n_offers_out = 0
        self.n_hires = 0
        self.n_offerable = 0
        self.area_pipeline = [0] * len(AREAS)
        """Candidates screened, looped or with an offer out, per primary area (each morning)."""
        self.pending_count = [0, 0]
        """Booked screens and loops not yet held (the pipeline the window no longer shows)."""
        self.pending_quality = [0.0, 0.0]
        """Sum of the posterior means of the candidates of those screens and loops."""
        self.day = 0
        self.n_active = 0
        self.n_completed = 0
        self.n_withdrawn = 0
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
        self.slot_memo: list[tuple[int, int, int, int] | None] = [None] * WINDOW
        """(candidate, stage, calendar version, offer version) each slot's mask was made for."""

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
        self.c_areas = [tuple(AREA_INDEX[a] for a in c.areas()) for c in snap.candidates]
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
        for d, day in enumerate(self.days):
            if day >= date:
                return d
        return self.n_days

    # ------------------------------------------------------------ bookkeeping
    def contact(self, c: int) -> None:
        """Candidate ``c`` hears from us today: their patience clock restarts."""
        self.last_contact[c] = self.day
        self.contact_version[c] += 1
        due = min(self.day + self.truths[c].patience_days, self.n_days)
        self.events[due].append(("patience", c, self.contact_version[c]))

    def enqueue(self, c: int) -> None:
        """Put ``c`` in the queue for a decision (unless already queued or in the window)."""
        if not self.queued[c] and self.slot_of[c] < 0:
            self.queued[c] = True
            self.ready.append(c)

    def free_slot(self, c: int) -> None:
        k = self.slot_of[c]
        if k >= 0:
            self.window[k] = -1
            self.slot_of[c] = -1

    def track_pending(self, booking: Booking, sign: int) -> None:
        """Count a booking into (+1) or out of (-1) the pending pipeline features."""
        k = int(booking.stage == "loop")
        self.pending_count[k] += sign
        self.pending_quality[k] += sign * self.post_mean[booking.candidate]

    def charge_interviewer_time(self, booking: Booking, refund: bool = False) -> None:
        """Interviewer-hour cost of ``booking`` (charged at booking, refunded on cancellation)."""
        slots = len(booking.interviewers) * booking.session_length
        minutes = slots * self.config.hours.slot_minutes
        amount = self.config.rewards.interviewer_hour_cost * minutes / 60
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
