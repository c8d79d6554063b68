"""``cpsat``: a rolling-horizon CP-SAT planner over the known state of the season.

Once per working day (on the first ``act`` of the day, detected by ``env.day``)
the policy builds and solves one CP-SAT model of what the coordinator knows,
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
from scipy import stats

from envs.known import KnownState
from envs.layout import END_DAY, N_VERBS, Stage, Verb
from policies.base import register_policy
from scheduler.domain import AREAS, OFFICES
from scheduler.generator import AREA_POPULARITY
from scheduler.rules import (
    delay_factor,
    expected_office_factor,
    interviewer_cost,
    mixed_area_factor,
)

NEW, SCREENED, LOOPED = int(Stage.NEW), int(Stage.SCREENED), int(Stage.LOOPED)
SCREEN, LOOP, REJECT, OFFER_0 = Verb.SCREEN, Verb.LOOP, Verb.REJECT, Verb.OFFER_0
SCALE = 1000
"""Objective and resource coefficients are scaled to integers by this factor."""
NOW, LATER = 0, 1


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


@dataclass
class _Plan:
    """Today's decisions: candidate -> (verb, posting, window, priority)."""

    actions: dict[int, tuple[str, int, int, float]] = field(default_factory=dict)


def _bins(k: int) -> list[float]:
    """Conditional means of ``k`` equiprobable bins of N(0, 1)."""
    if k <= 1:
        return [0.0]
    edges = stats.norm.ppf(np.linspace(0.0, 1.0, k + 1))
    pdf = stats.norm.pdf(edges)
    return [float((pdf[i] - pdf[i + 1]) * k) for i in range(k)]


class CpSatPolicy:
    """Rolling-horizon CP-SAT planner (see the module docstring)."""

    name = "cpsat_rolling"

    def __init__(self, seed: int = 0, **kwargs: Any) -> None:
        self.seed = seed
        self.cfg = CpSatConfig(**kwargs)
        self.env: KnownState | None = None
        self.day = -1
        self.plan = _Plan()
        self.solve_seconds = 0.0
        """CP-SAT wall time this episode (s)."""
        self.days_planned = 0
        self.zs = _bins(self.cfg.screen_quantiles)
        self.zl = _bins(self.cfg.loop_quantiles)
        self.last_status = ""
        """CP-SAT status of the latest solve."""
        self.statuses: dict[str, int] = {}
        """How many solves ended in each CP-SAT status (a retry counts again)."""
        self.last_model: _DayModel | None = None
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
        front = np.diff(stats.beta.cdf(edges, 1.5, 3.0))
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
        dm = _DayModel(self)
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

    def _fallback_plan(self, c: int, dm: _DayModel) -> dict[int, tuple[str, int, int, float]]:
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


class _DayModel:
    """One day's CP-SAT model: variables, resource usage terms, objective terms."""

    def __init__(self, policy: CpSatPolicy) -> None:
        e = policy.env
        assert e is not None
        self.pol = policy
        self.e = e
        cfg = e.config
        self.day, self.n_days = e.day, e.n_days
        self.horizon_end = min(e.day + cfg.horizon_days, e.n_days - 1)
        self.caps = (
            policy._capacity(e.day + 1, self.horizon_end),
            policy._capacity(self.horizon_end + 1, e.n_days - 1),
        )
        self.model = cp_model.CpModel()
        self.objective: list[tuple[float, Any]] = []
        self.seat_fluid: dict[int, list[tuple[float, Any]]] = {}
        self.seat_hard: dict[int, list[Any]] = {}
        self.win_fluid: dict[int, list[tuple[float, Any]]] = {}
        self.win_hard: dict[int, list[Any]] = {}
        self.team_use: list[dict[int, list[tuple[float, Any]]]] = [{}, {}]
        self.mgr_use: list[dict[int, list[tuple[float, Any]]]] = [{}, {}]
        self.total_use: list[list[tuple[float, Any]]] = [[], []]
        self.roots: dict[int, list[Any]] = {}
        """Per candidate: the mutually exclusive ways to keep it (none chosen: reject)."""
        self.today: dict[int, list[tuple[str, int, int, Any, float]]] = {}
        """Per candidate: (verb, posting, window, variable, value) executable today."""
        self._shares: dict[tuple[int, ...], list[tuple[int, float]]] = {}
        self._loop_day: dict[int, int] = {}
        self.wc = cfg.rewards.wait_cost
        self.resp = cfg.offer_response_days

    # resources ---------------------------------------------------------------------
    def _screen_share(self, areas: tuple[int, ...], period: int) -> list[tuple[int, float]]:
        """Teams a screen in ``areas`` draws on, by their screeners' capacity left."""
        key = areas + (-1 - period,)
        hit = self._shares.get(key)
        if hit is None:
            e, cap = self.e, self.caps[period]
            per_team = np.zeros(self.pol.n_teams)
            quals: set[int] = set()
            for a in areas:
                quals |= self.pol.screener_set[a]
            for i in quals:
                per_team[e.i_team[i]] += cap[i]
            tot = per_team.sum()
            hit = [(t, float(x / tot)) for t, x in enumerate(per_team) if x > 0] if tot else []
            self._shares[key] = hit
        return hit

    def use_screen(self, areas: tuple[int, ...], period: int, weight: float, var: Any) -> None:
        self.total_use[period].append((weight, var))
        for t, share in self._screen_share(areas, period):
            self.team_use[period].setdefault(t, []).append((weight * share, var))

    def use_loop(self, team: int, period: int, weight: float, var: Any) -> None:
        self.total_use[period].append((3 * weight, var))
        if team >= 0:
            self.team_use[period].setdefault(team, []).append((3 * weight, var))
            self.mgr_use[period].setdefault(team, []).append((weight, var))

    # candidates --------------------------------------------------------------------
    def offer_leaf(
        self, c: int, parent: Any, prob: float, mean: float, offer_day: int, surv: float, tag: str
    ) -> list[Any]:
        """Offer variables of one outcome leaf, one per eligible posting (sum <= parent)."""
        e, pol = self.e, self.pol
        chosen = []
        for p in pol._postings_for(c):
            first = max(offer_day, e.p_first_offer[p])
            if first >= self.n_days:
                continue
            w = pol._first_window(c, p, first)
            if w < 0:
                continue
            acc = e.acceptance_probability(c, p, first)
            s = surv * pol._survival(c, first) / max(1e-9, pol._survival(c, offer_day))
            val = prob * s * (acc * pol._hire_value(pol._fit(c, p), mean))
            val -= prob * s * self.wc * (first - offer_day + self.resp)
            if val <= 0:
                continue
            v = self.model.new_bool_var(f"o{tag}_{p}")
            self.objective.append((val, v))
            self.seat_fluid.setdefault(p, []).append((prob * s * acc, v))
            self.win_fluid.setdefault(w, []).append((prob * s * acc, v))
            chosen.append(v)
        if chosen:
            self.model.add(sum(chosen) <= parent)
        return chosen

    def add_candidate(self, c: int) -> None:
        """The decision tree of one active candidate (see the module docstring)."""
        e, pol = self.e, self.pol
        stage = e.stage[c]
        if stage == NEW:
            roots, now = self._new_tree(c)
        elif stage == SCREENED:
            roots, now = self._screened_tree(c)
        else:
            roots, now = self._looped_options(c), None
        if now is not None:
            verb = "screen" if stage == NEW else "loop"
            self.today.setdefault(c, []).append((verb, -1, -1, now, pol._priority(c)))
        if roots:
            self.model.add(sum(roots) <= 1)
            self.roots[c] = roots

    def _costs(self, c: int) -> tuple[float, float]:
        """(screen, loop) interviewer-time cost of candidate ``c``."""
        e, pol = self.e, self.pol
        fmt = e.config.interview
        acc = e.candidates[c].accommodation
        screen = pol.hour_cost * fmt.screen_length(acc)
        loop = pol.hour_cost * len(fmt.session_offsets(acc)) * fmt.session_length(acc)
        return screen, loop

    def team_loop_day(self, team: int) -> int:
        """Earliest day a virtual loop of ``team`` fits in the horizon (beyond it if none)."""
        hit = self._loop_day.get(team)
        if hit is None:
            e = self.e
            fmt = e.config.interview
            days = range(self.day + 1, self.horizon_end + 1)
            found = (
                e.calendar.find_loop(
                    list(e.team_managers[team]),
                    list(e.team_members[team]),
                    [],
                    days,
                    [e.calendar.full] * len(days),
                    fmt.session_offsets(frozenset()),
                    fmt.session_length(frozenset()),
                )
                if team >= 0
                else None
            )
            hit = found[0] if found is not None else self.horizon_end + 1
            self._loop_day[team] = hit
        return hit

    def _team(self, c: int) -> int:
        p = self.e.target_posting(c)
        return self.pol.team_of_posting[p] if p >= 0 else -1

    def _new_tree(self, c: int) -> tuple[list[Any], Any]:
        e, pol, model = self.e, self.pol, self.model
        cfg = e.config
        zs, zl = pol.zs, pol.zl
        m, prec = e.post_mean[c], e.post_prec[c]
        p1 = prec + 1.0 / cfg.screen_noise_sd**2
        s1 = math.sqrt(max(0.0, 1 / prec - 1 / p1))
        s2 = math.sqrt(max(0.0, 1 / p1 - 1 / (p1 + 1.0 / cfg.loop_noise_sd**2)))
        cs, cl = self._costs(c)
        team = self._team(c)
        wait = pol.cfg.later_wait_days
        roots: list[Any] = []
        now = None
        found = e.screen_search(c)
        for period in (NOW, LATER):
            if period == NOW:
                if found is None:
                    continue
                d_s = found[0]
                surv0 = pol._survival(c, d_s) * pol._gap_survival(d_s - self.day)
            else:
                d_s = self.day + wait + 1
                surv0 = pol._survival(c, d_s) * pol._patience_survival(c, wait)
                cost_wait = self.wc * wait
            # the loop is booked the day after the screen, at the team's first free day
            d_l = max(d_s + cfg.interview.min_gap_days, self.team_loop_day(team))
            if period == LATER:
                d_l += wait
            d_o = d_l + 1
            if d_o >= self.n_days:
                continue
            root = model.new_bool_var(f"s{c}_{period}")
            cost = surv0 * (cs + self.wc * (d_s - self.day + 1))
            if period == LATER:
                cost += cost_wait
            self.objective.append((-cost, root))
            self.use_screen(e.c_areas[c], period, surv0, root)
            surv1 = surv0 * pol._survival(c, d_l) / max(1e-9, pol._survival(c, d_s))
            surv1 *= pol._gap_survival(d_l - d_s - 1)
            surv2 = surv1 * pol._survival(c, d_o) / max(1e-9, pol._survival(c, d_l))
            alive = False
            for a, za in enumerate(zs):
                lv = model.new_bool_var(f"l{c}_{period}_{a}")
                model.add(lv <= root)
                w1 = surv1 / len(zs)
                self.objective.append((-w1 * (cl + self.wc * (d_o - d_s + self.resp)), lv))
                self.use_loop(team, period, w1, lv)
                leaves: list[Any] = []
                prob = 1.0 / (len(zs) * len(zl))
                for b, zb in enumerate(zl):
                    mean = m + za * s1 + zb * s2
                    tag = f"{c}_{period}_{a}_{b}"
                    leaves += self.offer_leaf(c, lv, prob, mean, d_o, surv2, tag)
                if leaves:
                    alive = True
                else:
                    model.add(lv == 0)
            if not alive:
                model.add(root == 0)
                continue
            roots.append(root)
            if period == NOW:
                now = root
        return roots, now

    def _screened_tree(self, c: int) -> tuple[list[Any], Any]:
        e, pol, model = self.e, self.pol, self.model
        cfg = e.config
        zl = pol.zl
        m, prec = e.post_mean[c], e.post_prec[c]
        s2 = math.sqrt(max(0.0, 1 / prec - 1 / (prec + 1.0 / cfg.loop_noise_sd**2)))
        _, cl = self._costs(c)
        team = self._team(c)
        wait = pol.cfg.later_wait_days
        roots: list[Any] = []
        now = None
        found = e.loop_search(c)
        for period in (NOW, LATER):
            if period == NOW:
                if found is None:
                    continue
                d_l = found[1][0]
                surv0 = pol._survival(c, d_l) * pol._gap_survival(d_l - self.day)
                extra = 0.0
            else:
                d_l = self.day + wait + 1
                surv0 = pol._survival(c, d_l) * pol._patience_survival(c, wait)
                extra = self.wc * wait
            d_o = d_l + 1
            if d_o >= self.n_days:
                continue
            root = model.new_bool_var(f"l{c}_{period}")
            self.objective.append((-(surv0 * (cl + self.wc * (d_o - self.day)) + extra), root))
            self.use_loop(team, period, surv0, root)
            surv1 = surv0 * pol._survival(c, d_o) / max(1e-9, pol._survival(c, d_l))
            leaves: list[Any] = []
            for b, zb in enumerate(zl):
                tag = f"{c}_{period}_{b}"
                leaves += self.offer_leaf(c, root, 1.0 / len(zl), m + zb * s2, d_o, surv1, tag)
            if not leaves:
                model.add(root == 0)
                continue
            roots.append(root)
            if period == NOW:
                now = root
        return roots, now

    def _looped_options(self, c: int) -> list[Any]:
        e, pol = self.e, self.pol
        m = e.post_mean[c]
        roots: list[Any] = []
        for j, (p, w) in enumerate(e.offer_options(c)):
            acc = e.acceptance_probability(c, p, self.day)
            val = acc * pol._hire_value(pol._fit(c, p), m) - self.wc * self.resp
            if val <= 0:
                continue
            v = self.model.new_bool_var(f"t{c}_{j}")
            self.objective.append((val, v))
            self.seat_fluid.setdefault(p, []).append((acc, v))
            self.win_fluid.setdefault(w, []).append((acc, v))
            self.seat_hard.setdefault(p, []).append(v)
            self.win_hard.setdefault(w, []).append(v)
            self.today.setdefault(c, []).append(("offer", p, w, v, val))
            roots.append(v)
        wait = pol.cfg.later_wait_days
        d_o = self.day + wait
        if d_o < self.n_days:
            surv = pol._survival(c, d_o) * pol._patience_survival(c, wait)
            held = self.offer_leaf(c, 1, 1.0, m, d_o, surv, f"{c}_h")
            for v in held:
                self.objective.append((-self.wc * wait, v))
            roots += held
        return roots

    # the reserve -------------------------------------------------------------------
    def add_reserve(self) -> None:
        """Forecast future candidates per posting (integer counts in units of 1/k^2)."""
        e, pol, model = self.e, self.pol, self.model
        cfg, pc = e.config, pol.cfg
        rw = cfg.rewards
        last = self.n_days - pc.pipeline_tail_days
        if self.day + 1 > last:
            return
        zs, zl = pol.zs, pol.zl
        ks, kl = len(zs), len(zl)
        units = ks * kl
        expected = float(pol.arrivals[self.day + 1 : last + 1].sum())
        if expected <= 0:
            return
        p1 = 1 + 1 / cfg.screen_noise_sd**2
        s1 = math.sqrt(1 - 1 / p1)
        s2 = math.sqrt(1 / p1 - 1 / (p1 + 1 / cfg.loop_noise_sd**2))
        shares = pol._window_shares(self.day + 5)
        decay = delay_factor(6)
        office_factor = expected_office_factor()
        supply: dict[int, list[Any]] = {}
        for p, post in enumerate(e.postings):
            if e.p_remaining[p] <= 0:
                continue
            a = AREAS.index(post.area)
            fit_share = shares.get(e.office_index[post.office], {})
            omega = sum(fit_share.values())
            prim, sec = pol.area_primary_share[a], pol.area_secondary_share[a]
            n_max = int(expected * (prim + sec) * units)
            if omega <= 0 or n_max <= 0:
                continue
            fit = (prim + sec * rw.secondary_fit) / (prim + sec)
            area_acc = mixed_area_factor(prim, sec)
            acc = cfg.accept_base * area_acc * office_factor * decay * omega
            team = pol.team_of_posting[p]
            ns = model.new_int_var(0, n_max, f"fs{p}")
            supply.setdefault(a, []).append(ns)
            self.objective.append((-pol.base_screen_cost / units, ns))
            self.use_screen((a,), LATER, 1.0 / units, ns)
            for i_a, za in enumerate(zs):
                nl = model.new_int_var(0, n_max, f"fl{p}_{i_a}")
                model.add(ks * nl <= ns)
                self.objective.append((-pol.base_loop_cost / units, nl))
                self.use_loop(team, LATER, 1.0 / units, nl)
                for i_b, zb in enumerate(zl):
                    mean = za * s1 + zb * s2
                    val = (
                        pc.future_discount
                        * acc
                        * (fit * (rw.hire_value + rw.quality_weight * mean) + rw.unfilled_penalty)
                    )
                    if val <= 0:
                        continue
                    no = model.new_int_var(0, n_max, f"fo{p}_{i_a}_{i_b}")
                    model.add(kl * no <= nl)
                    self.objective.append((val / units, no))
                    self.seat_fluid.setdefault(p, []).append((acc / units, no))
                    for w, share in fit_share.items():
                        self.win_fluid.setdefault(w, []).append((acc * share / omega / units, no))
        for a, vs in supply.items():
            prim, sec = pol.area_primary_share[a], pol.area_secondary_share[a]
            model.add(sum(vs) <= int(expected * (prim + sec) * units))

    # solve -------------------------------------------------------------------------
    def solve(self) -> cp_model.CpSolver | None:
        """Add the resource constraints and the objective; solve; None if no solution."""
        e, model, pol = self.e, self.model, self.pol
        for p, terms in self.seat_fluid.items():
            model.add(_lin(terms) <= SCALE * e.p_remaining[p])
        for p, vs in self.seat_hard.items():
            model.add(sum(vs) <= e.p_remaining[p])
        for w, terms in self.win_fluid.items():
            model.add(_lin(terms) <= SCALE * e.window_left[w])
        for w, vs in self.win_hard.items():
            model.add(sum(vs) <= e.window_left[w])
        for period in (NOW, LATER):
            cap = self.caps[period]
            for t, terms in self.team_use[period].items():
                limit = sum(cap[i] for i in pol.team_loopers[t])
                model.add(_lin(terms) <= int(SCALE * limit))
            for t, terms in self.mgr_use[period].items():
                limit = sum(cap[i] for i in pol.team_mgrs[t])
                model.add(_lin(terms) <= int(SCALE * limit))
            if self.total_use[period]:
                model.add(_lin(self.total_use[period]) <= int(SCALE * cap.sum()))
        model.maximize(_lin(self.objective))
        pol.days_planned += 1
        for attempt in range(2):
            limit = pol.cfg.time_limit * (1 if attempt == 0 else 5)
            solver = cp_model.CpSolver()
            params = solver.parameters
            params.num_workers = pol.cfg.workers
            params.random_seed = pol.seed
            params.linearization_level = 2
            params.max_deterministic_time = limit
            params.max_time_in_seconds = limit * pol.cfg.wall_factor
            status = solver.solve(model)
            pol.solve_seconds += solver.wall_time
            pol.last_status = solver.status_name(status)
            pol.statuses[pol.last_status] = pol.statuses.get(pol.last_status, 0) + 1
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                return solver
        return None


def _lin(terms: list[tuple[float, Any]]) -> Any:
    """A scaled integer linear expression from (float coefficient, variable) terms."""
    coefs = [int(round(SCALE * c)) for c, _ in terms]
    return cp_model.LinearExpr.weighted_sum([v for _, v in terms], coefs)


def _fallback(mask: np.ndarray) -> int:
    """END_DAY when allowed (it always is), else the first valid action."""
    if mask[END_DAY]:
        return END_DAY
    return int(np.flatnonzero(mask)[0])


register_policy("cpsat_rolling")(CpSatPolicy)
