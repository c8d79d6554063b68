"""One day's CP-SAT model of the rolling-horizon planner (``policies.cpsat_policy``).

``DayModel`` holds the variables of every active candidate's decision tree and
of the reserve of forecast candidates, the resource terms they use (seats,
start windows, interviewer sessions per team and period) and the objective;
``solve`` adds the rows and runs CP-SAT. The formulation is described in
``policies.cpsat_policy``'s docstring.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from ortools.sat.python import cp_model

from envs.layout import Stage
from scheduler import interruptible
from scheduler.domain import AREAS
from scheduler.rules import delay_factor, expected_office_factor, mixed_area_factor

if TYPE_CHECKING:
    from policies.cpsat_policy import CpSatPolicy

NEW, SCREENED, LOOPED = int(Stage.NEW), int(Stage.SCREENED), int(Stage.LOOPED)
SCALE = 1000
"""Objective and resource coefficients are scaled to integers by this factor."""
NOW, LATER = 0, 1


class DayModel:
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

    def _stage_start(self, c: int, period: int, booked: int | None) -> tuple[int, float] | None:
        """Day of the next interview and P(``c`` is there for it): ``booked`` is the
        env's booking day for ``now`` (None: not bookable); ``later`` waits
        ``later_wait_days`` without contact."""
        pol = self.pol
        if period == NOW:
            if booked is None:
                return None
            return booked, pol._survival(c, booked) * pol._gap_survival(booked - self.day)
        wait = pol.cfg.later_wait_days
        day = self.day + wait + 1
        return day, pol._survival(c, day) * pol._patience_survival(c, wait)

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
            start = self._stage_start(c, period, found[0] if found else None)
            if start is None:
                continue
            d_s, surv0 = start
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
                cost += self.wc * wait
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
            start = self._stage_start(c, period, found[1][0] if found else None)
            if start is None:
                continue
            d_l, surv0 = start
            extra = self.wc * wait if period == LATER else 0.0
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
            params.random_seed = pol.seed % 2**31  # any season seed; CP-SAT takes an int32
            params.linearization_level = 2
            params.max_deterministic_time = limit
            params.max_time_in_seconds = limit * pol.cfg.wall_factor
            status = interruptible.solve(solver, model)
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
