"""The observation and the action mask, written into the state's buffers by feature name.

``fill_row`` writes the slot features that change only when a candidate enters
the window or a day starts; ``compute_mask`` refreshes the mask and the
booking-dependent slot features of slots whose inputs changed; ``observe``
writes the season features and returns a copy. Layout and names: ``envs.layout``.

This runs on every step, so features are gathered in Python lists and written
with one slice assignment per block, clipped in Python, and indexed by the
module-level ints below (an ``IntEnum`` member costs an attribute lookup and a
conversion per use).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from envs import feasibility as fz
from envs.layout import (
    END_DAY,
    GLOBAL_FEATURE_NAMES,
    GLOBAL_FEATURES,
    N_OFFER_OPTIONS,
    SLOT_FEATURES,
    F,
    Stage,
)
from envs.state import SeasonState

NEW, SCREENED, LOOPED = int(Stage.NEW), int(Stage.SCREENED), int(Stage.LOOPED)
LOW, HIGH = -10.0, 10.0
"""The observation's bounds."""

# slot features written by ``fill_row``
PRESENT, STAGE_NEW = int(F.present), int(F.stage_new)
STAGE_SCREENED, STAGE_LOOPED = int(F.stage_screened), int(F.stage_looped)
QUALITY_MEAN, QUALITY_SD = int(F.quality_mean), int(F.quality_sd)
DAYS_SINCE_CONTACT, DAYS_SINCE_FORM = int(F.days_since_contact), int(F.days_since_form)
PATIENCE_RISK, DEADLINE_RISK = int(F.patience_risk), int(F.deadline_risk)
ACCOMMODATION, PUBLICATIONS, REBOOK = int(F.accommodation), int(F.publications), int(F.rebook)
PRIMARY_AREA_OPEN, AREA_PIPELINE = int(F.primary_area_open), int(F.area_pipeline)

# slot features written by ``compute_mask``, as runs of adjacent columns
BOOKABLE = slice(int(F.can_screen), int(F.can_offer) + 1)
SEATS = slice(int(F.hireable), int(F.areas_open) + 1)
WAIT_AND_ACCEPT = slice(int(F.booking_wait), int(F.offer_accept) + 1)
assert [F(k).name for k in range(BOOKABLE.start, BOOKABLE.stop)] == [
    "can_screen", "can_loop", "offer_options", "can_offer"]  # fmt: skip
assert [F(k).name for k in range(SEATS.start, SEATS.stop)] == ["hireable", "areas_open"]
assert [F(k).name for k in range(WAIT_AND_ACCEPT.start, WAIT_AND_ACCEPT.stop)] == [
    "booking_wait", "offer_accept"]  # fmt: skip
assert GLOBAL_FEATURE_NAMES == (
    "day", "days_left", "headcount_left", "offers_out", "hires", "queue", "active",
    "actions_today", "onboarding_left", "postings_offerable", "season_size", "drop_off",
    "pending_screens", "pending_loops", "pending_screen_quality", "pending_loop_quality",
), "observe() writes the season features in this order"  # fmt: skip


def clipped(values: list[float]) -> list[float]:
    """``values`` within the observation's bounds (NaN stays NaN, as with ``np.clip``).

    Usually nothing is out of bounds, which ``min`` and ``max`` tell at C speed (a
    NaN either is skipped by both or, first in the list, sends us to the full pass).
    """
    if min(values) >= LOW and max(values) <= HIGH:
        return values
    return [v if LOW <= v <= HIGH else HIGH if v > HIGH else LOW if v < LOW else v
            for v in values]  # fmt: skip


def fill_row(s: SeasonState, k: int) -> None:
    """Slot ``k``'s features that do not depend on the calendar or offers."""
    c = s.window[k]
    s.slot_memo[k] = None
    if c < 0:
        s.slot_rows[k] = 0.0
        s.mask2d[k] = 0
        return
    cfg = s.config
    stage = s.stage[c]
    since_contact = s.day - s.last_contact[c]
    since_form = s.day - s.form_days[c]
    cand = s.candidates[c]
    primary = s.c_primary[c]
    p_remaining = s.p_remaining
    primary_open = sum([p_remaining[p] for p in s.area_postings[primary]])
    row = [0.0] * SLOT_FEATURES
    row[PRESENT] = 1.0
    row[STAGE_NEW] = stage == NEW
    row[STAGE_SCREENED] = stage == SCREENED
    row[STAGE_LOOPED] = stage == LOOPED
    row[QUALITY_MEAN] = s.post_mean[c]
    row[QUALITY_SD] = 1.0 / math.sqrt(s.post_prec[c])
    row[DAYS_SINCE_CONTACT] = since_contact / 10.0
    row[DAYS_SINCE_FORM] = since_form / 30.0
    row[PATIENCE_RISK] = since_contact / cfg.patience_mean_days
    row[DEADLINE_RISK] = since_form / cfg.deadline_mean_days
    row[ACCOMMODATION] = bool(cand.accommodation)
    row[PUBLICATIONS] = cand.publications / 5.0
    row[REBOOK] = s.rebook[c]
    row[PRIMARY_AREA_OPEN] = min(primary_open, 10) / 10.0
    row[AREA_PIPELINE] = min(s.area_pipeline[primary] / max(1, primary_open), 20.0) / 5.0
    s.slot_rows[k] = clipped(row)


class SlotMemo(NamedTuple):
    """What a slot's mask row and booking features were last written from."""

    candidate: int
    stage: int
    epoch: int
    offers: int
    """``offer_version``."""
    posting: int
    """Target posting of a loop (-1 for the other stages)."""
    loop_calendar: int
    """``loop_calendar`` of that posting."""
    found: Any
    """What ``booking_search`` found."""
    releases: int
    """``Calendar.releases``."""


def loop_calendar(s: SeasonState, posting: int) -> int:
    """A number that moves whenever the calendar a loop for ``posting`` reads moves (its
    team's and its office's rooms). Versions only grow, so their sum stands still
    exactly when each of them does."""
    if posting < 0:
        return 0
    return s.team_version[s.p_team[posting]] + s.room_version[s.p_office[posting]]


def booking_search(s: SeasonState, c: int, stage: int) -> Any:
    """The booking the candidate's next interview would get (None: none bookable or due)."""
    if stage == NEW:
        return fz.screen_search(s, c)
    if stage == SCREENED:
        return fz.loop_search(s, c)
    return None


def booking_stands(s: SeasonState, c: int, seen: SlotMemo) -> bool:
    """Whether ``booking_search`` would still find ``seen.found`` today, known without
    searching (the day and the offers are the same; the calendar moved).

    A screen: while nothing was cancelled, bookings only take slots and caps, so a
    screen still free is still the earliest and "none" stays none (as in
    ``fz.screen_search``). A loop: its team's and rooms' calendars did not move.
    An offer reads no calendar.
    """
    if seen.stage == NEW:
        if seen.releases != s.calendar.releases:
            return False
        found = seen.found
        if found is None:
            return True
        length = s.config.interview.screen_length(s.candidates[c].accommodation)
        return s.calendar.screen_still_free(found, length)
    if seen.stage == SCREENED:
        return seen.loop_calendar == loop_calendar(s, seen.posting)
    return True


def compute_mask(s: SeasonState) -> None:
    """Refresh the mask rows (and their observation columns) of slots whose inputs changed.

    A slot is rewritten when its candidate or stage, the day or the offers
    changed, or when the calendar moved and its booking search now finds
    another booking (``booking_stands`` tells most of the time without
    searching). The searches and rules are cached on the same versions, so a
    skipped slot would have been written with the same values. While no
    version moved (``mask_versions``), only new candidates need looking at.
    """
    s.mask[END_DAY] = 1
    epoch, offers = s.epoch, s.offer_version
    versions = (epoch, offers, s.calendar_version)
    calendar_moved = versions[2] != s.mask_versions[2]
    unchanged = versions == s.mask_versions
    s.mask_versions = versions
    memo, mask2d, rows, stage_of = s.slot_memo, s.mask2d, s.slot_rows, s.stage
    for k, c in enumerate(s.window):
        seen = memo[k]
        if c < 0:
            if seen is not None:
                memo[k] = None
                mask2d[k] = 0
            continue
        stage = stage_of[c]
        if (
            seen is not None
            and seen.candidate == c
            and seen.stage == stage
            and (unchanged or (seen.epoch == epoch and seen.offers == offers))
        ):
            if not calendar_moved or booking_stands(s, c, seen):
                continue
            posting = seen.posting
        else:
            seen = None
            posting = fz.target_posting(s, c) if stage == SCREENED else -1
        found = booking_search(s, c, stage)
        if seen is None or found != seen.found:
            write_slot(s, k, c, stage, found, rows, mask2d)
        memo[k] = SlotMemo(c, stage, epoch, offers, posting, loop_calendar(s, posting), found,
                           s.calendar.releases)  # fmt: skip


def write_slot(
    s: SeasonState, k: int, c: int, stage: int, found: Any, rows: np.ndarray, mask2d: np.ndarray
) -> None:
    """Slot ``k``'s mask row and its booking-dependent features (``found``: its
    ``booking_search``)."""
    screen = found if stage == NEW else None
    loop = found if stage == SCREENED else None
    options = fz.offer_options(s, c) if stage == LOOPED else []
    n_options = len(options)
    mask2d[k] = (screen is not None, loop is not None, 1,
                 n_options > 0, n_options > 1, n_options > 2, n_options > 3)  # fmt: skip
    features = rows[k]
    features[BOOKABLE] = (screen is not None, loop is not None, n_options / N_OFFER_OPTIONS,
                          n_options > 0)  # fmt: skip
    hireable, open_seats = fz.seats_for(s, c)
    features[SEATS] = (hireable, min(open_seats, 10) / 10.0)
    booked_day = screen[0] if screen else loop[1][0] if loop else s.day
    features[WAIT_AND_ACCEPT] = (
        (booked_day - s.day) / s.config.horizon_days,
        fz.acceptance_probability(s, c, options[0][0], s.day) if options else 0.0,
    )


def observe(s: SeasonState, max_actions_per_day: int) -> np.ndarray:
    """The observation of the state as it stands (the mask refreshed first)."""
    if not s.done:
        compute_mask(s)
    headcount = max(1, s.total_headcount)
    s.obs[:GLOBAL_FEATURES] = clipped([
        s.day / s.n_days,  # day
        (s.n_days - s.day) / s.n_days,  # days_left
        sum(s.p_remaining) / headcount,  # headcount_left
        s.n_offers_out / headcount,  # offers_out
        s.n_hires / headcount,  # hires
        min(len(s.ready), 200) / 50.0,  # queue
        min(s.n_active, 1000) / 200.0,  # active
        s.actions_today / max_actions_per_day,  # actions_today
        sum(s.window_left) / s.total_window_capacity,  # onboarding_left
        s.n_offerable / max(1, len(s.postings)),  # postings_offerable
        math.log1p(len(s.candidates)) / 10.0,  # season_size
        s.n_withdrawn / max(1, s.n_completed),  # drop_off
        s.pending_count[0] / headcount,  # pending_screens
        s.pending_count[1] / headcount,  # pending_loops
        s.pending_quality[0] / headcount,  # pending_screen_quality
        s.pending_quality[1] / headcount,  # pending_loop_quality
    ])  # fmt: skip
    return s.obs.copy()
