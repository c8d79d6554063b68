"""``information``: an upper bound on the expected return of any online policy in a season.

Unlike ``hindsight`` (``policies.hindsight``), which reveals every quality,
this bound keeps the season's information structure: a candidate's quality is
learnt only through the screen and the loop signals, as the env reveals them.
It holds **in expectation** over quality, signals, acceptance, no-shows and
withdrawals given the season's exogenous arrivals: compare it with policies'
*mean* returns over many seasons (with a CI), never season by season.

## The model (per season)
Every candidate ``c`` whose form arrives is split into *types* ``tau`` (the
information a policy is given at arrival, with its probability) and each type
into a tree of posterior states:

- ``screen[tau, k0]``: the probability of a held screen; ``k0`` bins the
  quality known at arrival (only when quality is revealed at arrival);
- ``loop[tau, k0, k1, t]``: a held loop run by team ``t`` (one owning a posting
  in ``c``'s areas) with the screen signal in bin ``k1``;
- ``offer[tau, k0, k1, k2, p]``: an offer of posting ``p`` of team ``t`` with the
  loop signal in bin ``k2``;
- ``hire[tau, p, w]``: expected accepted hires of ``p`` in start window ``w``.

Flow: ``screen <= P(tau, k0)``; ``sum_t loop <= screen / K1`` per screen bin;
``sum_p offer <= loop / K2`` per loop bin; ``sum_w hire = acc * sum offer``.
In expectation: accepted hires per posting ``<=`` headcount and per (office,
start window) ``<=`` onboarding capacity; loop sessions per team ``<=`` its
members' season capacity, loops ``<=`` its hiring managers', all sessions ``<=``
everyone's (``policies.hindsight._season_capacity``). Objective: per offer
``acc * (fit * (hire_value + quality_weight * E[quality | bins]) +
unfilled_penalty)``, minus interview costs and waiting, minus
``unfilled_penalty`` per seat. HiGHS solves this LP; its dual prices are then
*certified*: the reported ``bound`` is the Lagrangian dual function at those
prices, computed with the exact (continuous) signals (see 7 below).

## Why it is an upper bound
Fix the season's exogenous arrivals. Take any online policy and write down,
per candidate, the probabilities (its *occupation measure*) of a held screen,
a held loop by team ``t``, an offer of ``p`` in ``w`` and an accepted hire,
jointly with the candidate's own signals. Each relaxation below keeps that
measure feasible and its objective at least the policy's expected return:

1. **Arrivals are known in advance.** Form days, areas, availability, office
   preference, publications, accommodation: exogenous, a policy sees them on
   arrival anyway; knowing them sooner only adds policies. The same holds for
   each type's extra information (the no-show flags and the competing-offer
   deadline when ``no_shows``/``withdrawals`` say ``realised`` or ``expected``:
   the deadline interval is revealed at arrival, with its probability), and
   for the acceptance draws or the quality where the options reveal them.
2. **Signals and independence.** After the screen the posterior mean is
   ``m1 = prior + sd1 * Z1`` and after the loop ``m2 = m1 + sd2 * Z2`` with
   ``Z1, Z2`` independent standard normals, independent of everything a policy
   knows before the interview that reveals them (the other candidates' draws
   included). So a loop decision, however it depends on ``Z1``, leaves ``Z2``
   with its prior law: the bin proportions ``1/K`` in the flow rows hold for
   every policy. The value of a hire is linear in quality, and ``E[quality |
   all a policy knows at the offer] = m2`` (tower property): the offer's value
   is linear in ``m2``.
3. **Acceptance** is drawn independently of everything known at the offer;
   its probability never rises with the offer day, so the earliest offer day
   ``d*`` (``policies.hindsight.earliest_offer_day``, the posting's 7-day
   minimum) bounds it, and every start window open to a later offer is open
   at ``d*``. With ``acceptance="realised"`` the draw is known and an offer
   is accepted iff the draw is below the probability at ``d*``.
4. **Seats and start windows in expectation.** The env never lets accepted
   offers exceed a posting's headcount or a window's capacity on any path
   (offers hold a seat, declines free it), so the expected accepted hires obey
   the same limits. The unfilled penalty is linear in the hires: exact in
   expectation. Interviewer capacity is aggregated over the season exactly as
   in ``hindsight`` (calendars, rooms, slots and timing dropped), per path,
   hence in expectation. The one timing rule kept is the env's own: a loop lies
   inside the candidate's local hours, so a candidate whose local hours hold no
   whole loop on any working day from ``f + 3`` on (most of those in
   Asia/Shanghai) is never looped by any policy and gets no type. Only held
   screens and loops are counted and charged.
5. **Withdrawals.** A candidate withdraws on the morning of ``form day +
   deadline`` unless an offer is out; an offer of ``p`` needs ``d*(p) <
   form day + deadline``. Patience is ignored (more contact only helps).
6. **Costs are lower bounds.** A held screen costs its session (and the
   no-show before it where the flags are known; ``no_shows="best_case"``
   charges none, a relaxation) and at least two days of waiting (held on
   ``f + 1`` at the earliest, rejected the next day); a loop two more; an offer
   waits until ``min(d* + offer_response_days, n_days)``.
7. **Certification (binning).** The LP coarsens signals to equiprobable bins,
   so its optimum is the best *bin-measurable* policy: by itself not a bound
   for policies acting on the exact signals. Its dual prices ``y >= 0`` are
   plugged into the Lagrangian ``L(y) = y . capacities + sum over types of
   P(type) * V(type, y)``, where ``V`` is the exact optimum of one candidate's
   own screen-loop-offer problem at those prices with continuous signals.
   Weak duality: ``L(y)`` bounds every policy whose occupation measure meets
   the constraints in expectation, for every ``y >= 0``. ``V`` is a nest of
   convex nondecreasing functions of the posterior mean; the loop stage is
   integrated exactly (``gaussian_bounds.expect_max_lines``), the outer
   stages from above (``gaussian_bounds.chord_upper``), so the reported value
   is never below ``L(y)``; and ``L(y) >= `` the LP optimum (strong duality,
   finer information only helps), so certification only adds the worth of
   finer-than-bin information plus a quadrature slack (~1e-4 per candidate).
   Any prices give a valid bound: when HiGHS stops early (time limit) the
   prices of a 2x2-bin LP are certified too and the lower value is reported.

Options (``InformationOptions``) reveal more or relax more, for the gap
decomposition (``experiments/bound_decomposition.py``): each setting is a
valid bound in the same sense.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from envs.feasibility import acceptance_probability, can_hold_loop, window_fits
from envs.state import SeasonState
from policies.gaussian_bounds import chord_upper, chord_weights, expect_max_lines
from policies.hindsight import _season_capacity, earliest_offer_day
from policies.information_lp import LpResult, Prices, solve_lp
from scheduler.generator import Season
from scheduler.rules import interviewer_cost, quality_prior


@dataclass(frozen=True)
class InformationOptions:
    """What the bound reveals or relaxes (defaults: the information bound itself)."""

    acceptance: Literal["probability", "realised"] = "probability"
    """``realised``: each candidate's acceptance draw is known at arrival."""
    quality: Literal["signals", "arrival", "realised"] = "signals"
    """``signals``: learnt through the screen and loop; ``arrival``: revealed at arrival,
    seats in expectation over it; ``realised``: this season's qualities known."""
    withdrawals: Literal["expected", "realised", "ignore"] = "expected"
    """Competing-offer deadlines: in expectation (revealed at arrival), this season's, or none."""
    no_shows: Literal["best_case", "realised"] = "best_case"
    """``best_case``: nobody misses an interview; ``realised``: this season's flags."""
    interviewer_capacity: bool = True
    """Aggregate interviewer capacity rows (team members, hiring managers, everyone)."""
    loop_team_rule: bool = True
    """Offers only to postings of the team that ran the loop."""
    screen_bins: int = 4
    loop_bins: int = 4
    """Bins of the LP that prices the resources. Tuned on ``default`` seed 100000: the
    certified bound is 76.59 at 3x3, 76.52 at 4x4, 76.44 at 6x4 and 76.42 at 8x8 bins,
    while the LP takes 1.5, 3.6, 11 and 50 s."""
    arrival_bins: int = 16
    """Bins of the quality revealed at arrival (``quality="arrival"``)."""
    time_limit: float = 60.0
    """HiGHS time limit (s); the certified bound is valid at any prices."""


@dataclass
class Offer:
    """An offer a candidate type may receive (at its earliest offer day)."""

    posting: int
    team: int
    acc: float
    """Probability of acceptance (0/1 when the draw is known)."""
    alpha: float
    """Expected value of the offer at posterior mean 0 (acceptance, fit, penalty, waiting)."""
    beta: float
    """Expected value per unit of posterior mean quality."""
    windows: list[int]
    hire: float = 0.0
    """Value of an accepted hire at posterior mean 0 (fit * hire_value + unfilled_penalty)."""


@dataclass
class CandidateType:
    """A candidate with the information revealed at arrival, and its probability."""

    candidate: int
    prob: float
    mean: float
    """Quality prior mean (or the quality itself when realised)."""
    sds: tuple[float, float, float]
    """Standard deviations of the posterior mean's moves at arrival, screen and loop."""
    screen_cost: float
    screen_sessions: float
    loop_cost: float
    loop_sessions: float
    """Sessions of the team's members per loop (managers hold ``loop_sessions / sessions``)."""
    manager_sessions: float
    teams: list[int]
    offers: list[Offer] = field(default_factory=list)

    def team_offers(self, team: int, rule: bool) -> list[Offer]:
        """Offers open after a loop by ``team`` (all of them without the loop-team rule)."""
        return [o for o in self.offers if o.team == team or not rule]


@dataclass
class InformationResult:
    """Outcome of the information bound of one season."""

    status: str
    """HiGHS model status of the LP (the certified bound is valid whatever it is)."""
    bound: float
    """Certified upper bound on the expected return (reward units)."""
    lp: float
    """The binned LP's optimum (the best bin-measurable policy's value in the relaxation)."""
    seconds: float
    n_types: int
    n_columns: int
    n_rows: int
    seat_price: float
    """Mean dual price of a seat over the postings."""


def deadline_survival(days: int, mean_days: float) -> float:
    """P(deadline > days) for the generator's draw ``int(8 + Exponential(mean - 8))``."""
    scale = max(mean_days - 8.0, 0.0)
    if days < 8:
        return 1.0
    return math.exp(-(days - 7) / scale) if scale > 0 else 0.0


def signal_sds(season: Season, quality: str) -> tuple[float, float, float]:
    """Moves of the posterior mean (arrival, screen, loop) under the quality option."""
    cfg = season.config
    if quality == "arrival":
        return 1.0, 0.0, 0.0
    if quality == "realised":
        return 0.0, 0.0, 0.0
    prec1 = 1.0 + cfg.screen_noise_sd**-2  # prior precision 1 (quality ~ N(prior, 1))
    prec2 = prec1 + cfg.loop_noise_sd**-2
    return 0.0, math.sqrt(1.0 - 1.0 / prec1), math.sqrt(1.0 / prec1 - 1.0 / prec2)


def candidate_types(state: SeasonState, opts: InformationOptions) -> list[CandidateType]:
    """The types of every candidate whose form arrives (module docstring, 1-6)."""
    season, cfg = state.season, state.config
    rw, fmt = cfg.rewards, cfg.interview
    hour_cost = interviewer_cost(rw.interviewer_hour_cost, cfg.hours.slot_minutes)
    sds = signal_sds(season, opts.quality)
    sessions = fmt.loop_sessions
    out: list[CandidateType] = []
    for c, cand in enumerate(state.candidates):
        f = int(season.form_day[c])
        if f < 0 or not can_hold_loop(state, c):
            continue  # never arrives, or never loopable: nobody can hire them (4)
        truth = season.truths[c]
        realised_ns = opts.no_shows == "realised"
        ns1 = bool(truth.no_show_screen) and realised_ns
        ns2 = bool(truth.no_show_loop) and realised_ns
        first = earliest_offer_day(f, ns1, ns2)
        screen_wait, loop_wait = 2 + 2 * ns1, 2 + 2 * ns2
        offers: list[tuple[int, Offer]] = []  # (days from the form to the offer, offer)
        for a in state.c_areas[c]:
            for p in state.area_postings[a]:
                day = max(first, state.p_first_offer[p])
                if day >= state.n_days:
                    continue
                earliest = state.days[day].toordinal() + cfg.onboarding_lead_days
                windows = [
                    w for w in state.office_windows[state.p_office[p]]
                    if window_fits(state, c, w, earliest)
                ]  # fmt: skip
                acc = acceptance_probability(state, c, p, day)
                if opts.acceptance == "realised":
                    acc = float(truth.accept_draw < acc)
                if not windows or acc <= 0.0:
                    continue
                fit = 1.0 if state.postings[p].area == cand.primary_area else rw.secondary_fit
                wait = min(day + cfg.offer_response_days, state.n_days) - f
                alpha = acc * (fit * rw.hire_value + rw.unfilled_penalty) - rw.wait_cost * (
                    wait - screen_wait - loop_wait
                )
                beta = acc * fit * rw.quality_weight
                hire = fit * rw.hire_value + rw.unfilled_penalty
                offer = Offer(p, state.p_team[p], acc, alpha, beta, windows, hire)
                offers.append((day - f, offer))
        if not offers:
            continue  # nobody can hire them: rejecting on arrival is optimal
        mean = (
            float(truth.quality)
            if opts.quality == "realised"
            else quality_prior(cand.publications, cfg.publications_mean)
        )
        length = fmt.session_length(cand.accommodation)
        base = CandidateType(
            candidate=c,
            prob=1.0,
            mean=mean,
            sds=sds,
            screen_cost=hour_cost * fmt.screen_length(cand.accommodation) * (1 + ns1)
            + rw.wait_cost * screen_wait,
            screen_sessions=1.0 + ns1,
            loop_cost=hour_cost * sessions * length * (1 + ns2) + rw.wait_cost * loop_wait,
            loop_sessions=sessions * (1.0 + ns2),
            manager_sessions=1.0 + ns2,
            teams=[],
        )
        for prob, allowed in _deadline_types(offers, truth.deadline_days, cfg, opts):
            teams = {o.team for o in allowed}  # with the rule: teams that can offer
            if not opts.loop_team_rule:  # any team owning a posting in their areas
                teams = {state.p_team[p] for a in state.c_areas[c] for p in state.area_postings[a]}
            out.append(replace(base, prob=prob, teams=sorted(teams), offers=allowed))
    return out


def _deadline_types(
    offers: list[tuple[int, Offer]], deadline: int, cfg: Any, opts: InformationOptions
) -> list[tuple[float, list[Offer]]]:
    """(probability, offers still possible) per deadline interval revealed at arrival."""
    if opts.withdrawals == "ignore":
        return [(1.0, [o for _, o in offers])]
    if opts.withdrawals == "realised":
        kept = [o for k, o in offers if k < deadline]
        return [(1.0, kept)] if kept else []
    thresholds = sorted({k for k, _ in offers if k >= 8})
    cuts = [7, *thresholds]
    out = []
    for j, low in enumerate(cuts):
        high = cuts[j + 1] if j + 1 < len(cuts) else None
        prob = deadline_survival(low, cfg.deadline_mean_days) - (
            deadline_survival(high, cfg.deadline_mean_days) if high is not None else 0.0
        )
        kept = [o for k, o in offers if k <= low]
        if prob > 1e-12 and kept:
            out.append((prob, kept))
    return out


@dataclass
class TeamLine:
    """A team's loop and offers for one candidate type, at the prices."""

    team: int
    alpha: np.ndarray
    """Net offer intercepts (expected value at posterior mean 0 less seat and window prices)."""
    beta: np.ndarray
    loop_price: float
    """The loop's cost plus its sessions at the interviewer prices."""
    offers: list[Offer]


def team_lines(t: CandidateType, prices: Prices, rule: bool) -> list[TeamLine]:
    """Per team with an offer left: the offer value lines net of seat and window prices."""
    out = []
    for team in t.teams:
        offers = t.team_offers(team, rule)
        if not offers:
            continue
        alpha = np.array(
            [o.alpha - o.acc * (prices.seat[o.posting] + min(prices.window[w] for w in o.windows))
             for o in offers]
        )  # fmt: skip
        beta = np.array([o.beta for o in offers])
        loop = (
            t.loop_cost
            + t.loop_sessions * (prices.member[team] + prices.total)
            + t.manager_sessions * prices.manager[team]
        )
        out.append(TeamLine(team, alpha, beta, loop, offers))
    return out


def screened_value(lines: list[TeamLine], m1: np.ndarray, sd2: float) -> np.ndarray:
    """The best of no loop and each team's loop (its expected best offer after the loop,
    less its price) at each screen posterior mean ``m1``."""
    best = np.zeros_like(m1)
    for tl in lines:
        best = np.maximum(best, expect_max_lines(tl.alpha, tl.beta, m1, sd2) - tl.loop_price)
    return best


def type_value(t: CandidateType, prices: Prices, rule: bool) -> float:
    """Upper bound on one candidate type's best expected value at ``prices`` (docstring, 7)."""
    grid, _, _ = chord_weights()
    sd0, sd1, sd2 = t.sds
    screen = t.screen_cost + t.screen_sessions * prices.total
    lines = team_lines(t, prices, rule)
    if not lines:
        return 0.0
    smax = max(float(tl.beta.max(initial=0.0)) for tl in lines)

    def at_arrival(m0: np.ndarray) -> np.ndarray:
        if sd1 > 0:
            inner = chord_upper(screened_value(lines, m0[..., None] + sd1 * grid, sd2), sd1, smax)
        else:
            inner = screened_value(lines, m0, sd2)
        return np.maximum(0.0, inner - screen)

    if sd0 > 0:
        return float(chord_upper(at_arrival(t.mean + sd0 * grid), sd0, smax))
    return float(at_arrival(np.array(t.mean)))


def certify(
    state: SeasonState,
    types: list[CandidateType],
    capacity: np.ndarray,
    lp: LpResult,
    opts: InformationOptions,
) -> float:
    """The Lagrangian at the LP's prices (docstring, 7), before the unfilled-seat constant."""
    return lp.prices.dual_value(state, capacity, opts.interviewer_capacity) + sum(
        t.prob * type_value(t, lp.prices, opts.loop_team_rule) for t in types
    )


def information_bound(
    season: Season, options: InformationOptions | None = None
) -> InformationResult:
    """The information bound of ``season`` (see the module docstring)."""
    opts = options or InformationOptions()
    started = time.perf_counter()
    state = SeasonState(season)  # the season's derived tables, before any play
    types = candidate_types(state, opts)
    capacity = _season_capacity(state)
    lp: LpResult = solve_lp(state, types, capacity, opts)
    certified = certify(state, types, capacity, lp, opts)
    status, lp_value = lp.status, lp.objective
    if status != "Optimal":  # prices of an unfinished LP may be poor: try a coarse LP too
        coarse = replace(opts, screen_bins=2, loop_bins=2, arrival_bins=4)
        fallback = solve_lp(state, types, capacity, coarse)
        found = certify(state, types, capacity, fallback, opts)
        if found < certified:
            certified, lp_value = found, fallback.objective
            status = f"{status}; prices of the 2x2-bin LP ({fallback.status})"
    constant = state.config.rewards.unfilled_penalty * state.total_headcount
    return InformationResult(
        status=status,
        bound=certified - constant,
        lp=lp_value - constant,
        seconds=time.perf_counter() - started,
        n_types=len(types),
        n_columns=lp.n_columns,
        n_rows=lp.n_rows,
        seat_price=float(np.mean(lp.prices.seat)) if len(lp.prices.seat) else 0.0,
    )


def season_for(scenario: Any, seed: int) -> Season:
    """The season ``isched simulate --seed SEED`` plays (``env.reset(seed=SEED)``)."""
    import gymnasium as gym

    import envs
    from envs.season_env import season_state

    env = gym.make(envs.ENV_ID, scenario=scenario)
    env.reset(seed=seed)
    return season_state(env).season


def bound_row(
    season: Season, seed: int, kind: str, bound: float, status: str, seconds: float, **extra: Any
) -> dict[str, Any]:
    """One season's bound as a row of the bounds table (``return`` = bound)."""
    return {"scenario": season.config.name, "seed": seed, "kind": kind, "bound": bound,
            "return": bound, "status": status, "seconds": seconds, **extra}  # fmt: skip


def information_row(scenario: Any, seed: int) -> dict[str, Any]:
    """The information bound of the season ``seed`` draws, as a row (``return`` = bound)."""
    season = season_for(scenario, seed)
    r = information_bound(season)
    return bound_row(season, seed, "information", r.bound, r.status, r.seconds, lp=r.lp)


QUALITY_KNOWN = InformationOptions(quality="realised")
"""The information bound with the season's qualities revealed from the start (relaxation 1),
nothing else: it bounds the mean return of any policy that knows them (``cpsat_quality_known``,
which learns each on arrival). It is at most ``quality="arrival"`` on the mean (averaging its
solutions over the qualities gives one of the arrival LP, which holds seats in expectation over
quality too), so it is the tighter of the two for such policies: on tuning seeds
100000-100002 of ``default``, 92.49, 70.65, 101.88 against 97.40, 79.54, 97.76."""


def quality_known_row(scenario: Any, seed: int) -> dict[str, Any]:
    """The ``quality_known`` bound of the season ``seed`` draws, as a row (``return`` = bound)."""
    season = season_for(scenario, seed)
    r = information_bound(season, QUALITY_KNOWN)
    return bound_row(season, seed, "quality_known", r.bound, r.status, r.seconds, lp=r.lp)
