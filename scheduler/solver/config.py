"""Settings of a solve: objective weights (``SolveWeights``) and run options (``SolveOptions``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SolveWeights:
    """Integer weights of the objective, which is maximised.

    Each placed request earns its value minus its penalties; the values dwarf
    every penalty (the largest sum of penalties a request can carry stays below
    ``screen``), so scheduling one more request always beats any nicer timing.
    """

    screen: int = 1000
    """Value of placing a screen."""
    loop: int = 3000
    """Value of placing a loop: three interviewers' time, one step from an offer."""
    day_cost: int = 10
    """Per working day after the first day of the horizon: earlier is better."""
    secondary_only: int = 20
    """A screener qualified only in the candidate's secondary area."""
    office_match: int = 50
    """Bonus for an onsite loop in the office the candidate prefers (when rooms are short,
    they go to the candidates who want that office; they also accept offers more often)."""
    balance: int = 30
    """Per session an interviewer carries above the fair share (demand / interviewers)."""
    keep_start: int = 200
    """Re-plan: the same day and start as in the previous plan."""
    keep_interviewer: int = 40
    """Re-plan: per session run by the same interviewer as in the previous plan."""
    keep_confirmed_start: int = 900
    """Re-plan: the same day and start as a confirmed row that cannot stay as it was (say,
    an interviewer fell ill): the candidate was told that time, so another panel then beats
    moving it and moves a proposed interview first; below ``screen``, so placing one more
    request still wins."""


@dataclass(frozen=True)
class SolveOptions:
    """How to solve; ``isched solve`` sets solver, time_limit, workers and seed."""

    solver: str = "cpsat"
    """``cpsat`` or ``greedy`` (the registry in ``scheduler.solver.registry`` holds more)."""
    time_limit: float = 30.0
    """Seconds for the whole solve (LP bound and CP-SAT search share it)."""
    workers: int = 2
    """CP-SAT search workers; with 1 worker a solve is reproducible."""
    seed: int = 0
    weights: SolveWeights = field(default_factory=SolveWeights)
    screeners_per_screen: int = 6
    """Trim: interviewers kept per screen request (see ``scheduler.solver.options``)."""
    max_variables: int = 250_000
    """Above this many model variables the solve is decomposed by week, then by office."""
    lp_bound: bool = True
    """Compute the LP relaxation bound with HiGHS."""
    lp_time_share: float = 0.25
    """Share of the time limit the LP relaxation may take at most."""
    full_lp_max_variables: int = 50_000
    """Up to this size the bound is the LP relaxation of the model itself (the MIP twin's);
    above, the LP of its day-level relaxation (``scheduler.solver.relaxation``), which
    solves ten times faster and was measured within 0.02% of it."""
    tuned: bool = True
    """CP-SAT parameters of SOLVER-NOTES (max_lp subsolver, no probing, one presolve pass)."""
