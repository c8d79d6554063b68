"""The observation and the action mask, written into the state's buffers by feature name.

``fill_row`` writes the slot features that change only when a candidate enters
the window or a day starts; ``compute_mask`` refreshes the mask and the
booking-dependent slot features of slots whose candidate, stage, calendar or
offers changed; ``observe`` writes the season features and returns a copy.
Layout and names: ``envs.layout``.
"""

from __future__ import annotations

import math

import numpy as np

from envs import feasibility as fz
from envs.layout import END_DAY, GLOBAL_FEATURES, N_OFFER_OPTIONS, F, G, Stage, Verb
from envs.state import SeasonState

NEW, SCREENED, LOOPED = int(Stage.NEW), int(Stage.SCREENED), int(Stage.LOOPED)


def fill_row(s: SeasonState, k: int) -> None:
    """Slot ``k``'s features that do not depend on the calendar or offers."""
    c = s.window[k]
    row = s.slot_rows[k]
    s.slot_memo[k] = None
    row[:] = 0.0
    if c < 0:
        s.mask2d[k] = 0
        return
    cfg = s.config
    stage = s.stage[c]
    since_contact = s.day - s.last_contact[c]
    since_form = s.day - int(s.form_day[c])
    cand = s.candidates[c]
    primary = s.c_areas[c][0]
    primary_open = sum(s.p_remaining[p] for p in s.area_postings[primary])
    row[F.present] = 1.0
    row[F.stage_new] = stage == NEW
    row[F.stage_screened] = stage == SCREENED
    row[F.stage_looped] = stage == LOOPED
    row[F.quality_mean] = s.post_mean[c]
    row[F.quality_sd] = 1.0 / math.sqrt(s.post_prec[c])
    row[F.days_since_contact] = since_contact / 10.0
    row[F.days_since_form] = since_form / 30.0
    row[F.patience_risk] = since_contact / cfg.patience_mean_days
    row[F.deadline_risk] = since_form / cfg.deadline_mean_days
    row[F.accommodation] = bool(cand.accommodation)
    row[F.publications] = cand.publications / 5.0
    row[F.rebook] = s.rebook[c]
    row[F.primary_area_open] = min(primary_open, 10) / 10.0
    row[F.area_pipeline] = min(s.area_pipeline[primary] / max(1, primary_open), 20.0) / 5.0
    np.clip(row, -10.0, 10.0, out=row)


def compute_mask(s: SeasonState) -> None:
    """Refresh the mask rows (and their observation columns) of slots that may have changed."""
    s.mask[END_DAY] = 1
    stamp_cal, stamp_offer = s.calendar_version, s.offer_version
    memo, mask2d, rows = s.slot_memo, s.mask2d, s.slot_rows
    for k, c in enumerate(s.window):
        if c < 0:
            if memo[k] is not None:
                memo[k] = None
                mask2d[k] = 0
            continue
        stage = s.stage[c]
        seen = memo[k]
        if seen is not None and seen == (c, stage, stamp_cal, stamp_offer):
            continue
        screen = fz.screen_search(s, c) if stage == NEW else None
        loop = fz.loop_search(s, c) if stage == SCREENED else None
        options = fz.offer_options(s, c) if stage == LOOPED else []
        n_options = len(options)
        row = mask2d[k]
        row[:] = 0
        row[Verb.SCREEN] = screen is not None
        row[Verb.LOOP] = loop is not None
        row[Verb.REJECT] = 1
        row[Verb.OFFER_0 : Verb.OFFER_0 + n_options] = 1
        features = rows[k]
        features[F.can_screen] = screen is not None
        features[F.can_loop] = loop is not None
        features[F.offer_options] = n_options / N_OFFER_OPTIONS
        features[F.can_offer] = n_options > 0
        hireable, open_seats = fz.seats_for(s, c)
        features[F.hireable] = hireable
        features[F.areas_open] = min(open_seats, 10) / 10.0
        booked_day = screen[0] if screen else loop[1][0] if loop else s.day
        features[F.booking_wait] = (booked_day - s.day) / s.config.horizon_days
        features[F.offer_accept] = (
            fz.acceptance_probability(s, c, options[0][0], s.day) if options else 0.0
        )
        memo[k] = (c, stage, stamp_cal, stamp_offer)


def observe(s: SeasonState, max_actions_per_day: int) -> np.ndarray:
    """The observation of the state as it stands (the mask refreshed first)."""
    if not s.done:
        compute_mask(s)
    g = s.obs
    headcount = max(1, s.total_headcount)
    g[G.day] = s.day / s.n_days
    g[G.days_left] = (s.n_days - s.day) / s.n_days
    g[G.headcount_left] = sum(s.p_remaining) / headcount
    g[G.offers_out] = s.n_offers_out / headcount
    g[G.hires] = s.n_hires / headcount
    g[G.queue] = min(len(s.ready), 200) / 50.0
    g[G.active] = min(s.n_active, 1000) / 200.0
    g[G.actions_today] = s.actions_today / max_actions_per_day
    g[G.onboarding_left] = sum(s.window_left) / s.total_window_capacity
    g[G.postings_offerable] = s.n_offerable / max(1, len(s.postings))
    g[G.season_size] = math.log1p(len(s.candidates)) / 10.0
    g[G.drop_off] = s.n_withdrawn / max(1, s.n_completed)
    g[G.pending_screens] = s.pending_count[0] / headcount
    g[G.pending_loops] = s.pending_count[1] / headcount
    g[G.pending_screen_quality] = s.pending_quality[0] / headcount
    g[G.pending_loop_quality] = s.pending_quality[1] / headcount
    np.clip(g[:GLOBAL_FEATURES], -10.0, 10.0, out=g[:GLOBAL_FEATURES])
    return g.copy()
