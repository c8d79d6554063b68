"""``hindsight``: an upper bound on the return of any online policy in one season.

A CP-SAT model of the whole season with everything revealed (``season.truths``:
true quality, acceptance draws, deadlines, no-shows; the arrival day of every
form; sick days). It chooses the hires directly:

- ``hire[c, p, w]`` (binary) for a candidate ``c`` whose form arrives in the
  season, a posting ``p`` in one of ``c``'s areas and a start window ``w`` of
  ``p``'s office; created only where ``c`` would accept an offer of ``p`` made
  on the earliest day it can be made (see below), ``w`` leaves 12 weeks inside
  ``c``'s availability and is at least ``onboarding_lead_days`` after that day.

The loop of a hire ``(c, p, w)`` is held by ``p``'s team: an offer goes only
to a posting of the team that ran the candidate's loop.

Constraints: each candidate hired at most once; hires per posting ``<=``
headcount; hires per (office, start window) ``<=`` onboarding capacity; per
team, the loop sessions of
its hires ``<=`` its members' capacity over the season and the loops ``<=``
its hiring managers' capacity; all hires' screen and loop sessions ``<=`` the
capacity of all interviewers. Objective: sum over hires of the env's hire
value minus the least interviewer time and waiting that hire must cost, minus
``unfilled_penalty`` per seat left unfilled.

## Why it is an upper bound (every relaxation keeps every online play feasible)
Take any online play of the season; its accepted offers ``(c, p, w)`` are a
feasible choice of ``hire`` (the env, too, offers ``p`` only to a candidate
whose loop ``p``'s team held) and its return is at most their objective value:

1. **Earliest offer day.** A form arriving on day ``f`` (the candidate is
   actionable that day) gets a screen on day ``f + 1`` at the earliest (the env
   books from tomorrow); the loop needs ``min_gap_days`` after the screen and a
   booking made the day after the screen result, so ``f + 3`` at the earliest;
   the offer comes the day after the loop, ``f + 4``. The first interview of a
   stage flagged as a no-show is a no-show in every play (the flag is consumed
   by the first interview held), and its rebooking is two days later: ``+2``
   per no-show. Sick cancellations, busy calendars, caps, windows of 16 slots
   and the queue can only delay, so they are ignored. The env books a loop only
   inside the candidate's local hours: a candidate whose local hours hold no
   whole loop on any working day from ``f + 3`` on is never looped in any play,
   so never hired, and gets no ``hire`` variable. The offer of ``p`` also
   waits for ``p``'s 7-day minimum. Call the result ``d*(c, p)``.
2. **Acceptance.** The env accepts iff ``accept_draw < acceptance_probability(c,
   p, offer day)``, which never increases with the offer day, and the onboarding
   lead only removes windows as the offer day grows: if ``c`` would decline, or no
   window is left, at ``d*``, the same holds on every later day, so the pair is
   excluded only where no play can hire it. The competing-offer deadline is
   checked at ``d*`` too (a later offer is even later). Patience is ignored
   (more contact can only help, so ignoring it relaxes).
3. **Headcount and start windows** are enforced by the env on offers out and
   never exceeded by accepted offers, so they hold for hires.
4. **Interviewer time** is relaxed to aggregate caps over the whole season (per
   interviewer ``sum over weeks of min(weekly cap, sum of daily caps on days not
   sick)``; a booking on a sick day is cancelled, so those days give nothing),
   without calendars, slots, rooms, accommodations or the day-by-day timing; only
   the hires' own interviews are counted.
5. **Costs are lower bounds.** A hire costs at least its held and no-show
   interviews (``1 + no_show`` screens, ``1 + no_show`` loops of
   ``loop_sessions`` sessions; cancelled ones are refunded) and waiting from its
   form day to the day before its offer (made at ``d*`` or later) is answered.
   Every other candidate costs at least 0 (it could be rejected on arrival).
   The unfilled penalty is exact given the hires. Invalid actions cost >= 0.
6. **Rounding.** The objective is scaled to integers with each hire's value
   rounded *up*, so CP-SAT's objective bound on the scaled model bounds the
   true optimum. The reported ``bound`` is CP-SAT's best objective bound, valid
   whether or not the solve reached OPTIMAL.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
from ortools.sat.python import cp_model

from envs.feasibility import acceptance_probability, can_hold_loop
from envs.state import SeasonState
from policies.base import register_policy
from scheduler import interruptible
from scheduler.domain import INTERNSHIP_WEEKS
from scheduler.generator import Season
from scheduler.rules import interviewer_cost

SCALE = 1_000_000
"""Objective coefficients are integers in units of 1/SCALE of reward."""


@dataclass
class HindsightResult:
    """Outcome of the hindsight model of one season."""

    status: str
    """CP-SAT status: OPTIMAL, FEASIBLE, INFEASIBLE or UNKNOWN."""
    objective: float
    """Return of the best hire set found (in reward units), NaN when none was found."""
    bound: float
    """CP-SAT's objective bound (reward units): no online policy can return more."""
    hires: list[tuple[str, str, str]] = field(default_factory=list)
    """(candidate_id, posting_id, window_id) of the best hire set found."""
    solve_seconds: float = 0.0


def earliest_offer_day(form_day: int, no_show_screen: bool, no_show_loop: bool) -> int:
    """The first day an offer can be made to a candidate whose form arrives on ``form_day``."""
    return form_day + 4 + 2 * int(no_show_screen) + 2 * int(no_show_loop)


def _season_capacity(env: SeasonState) -> np.ndarray:
    """Sessions each interviewer can hold over the season (caps, sick days removed)."""
    cal = env.calendar
    out = np.zeros(len(env.interviewers))
    weeks: dict[int, list[int]] = {}
    for d in range(env.n_days):
        weeks.setdefault(cal.week_of_day[d], []).append(d)
    for i in range(len(env.interviewers)):
        for days in weeks.values():
            daily = sum(cal.max_per_day[i] for d in days if i not in env.sick_on[d])
            out[i] += min(cal.max_per_week[i], daily)
    return out


def hire_options(env: SeasonState) -> dict[tuple[int, int, int], float]:
    """Every (candidate, posting, window) some play could hire, with its value bound.

    The value is the hire value plus ``unfilled_penalty`` minus the least
    interviewer time and waiting the hire must cost (module docstring, 1-2, 5).
    ``env`` must have been reset on the season (it only supplies derived tables).
    """
    season = env.season
    cfg = env.config
    rw, fmt = cfg.rewards, cfg.interview
    hour_cost = interviewer_cost(rw.interviewer_hour_cost, cfg.hours.slot_minutes)
    n_days = env.n_days
    options: dict[tuple[int, int, int], float] = {}
    for c, cand in enumerate(env.candidates):
        f = int(season.form_day[c])
        if f < 0 or not can_hold_loop(env, c):
            continue  # never arrives, or never loopable (1): no play can hire them
        truth = season.truths[c]
        first = earliest_offer_day(f, truth.no_show_screen, truth.no_show_loop)
        acc_set = cand.accommodation
        screen_cost = hour_cost * fmt.screen_length(acc_set) * (1 + truth.no_show_screen)
        loop_cost = (
            hour_cost
            * len(fmt.session_offsets(acc_set))
            * fmt.session_length(acc_set)
            * (1 + truth.no_show_loop)
        )
        for a in env.c_areas[c]:
            for p in env.area_postings[a]:
                day = max(first, env.p_first_offer[p])
                if day >= n_days or day >= f + truth.deadline_days:
                    continue
                if truth.accept_draw >= acceptance_probability(env, c, p, day):
                    continue
                fit = 1.0 if env.postings[p].area == cand.primary_area else rw.secondary_fit
                wait = rw.wait_cost * (min(day + cfg.offer_response_days, n_days) - f)
                value = (
                    fit * (rw.hire_value + rw.quality_weight * truth.quality)
                    + rw.unfilled_penalty
                    - screen_cost
                    - loop_cost
                    - wait
                )
                earliest = env.days[day].toordinal() + cfg.onboarding_lead_days
                office = env.office_index[env.postings[p].office]
                for w in env.office_windows[office]:
                    start = env.windows[w].start_date
                    if (
                        start.toordinal() >= earliest
                        and cand.available_from <= start
                        and start.toordinal() + 7 * INTERNSHIP_WEEKS
                        <= cand.available_until.toordinal()
                    ):
                        options[c, p, w] = value
    return options


def hindsight_bound(season: Season, time_limit: float = 20.0, workers: int = 1) -> HindsightResult:
    """Solve the hindsight model of ``season`` (see the module docstring).

    Args:
        season: a season as the env plays it (``env.unwrapped.season`` after ``reset``).
        time_limit: CP-SAT wall-clock limit in seconds.
        workers: CP-SAT workers.
    """
    started = time.perf_counter()
    env = SeasonState(season)  # the season's derived tables, before any play
    rw = env.config.rewards
    values = {k: v for k, v in hire_options(env).items() if v > 0}
    model = cp_model.CpModel()
    hire = {k: model.new_bool_var(f"h{k[0]}_{k[1]}_{k[2]}") for k in values}
    by_cand: dict[int, list[cp_model.IntVar]] = {}
    by_posting: dict[int, list[cp_model.IntVar]] = {}
    by_window: dict[int, list[cp_model.IntVar]] = {}
    for (c, p, w), v in hire.items():
        by_cand.setdefault(c, []).append(v)
        by_posting.setdefault(p, []).append(v)
        by_window.setdefault(w, []).append(v)
    for vs in by_cand.values():
        model.add_at_most_one(vs)
    for p, vs in by_posting.items():
        model.add(sum(vs) <= env.postings[p].headcount)
    for w, vs in by_window.items():
        model.add(sum(vs) <= env.windows[w].capacity)
    _add_interviewer_capacity(model, env, hire)
    model.maximize(
        cp_model.LinearExpr.weighted_sum(
            list(hire.values()), [math.ceil(SCALE * values[k]) for k in hire]
        )
    )
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.random_seed = 0
    status = interruptible.solve(solver, model)
    constant = rw.unfilled_penalty * sum(p.headcount for p in env.postings)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    chosen = [k for k, v in hire.items() if found and solver.value(v)]
    if not (found or status == cp_model.UNKNOWN):  # hiring nobody is always feasible
        raise RuntimeError(f"hindsight model: {solver.status_name(status)}")
    headcount = sum(p.headcount for p in env.postings)
    # fallback if CP-SAT has no finite bound: at most ``headcount`` hires, the best values
    trivial = sum(sorted(values.values(), reverse=True)[:headcount])
    raw = solver.best_objective_bound / SCALE
    bound = (raw if math.isfinite(raw) else trivial) - constant
    return HindsightResult(
        status=solver.status_name(status),
        objective=sum(values[k] for k in chosen) - constant if found else math.nan,
        bound=bound,
        hires=[
            (
                env.candidates[c].candidate_id,
                env.postings[p].posting_id,
                env.windows[w].window_id,
            )
            for c, p, w in chosen
        ],
        solve_seconds=time.perf_counter() - started,
    )


def _add_interviewer_capacity(
    model: cp_model.CpModel,
    env: SeasonState,
    hire: dict[tuple[int, int, int], cp_model.IntVar],
) -> None:
    """Aggregate season caps: loops per team (members, managers) and all sessions.

    A hire's loop is held by the team of the posting it hires for (offers go only
    to the team that ran the loop).
    """
    season = env.season
    by_cand: dict[int, list[cp_model.IntVar]] = {}
    for (c, _, _), v in hire.items():
        by_cand.setdefault(c, []).append(v)
    cap = _season_capacity(env)
    sessions = env.config.interview.loop_sessions
    team_terms: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
    mgr_terms: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
    total: list[tuple[int, cp_model.IntVar]] = []
    for c, vs in by_cand.items():
        truth = season.truths[c]
        loops = 1 + int(truth.no_show_loop)
        screens = 1 + int(truth.no_show_screen)
        hired = model.new_bool_var(f"hired{c}")
        model.add(sum(vs) == hired)
        total.append((screens + sessions * loops, hired))
    for (c, p, _), v in hire.items():
        truth = season.truths[c]
        loops = 1 + int(truth.no_show_loop)
        team_terms.setdefault(env.p_team[p], []).append((sessions * loops, v))
        mgr_terms.setdefault(env.p_team[p], []).append((loops, v))
    for t, terms in team_terms.items():
        limit = int(sum(cap[i] for i in env.team_members[t]))
        model.add(sum(k * v for k, v in terms) <= limit)
    for t, terms in mgr_terms.items():
        limit = int(sum(cap[i] for i in env.team_managers[t]))
        model.add(sum(k * v for k, v in terms) <= limit)
    model.add(sum(k * v for k, v in total) <= int(cap.sum()))


class HindsightPolicy:
    """Registered so that ``make_policy("hindsight")`` works; it is a bound, not a policy."""

    name = "hindsight"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def reset(self, env: gym.Env) -> None:
        pass

    def act(self, obs: np.ndarray, info: dict[str, Any]) -> int:
        raise RuntimeError(
            "'hindsight' is an upper bound, not a policy: it cannot act. Use "
            "policies.hindsight.hindsight_bound(env.unwrapped.season), or "
            "policies.rollout.simulate(..., ['hindsight'], ...), which reports it per seed."
        )


register_policy("hindsight")(HindsightPolicy)
