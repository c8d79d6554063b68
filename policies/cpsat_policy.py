"""``cpsat``: a rolling-horizon CP-SAT planner over the known state of the season.

Once per working day (on the first ``act`` of the day, detected by ``env.day``)
the policy builds and solves one CP-SAT model of what the coordinator knows
(``policies.cpsat_rolling_model``),
then executes today's part of the plan through the env's normal actions.

## What the model sees (known state only, never ``season.truths``)
Active candidates without a pending interview (window and ready queue, stage
new/screened/looped), with the posterior mean ``m`` and precision ``P`` of their
quality, their areas, availability, office preference, days since the form and
since the last contact; postings with headcount left (``p_remaining``) and the
day offers open; start windows with onboarding capacity left; interviewer
capacity left (daily and weekly caps minus what is booked) per team, over two
periods: ``now`` (the env's booking horizon) and ``later`` (the rest of the
season); the env's own booking searches (is a screen/loop bookable within the
horizon, on which day) and offer options; and the scenario's distributions as a
forecast (arrival curve, area popularity, prior, patience, deadline, noise).

## Decision trees per candidate (a fluid two-stage stochastic program)
A screen adds precision ``1 / screen_noise_sd**2`` and a loop ``1 / loop_noise_sd**2``;
the posterior mean after the next interview is ``N(m, 1/P - 1/P')`` (the
preposterior). A screen's outcome is cut into ``screen_quantiles`` and a loop's
into ``loop_quantiles`` equiprobable bins (conditional means). Binary variables,
per candidate ``c`` and period ``t`` in {now, later}:

- new: ``screen[c,t]``; ``loop[c,t,k]`` for screen outcome ``k`` (``<= screen``);
  ``offer[c,t,k,j,p]`` for loop outcome ``j`` and posting ``p`` (sum over ``p`` ``<= loop``);
- screened: ``loop[c,t]``; ``offer[c,t,j,p]``;
- looped: ``offer_today[c,(p,w)]`` for each option the env offers today, and
  ``offer_later[c,p]`` (hold the candidate and offer later);
- at most one period per candidate; a candidate with nothing chosen is rejected.

``now`` is only allowed where the env finds a booking within its horizon; an
outcome leaf's value is ``prob * survival * accept(c, p, offer day) *
(fit * (hire_value + quality_weight * leaf_mean) + unfilled_penalty)`` (a filled
seat avoids the unfilled penalty), minus interviewer-hour costs of each stage
weighted by its probability, minus the waiting cost of the days it stays
active. ``later`` shifts the dates by ``later_wait_days`` (acceptance decay,
patience and deadline survival, waiting cost). Survival uses the scenario's
patience and deadline distributions, conditioned on what has not happened yet,
and counts the wait between a booking and its interview (a booking is a contact,
but the days until the interview are not: a loop booked a week out loses the
impatient candidates). Dates come from the env's own booking search where the
interview is bookable today; a new candidate's loop is expected on the first day
its target team can hold one (an optimistic virtual-loop search).

## Future arrivals: the reserve
Per posting, integer counts (in units of 1/(``screen_quantiles * loop_quantiles``)
of a candidate) of
candidates forecast to complete their form between tomorrow and the last day a
pipeline can still end in an offer, with the same tree (prior mean 0, precision
1), valued at ``future_discount`` times their expected value, limited per area
by the forecast supply (scenario arrival curve times area share) and by the
``later`` interviewer capacity. They compete with current candidates for seats,
which is how today's thresholds emerge: a mediocre looped candidate is offered
only if no better use of the seat is expected.

## Constraints
- seats, per posting: today's offers ``<= p_remaining`` (hard), and expected
  hires (acceptance-weighted, current pipeline, held candidates and the reserve)
  ``<= p_remaining``;
- start windows, per (office, window): today's offers ``<= window_left`` and
  expected hires (pipeline charged to the earliest feasible window, the reserve
  spread by the empirical window-fit shares of the candidates seen so far)
  ``<= window_left``;
- interviewer sessions, per team and period: ``3 * loops + screens' share <=
  capacity`` (a screen is charged to the teams by their screener capacity in the
  candidate's areas), loops ``<=`` hiring-manager capacity, and a global total.

## Execution
Rejections first (they free window slots, so that planned queue candidates come
into the window), then offers, loops and screens by planned value; an action is
taken only where the mask allows it; the day ends when nothing planned is
executable. Offers are matched to the env's option index by (posting, window).

## Solving
CP-SAT runs with one worker, a fixed seed, ``linearization_level=2`` (its LP then
keeps the knapsack-like rows, and good solutions come within a fraction of the
limit) and a *deterministic* time limit (``max_deterministic_time =
time_limit``), so the same seed gives the same season whatever the machine load;
a wall-clock limit of ``wall_factor * time_limit`` is only a safety net. If no
solution is found, the solve is retried once with five times the limit; if that
fails too, a fallback plan is used: candidates with no possible hire left (no
posting with headcount in their areas, no start window their availability fits)
are rejected, the others get their best-valued bookable action, offers only above
``fallback_offer_mean`` (as ``greedy``).

## Known limits
Expected-value (fluid) seats and capacities, not scenarios; interviewer capacity
is aggregated (caps, not calendars or rooms) and screens are charged to teams
pro rata; the env, not the policy, picks the interview slot and the loop's team;
only the 16 window slots can be acted on, so a plan for a queued candidate runs
only once rejections or bookings make room. Tested on ``tiny`` and ``default``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from ortools.sat.python import cp_model
from scipy.special import betainc

from envs.known import KnownState
from envs.layout import END_DAY, N_VERBS, Verb
from policies.base import register_policy
from policies.cpsat_rolling_model import LOOPED, NEW, SCREENED, DayModel
from policies.gaussian_bounds import equiprobable_bins
from policies.settings_check import check_settings
from scheduler.domain import AREAS, OFFICES
from scheduler.generator import AREA_POPULARITY
from scheduler.rules import interviewer_cost

SCREEN, LOOP, REJECT, OFFER_0 = Verb.SCREEN, Verb.LOOP, Verb.REJECT, Verb.OFFER_0


@dataclass
class CpSatConfig:
    """Settings of the rolling-horizon planner."""

    time_limit: float = 0.2
    """CP-SAT deterministic time limit per day (about seconds on one idle core)."""
    wall_factor: float = 20.0
    """Wall-clock safety limit, as a multiple of ``time_limit``."""
    workers: int = 1
    """CP-SAT workers (1 keeps runs reproducible)."""
    screen_quantiles: int = 3
    """Equiprobable bins of a screen's outcome."""
    loop_quantiles: int = 5
    """Equiprobable bins of a loop's outcome (the offer decision rests on it)."""
    future_discount: float = 0.8
    """Weight of the forecast future candidates' value (hedge against optimism)."""
    later_wait_days: int = 4
    """Extra working days a held candidate waits before being advanced."""
    fallback_offer_mean: float = 0.2
    """Without a CP-SAT solution, offer only above this posterior mean (as ``greedy``)."""
    max_candidates: int = 96
    """Candidates in the model: the window first, then the ready queue in order."""
    pipeline_tail_days: int = 4
    """A candidate completing the form later than this many days before the end cannot be hired."""

    def __post_init__(self) -> None:
        counts = ("workers", "screen_quantiles", "loop_quantiles", "max_candidates")
        rest = ("wall_factor", "future_discount", "later_wait_days", "pipeline_tail_days")
        check_settings(self, {**dict.fromkeys(counts, 1), **dict.fromkeys(rest, 0)},
                       above={"time_limit": 0})  # fmt: skip


@dataclass
class _Plan:
    """Today's decisions: candidate -> (verb, posting, window, priority)."""

    actions: dict[int, tuple[str, int, int, float]] = field(default_factory=dict)


class CpSatPolicy:
    """Rolling-horizon CP-SAT planner (see the module docstring)."""

    name = "cpsat_rolling"

    options_class = CpSatConfig
    """The options ``make_policy("cpsat_rolling", **options)`` takes."""

    def __init__(self, seed: int = 0, **kwargs: Any) -> None:
        self.seed = seed
        self.cfg = CpSatConfig(**kwargs)
        self.env: KnownState | None = None
        self.day = -1
        self.plan = _Plan()
        self.solve_seconds = 0.0
        """CP-SAT wall time this episode (s)."""
        self.days_planned = 0
        self.zs = equiprobable_bins(self.cfg.screen_quantiles).tolist()
        self.zl = equiprobable_bins(self.cfg.loop_quantiles).tolist()
        self.last_status = ""
        """CP-SAT status of the latest solve."""
        self.statuses: dict[str, int] = {}
        """How many solves ended in each CP-SAT status (a retry counts again)."""
        self.last_model: DayModel | None = None
        self.last_solver: cp_model.CpSolver | None = None
        """The latest day's model and solver (for inspection)."""

    # ------------------------------------------------------------------ setup
    def reset(self, env: gym.Env) -> None:
        """Keep the unwrapped env and precompute the season's static tables."""
        e = KnownState(env)
        self.env = e
        self.day = -1
        self.plan = _Plan()
        self.solve_seconds = 0.0
        self.days_planned = 0
        self.statuses = {}
        cfg = e.config
        n_teams = len(e.team_members)
        self.team_of_posting = [e.team_index[p.team] for p in e.postings]
        self.screener_set = [set(s) for s in e.area_screeners]
        self.team_loopers = e.team_members
        self.team_mgrs = e.team_managers
        self.n_teams = n_teams
        self.arrivals = self._arrival_forecast()
        pop = AREA_POPULARITY / AREA_POPULARITY.sum()
        sec = cfg.secondary_area_p * (1.0 - pop) / len(AREAS)
        self.area_primary_share = pop
        self.area_secondary_share = sec
        rw = cfg.rewards
        fmt, hours = cfg.interview, cfg.hours
        self.hour_cost = interviewer_cost(rw.interviewer_hour_cost, hours.slot_minutes)
        self.base_screen_cost = self.hour_cost * fmt.screen_slots
        self.base_loop_cost = self.hour_cost * fmt.loop_sessions * fmt.session_slots

    def _arrival_forecast(self) -> np.ndarray:
        """Expected completed forms per working day, from the scenario's distributions."""
        e = self.env
        assert e is not None
        cfg, n = e.config, e.n_days
        edges = np.arange(n + 1) / n
        front = np.diff(betainc(1.5, 3.0, edges))  # the Beta(1.5, 3) cdf
        applied = cfg.n_candidates * (
            cfg.arrival_front_share * front + (1 - cfg.arrival_front_share) / n
        )
        p = cfg.form_delay_p
        delay = p * (1 - p) ** np.arange(n)
        form = np.convolve(applied, delay)[:n]
        return form * (1.0 - cfg.form_never_p)

    # --------------------------------------------------------------- helpers
    def _capacity(self, first: int, last: int) -> np.ndarray:
        """Sessions each interviewer can still hold on days ``first..last`` (caps only)."""
        e = self.env
        assert e is not None
        cal = e.calendar
        out = np.zeros(len(e.interviewers))
        if first > last:
            return out
        weeks: dict[int, list[int]] = {}
        for d in range(first, last + 1):
            weeks.setdefault(cal.week_of_day[d], []).append(d)
        for i in range(len(e.interviewers)):
            total = 0
            for w, days in weeks.items():
                week_left = cal.max_per_week[i] - cal.week_count[i][w]
                day_left = sum(max(0, cal.max_per_day[i] - cal.day_count[i][d]) for d in days)
                total += max(0, min(week_left, day_left))
            out[i] = total
        return out

    def _survival(self, c: int, until: int) -> float:
        """P(candidate ``c``, active today, is still active on day ``until``) (deadline only)."""
        e = self.env
        assert e is not None
        cfg = e.config
        form = e.form_day(c)
        scale = max(1e-6, cfg.deadline_mean_days - 8)
        now = max(e.day - form, 7)
        later = max(until - form, 7)
        return math.exp(-(later - now) / scale)

    def _patience_survival(self, c: int, extra: int) -> float:
        """P(no withdrawal for impatience over ``extra`` more days without contact)."""
        e = self.env
        assert e is not None
        scale = max(1e-6, e.config.patience_mean_days - 2)
        since = e.day - e.last_contact[c]
        now = max(since, 1)
        later = max(since + extra, 1)
        return math.exp(-(later - now) / scale)

    def _gap_survival(self, gap: int) -> float:
        """P(a candidate contacted today is still there for an interview ``gap`` days later).

        Booking is a contact but waiting for the interview is not: a candidate
        whose patience runs out before the interview day withdraws.
        """
        scale = max(1e-6, self.env.config.patience_mean_days - 2)  # type: ignore[union-attr]
        return math.exp(-max(0, gap - 1) / scale)

    def _fit(self, c: int, p: int) -> float:
        e = self.env
        assert e is not None
        if e.postings[p].area == e.candidates[c].primary_area:
            return 1.0
        return e.config.rewards.secondary_fit

    def _hire_value(self, fit: float, mean: float) -> float:
        rw = self.env.config.rewards  # type: ignore[union-attr]
        return fit * (rw.hire_value + rw.quality_weight * mean) + rw.unfilled_penalty

    def _first_window(self, c: int, p: int, offer_day: int) -> int:
        """Earliest start window of posting ``p`` open to ``c`` for an offer on ``offer_day``."""
        e = self.env
        assert e is not None
        day = e.days[min(offer_day, e.n_days - 1)]
        earliest = day.toordinal() + e.config.onboarding_lead_days
        for w in e.office_windows[e.office_index[e.postings[p].office]]:
            if e.window_fits(c, w, earliest):
                return w
        return -1

    def _priority(self, c: int) -> float:
        """Order of execution among today's screens and loops: best posterior mean first."""
        return float(self.env.post_mean[c])  # type: ignore[union-attr]

    def _window_shares(self, offer_day: int) -> dict[int, dict[int, float]]:
        """Per office: share of the candidates seen so far whose first open window is ``w``."""
        e = self.env
        assert e is not None
        seen = e.arrived()
        out: dict[int, dict[int, float]] = {}
        if len(seen) < 20:
            for o in range(len(OFFICES)):
                ws = [w for w in e.office_windows[o] if e.window_left[w] > 0]
                out[o] = {w: 0.8 / len(ws) for w in ws} if ws else {}
            return out
        day = e.days[min(offer_day, e.n_days - 1)]
        earliest = day.toordinal() + e.config.onboarding_lead_days
        for o in range(len(OFFICES)):
            counts: dict[int, int] = {}
            for c in seen:
                for w in e.office_windows[o]:
                    if e.window_fits(c, w, earliest):
                        counts[w] = counts.get(w, 0) + 1
                        break
            out[o] = {w: n / len(seen) for w, n in counts.items()}
        return out

    def _postings_for(self, c: int) -> list[int]:
        e = self.env
        assert e is not None
        # offers go to the team that runs the loop: the held loop's, else today's target
        team_p = e.loop_posting[c] if e.loop_posting[c] >= 0 else e.target_posting(c)
        if team_p < 0:
            return []
        team = e.p_team[team_p]
        out = []
        for a in e.c_areas[c]:
            out += [p for p in e.area_postings[a] if e.p_remaining[p] > 0 and e.p_team[p] == team]
        return out

    # --------------------------------------------------------------- planning
    def _solve_day(self) -> None:
        """Build and solve today's model; store today's part as the plan."""
        e = self.env
        assert e is not None
        dm = DayModel(self)
        reachable = [
            c
            for c in list(e.window) + list(e.ready)
            if c >= 0 and e.stage[c] in (NEW, SCREENED, LOOPED) and e.pending[c] < 0
        ]
        active = sorted(set(list(dict.fromkeys(reachable))[: self.cfg.max_candidates]))
        for c in active:
            dm.add_candidate(c)
        dm.add_reserve()
        solver = dm.solve()
        self.last_model, self.last_solver = dm, solver
        plan = _Plan()
        for c in active:
            roots = dm.roots.get(c, [])
            if solver is None:
                plan.actions.update(self._fallback_plan(c, dm) if roots else {})
            if not (roots and (solver is None or any(solver.value(v) for v in roots))):
                plan.actions[c] = ("reject", -1, -1, 0.0)
                continue
            for verb, p, w, v, val in dm.today.get(c, []) if solver is not None else []:
                assert solver is not None
                if solver.value(v):
                    plan.actions[c] = (verb, p, w, val)
        self.plan = plan

    def _fallback_plan(self, c: int, dm: DayModel) -> dict[int, tuple[str, int, int, float]]:
        """Without a CP-SAT solution: the best-valued of the candidate's actions today."""
        best = max(dm.today.get(c, []), key=lambda t: t[4], default=None)
        if best is None:
            return {}
        verb, p, w, _, value = best
        if verb == "offer" and self.env.post_mean[c] < self.cfg.fallback_offer_mean:  # type: ignore[union-attr]
            return {}
        return {c: (verb, p, w, value)}

    # -------------------------------------------------------------- execution
    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        """Today's next planned action the mask allows; END_DAY when none is left."""
        e = self.env
        mask = info["action_mask"]
        if e is None or e.done:
            return END_DAY
        if e.day != self.day:
            self.day = e.day
            self._solve_day()
        best, best_key = END_DAY, None
        order = {"reject": 0, "offer": 1, "loop": 2, "screen": 3}
        for slot, c in enumerate(e.window):
            if c < 0:
                continue
            planned = self.plan.actions.get(c)
            if planned is None:
                continue
            verb, p, w, value = planned
            if verb == "reject":
                a = slot * N_VERBS + REJECT
            elif verb == "screen" and e.stage[c] == NEW:
                a = slot * N_VERBS + SCREEN
            elif verb == "loop" and e.stage[c] == SCREENED:
                a = slot * N_VERBS + LOOP
            elif verb == "offer" and e.stage[c] == LOOPED:
                opts = e.offer_options(c)
                j = next((j for j, o in enumerate(opts) if o == (p, w)), -1)
                if j < 0:
                    j = next((j for j, o in enumerate(opts) if o[0] == p), -1)
                if j < 0:
                    continue
                a = slot * N_VERBS + OFFER_0 + j
            else:
                continue
            if not mask[a]:
                continue
            key = (order[verb], -value, slot)
            if best_key is None or key < best_key:
                best, best_key = a, key
        if best != END_DAY:
            c = e.window[best // N_VERBS]
            self.plan.actions.pop(c, None)
        return int(best) if mask[best] else _fallback(mask)


def _fallback(mask: np.ndarray) -> int:
    """END_DAY when allowed (it always is), else the first valid action."""
    if mask[END_DAY]:
        return END_DAY
    return int(np.flatnonzero(mask)[0])


register_policy("cpsat_rolling")(CpSatPolicy)
