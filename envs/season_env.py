"""The hiring season as a Gymnasium environment."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs.calendar import Booking, Calendar, candidate_hours_mask
from scheduler.domain import AREAS, INTERNSHIP_WEEKS, OFFICES
from scheduler.generator import Season, generate_season
from scheduler.rules import acceptance_probability, quality_prior, week_of_day
from scheduler.scenario import ScenarioConfig, load_scenario

APPLIED, NEW, SCREENED, LOOPED, OFFERED, HIRED, DECLINED, REJECTED, WITHDRAWN = range(9)
STAGE_NAMES = (
    "applied", "new", "screened", "looped", "offered", "hired", "declined", "rejected", "withdrawn",
)  # fmt: skip
ACTIVE = (NEW, SCREENED, LOOPED)

WINDOW = 16
"""Candidate slots visible at once; the same for every scenario."""
VERBS = ("screen", "loop", "reject", "offer_0", "offer_1", "offer_2", "offer_3")
N_VERBS = len(VERBS)
N_OFFER_OPTIONS = 4
N_ACTIONS = WINDOW * N_VERBS + 1
END_DAY = N_ACTIONS - 1
SLOT_FEATURE_NAMES = (
    "present", "stage_new", "stage_screened", "stage_looped", "quality_mean", "quality_sd",
    "days_since_contact", "days_since_form", "patience_risk", "deadline_risk", "can_screen",
    "can_loop", "offer_options", "can_offer", "accommodation", "publications", "rebook",
    "primary_area_open", "hireable", "areas_open", "area_pipeline", "booking_wait",
    "offer_accept",
)  # fmt: skip
"""Per-slot observation features, in order (``obs[GLOBAL_FEATURES + k * SLOT_FEATURES + j]``)."""
SLOT_FEATURES = len(SLOT_FEATURE_NAMES)
GLOBAL_FEATURE_NAMES = (
    "day", "days_left", "headcount_left", "offers_out", "hires", "queue", "active",
    "actions_today", "onboarding_left", "postings_offerable", "season_size", "drop_off",
    "pending_screens", "pending_loops", "pending_screen_quality", "pending_loop_quality",
)  # fmt: skip
"""Season observation features, in order (``obs[j]``); counts are per seat of headcount."""
GLOBAL_FEATURES = len(GLOBAL_FEATURE_NAMES)
OBS_SIZE = GLOBAL_FEATURES + WINDOW * SLOT_FEATURES
HOURS_PER_WEEK = 40
"""Full-time internship hours, for the ``intern_cost_usd`` KPI (posting rate x hours)."""


def decode_action(action: int) -> tuple[int, str]:
    """(window slot, verb) of an action; (-1, "end_day") for the last one."""
    if action == END_DAY:
        return -1, "end_day"
    return action // N_VERBS, VERBS[action % N_VERBS]


class InterviewSchedulingEnv(gym.Env[np.ndarray, int]):
    """An internship hiring season: whom to screen, loop, offer or reject, day by day.

    ## Description
    Postings of teams in Los Gatos and Los Angeles open on staggered days with a
    headcount. PhD candidates arrive over the season, submit the follow-up form
    after a delay (some never do) and then move through **screen -> loop ->
    offer -> accept/decline**. Each working day the agent takes decisions on the
    candidates in a window of ``WINDOW`` slots; the env books each interview at
    the earliest feasible time within ``horizon_days`` (interviewer calendars,
    daily and weekly caps, qualification, candidate local hours, accommodations,
    rooms) and then the agent ends the day. A candidate's quality is hidden and
    revealed noisily by the screen and the loop; candidates withdraw after
    waiting too long without contact (a booking counts as contact, the wait
    until the booked interview does not, so a distant booking can be lost) or
    when a competing deadline passes;
    candidates may not show and interviewers may be out sick, and failed
    interviews must be booked again.

    ## Action Space
    ``Discrete(WINDOW * 7 + 1)``: action ``k * 7 + v`` applies verb ``v`` to the
    candidate in window slot ``k``; verbs are ``screen``, ``loop``, ``reject`` and
    ``offer_0..offer_3`` (offer option ``j``: a posting with headcount left in
    the candidate's primary or secondary area, at least 7 days open, with the
    earliest start window that leaves 12 weeks inside the candidate's
    availability and has onboarding capacity; options are ranked primary area
    first, then office preference, then headcount left). The last action ends
    the day. ``info["action_mask"]`` (np.int8) and ``action_masks()`` (bool) mark
    the valid ones. An invalid action is a no-op costing ``invalid_penalty``.
    After ``max_actions_per_day`` actions the day ends by itself.

    ## Observation Space
    ``Box(-10, 10, (OBS_SIZE,), float32)``: ``GLOBAL_FEATURES`` season features
    (day, headcount left, offers out, hires, queue length, capacity left, and the
    pipeline the window does not show: booked screens and loops not yet held and
    the sum of their candidates' posterior means; ``GLOBAL_FEATURE_NAMES``)
    followed by ``SLOT_FEATURES`` per window slot (present, stage, posterior mean
    and sd of quality, days since contact and since the form, withdrawal risk,
    which verbs are bookable, offer options, accommodation, publications, a
    re-booking flag, open headcount in the primary area, whether any posting of
    the candidate's areas still has a seat and a start window their availability
    fits, open headcount in both areas, the pipeline in the primary area per open
    seat, days until the bookable interview, and the acceptance probability of
    the first offer option). Shapes do not depend on the scenario.

    ## Starting State
    ``reset(seed=s)`` draws a season of the scenario from ``s`` and starts on
    its first working day with the candidates whose form is in.

    ## Rewards
    ``hire_value + quality_weight * quality`` per accepted hire (times
    ``secondary_fit`` when hired in the secondary area), minus
    ``interviewer_hour_cost`` per interviewer-hour booked (refunded when an
    interview is cancelled), minus ``wait_cost`` per active candidate per day,
    minus ``unfilled_penalty`` per seat unfilled at season end, minus
    ``invalid_penalty`` per invalid action. Weights are in the scenario.

    ## Episode End
    Terminates after the last working day (outstanding offers are answered and
    unfilled headcount is charged). Never truncates by itself; wrap it in
    ``TimeLimit`` if needed.

    ## Information
    ``action_mask`` every step; ``kpis`` (hires, fill rate, mean hire quality,
    time to offer, drop-off rate, interviews per hire, interviewer load balance,
    the interns' pay at the postings' hourly rates (12 weeks full time),
    invalid actions, reward parts) when the episode ends.

    ## Arguments
    ``scenario``: ``"tiny"``, ``"default"``, ``"large"``, a YAML path, a
    ``ScenarioConfig`` or a ``Season``; ``render_mode``: ``None`` or ``"ansi"``;
    ``max_actions_per_day``: actions after which a day ends by itself.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | ScenarioConfig | Season = "tiny",
        render_mode: str | None = None,
        max_actions_per_day: int = 200,
    ) -> None:
        self.fixed_season = scenario if isinstance(scenario, Season) else None
        self.config: ScenarioConfig = (
            scenario.config if isinstance(scenario, Season) else load_scenario(scenario)
        )
        self.render_mode = render_mode
        self.max_actions_per_day = max_actions_per_day
        self.action_space: spaces.Discrete = spaces.Discrete(N_ACTIONS)  # type: ignore[assignment]
        self.observation_space = spaces.Box(-10.0, 10.0, (OBS_SIZE,), np.float32)
        self.season: Season | None = None

    # ------------------------------------------------------------------ setup
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and isinstance(options.get("season"), Season):
            season = options["season"]
        elif self.fixed_season is not None:
            season = self.fixed_season
        else:
            season = generate_season(
                self.config, int(self.np_random.integers(2**31 - 1)), calendar_rows=False
            )
        self._setup(season)
        self._start_day()
        return self._observe(), {"action_mask": self._mask.copy()}

    def _setup(self, season: Season) -> None:
        self.season = season
        cfg = self.config = season.config
        snap = season.snapshot
        self.days = season.days
        self.n_days = len(season.days)
        self.candidates = snap.candidates
        self.truths = season.truths
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
        area_index = {a: k for k, a in enumerate(AREAS)}
        self.c_areas = [tuple(area_index[a] for a in c.areas()) for c in snap.candidates]
        self.screeners: dict[tuple[int, ...], list[int]] = {}
        self.area_screeners = [
            [i for i, iv in enumerate(snap.interviewers) if "screen" in iv.roles and a in iv.areas]
            for a in AREAS
        ]
        teams = sorted({p.team for p in snap.postings} | {i.team for i in snap.interviewers})
        self.team_index = {t: k for k, t in enumerate(teams)}
        self.team_members = [[] for _ in teams]  # type: list[list[int]]
        self.team_managers = [[] for _ in teams]  # type: list[list[int]]
        for i, iv in enumerate(snap.interviewers):
            if "loop" in iv.roles:
                self.team_members[self.team_index[iv.team]].append(i)
                if "hiring_manager" in iv.roles:
                    self.team_managers[self.team_index[iv.team]].append(i)
        self.i_areas = [tuple(area_index[a] for a in iv.areas) for iv in snap.interviewers]
        self.i_team = [self.team_index[iv.team] for iv in snap.interviewers]
        self.office_index = {o: k for k, o in enumerate(OFFICES)}
        self.rooms_of = [
            [r for r, room in enumerate(snap.rooms) if room.office == o] for o in OFFICES
        ]
        self.accessible_rooms_of = [
            [r for r, room in enumerate(snap.rooms) if room.office == o and room.accessible]
            for o in OFFICES
        ]
        self.area_postings = [
            [p for p, post in enumerate(snap.postings) if post.area == a] for a in AREAS
        ]
        self.p_first_offer = [
            self._day_on_or_after(post.first_offer_date) for post in snap.postings
        ]
        self.p_open = [self._day_on_or_after(post.open_date) for post in snap.postings]
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
        # per-candidate state
        self.stage = [APPLIED] * n
        self.pending = [-1] * n
        self.last_contact = [0] * n
        self.contact_version = [0] * n
        prior = [quality_prior(c.publications, cfg.publications_mean) for c in snap.candidates]
        self.post_mean = prior
        self.post_prec = [1.0] * n
        self.screen_day = [-1] * n
        self.loop_day = [-1] * n
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
        self.team_version = [0] * len(teams)
        self.room_version = [0, 0]
        self.offer_version = 0
        self.screen_cache: dict[tuple, tuple[tuple, Any]] = {}
        self.loop_cache: dict[int, tuple[tuple, Any]] = {}
        self.option_cache: dict[int, tuple[tuple, list[tuple[int, int]]]] = {}
        self.seat_cache: dict[int, tuple[tuple, tuple[bool, int]]] = {}
        self.tz_masks: dict[str, list[int]] = {}
        self.n_offers_out = 0
        self.n_hires = 0
        self.area_pipeline = [0] * len(AREAS)
        """Candidates screened, looped or with an offer out, per primary area (each morning)."""
        self.pending_count = [0, 0]
        """Booked screens and loops not yet held (the pipeline the window no longer shows)."""
        self.pending_quality = [0.0, 0.0]
        """Sum of the posterior means of the candidates of those screens and loops."""
        # accounting
        self.day = 0
        self.n_active = 0
        self.n_completed = 0
        self.actions_today = 0
        self.parts = {"hires": 0.0, "interviewer_time": 0.0, "waiting": 0.0, "unfilled": 0.0,
                      "invalid": 0.0}  # fmt: skip
        self.n_invalid = 0
        self._pending_reward = 0.0
        self.n_withdrawn = 0
        self.done = False
        self._obs = np.zeros(OBS_SIZE, dtype=np.float32)
        self._slot_rows = self._obs[GLOBAL_FEATURES:].reshape(WINDOW, SLOT_FEATURES)
        self._mask = np.zeros(N_ACTIONS, dtype=np.int8)
        self._mask2d = self._mask[: WINDOW * N_VERBS].reshape(WINDOW, N_VERBS)
        self._slot_memo: list[tuple[int, int, int, int] | None] = [None] * WINDOW
        """(candidate, stage, calendar version, offer version) each slot's mask was made for."""
        self.calendar_version = 0

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_slot_rows", None)  # views: rebuilt on unpickling
        state.pop("_mask2d", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_obs" in state:
            self._slot_rows = self._obs[GLOBAL_FEATURES:].reshape(WINDOW, SLOT_FEATURES)
            self._mask2d = self._mask[: WINDOW * N_VERBS].reshape(WINDOW, N_VERBS)

    def _day_on_or_after(self, date: Any) -> int:
        for d, day in enumerate(self.days):
            if day >= date:
                return d
        return self.n_days

    # --------------------------------------------------------------- day flow
    def _contact(self, c: int) -> None:
        self.last_contact[c] = self.day
        self.contact_version[c] += 1
        due = min(self.day + self.truths[c].patience_days, self.n_days)
        self.events[due].append(("patience", c, self.contact_version[c]))

    def _enqueue(self, c: int) -> None:
        if not self.queued[c] and self.slot_of[c] < 0:
            self.queued[c] = True
            self.ready.append(c)

    def _free_slot(self, c: int) -> None:
        k = self.slot_of[c]
        if k >= 0:
            self.window[k] = -1
            self.slot_of[c] = -1

    def _refill(self) -> None:
        for k in range(WINDOW):
            if self.window[k] >= 0:
                continue
            while self.ready:
                c = self.ready.popleft()
                self.queued[c] = False
                if self.stage[c] in ACTIVE and self.pending[c] < 0:
                    self.window[k] = c
                    self.slot_of[c] = k
                    self._fill_row(k)
                    break
            else:
                self._slot_rows[k] = 0.0

    def _start_day(self) -> None:
        """Morning of ``self.day``: sick cancellations, withdrawals, arrivals."""
        d = self.day
        self.epoch += 1
        self.calendar_version += 1
        self.actions_today = 0
        self.n_offerable = sum(1 for first in self.p_first_offer if first <= d)
        for b in self.bookings_on[d]:
            booking = self.bookings[b]
            if booking.status == "booked" and any(
                i in self.sick_on[d] for i in booking.interviewers
            ):
                self._cancel(b)
                c = booking.candidate
                self.rebook[c] = True
                self._enqueue(c)
        for kind, c, version in self.events[d]:
            if self.stage[c] not in ACTIVE:
                continue
            if kind == "deadline" or (kind == "patience" and version == self.contact_version[c]):
                self._withdraw(c)
        for c in self.arrivals[d]:
            self.stage[c] = NEW
            self.n_active += 1
            self.n_completed += 1
            self._contact(c)
            due = min(d + self.truths[c].deadline_days, self.n_days)
            self.events[due].append(("deadline", c, 0))
            self._enqueue(c)
        self.area_pipeline = [0] * len(AREAS)
        for c, stage in enumerate(self.stage):
            if stage in (SCREENED, LOOPED, OFFERED):
                self.area_pipeline[self.c_areas[c][0]] += 1
        for k in range(WINDOW):
            if self.window[k] >= 0:
                self._fill_row(k)
        self._refill()

    def _withdraw(self, c: int) -> None:
        if self.pending[c] >= 0:
            self._cancel(self.pending[c])
        self.stage[c] = WITHDRAWN
        self.n_active -= 1
        self.n_withdrawn += 1
        self._free_slot(c)

    def _cancel(self, b: int) -> None:
        booking = self.bookings[b]
        booking.status = "cancelled"
        self.calendar.cancel(booking)
        self._bump(booking)
        self._charge_interviewer_time(booking, refund=True)
        self._track_pending(booking, -1)
        self.pending[booking.candidate] = -1

    def _track_pending(self, booking: Booking, sign: int) -> None:
        """Count a booking into (+1) or out of (-1) the pending pipeline features."""
        k = int(booking.stage == "loop")
        self.pending_count[k] += sign
        self.pending_quality[k] += sign * self.post_mean[booking.candidate]

    def _charge_interviewer_time(self, booking: Booking, refund: bool = False) -> None:
        """Interviewer-hour cost of ``booking`` (charged at booking, refunded on cancellation)."""
        slots = len(booking.interviewers) * booking.session_length
        minutes = slots * self.config.hours.slot_minutes
        amount = self.config.rewards.interviewer_hour_cost * minutes / 60
        if not refund:
            amount = -amount
        self.parts["interviewer_time"] += amount
        self._pending_reward += amount

    def _bump(self, booking: Booking) -> None:
        self.calendar_version += 1
        for i in booking.interviewers:
            for a in self.i_areas[i]:
                self.area_version[a] += 1
            self.team_version[self.i_team[i]] += 1
        if booking.room >= 0:
            self.room_version[self.office_index[booking.office]] += 1

    def _end_day(self) -> bool:
        """Evening of ``self.day``: interviews happen, offers are answered. True at season end."""
        d = self.day
        cfg = self.config
        for b in self.bookings_on[d]:
            booking = self.bookings[b]
            if booking.status != "booked":
                continue
            c = booking.candidate
            self._track_pending(booking, -1)
            self.pending[c] = -1
            is_loop = booking.stage == "loop"
            truth = self.truths[c]
            if (truth.no_show_loop if is_loop else truth.no_show_screen) and not self.no_show_used[
                c
            ][is_loop]:
                self.no_show_used[c][is_loop] = True
                booking.status = "no_show"
                self.rebook[c] = True
            else:
                booking.status = "held"
                sd = cfg.loop_noise_sd if is_loop else cfg.screen_noise_sd
                signal = truth.quality + (truth.loop_noise if is_loop else truth.screen_noise)
                prec = self.post_prec[c] + 1.0 / sd**2
                self.post_mean[c] = (self.post_mean[c] * self.post_prec[c] + signal / sd**2) / prec
                self.post_prec[c] = prec
                self.rebook[c] = False
                if is_loop:
                    self.stage[c], self.loop_day[c] = LOOPED, d
                else:
                    self.stage[c], self.screen_day[c] = SCREENED, d
                self._contact(c)
            self._enqueue(c)
        for c in self.answers[d]:
            if self.stage[c] == OFFERED:
                self._answer_offer(c)
        self.parts["waiting"] -= cfg.rewards.wait_cost * self.n_active
        self._pending_reward -= cfg.rewards.wait_cost * self.n_active
        self.day += 1
        if self.day >= self.n_days:
            for c, *_ in list(self.offers):
                if self.stage[c] == OFFERED:
                    self._answer_offer(c)
            unfilled = sum(self.p_remaining)
            self.parts["unfilled"] -= cfg.rewards.unfilled_penalty * unfilled
            self._pending_reward -= cfg.rewards.unfilled_penalty * unfilled
            return True
        self._start_day()
        return False

    def acceptance_probability(self, c: int, p: int, offer_day: int) -> float:
        """Chance that candidate ``c`` accepts posting ``p`` offered on ``offer_day``."""
        cand, post = self.candidates[c], self.postings[p]
        form_day = int(self.season.form_day[c]) if self.season else 0
        return acceptance_probability(
            self.config.accept_base,
            primary_area=post.area == cand.primary_area,
            preferred_office=not cand.office_preference or cand.office_preference == post.office,
            days_since_form=offer_day - form_day,
        )

    def _answer_offer(self, c: int) -> None:
        p, w, offer_day, k = self.offer[c]  # type: ignore[misc]
        self.n_active -= 1
        accepted = self.truths[c].accept_draw < self.acceptance_probability(c, p, offer_day)
        self.offers[k] = (c, p, w, offer_day, accepted)
        self.offer_version += 1
        self.n_offers_out -= 1
        if accepted:
            self.n_hires += 1
            self.stage[c] = HIRED
            rw = self.config.rewards
            fit = (
                1.0
                if self.postings[p].area == self.candidates[c].primary_area
                else rw.secondary_fit
            )
            value = fit * (rw.hire_value + rw.quality_weight * self.truths[c].quality)
            self.parts["hires"] += value
            self._pending_reward += value
        else:
            self.stage[c] = DECLINED
            self.p_remaining[p] += 1
            self.window_left[w] += 1

    # ----------------------------------------------------------- feasibility
    def _horizon(self, first: int) -> range:
        return range(
            max(first, self.day + 1), min(self.day + 1 + self.config.horizon_days, self.n_days)
        )

    def _hours_masks(self, c: int, days: range) -> list[int]:
        """Candidate-local-hours masks of ``days`` (computed once per time zone and season)."""
        tz = self.candidates[c].timezone
        masks = self.tz_masks.get(tz)
        if masks is None:
            hours, fmt = self.config.hours, self.config.interview
            masks = [candidate_hours_mask(tz, day, hours, fmt) for day in self.days]
            self.tz_masks[tz] = masks
        return masks[days.start : days.stop]

    def _screen_search(self, c: int) -> tuple[int, int, int] | None:
        cand = self.candidates[c]
        areas = self.c_areas[c]
        key = (areas, cand.timezone, "extended_time" in cand.accommodation)
        stamp = (self.epoch,) + tuple(self.area_version[a] for a in areas)
        hit = self.screen_cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        screeners = self.screeners.get(areas)
        if screeners is None:
            screeners = list(self.area_screeners[areas[0]])
            for a in areas[1:]:
                screeners += [i for i in self.area_screeners[a] if i not in screeners]
            self.screeners[areas] = screeners
        days = self._horizon(self.day + 1)
        length = self.config.interview.screen_length(cand.accommodation)
        result = self.calendar.find_screen(screeners, days, self._hours_masks(c, days), length)
        self.screen_cache[key] = (stamp, result)
        return result

    def _target_posting(self, c: int) -> int:
        """The posting a loop is held for: primary area first, preferred office, most headcount."""
        best, best_key = -1, None
        pref = self.candidates[c].office_preference
        for rank, a in enumerate(self.c_areas[c]):
            for p in self.area_postings[a]:
                if self.p_remaining[p] <= 0 or self.p_open[p] > self.day:
                    continue
                key = (
                    rank,
                    self.postings[p].office != pref if pref else False,
                    -self.p_remaining[p],
                    p,
                )
                if best_key is None or key < best_key:
                    best, best_key = p, key
        return best

    def _loop_search(self, c: int) -> tuple[int, tuple[int, int, tuple[int, ...], int]] | None:
        p = self._target_posting(c)
        if p < 0:
            return None
        post = self.postings[p]
        team = self.team_index[post.team]
        office = self.office_index[post.office]
        stamp = (self.epoch, self.offer_version, self.team_version[team], self.room_version[office])
        hit = self.loop_cache.get(c)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        cand = self.candidates[c]
        fmt = self.config.interview
        onsite = cand.onsite and "virtual_only" not in cand.accommodation
        rooms: list[int] = []
        if onsite:
            accessible = "accessible_room" in cand.accommodation
            rooms = (self.accessible_rooms_of if accessible else self.rooms_of)[office]
            if not rooms:
                onsite = False
        days = self._horizon(self.screen_day[c] + fmt.min_gap_days)
        found = self.calendar.find_loop(
            self.team_managers[team],
            self.team_members[team],
            rooms if onsite else [],
            days,
            self._hours_masks(c, days),
            fmt.session_offsets(cand.accommodation),
            fmt.session_length(cand.accommodation),
        )
        result = (p, found) if found is not None else None
        self.loop_cache[c] = (stamp, result)
        return result

    def offer_options(self, c: int) -> list[tuple[int, int]]:
        """Ranked (posting, start window) pairs candidate ``c`` may be offered today."""
        stamp = (self.epoch, self.offer_version)
        hit = self.option_cache.get(c)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        cand = self.candidates[c]
        today = self.days[self.day]
        earliest = today.toordinal() + self.config.onboarding_lead_days
        ranked = []
        for rank, a in enumerate(self.c_areas[c]):
            for p in self.area_postings[a]:
                if self.p_remaining[p] <= 0 or self.p_first_offer[p] > self.day:
                    continue
                post = self.postings[p]
                windows = []
                for w in self.office_windows[self.office_index[post.office]]:
                    if self.window_fits(c, w, earliest):
                        windows.append(w)
                if windows:
                    pref = cand.office_preference
                    key = (rank, bool(pref) and post.office != pref, -self.p_remaining[p], p)
                    ranked.append((key, p, windows))
        ranked.sort()
        options = [(p, ws[0]) for _, p, ws in ranked]
        options += [(p, w) for _, p, ws in ranked for w in ws[1:2]]
        options = options[:N_OFFER_OPTIONS]
        self.option_cache[c] = (stamp, options)
        return options

    def window_fits(self, c: int, w: int, earliest: int) -> bool:
        """Start window ``w`` has onboarding capacity, starts on or after the ordinal
        ``earliest`` and leaves 12 weeks inside candidate ``c``'s availability."""
        cand, start = self.candidates[c], self.windows[w].start_date
        return (
            self.window_left[w] > 0
            and start.toordinal() >= earliest
            and cand.available_from <= start
            and start.toordinal() + 7 * INTERNSHIP_WEEKS <= cand.available_until.toordinal()
        )

    def seats_for(self, c: int) -> tuple[bool, int]:
        """(hireable, open seats) of candidate ``c`` today: whether a posting of their areas
        has a seat and a start window they fit, and the seats left in their areas.

        Only offers and answers change either, so the result is cached per day and
        offer version (a booking does not recompute it).
        """
        stamp = (self.epoch, self.offer_version)
        hit = self.seat_cache.get(c)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        earliest = self.days[self.day].toordinal() + self.config.onboarding_lead_days
        hireable, seats = False, 0
        for a in self.c_areas[c]:
            for p in self.area_postings[a]:
                if self.p_remaining[p] <= 0:
                    continue
                seats += self.p_remaining[p]
                if not hireable:
                    office = self.office_index[self.postings[p].office]
                    hireable = any(
                        self.window_fits(c, w, earliest) for w in self.office_windows[office]
                    )
        self.seat_cache[c] = (stamp, (hireable, seats))
        return hireable, seats

    def _compute_mask(self) -> None:
        """Refresh the mask rows (and their observation columns) of slots that may have changed."""
        self._mask[END_DAY] = 1
        stamp_cal, stamp_offer = self.calendar_version, self.offer_version
        memo, mask2d, rows = self._slot_memo, self._mask2d, self._slot_rows
        for k, c in enumerate(self.window):
            if c < 0:
                if memo[k] is not None:
                    memo[k] = None
                    mask2d[k] = 0
                continue
            stage = self.stage[c]
            seen = memo[k]
            if seen is not None and seen == (c, stage, stamp_cal, stamp_offer):
                continue
            screen = self._screen_search(c) if stage == NEW else None
            loop = self._loop_search(c) if stage == SCREENED else None
            can_screen, can_loop = screen is not None, loop is not None
            options = self.offer_options(c) if stage == LOOPED else []
            n_options = len(options)
            row = mask2d[k]
            row[:] = 0
            row[0], row[1], row[2] = can_screen, can_loop, 1
            row[3 : 3 + n_options] = 1
            features = rows[k]
            features[10], features[11] = can_screen, can_loop
            features[12], features[13] = n_options / N_OFFER_OPTIONS, n_options > 0
            hireable, open_seats = self.seats_for(c)
            features[18] = hireable
            features[19] = min(open_seats, 10) / 10.0
            booked_day = screen[0] if screen else loop[1][0] if loop else self.day
            features[21] = (booked_day - self.day) / self.config.horizon_days
            features[22] = (
                self.acceptance_probability(c, options[0][0], self.day) if options else 0.0
            )
            memo[k] = (c, stage, stamp_cal, stamp_offer)

    def action_masks(self) -> np.ndarray:
        """Valid actions as booleans (sb3-contrib MaskablePPO)."""
        return self._mask.astype(bool)

    # ------------------------------------------------------------------ step
    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.season is None or self.done:
            raise RuntimeError("call reset() before step()")
        action = int(action)
        self._pending_reward = 0.0
        terminated = False
        if not (0 <= action < N_ACTIONS) or not self._mask[action]:
            penalty = self.config.rewards.invalid_penalty
            self._pending_reward -= penalty
            self.parts["invalid"] -= penalty
            self.n_invalid += 1
        elif action == END_DAY:
            terminated = self._end_day()
        else:
            self._apply(action)
        if not terminated and action != END_DAY:
            self.actions_today += 1
            if self.actions_today >= self.max_actions_per_day:
                terminated = self._end_day()
        info: dict[str, Any] = {}
        if terminated:
            self.done = True
            self._mask[:] = 0
            self._mask[END_DAY] = 1
            info["kpis"] = self.kpis()
        obs = self._observe()
        info["action_mask"] = self._mask.copy()
        return obs, float(self._pending_reward), terminated, False, info

    def _apply(self, action: int) -> None:
        k, verb = decode_action(action)
        c = self.window[k]
        cfg = self.config
        if verb == "reject":
            self.stage[c] = REJECTED
            self.n_active -= 1
        elif verb == "screen":
            day, start, i = self._screen_search(c)  # type: ignore[misc]
            length = cfg.interview.screen_length(self.candidates[c].accommodation)
            self._book(Booking(c, "screen", day, start, start + length, (i,), (start,), length,
                               "virtual", -1, -1))  # fmt: skip
        elif verb == "loop":
            p, (day, start, chosen, room) = self._loop_search(c)  # type: ignore[misc]
            acc = self.candidates[c].accommodation
            offsets = cfg.interview.session_offsets(acc)
            length = cfg.interview.session_length(acc)
            office = self.postings[p].office if room >= 0 else "virtual"
            sessions = tuple(start + o for o in offsets)
            end = start + offsets[-1] + length
            self._book(
                Booking(c, "loop", day, start, end, chosen, sessions, length, office, room, p)
            )
        else:
            p, w = self.offer_options(c)[int(verb[-1])]
            self.stage[c] = OFFERED
            self.p_remaining[p] -= 1
            self.window_left[w] -= 1
            self.offer_version += 1
            self.offer[c] = (p, w, self.day, len(self.offers))
            self.offers.append((c, p, w, self.day, False))
            self.n_offers_out += 1
            answer = self.day + cfg.offer_response_days
            if answer < self.n_days:
                self.answers[answer].append(c)
        self._free_slot(c)
        self._refill()

    def _book(self, booking: Booking) -> None:
        c = booking.candidate
        b = len(self.bookings)
        self.bookings.append(booking)
        self.bookings_on[booking.day].append(b)
        self.calendar.book(booking)
        self._bump(booking)
        self.pending[c] = b
        self._track_pending(booking, +1)
        self._charge_interviewer_time(booking)
        self._contact(c)

    # ------------------------------------------------------------ observation
    def _fill_row(self, k: int) -> None:
        c = self.window[k]
        row = self._slot_rows[k]
        self._slot_memo[k] = None
        if c < 0:
            row[:] = 0.0
            self._mask2d[k] = 0
            return
        cfg = self.config
        stage = self.stage[c]
        since_contact = self.day - self.last_contact[c]
        since_form = self.day - int(self.season.form_day[c])  # type: ignore[union-attr]
        cand = self.candidates[c]
        primary = self.c_areas[c][0]
        primary_open = sum(self.p_remaining[p] for p in self.area_postings[primary])
        row[:] = (
            1.0,
            stage == NEW,
            stage == SCREENED,
            stage == LOOPED,
            self.post_mean[c],
            1.0 / math.sqrt(self.post_prec[c]),
            since_contact / 10.0,
            since_form / 30.0,
            since_contact / cfg.patience_mean_days,
            since_form / cfg.deadline_mean_days,
            0.0,
            0.0,
            0.0,
            0.0,
            bool(cand.accommodation),
            cand.publications / 5.0,
            self.rebook[c],
            min(primary_open, 10) / 10.0,
            0.0,
            0.0,
            min(self.area_pipeline[primary] / max(1, primary_open), 20.0) / 5.0,
            0.0,
            0.0,
        )
        np.clip(row, -10.0, 10.0, out=row)

    def _observe(self) -> np.ndarray:
        if not self.done:
            self._compute_mask()
        g = self._obs
        headcount = max(1, self.total_headcount)
        g[0] = self.day / self.n_days
        g[1] = (self.n_days - self.day) / self.n_days
        g[2] = sum(self.p_remaining) / headcount
        g[3] = self.n_offers_out / headcount
        g[4] = self.n_hires / headcount
        g[5] = min(len(self.ready), 200) / 50.0
        g[6] = min(self.n_active, 1000) / 200.0
        g[7] = self.actions_today / self.max_actions_per_day
        g[8] = sum(self.window_left) / self.total_window_capacity
        g[9] = self.n_offerable / max(1, len(self.postings))
        g[10] = math.log1p(len(self.candidates)) / 10.0
        g[11] = self.n_withdrawn / max(1, self.n_completed)
        g[12] = self.pending_count[0] / headcount
        g[13] = self.pending_count[1] / headcount
        g[14] = self.pending_quality[0] / headcount
        g[15] = self.pending_quality[1] / headcount
        np.clip(g[:GLOBAL_FEATURES], -10.0, 10.0, out=g[:GLOBAL_FEATURES])
        return g.copy()

    # ------------------------------------------------------------------- KPIs
    def kpis(self) -> dict[str, float]:
        """Season KPIs (SPEC.md): hires, fill rate, quality, speed, drop-off, load."""
        hires = [c for c, *_, accepted in self.offers if accepted]
        held = [b for b in self.bookings if b.status in ("held", "no_show")]
        load = np.zeros(len(self.interviewers))
        for b in held:
            for i in b.interviewers:
                load[i] += 1
        to_offer = [
            day - int(self.season.form_day[c])  # type: ignore[union-attr]
            for c, _, _, day, _ in self.offers
        ]
        return {
            "return": float(sum(self.parts.values())),
            "hires": float(len(hires)),
            "fill_rate": len(hires) / max(1, self.total_headcount),
            "mean_hire_quality": float(np.mean([self.truths[c].quality for c in hires]))
            if hires
            else 0.0,
            "time_to_offer_days": float(np.mean(to_offer)) if to_offer else 0.0,
            "drop_off_rate": self.n_withdrawn / max(1, self.n_completed),
            "interviews_per_hire": len(held) / max(1, len(hires)),
            "interviewer_load_cv": float(load.std() / load.mean()) if load.mean() > 0 else 0.0,
            "offers": float(len(self.offers)),
            "intern_cost_usd": float(
                sum(self.postings[p].hourly_rate for _, p, _, _, ok in self.offers if ok)
                * HOURS_PER_WEEK
                * INTERNSHIP_WEEKS
            ),
            "invalid_actions": float(self.n_invalid),
            **{f"reward_{k}": float(v) for k, v in self.parts.items()},
        }

    def render(self) -> str | None:
        if self.render_mode != "ansi" or self.season is None:
            return None
        lines = [
            f"{self.config.name} day {self.day + 1}/{self.n_days} "
            f"({self.days[min(self.day, self.n_days - 1)]}): active {self.n_active}, "
            f"queue {len(self.ready)}, hires {self.n_hires}/{self.total_headcount}, "
            f"offers out {self.n_offers_out}, withdrawn {self.n_withdrawn}",
        ]
        for k, c in enumerate(self.window):
            if c >= 0:
                lines.append(
                    f"  [{k:2d}] {self.candidates[c].candidate_id} {STAGE_NAMES[self.stage[c]]:8s} "
                    f"q~{self.post_mean[c]:+.2f} wait {self.day - self.last_contact[c]}d"
                )
        return "\n".join(lines)


def unwrap(env: gym.Env) -> InterviewSchedulingEnv:
    """The season env under any wrappers (typed, for code that reads its state)."""
    inner = env.unwrapped
    if not isinstance(inner, InterviewSchedulingEnv):
        raise TypeError(f"not an isched season env: {type(inner).__name__}")
    return inner
