"""What a policy may know: a typed, read-only view of the season in play.

Planners read the season through ``KnownState(env)``, never the env's state
or the season's hidden draws (true quality, signal noise, acceptance draws,
patience, deadlines, no-shows, future arrivals and sick days). The view
holds:

- **time**: ``day``, ``n_days``, ``days`` (dates), ``config`` (the scenario: its
  distributions are public, its draws are not);
- **queue**: ``window`` (candidate per slot, -1 empty), ``ready`` (the queue
  behind it), ``stage``, ``pending`` (a booked interview not yet held), the
  candidates who arrived (``arrived``, ``form_day``), ``last_contact``;
- **posteriors**: ``post_mean`` and ``post_prec`` of each candidate's quality
  (Gaussian: prior from publications, updated by held screens and loops);
- **people and calendars**: ``candidates`` (their tables: areas,
  availability, time zone, accommodation, office preference), ``interviewers``,
  ``calendar`` (free slots and caps left), ``team_index``, ``team_members``,
  ``team_managers``, ``area_screeners``, ``i_team``, ``c_areas``;
- **seats and windows**: ``postings``, ``p_remaining``, ``p_first_offer``,
  ``p_open``, ``p_team``, ``area_postings``, ``windows``, ``window_left``,
  ``office_windows``, ``office_index``, ``loop_posting``;
- **booking searches and rules**: ``screen_search``, ``loop_search``,
  ``target_posting``, ``offer_options``, ``window_fits``, ``seats_for``,
  ``acceptance_probability`` (the public acceptance model, not the draw).

The lists are the env's own (no copies, so a view is free to make and stays
current); treat them as read-only.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Sequence

import gymnasium as gym

from envs import feasibility as fz
from envs.calendar import Calendar
from envs.season_env import season_state
from envs.state import SeasonState
from scheduler.domain import Candidate, Interviewer, Posting, StartWindow
from scheduler.scenario import ScenarioConfig


class KnownState:
    """The known state of the season in ``env`` (after ``reset``); see the module doc."""

    def __init__(self, env: gym.Env) -> None:
        self._s: SeasonState = season_state(env)

    # time
    @property
    def day(self) -> int:
        return self._s.day

    @property
    def n_days(self) -> int:
        return self._s.n_days

    @property
    def days(self) -> Sequence[dt.date]:
        return self._s.days

    @property
    def config(self) -> ScenarioConfig:
        return self._s.config

    @property
    def done(self) -> bool:
        return self._s.done

    # queue
    @property
    def window(self) -> Sequence[int]:
        return self._s.window

    @property
    def ready(self) -> deque[int]:
        return self._s.ready

    @property
    def stage(self) -> Sequence[int]:
        return self._s.stage

    @property
    def pending(self) -> Sequence[int]:
        return self._s.pending

    @property
    def last_contact(self) -> Sequence[int]:
        return self._s.last_contact

    def form_day(self, c: int) -> int:
        """The day candidate ``c``'s form arrived (-1 if it has not arrived by today)."""
        d = int(self._s.form_day[c])
        return d if 0 <= d <= self._s.day else -1

    def arrived(self) -> list[int]:
        """Candidates whose form has arrived by today."""
        day, form = self._s.day, self._s.form_day
        return [c for c in range(len(form)) if 0 <= form[c] <= day]

    # posteriors
    @property
    def post_mean(self) -> Sequence[float]:
        return self._s.post_mean

    @property
    def post_prec(self) -> Sequence[float]:
        return self._s.post_prec

    # people and calendars
    @property
    def candidates(self) -> Sequence[Candidate]:
        return self._s.candidates

    @property
    def interviewers(self) -> Sequence[Interviewer]:
        return self._s.interviewers

    @property
    def calendar(self) -> Calendar:
        return self._s.calendar

    @property
    def team_index(self) -> dict[str, int]:
        return self._s.team_index

    @property
    def team_members(self) -> Sequence[Sequence[int]]:
        return self._s.team_members

    @property
    def team_managers(self) -> Sequence[Sequence[int]]:
        return self._s.team_managers

    @property
    def area_screeners(self) -> Sequence[Sequence[int]]:
        return self._s.area_screeners

    @property
    def i_team(self) -> Sequence[int]:
        return self._s.i_team

    @property
    def c_areas(self) -> Sequence[tuple[int, ...]]:
        return self._s.c_areas

    # seats and windows
    @property
    def postings(self) -> Sequence[Posting]:
        return self._s.postings

    @property
    def p_remaining(self) -> Sequence[int]:
        return self._s.p_remaining

    @property
    def p_first_offer(self) -> Sequence[int]:
        return self._s.p_first_offer

    @property
    def p_open(self) -> Sequence[int]:
        return self._s.p_open

    @property
    def p_team(self) -> Sequence[int]:
        return self._s.p_team

    @property
    def area_postings(self) -> Sequence[Sequence[int]]:
        return self._s.area_postings

    @property
    def windows(self) -> Sequence[StartWindow]:
        return self._s.windows

    @property
    def window_left(self) -> Sequence[int]:
        return self._s.window_left

    @property
    def office_windows(self) -> Sequence[Sequence[int]]:
        return self._s.office_windows

    @property
    def office_index(self) -> dict[str, int]:
        return self._s.office_index

    @property
    def loop_posting(self) -> Sequence[int]:
        return self._s.loop_posting

    # booking searches and rules
    def screen_search(self, c: int) -> fz.ScreenSlot | None:
        return fz.screen_search(self._s, c)

    def loop_search(self, c: int) -> tuple[int, fz.LoopSlot] | None:
        return fz.loop_search(self._s, c)

    def target_posting(self, c: int) -> int:
        return fz.target_posting(self._s, c)

    def offer_options(self, c: int) -> list[tuple[int, int]]:
        return fz.offer_options(self._s, c)

    def window_fits(self, c: int, w: int, earliest: int) -> bool:
        return fz.window_fits(self._s, c, w, earliest)

    def seats_for(self, c: int) -> tuple[bool, int]:
        return fz.seats_for(self._s, c)

    def acceptance_probability(self, c: int, p: int, offer_day: int) -> float:
        return fz.acceptance_probability(self._s, c, p, offer_day)
