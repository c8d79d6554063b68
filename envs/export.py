"""Export a realised season: the snapshot tables plus ``schedule.csv`` and ``offers.csv``.

The export is what ``isched check`` replays: every interview that took place
(held or a candidate no-show: the interviewers' time was spent) and every offer
with its answer. Cancelled interviews (interviewer out sick, candidate
withdrew) are left out, as they never happened.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd

from envs.feasibility import target_posting
from envs.layout import STAGE_NAMES, Stage
from envs.season_env import season_state
from scheduler.domain import Snapshot
from scheduler.generator import busy_blocks_from_masks
from scheduler.tables import write_snapshot

SCHEDULE_COLUMNS = (
    "interview_id", "candidate_id", "posting_id", "stage", "interviewer_ids", "start", "end",
    "office", "room_id", "status", "session_starts",
)  # fmt: skip
OFFER_COLUMNS = ("candidate_id", "posting_id", "offer_date", "start_date", "accepted", "window_id")


def schedule_frame(env: gym.Env) -> pd.DataFrame:
    """One row per interview that took place, in the CLI.md ``schedule.csv`` columns.

    ``status`` is ``confirmed`` for a held interview and ``no_show`` for one the
    candidate missed (it took the interviewers' time but did not happen).
    """
    s = season_state(env)
    hours = s.config.hours
    rows = []
    for b, booking in enumerate(s.bookings):
        if booking.status not in ("held", "no_show"):
            continue
        day = s.days[booking.day]
        rows.append(
            {
                "interview_id": f"IV{b:06d}",
                "candidate_id": s.candidates[booking.candidate].candidate_id,
                "posting_id": s.postings[booking.posting].posting_id
                if booking.posting >= 0
                else "",
                "stage": booking.stage,
                "interviewer_ids": ";".join(
                    s.interviewers[i].interviewer_id for i in booking.interviewers
                ),
                "start": hours.slot_start(day, booking.start).isoformat(),
                "end": hours.slot_start(day, booking.end).isoformat(),
                "office": booking.office,
                "room_id": s.season.snapshot.rooms[booking.room].room_id
                if booking.room >= 0
                else "",
                "status": "no_show" if booking.status == "no_show" else "confirmed",
                "session_starts": ";".join(
                    hours.slot_start(day, s).isoformat() for s in booking.session_starts
                )
                if booking.stage == "loop"
                else "",
            }
        )
    return pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))


def offers_frame(env: gym.Env) -> pd.DataFrame:
    """One row per offer made, with its start window and answer."""
    s = season_state(env)
    rows = [
        {
            "candidate_id": s.candidates[c].candidate_id,
            "posting_id": s.postings[p].posting_id,
            "offer_date": s.days[day].isoformat(),
            "start_date": s.windows[w].start_date.isoformat(),
            "accepted": "true" if accepted else "false",
            "window_id": s.windows[w].window_id,
        }
        for c, p, w, day, accepted in s.offers
    ]
    return pd.DataFrame(rows, columns=list(OFFER_COLUMNS))


def export_season(env: gym.Env, out_dir: Path | str) -> Path:
    """Write the realised season of ``env`` (after or during an episode) to ``out_dir``."""
    s = season_state(env)
    season = s.season
    snapshot = season.snapshot
    final = [
        dataclasses.replace(c, stage=STAGE_NAMES[s.stage[k]])
        for k, c in enumerate(snapshot.candidates)
    ]
    realised = Snapshot(
        postings=snapshot.postings,
        candidates=final,
        interviewers=snapshot.interviewers,
        rooms=snapshot.rooms,
        start_windows=snapshot.start_windows,
        busy=season.busy_blocks(),
    )
    out = Path(out_dir)
    write_snapshot(
        realised,
        s.config,
        out,
        seed=season.seed,
        snapshot_date=season.days[0],
        extra_csv={"schedule": schedule_frame(env), "offers": offers_frame(env)},
    )
    return out


def coordinator_snapshot(env: gym.Env, seed: int, out_dir: Path | str, fmt: str = "csv") -> Path:
    """Write what a coordinator holds on the env's current day as snapshot tables.

    Candidates who applied so far and are still to be scheduled (``applied``:
    form missing, so its date is blank; ``new``: needs a screen; ``screened``:
    needs a loop, with its target posting and screen date); interviewer calendars
    over the next ``horizon_days`` working days, with the interviews already
    booked shown as busy blocks. Candidates with an interview already booked are
    left out.
    """
    s = season_state(env)
    season = s.season
    day = min(s.day, s.n_days - 1)
    keep = []
    targets: dict[str, str] = {}
    last: dict[str, Any] = {}
    for c, cand in enumerate(s.candidates):
        stage = s.stage[c]
        if season.applied_day[c] > day or s.pending[c] >= 0:
            continue
        if stage not in (Stage.APPLIED, Stage.NEW, Stage.SCREENED):
            continue
        form = cand.form_completed_date
        if form is not None and form > s.days[day]:
            form = None  # completed later in the season: not known on this day
        keep.append(dataclasses.replace(cand, stage=STAGE_NAMES[stage], form_completed_date=form))
        if stage == Stage.SCREENED:
            p = target_posting(s, c)
            if p >= 0:
                targets[cand.candidate_id] = s.postings[p].posting_id
            last[cand.candidate_id] = s.days[s.screen_day[c]]
    horizon = range(day + 1, min(day + 1 + s.config.horizon_days, s.n_days))
    occupied = np.array([[row[d] for d in horizon] for row in s.calendar.occupied], dtype=np.int64)
    busy = busy_blocks_from_masks(s.interviewers, [s.days[d] for d in horizon], occupied, s.config)
    snapshot = Snapshot(
        postings=s.postings,
        candidates=keep,
        interviewers=s.interviewers,
        rooms=season.snapshot.rooms,
        start_windows=season.snapshot.start_windows,
        busy=busy,
    )
    out = Path(out_dir)
    write_snapshot(
        snapshot,
        s.config,
        out,
        seed=seed,
        snapshot_date=s.days[day],
        fmt=fmt,
        targets=targets,
        last_interview=last,
    )
    return out
