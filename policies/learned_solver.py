"""``isched solve --solver rl:MODEL_DIR``: a learned policy decides, the booking rule places.

The policy sees the snapshot's requests as the season env shows candidates:
a window of ``WINDOW`` slots with the env's per-slot features (stage, quality
estimate from publications, days waiting, accommodation, what is bookable now)
and the env's action mask. It picks a request to book (``screen`` / ``loop``),
one to leave for later (``reject``: the request stays unscheduled), or stops
(``end the day``: the rest stays unscheduled). A chosen request goes to its
earliest feasible placement (the greedy solver's rule), so every schedule is
hard-feasible; the learned part is which requests get the scarce interviewer
hours, and in what order. In a re-plan (``--previous``) every request whose
previous placement still fits keeps it, as with the greedy solver, before the
policy decides on the others.
"""

from __future__ import annotations

import math

import numpy as np

from envs.layout import (
    END_DAY,
    N_ACTIONS,
    OBS_SIZE,
    SLOT_FEATURES,
    WINDOW,
    F,
    G,
    Verb,
    action_of,
    decode_action,
    slot_rows,
)
from policies import make_policy
from scheduler.rules import quality_prior
from scheduler.solver.engine import Job, Outcome, schedule_score, with_lp_bound
from scheduler.solver.greedy import earliest_placement, keep_previous, request_order
from scheduler.solver.problem import Problem, Request
from scheduler.solver.registry import register_solver
from scheduler.solver.state import Placement, State


def _place(problem: Problem, state: State, req: Request) -> Placement | None:
    days = range(len(problem.horizon.days))
    return earliest_placement(problem, state, req, days)


def _slot_row(problem: Problem, req: Request, placement: Placement | None) -> np.ndarray:
    """The env's per-slot features of one request, from what the snapshot knows."""
    cfg = problem.config
    cand = req.candidate
    waited = 0.0
    if problem.horizon.days and cand.form_completed_date is not None:
        waited = (problem.horizon.days[0] - cand.form_completed_date).days * 5 / 7
    can_book = placement is not None
    row = np.zeros(SLOT_FEATURES, dtype=np.float32)
    row[F.present] = 1.0
    row[F.stage_new] = req.stage == "screen"
    row[F.stage_screened] = req.stage == "loop"
    precision = 1.0 + (1.0 / cfg.screen_noise_sd**2 if req.stage == "loop" else 0.0)
    row[F.quality_mean] = quality_prior(cand.publications, cfg.publications_mean)
    row[F.quality_sd] = 1.0 / math.sqrt(precision)
    row[F.days_since_contact] = min(waited, 30.0) / 10.0
    row[F.days_since_form] = min(waited, 300.0) / 30.0
    row[F.patience_risk] = min(waited, 30.0) / cfg.patience_mean_days
    row[F.deadline_risk] = min(waited, 300.0) / cfg.deadline_mean_days
    row[F.can_screen] = req.stage == "screen" and can_book
    row[F.can_loop] = req.stage == "loop" and can_book
    row[F.accommodation] = bool(cand.accommodation)
    row[F.publications] = cand.publications / 5.0
    row[F.primary_area_open] = 1.0
    row[F.hireable] = 1.0  # the snapshot asks for this interview: a seat is assumed
    row[F.areas_open] = 1.0
    if placement is not None:
        row[F.booking_wait] = min(placement.day + 1, cfg.horizon_days) / cfg.horizon_days
    return row


@register_solver("rl")
def solve_learned(job: Job) -> Outcome:
    """Book the requests the learned policy picks, in the order it picks them."""
    if not job.arg:
        raise ValueError("solver rl needs a model directory: --solver rl:MODEL_DIR")
    policy = make_policy(f"rl:{job.arg}", seed=job.options.seed)
    problem, state = job.problem, job.state.copy()
    days = range(len(problem.horizon.days))
    placed = keep_previous(problem, state, request_order(problem, job.todo), days, job.previous)
    kept = {p.request for p in placed}
    pending = request_order(problem, [r for r in job.todo if r not in kept])
    window: list[int | None] = [None] * WINDOW
    n_active = len(pending)
    for _ in range(len(pending) * 2 + WINDOW):
        for k in range(WINDOW):
            if window[k] is None and pending:
                window[k] = pending.pop(0)
        if all(r is None for r in window):
            break
        obs = np.zeros(OBS_SIZE, dtype=np.float32)
        mask = np.zeros(N_ACTIONS, dtype=np.int8)
        mask[END_DAY] = 1
        rows = slot_rows(obs)
        found: dict[int, Placement | None] = {}
        for k, r in enumerate(window):
            if r is None:
                continue
            req = problem.requests[r]
            found[k] = _place(problem, state, req)
            verb = Verb.SCREEN if req.stage == "screen" else Verb.LOOP
            mask[action_of(k, verb)] = found[k] is not None
            mask[action_of(k, Verb.REJECT)] = 1
            rows[k] = _slot_row(problem, req, found[k])
        obs[G.days_left] = 1.0  # a whole horizon ahead
        obs[G.queue] = min(len(pending), 200) / 50.0
        obs[G.active] = min(n_active, 1000) / 200.0
        action = policy.act(obs, {"action_mask": mask})
        if action == END_DAY or not mask[action]:
            break
        k, chosen = decode_action(action)
        r = window[k]
        window[k] = None
        n_active -= 1
        placement = found.get(k)
        if chosen in (Verb.SCREEN, Verb.LOOP) and placement is not None and r is not None:
            state.book(problem.requests[r], placement)
            placed.append(placement)
    return with_lp_bound(job, Outcome(placed, "FEASIBLE", schedule_score(job, placed), source="rl"))
