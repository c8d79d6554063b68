"""Seat, start-window and interviewer-time prices for the season ahead (an OR-Tools LP).

Each morning the planner (``policies.planner``) prices the season's shared
resources with a fluid LP over what it knows (``envs.known.KnownState``) and a
forecast of the candidates still to come:

- **candidates**: every active candidate without a pending interview, at its
  stage and posterior ``N(m, 1/P)``; plus forecast arrivals, the candidates of
  ``futures`` seasons drawn from the scenario's own generator (never the
  season in play) whose form arrives after today, each weighted ``1 / futures``;
- **a decision tree per candidate**: screen -> loop per screen-outcome bin ->
  offer of a posting per loop-outcome bin (equiprobable bins of the
  preposterior ``m' ~ N(m, 1/P - 1/P')``), as fractions of the candidate;
- **values**: an offer of posting ``p`` is worth ``survival * accept(p) *
  (fit * (hire_value + quality_weight * m) + unfilled_penalty)`` (a filled seat
  avoids the unfilled penalty), interviews cost their interviewer hours;
- **rows**: expected accepted hires per posting ``<= p_remaining`` and per start
  window ``<= window_left``; interview sessions in total, per team (loops) and
  per team's hiring managers ``<=`` their caps over the rest of the season.

GLOP (OR-Tools' LP solver) solves it; its duals are the prices: what one more
expected hire of a posting or a window, or one more interview session, would be
worth. The planner then decides each candidate on its own tree at those prices
(an index policy: Brown & Smith, "Index policies and performance bounds for
dynamic selection problems", 2020; bid prices: Talluri & van Ryzin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from ortools.linear_solver import pywraplp

from envs.known import KnownState
from envs.layout import Stage
from envs.state import AREA_INDEX
from policies.gaussian_bounds import equiprobable_bins
from scheduler.domain import INTERNSHIP_WEEKS, Candidate
from scheduler.rules import acceptance_probability

NEW, SCREENED, LOOPED = int(Stage.NEW), int(Stage.SCREENED), int(Stage.LOOPED)


@dataclass
class Prices:
    """Dual prices of the season's shared resources (all >= 0)."""

    seat: np.ndarray
    """Per posting: one more expected accepted hire."""
    window: np.ndarray
    """Per start window: one more expected accepted hire."""
    session: float = 0.0
    """One interview session of anyone."""
    team_session: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Per team: one loop session of its members."""
    status: str = "NOT_SOLVED"


@dataclass(frozen=True)
class Prospect:
    """One candidate as the planner sees it: stage, posterior, and where they may be hired."""

    stage: int
    mean: float
    precision: float
    offers: tuple[tuple[int, int, float, float], ...]
    """(posting, start window, acceptance probability, value of an accepted hire)."""
    team: int
    """Team of a held or planned loop (-1: not yet known)."""
    survival: float
    """Chance the candidate is still there when the offer is made."""
    weight: float = 1.0


@dataclass(frozen=True)
class Costs:
    """Interviewer-hour costs and sizes of the stages."""

    screen: float
    loop: float
    loop_sessions: int
    quality_weight: float


def season_capacity(known: KnownState, first: int) -> np.ndarray:
    """Sessions each interviewer can still hold from day ``first`` on (daily and weekly caps)."""
    cal = known.calendar
    out = np.zeros(len(known.interviewers))
    weeks: dict[int, list[int]] = {}
    for d in range(first, known.n_days):
        weeks.setdefault(cal.week_of_day[d], []).append(d)
    for i in range(len(known.interviewers)):
        for w, days in weeks.items():
            week_left = cal.max_per_week[i] - cal.week_count[i][w]
            day_left = sum(max(0, cal.max_per_day[i] - cal.day_count[i][d]) for d in days)
            out[i] += max(0, min(week_left, day_left))
    return out


def deadline_survival(known: KnownState, form_day: int, now: int, later: int) -> float:
    """P(no competing-offer withdrawal by ``later`` | none by ``now``), from the scenario's law."""
    cfg = known.config
    scale = max(1e-6, cfg.deadline_mean_days - 8)
    a, b = max(now - form_day, 8), max(later - form_day, 8)
    return math.exp(-(b - a) / scale)


def patience_survival(patience_mean_days: float, wait: int) -> float:
    """P(a candidate booked today is still there ``wait`` days later): patience is
    ``floor(2 + Exp(mean - 2))`` days and they leave on its morning."""
    if wait <= 1:
        return 1.0
    return math.exp(-(wait - 1) / max(1e-6, patience_mean_days - 2))


def offer_terms(
    known: KnownState, cand: Candidate, c_areas: tuple[int, ...], form_day: int, offer_day: int,
    team: int, postings_with_seats: list[int],
) -> tuple[tuple[int, int, float, float], ...]:  # fmt: skip
    """(posting, window, acceptance, value per accepted hire) of the postings that may hire."""
    cfg = known.config
    rw = cfg.rewards
    day = known.days[min(offer_day, known.n_days - 1)]
    earliest = day.toordinal() + cfg.onboarding_lead_days
    out = []
    for p in postings_with_seats:
        post = known.postings[p]
        if known.p_team[p] != team and team >= 0:
            continue
        area = AREA_INDEX[post.area]
        if area not in c_areas:
            continue
        rank = c_areas.index(area)
        first = max(offer_day, known.p_first_offer[p])
        if first >= known.n_days:
            continue
        w = next(
            (w for w in known.office_windows[known.office_index[post.office]]
             if known.window_left[w] > 0 and window_fits_candidate(known, cand, w, earliest)),
            -1,
        )  # fmt: skip
        if w < 0:
            continue
        acc = acceptance_probability(
            cfg.accept_base,
            primary_area=rank == 0,
            preferred_office=not cand.office_preference or cand.office_preference == post.office,
            days_since_form=first - form_day,
        )
        fit = 1.0 if rank == 0 else rw.secondary_fit
        out.append((p, w, acc, fit))
    return tuple(out)


def window_fits_candidate(known: KnownState, cand: Candidate, w: int, earliest: int) -> bool:
    """Window ``w`` starts on or after ``earliest`` and leaves 12 weeks of the availability."""
    start = known.windows[w].start_date
    return (
        start.toordinal() >= earliest
        and cand.available_from <= start
        and start.toordinal() + 7 * INTERNSHIP_WEEKS <= cand.available_until.toordinal()
    )


class PriceModel:
    """The fluid LP of the season ahead; ``solve`` returns its dual prices."""

    def __init__(self, known: KnownState, costs: Costs, k_screen: int, k_loop: int) -> None:
        self.known = known
        self.costs = costs
        self.zs = equiprobable_bins(k_screen)
        self.zl = equiprobable_bins(k_loop)
        self.solver = pywraplp.Solver.CreateSolver("GLOP")
        self.objective = self.solver.Objective()
        n_p, n_w = len(known.postings), len(known.windows)
        n_t = len(known.team_members)
        inf = self.solver.infinity()
        self.seat_rows = [self.solver.Constraint(-inf, known.p_remaining[p]) for p in range(n_p)]
        self.window_rows = [self.solver.Constraint(-inf, known.window_left[w]) for w in range(n_w)]
        cap = season_capacity(known, known.day + 1)
        self.session_row = self.solver.Constraint(-inf, float(cap.sum()))
        self.team_rows = [
            self.solver.Constraint(-inf, float(cap[list(known.team_members[t])].sum()))
            for t in range(n_t)
        ]
        self.n_vars = 0

    def _var(self, upper: float, value: float) -> pywraplp.Variable:
        v = self.solver.NumVar(0.0, upper, f"x{self.n_vars}")
        self.n_vars += 1
        self.objective.SetCoefficient(v, value)
        return v

    def _offers(self, pr: Prospect, mean: float, parent: pywraplp.Variable, share: float) -> None:
        """Offer columns of one outcome leaf: their sum is at most ``share * parent``."""
        rw = self.known.config.rewards
        inf = self.solver.infinity()
        row = self.solver.Constraint(-inf, 0.0)
        row.SetCoefficient(parent, -share)
        for p, w, acc, fit in pr.offers:
            gain = pr.survival * acc * (fit * (rw.hire_value + rw.quality_weight * mean))
            gain += pr.survival * acc * rw.unfilled_penalty
            if gain <= 0:
                continue
            v = self._var(pr.weight, gain)
            row.SetCoefficient(v, 1.0)
            self.seat_rows[p].SetCoefficient(v, pr.survival * acc)
            self.window_rows[w].SetCoefficient(v, pr.survival * acc)

    def _loop(self, pr: Prospect, mean: float, prec: float, parent: pywraplp.Variable | None,
              share: float) -> pywraplp.Variable:  # fmt: skip
        cfg = self.known.config
        v = self._var(pr.weight * share, -self.costs.loop)
        if parent is not None:
            row = self.solver.Constraint(-self.solver.infinity(), 0.0)
            row.SetCoefficient(v, 1.0)
            row.SetCoefficient(parent, -share)
        self.session_row.SetCoefficient(v, self.costs.loop_sessions)
        if pr.team >= 0:
            self.team_rows[pr.team].SetCoefficient(v, self.costs.loop_sessions)
        after = prec + 1.0 / cfg.loop_noise_sd**2
        sd = math.sqrt(max(0.0, 1.0 / prec - 1.0 / after))
        for z in self.zl:
            self._offers(pr, mean + sd * z, v, 1.0 / len(self.zl))
        return v

    def add(self, pr: Prospect) -> None:
        """The decision tree of one prospect."""
        if not pr.offers:
            return
        cfg = self.known.config
        if pr.stage == LOOPED:
            parent = self._var(pr.weight, 0.0)
            self._offers(pr, pr.mean, parent, 1.0)
        elif pr.stage == SCREENED:
            self._loop(pr, pr.mean, pr.precision, None, 1.0)
        else:
            s = self._var(pr.weight, -self.costs.screen)
            self.session_row.SetCoefficient(s, 1.0)
            after = pr.precision + 1.0 / cfg.screen_noise_sd**2
            sd = math.sqrt(max(0.0, 1.0 / pr.precision - 1.0 / after))
            for z in self.zs:
                self._loop(pr, pr.mean + sd * z, after, s, 1.0 / len(self.zs))

    def solve(self, time_limit_s: float = 5.0) -> Prices:
        """Maximise; the duals of the resource rows are the prices."""
        self.objective.SetMaximization()
        self.solver.SetTimeLimit(int(time_limit_s * 1000))
        status = self.solver.Solve()
        name = {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE"}.get(
            status, "NOT_SOLVED"
        )
        if name == "NOT_SOLVED":
            return Prices(
                np.zeros(len(self.seat_rows)), np.zeros(len(self.window_rows)), status=name
            )
        return Prices(
            seat=np.maximum(0.0, [r.dual_value() for r in self.seat_rows]),
            window=np.maximum(0.0, [r.dual_value() for r in self.window_rows]),
            session=max(0.0, self.session_row.dual_value()),
            team_session=np.maximum(0.0, [r.dual_value() for r in self.team_rows]),
            status=name,
        )
