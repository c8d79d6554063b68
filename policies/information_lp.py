"""The binned LP of the information bound, solved by HiGHS (``policies.information_bound``).

Columns per candidate type: held screens per arrival bin, held loops per
(screen bin, team), offers per (loop bin, posting), and, where an offer has
more than one start window, expected hires per window. Rows: the flow down the
tree, seats and start windows on expected accepted hires, and the aggregate
interviewer capacity. Its dual prices are what the bound certifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import highspy
import numpy as np
from scipy.sparse import csc_matrix

from envs.state import SeasonState
from policies.gaussian_bounds import equiprobable_bins
from scheduler.solver.mip import _new_highs

if TYPE_CHECKING:
    from policies.information_bound import CandidateType, InformationOptions


@dataclass
class Prices:
    """Dual prices (>= 0) of the shared resources."""

    seat: np.ndarray
    """Per posting: an expected accepted hire."""
    window: np.ndarray
    """Per start window: an expected accepted hire."""
    member: np.ndarray
    """Per team: a loop session of its members."""
    manager: np.ndarray
    """Per team: a session of its hiring managers."""
    total: float
    """A session of anyone (screens and loops)."""

    def dual_value(self, state: SeasonState, capacity: np.ndarray, use_capacity: bool) -> float:
        """Prices times capacities: the constant part of the Lagrangian."""
        value = float(self.seat @ [p.headcount for p in state.postings])
        value += float(self.window @ [w.capacity for w in state.windows])
        if use_capacity:
            value += float(self.member @ team_capacity(state, capacity, state.team_members))
            value += float(self.manager @ team_capacity(state, capacity, state.team_managers))
            value += self.total * float(capacity.sum())
        return value


@dataclass
class LpResult:
    status: str
    objective: float
    """LP optimum before the constant ``-unfilled_penalty * headcount``."""
    prices: Prices
    n_columns: int
    n_rows: int
    funnel: dict[str, float] = field(default_factory=dict)
    """What the LP's solution does (``funnel``): expected screens, loops, offers and
    accepted hires, their posterior means and the objective's parts."""


SCREEN, LOOP, OFFER = 1, 2, 3
"""Kinds of columns, for the funnel (0: any other)."""


def funnel(b: Builder, x: np.ndarray) -> dict[str, float]:
    """Expected held screens, loops, offers and accepted hires of the LP solution ``x``,
    each with its mean posterior (screens: at arrival, loops: after the screen, offers and
    hires: after the loop) and each kind's share of the objective (``value_*``)."""
    kind, mean = np.asarray(b.kind), np.asarray(b.mean)
    acc, cost = np.asarray(b.weight), np.asarray(b.cost)
    out: dict[str, float] = {}
    for name, k in (("screens", SCREEN), ("loops", LOOP), ("offers", OFFER)):
        mass = x[kind == k]
        out[name] = float(mass.sum())
        out[f"mean_{name}"] = float(mass @ mean[kind == k] / mass.sum()) if mass.sum() else 0.0
        out[f"value_{name}"] = float(mass @ cost[kind == k])
    hired = x * acc * (kind == OFFER)
    out["hires"] = float(hired.sum())
    out["mean_hires"] = float(hired @ mean / hired.sum()) if hired.sum() else 0.0
    return out


def team_capacity(state: SeasonState, capacity: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Season sessions per team of the interviewers in ``groups[team]``."""
    return np.array([capacity[g].sum() if g else 0.0 for g in groups])


def _bins(k: int, sd: float) -> np.ndarray:
    return equiprobable_bins(k) if sd > 0 else np.zeros(1)


class Builder:
    """Columns and rows in COO form, after ``n_fixed_rows`` shared rows."""

    def __init__(self, n_fixed_rows: int) -> None:
        self.cost: list[float] = []
        self.upper: list[float] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.n_rows = n_fixed_rows
        self.row_upper: list[float] = []
        self.row_lower: list[float] = []
        self.kind: list[int] = []
        self.mean: list[float] = []
        self.weight: list[float] = []

    def column(
        self,
        cost: float,
        upper: float = highspy.kHighsInf,
        kind: int = 0,
        mean: float = 0.0,
        weight: float = 0.0,
    ) -> int:
        """A new column; ``kind``, ``mean`` (posterior) and ``weight`` (acceptance) only
        describe it for the funnel."""
        self.cost.append(cost)
        self.upper.append(upper)
        self.kind.append(kind)
        self.mean.append(mean)
        self.weight.append(weight)
        return len(self.cost) - 1

    def entry(self, row: int, col: int, val: float) -> None:
        self.rows.append(row)
        self.cols.append(col)
        self.vals.append(val)

    def row(self, lower: float, upper: float) -> int:
        self.row_lower.append(lower)
        self.row_upper.append(upper)
        self.n_rows += 1
        return self.n_rows - 1


def solve_lp(
    state: SeasonState,
    types: list[CandidateType],
    capacity: np.ndarray,
    opts: InformationOptions,
) -> LpResult:
    """Build and solve the LP; prices are the duals of the shared rows."""
    n_p, n_w, n_t = len(state.postings), len(state.windows), len(state.team_members)
    seat_row, window_row = 0, n_p
    member_row, manager_row, total_row = n_p + n_w, n_p + n_w + n_t, n_p + n_w + 2 * n_t
    n_fixed = total_row + 1
    b = Builder(n_fixed)
    for t in types:
        z0 = _bins(opts.arrival_bins, t.sds[0])
        z1 = _bins(opts.screen_bins, t.sds[1])
        z2 = _bins(opts.loop_bins, t.sds[2])
        multi = {
            o.posting: [b.column(0.0) for _ in o.windows] for o in t.offers if len(o.windows) > 1
        }
        accepted: dict[int, list[tuple[int, float]]] = {p: [] for p in multi}
        for m0 in t.mean + t.sds[0] * z0:
            s = b.column(-t.screen_cost, t.prob / len(z0), SCREEN, m0)
            b.entry(total_row, s, t.screen_sessions)
            for m1 in m0 + t.sds[1] * z1:
                flow1 = b.row(-highspy.kHighsInf, 0.0)
                b.entry(flow1, s, -1.0 / len(z1))
                for team in t.teams:
                    offers = t.team_offers(team, opts.loop_team_rule)
                    if not offers:
                        continue
                    loop = b.column(-t.loop_cost, kind=LOOP, mean=m1)
                    b.entry(flow1, loop, 1.0)
                    b.entry(member_row + team, loop, t.loop_sessions)
                    b.entry(manager_row + team, loop, t.manager_sessions)
                    b.entry(total_row, loop, t.loop_sessions)
                    for m2 in m1 + t.sds[2] * z2:
                        flow2 = b.row(-highspy.kHighsInf, 0.0)
                        b.entry(flow2, loop, -1.0 / len(z2))
                        for o in offers:
                            x = b.column(o.alpha + o.beta * m2, kind=OFFER, mean=m2,
                                         weight=o.acc)  # fmt: skip
                            b.entry(flow2, x, 1.0)
                            b.entry(seat_row + o.posting, x, o.acc)
                            if o.posting in multi:
                                accepted[o.posting].append((x, o.acc))
                            else:
                                b.entry(window_row + o.windows[0], x, o.acc)
        for o in t.offers:
            if o.posting not in multi:
                continue
            link = b.row(0.0, 0.0)
            for col, w in zip(multi[o.posting], o.windows, strict=True):
                b.entry(link, col, 1.0)
                b.entry(window_row + w, col, 1.0)
            for x, acc in accepted[o.posting]:
                b.entry(link, x, -acc)
    fixed_upper = shared_capacity(state, capacity, opts.interviewer_capacity)
    highs = to_highs(b, fixed_upper, opts.time_limit)
    highs.run()
    status = highs.modelStatusToString(highs.getModelStatus())
    objective = float(highs.getInfo().objective_function_value)
    solution = highs.getSolution()
    duals = np.asarray(solution.row_dual, float)
    if duals.size != b.n_rows:
        duals = np.zeros(b.n_rows)
    primal = np.asarray(solution.col_value, float)
    price = np.maximum(0.0, duals[:n_fixed])
    prices = Prices(
        seat=price[seat_row:window_row],
        window=price[window_row:member_row],
        member=price[member_row:manager_row],
        manager=price[manager_row:total_row],
        total=float(price[total_row]),
    )
    found = funnel(b, primal) if primal.size == len(b.cost) else {}
    return LpResult(status, objective, prices, len(b.cost), b.n_rows, found)


def shared_capacity(state: SeasonState, capacity: np.ndarray, interviewers: bool) -> list[float]:
    """Upper limits of the shared rows, in order: seats per posting, places per start
    window, sessions per team's members, per team's managers, and in all (``inf`` for the
    last three kinds where interviewer capacity is relaxed)."""
    upper = [float(p.headcount) for p in state.postings]
    upper += [float(w.capacity) for w in state.windows]
    if interviewers:
        upper += list(team_capacity(state, capacity, state.team_members))
        upper += list(team_capacity(state, capacity, state.team_managers))
        upper += [float(capacity.sum())]
    else:
        upper += [highspy.kHighsInf] * (2 * len(state.team_members) + 1)
    return upper


def to_highs(
    b: Builder, fixed_upper: list[float], time_limit: float, integral: bool = False
) -> highspy.Highs:
    """A quiet one-thread HiGHS instance holding ``max cost . x`` over ``b``'s columns,
    with the shared rows ``<= fixed_upper`` and ``b``'s own rows (a MIP if ``integral``)."""
    n_cols = len(b.cost)
    inf = highspy.kHighsInf
    matrix = csc_matrix((b.vals, (b.rows, b.cols)), shape=(b.n_rows, n_cols))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_cols, b.n_rows
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.asarray(b.cost, float)
    lp.col_lower_ = np.zeros(n_cols)
    lp.col_upper_ = np.asarray(b.upper, float)
    lp.row_lower_ = np.concatenate((np.full(len(fixed_upper), -inf), b.row_lower))
    lp.row_upper_ = np.concatenate((fixed_upper, b.row_upper))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    if integral:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_cols
    highs = _new_highs()  # quiet: no banner, no log
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.passModel(lp)
    return highs
