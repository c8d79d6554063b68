"""The hiring season as a Gymnasium environment.

The env moves a ``SeasonState`` (``envs.state``) day by day: mornings bring
sick cancellations, withdrawals and arrivals; actions book, reject and offer
(what is bookable: ``envs.feasibility``); evenings hold interviews and answer
offers. ``envs.observation`` writes what the agent sees (layout:
``envs.layout``); ``envs.known`` is the read-only view planners use.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from envs import feasibility as fz
from envs.calendar import Booking
from envs.layout import (
    ACTIVE,
    END_DAY,
    N_ACTIONS,
    N_VERBS,
    OBS_SIZE,
    STAGE_NAMES,
    WINDOW,
    Stage,
    Verb,
)
from envs.observation import fill_row, observe
from envs.state import SeasonState, Withdrawal
from scheduler.domain import INTERNSHIP_WEEKS
from scheduler.generator import Season, generate_season
from scheduler.scenario import ScenarioConfig, load_scenario

NEW, SCREENED, LOOPED, OFFERED = (int(Stage.NEW), int(Stage.SCREENED), int(Stage.LOOPED),
                                  int(Stage.OFFERED))  # fmt: skip
HIRED, DECLINED, REJECTED, WITHDRAWN = (int(Stage.HIRED), int(Stage.DECLINED),
                                        int(Stage.REJECTED), int(Stage.WITHDRAWN))  # fmt: skip
ACTIVE_STAGES = tuple(int(a) for a in ACTIVE)
SCREEN, LOOP, REJECT, OFFER_0 = (
    int(Verb.SCREEN),
    int(Verb.LOOP),
    int(Verb.REJECT),
    int(Verb.OFFER_0),
)
HOURS_PER_WEEK = 40
"""Full-time internship hours, for the ``intern_cost_usd`` KPI (posting rate x hours)."""


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
    invalid actions, reward parts) when the episode ends. Mean hire quality and
    interviews per hire are NaN in a season without a hire, time to offer in one
    without an offer (means over seasons skip them).

    ## Arguments
    ``scenario``: ``"tiny"``, ``"default"``, ``"large"``, a YAML path, a
    ``ScenarioConfig`` or a ``Season``; ``render_mode``: ``None`` or ``"ansi"``;
    ``max_actions_per_day``: actions after which a day ends by itself.
    ``reset(options={"season": SEASON})`` plays that ``Season`` (e.g. one of
    ``scheduler.generator.generate_season``) once; later seeded resets draw from
    the env's own scenario again.

    ## Version History
    * v0: initial version; offers go only to postings of the team that ran the
      candidate's loop; weekly caps count ISO weeks.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        scenario: str | ScenarioConfig | Season = "tiny",
        render_mode: str | None = None,
        max_actions_per_day: int = 200,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            modes = ", ".join(self.metadata["render_modes"])
            raise ValueError(f"render_mode {render_mode!r}: choose None or {modes}")
        shown = repr(max_actions_per_day)
        if isinstance(max_actions_per_day, bool) or not isinstance(max_actions_per_day, int):
            raise ValueError(f"max_actions_per_day must be a whole number, not {shown}")
        if max_actions_per_day < 1:
            raise ValueError(f"max_actions_per_day must be at least 1, not {shown}")
        self.fixed_season = scenario if isinstance(scenario, Season) else None
        self.scenario_config: ScenarioConfig = (
            scenario.config if isinstance(scenario, Season) else load_scenario(scenario)
        )
        """The scenario seeded resets draw from (a ``season`` option does not change it)."""
        self.config: ScenarioConfig = self.scenario_config
        """The config of the season in play."""
        self.render_mode = render_mode
        self.max_actions_per_day = max_actions_per_day
        self.action_space: spaces.Discrete = spaces.Discrete(N_ACTIONS)  # type: ignore[assignment]
        self.observation_space = spaces.Box(-10.0, 10.0, (OBS_SIZE,), np.float32)
        self.state: SeasonState | None = None

    @property
    def season(self) -> Season | None:
        """The season in play (None before the first reset)."""
        return self.state.season if self.state is not None else None

    @property
    def day(self) -> int:
        """Index of the current working day."""
        return self.state.day if self.state is not None else 0

    @property
    def done(self) -> bool:
        return self.state is None or self.state.done

    # ------------------------------------------------------------------ setup
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        unknown = sorted(set(options) - {"season"})
        if unknown:
            raise ValueError(f"reset options: unknown {', '.join(map(repr, unknown))} (the "
                             "env takes 'season')")  # fmt: skip
        if "season" in options and not isinstance(options["season"], Season):
            kind = type(options["season"]).__name__
            raise TypeError(f"reset options: 'season' must be a Season, not {kind}")
        if "season" in options:
            season = options["season"]
        elif self.fixed_season is not None:
            season = self.fixed_season
        else:
            season = generate_season(
                self.scenario_config, int(self.np_random.integers(2**31 - 1)), calendar_rows=False
            )
        self.state = SeasonState(season)
        self.config = season.config
        self._start_day()
        return self._observe(), {"action_mask": self.state.mask.copy()}

    def _observe(self) -> np.ndarray:
        assert self.state is not None
        return observe(self.state, self.max_actions_per_day)

    # --------------------------------------------------------------- day flow
    def _refill(self) -> None:
        """Fill the empty window slots from the queue (skipping who left it meanwhile)."""
        s = self.state
        assert s is not None
        for k in range(WINDOW):
            if not s.ready:
                return
            if s.window[k] >= 0:
                continue
            while s.ready:
                c = s.ready.popleft()
                s.queued[c] = False
                if s.stage[c] in ACTIVE_STAGES and s.pending[c] < 0:
                    s.window[k] = c
                    s.slot_of[c] = k
                    fill_row(s, k)
                    break

    def _start_day(self) -> None:
        """Morning of the current day: sick cancellations, withdrawals, arrivals."""
        s = self.state
        assert s is not None
        d = s.day
        s.epoch += 1
        s.calendar_version += 1
        s.actions_today = 0
        s.n_offerable = sum(1 for first in s.p_first_offer if first <= d)
        for b in s.bookings_on[d]:
            booking = s.bookings[b]
            if booking.status == "booked" and any(i in s.sick_on[d] for i in booking.interviewers):
                self._cancel(b)
                c = booking.candidate
                s.rebook[c] = True
                s.enqueue(c)
        for kind, c, version in s.events[d]:
            if s.stage[c] not in ACTIVE_STAGES:
                continue
            if kind == "deadline" or (kind == "patience" and version == s.contact_version[c]):
                self._withdraw(c, kind)
        for c in s.arrivals[d]:
            s.set_stage(c, NEW)
            s.n_active += 1
            s.n_completed += 1
            s.contact(c)
            due = min(d + s.hidden.deadline_days[c], s.n_days)
            s.events[due].append(("deadline", c, 0))
            s.enqueue(c)
        s.area_pipeline = list(s.pipeline_now)
        for k in range(WINDOW):
            if s.window[k] >= 0:
                fill_row(s, k)
        self._refill()

    def _withdraw(self, c: int, cause: str) -> None:
        s = self.state
        assert s is not None
        s.withdrawals.append(Withdrawal(c, s.day, int(s.stage[c]), bool(s.pending[c] >= 0), cause))
        if s.pending[c] >= 0:
            self._cancel(s.pending[c])
        s.set_stage(c, WITHDRAWN)
        s.n_active -= 1
        s.n_withdrawn += 1
        s.free_slot(c)

    def _cancel(self, b: int) -> None:
        s = self.state
        assert s is not None
        booking = s.bookings[b]
        booking.status = "cancelled"
        s.calendar.cancel(booking)
        s.bump(booking)
        s.charge_interviewer_time(booking, refund=True)
        s.track_pending(booking, -1)
        s.pending[booking.candidate] = -1

    def _end_day(self) -> bool:
        """Evening of the day: interviews happen, offers are answered. True at season end."""
        s = self.state
        assert s is not None
        d = s.day
        cfg = s.config
        hidden = s.hidden
        for b in s.bookings_on[d]:
            booking = s.bookings[b]
            if booking.status != "booked":
                continue
            c = booking.candidate
            s.track_pending(booking, -1)
            s.pending[c] = -1
            is_loop = booking.stage == "loop"
            used = s.no_show_used[is_loop]
            if hidden.no_show[is_loop][c] and not used[c]:
                used[c] = True
                booking.status = "no_show"
                s.rebook[c] = True
            else:
                booking.status = "held"
                sd = cfg.loop_noise_sd if is_loop else cfg.screen_noise_sd
                noise = hidden.loop_noise if is_loop else hidden.screen_noise
                signal = hidden.quality[c] + noise[c]
                prec = s.post_prec[c] + 1.0 / sd**2
                s.post_mean[c] = (s.post_mean[c] * s.post_prec[c] + signal / sd**2) / prec
                s.post_prec[c] = prec
                s.rebook[c] = False
                if is_loop:
                    s.set_stage(c, LOOPED)
                    s.loop_day[c] = d
                    s.loop_posting[c] = booking.posting
                else:
                    s.set_stage(c, SCREENED)
                    s.screen_day[c] = d
                s.contact(c)
            s.enqueue(c)
        for c in s.answers[d]:
            if s.stage[c] == OFFERED:
                self._answer_offer(c)
        s.add_reward("waiting", -cfg.rewards.wait_cost * s.n_active)
        s.day += 1
        if s.day >= s.n_days:
            for c, *_ in list(s.offers):
                if s.stage[c] == OFFERED:
                    self._answer_offer(c)
            s.add_reward("unfilled", -cfg.rewards.unfilled_penalty * sum(s.p_remaining))
            return True
        self._start_day()
        return False

    def acceptance_probability(self, c: int, p: int, offer_day: int) -> float:
        """Chance that candidate ``c`` accepts posting ``p`` offered on ``offer_day``."""
        assert self.state is not None
        return fz.acceptance_probability(self.state, c, p, offer_day)

    def _answer_offer(self, c: int) -> None:
        s = self.state
        assert s is not None
        p, w, offer_day, k = s.offer[c]  # type: ignore[misc]
        s.n_active -= 1
        accepted = s.hidden.accept_draw[c] < fz.acceptance_probability(s, c, p, offer_day)
        s.offers[k] = (c, p, w, offer_day, accepted)
        s.offer_version += 1
        s.n_offers_out -= 1
        if accepted:
            s.n_hires += 1
            s.set_stage(c, HIRED)
            rw = s.config.rewards
            primary = s.postings[p].area == s.candidates[c].primary_area
            fit = 1.0 if primary else rw.secondary_fit
            s.add_reward("hires", fit * (rw.hire_value + rw.quality_weight * s.hidden.quality[c]))
        else:
            s.set_stage(c, DECLINED)
            s.p_remaining[p] += 1
            s.window_left[w] += 1

    def action_masks(self) -> np.ndarray:
        """Valid actions as booleans (sb3-contrib MaskablePPO)."""
        if self.state is None:
            return np.zeros(N_ACTIONS, dtype=bool)
        return self.state.mask.astype(bool)

    # ------------------------------------------------------------------ step
    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        s = self.state
        if s is None or s.done:
            raise RuntimeError("call reset() before step()")
        action = int(action)
        s.reward = 0.0
        terminated = False
        if not (0 <= action < N_ACTIONS) or not s.mask[action]:
            s.add_reward("invalid", -s.config.rewards.invalid_penalty)
            s.n_invalid += 1
        elif action == END_DAY:
            terminated = self._end_day()
        else:
            self._apply(action)
        if not terminated and action != END_DAY:
            s.actions_today += 1
            if s.actions_today >= self.max_actions_per_day:
                terminated = self._end_day()
        info: dict[str, Any] = {}
        if terminated:
            s.done = True
            s.mask[:] = 0
            s.mask[END_DAY] = 1
            info["kpis"] = self.kpis()
        obs = self._observe()
        info["action_mask"] = s.mask.copy()
        return obs, float(s.reward), terminated, False, info

    def _apply(self, action: int) -> None:
        s = self.state
        assert s is not None
        k, verb = divmod(action, N_VERBS)  # ``decode_action`` without building the Verb
        c = s.window[k]
        fmt = s.config.interview
        if verb == REJECT:
            s.set_stage(c, REJECTED)
            s.n_active -= 1
        elif verb == SCREEN:
            day, start, i = fz.screen_search(s, c)  # type: ignore[misc]
            length = fmt.screen_length(s.candidates[c].accommodation)
            self._book(Booking(c, "screen", day, start, start + length, (i,), (start,), length,
                               "virtual", -1, -1))  # fmt: skip
        elif verb == LOOP:
            p, (day, start, chosen, room) = fz.loop_search(s, c)  # type: ignore[misc]
            acc = s.candidates[c].accommodation
            offsets = fmt.session_offsets(acc)
            length = fmt.session_length(acc)
            office = s.postings[p].office if room >= 0 else "virtual"
            sessions = tuple(start + o for o in offsets)
            end = start + offsets[-1] + length
            self._book(
                Booking(c, "loop", day, start, end, chosen, sessions, length, office, room, p)
            )
        else:
            p, w = fz.offer_options(s, c)[verb - OFFER_0]
            s.set_stage(c, OFFERED)
            s.p_remaining[p] -= 1
            s.window_left[w] -= 1
            s.offer_version += 1
            s.offer[c] = (p, w, s.day, len(s.offers))
            s.offers.append((c, p, w, s.day, False))
            s.n_offers_out += 1
            answer = s.day + s.config.offer_response_days
            if answer < s.n_days:
                s.answers[answer].append(c)
        s.free_slot(c)
        self._refill()

    def _book(self, booking: Booking) -> None:
        s = self.state
        assert s is not None
        c = booking.candidate
        b = len(s.bookings)
        s.bookings.append(booking)
        s.bookings_on[booking.day].append(b)
        s.calendar.book(booking)
        s.bump(booking)
        s.pending[c] = b
        s.track_pending(booking, +1)
        s.charge_interviewer_time(booking)
        s.contact(c)

    # ------------------------------------------------------------------- KPIs
    def kpis(self) -> dict[str, float]:
        """Season KPIs (SPEC.md): hires, fill rate, quality, speed, drop-off, load."""
        s = self.state
        assert s is not None
        hires = [c for c, *_, accepted in s.offers if accepted]
        held = [b for b in s.bookings if b.status in ("held", "no_show")]
        load = np.zeros(len(s.interviewers))
        for b in held:
            for i in b.interviewers:
                load[i] += 1
        to_offer = [day - int(s.form_day[c]) for c, _, _, day, _ in s.offers]
        return {
            "return": float(sum(s.parts.values())),
            "hires": float(len(hires)),
            "fill_rate": len(hires) / max(1, s.total_headcount),
            "mean_hire_quality": float(np.mean([s.hidden.quality[c] for c in hires]))
            if hires
            else math.nan,
            "time_to_offer_days": float(np.mean(to_offer)) if to_offer else math.nan,
            "drop_off_rate": s.n_withdrawn / max(1, s.n_completed),
            "interviews_per_hire": len(held) / len(hires) if hires else math.nan,
            "interviewer_load_cv": float(load.std() / load.mean()) if load.mean() > 0 else 0.0,
            "offers": float(len(s.offers)),
            "intern_cost_usd": float(
                sum(s.postings[p].hourly_rate for _, p, _, _, ok in s.offers if ok)
                * HOURS_PER_WEEK
                * INTERNSHIP_WEEKS
            ),
            "invalid_actions": float(s.n_invalid),
            **{f"reward_{k}": float(v) for k, v in s.parts.items()},
        }

    def render(self) -> str | None:
        s = self.state
        if self.render_mode != "ansi" or s is None:
            return None
        lines = [
            f"{s.config.name} day {s.day + 1}/{s.n_days} "
            f"({s.days[min(s.day, s.n_days - 1)]}): active {s.n_active}, "
            f"queue {len(s.ready)}, hires {s.n_hires}/{s.total_headcount}, "
            f"offers out {s.n_offers_out}, withdrawn {s.n_withdrawn}",
        ]
        for k, c in enumerate(s.window):
            if c >= 0:
                lines.append(
                    f"  [{k:2d}] {s.candidates[c].candidate_id} {STAGE_NAMES[s.stage[c]]:8s} "
                    f"q~{s.post_mean[c]:+.2f} wait {s.day - s.last_contact[c]}d"
                )
        return "\n".join(lines)


def unwrap(env: gym.Env) -> InterviewSchedulingEnv:
    """The season env under any wrappers (typed, for code that reads its state)."""
    inner = env.unwrapped
    if not isinstance(inner, InterviewSchedulingEnv):
        raise TypeError(f"not an isched season env: {type(inner).__name__}")
    return inner


def season_state(env: gym.Env) -> SeasonState:
    """The state of the season in play (after ``reset``), hidden draws included.

    For the env's own export and for bounds; a policy reads ``envs.known.KnownState``.
    """
    state = unwrap(env).state
    if state is None:
        raise RuntimeError("reset the env first")
    return state
