"""Offer rules of the validator, and its ``Violation``.

An offer needs an earlier held loop of the posting's team, a complete form,
the posting's open period behind it, the posting's area among the candidate's,
and a start window of the office that the twelve weeks fit; accepted offers
keep each posting's headcount, each window's onboarding capacity and one
accept per candidate. Shares no code with the environment or the solvers.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from scheduler.validator_io import OfferRec, SnapshotRec

MIN_OPEN_DAYS = 7
INTERNSHIP_DAYS = 12 * 7


@dataclass(frozen=True)
class Violation:
    """One broken hard rule: its kind, the ids involved and a one-line explanation."""

    kind: str
    ids: tuple[str, ...]
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``{"kind", "ids", "detail"}``."""
        return {"kind": self.kind, "ids": list(self.ids), "detail": self.detail}

    def __str__(self) -> str:
        return f"{self.kind} {','.join(self.ids)}: {self.detail}"


def few(ids: list[str], limit: int = 6) -> str:
    """The first ``limit`` ids, then how many more."""
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def offer_violations(
    snap: SnapshotRec, offers: list[OfferRec], held_loops: dict[str, list[tuple[dt.date, str]]]
) -> list[Violation]:
    """Offers: after a held loop, to a posting of the loop's team, in the candidate's
    areas, past the open period, in a start window they fit; headcount and
    onboarding capacity hold for accepted offers."""
    rules = snap.rules
    out: list[Violation] = []

    def add(kind: str, ids: tuple[str, ...], detail: str) -> None:
        out.append(Violation(kind, ids, detail))

    windows = snap.windows or {}
    accepted_by_posting: dict[str, list[str]] = defaultdict(list)
    accepted_by_window: dict[tuple[str, dt.date], list[str]] = defaultdict(list)
    accepted_by_candidate: dict[str, list[str]] = defaultdict(list)
    for offer in offers:
        cid, pid = offer.candidate_id, offer.posting_id
        ids = (cid, pid)
        cand, posting = snap.candidates.get(cid), snap.postings.get(pid)
        if cand is None:
            add("unknown_id", ids, f"offers.csv row {offer.row}: unknown candidate")
        if posting is None:
            add("unknown_id", ids, f"offers.csv row {offer.row}: unknown posting")
        loop_teams = {team for day, team in held_loops.get(cid, []) if day < offer.offer_date}
        if not loop_teams:
            add("stage_order", ids, f"offer on {offer.offer_date} without an earlier held loop")
        elif posting is not None and posting.team not in loop_teams:
            add(
                "offer_team",
                ids,
                f"posting of team {posting.team}, the candidate's loop was held by "
                f"{', '.join(sorted(t or '(no hiring manager)' for t in loop_teams))}",
            )
        if offer.accepted:
            accepted_by_candidate[cid].append(pid)
        if cand is not None:
            form = cand.form_completed_date
            if form is None or offer.offer_date < form:
                add(
                    "form_incomplete",
                    ids,
                    "offer to a candidate with an incomplete form"
                    if form is None
                    else f"offer on {offer.offer_date} before the form ({form})",
                )
        if posting is None:
            continue
        earliest = posting.open_date + dt.timedelta(days=MIN_OPEN_DAYS)
        if offer.offer_date < earliest:
            add(
                "posting_open_period",
                ids,
                f"offer on {offer.offer_date}, posting opened {posting.open_date}: "
                f"no offer before {earliest}",
            )
        if cand is not None and posting.area not in cand.areas:
            add(
                "area_mismatch",
                ids,
                f"posting area {posting.area} not in candidate areas {sorted(cand.areas)}",
            )
        start = offer.start_date
        window = (posting.office, start)
        if window not in windows:
            add("start_window", ids, f"{start} is not a start window of {posting.office}")
        lead = offer.offer_date + dt.timedelta(days=rules.onboarding_lead_days)
        if start < lead:
            add(
                "start_window",
                ids,
                f"start {start} is less than {rules.onboarding_lead_days} days after the "
                f"offer ({offer.offer_date})",
            )
        if cand is not None and (
            start < cand.available_from
            or start + dt.timedelta(days=INTERNSHIP_DAYS) > cand.available_until
        ):
            add(
                "start_window",
                ids,
                f"12 weeks from {start} do not fit availability {cand.available_from}.."
                f"{cand.available_until}",
            )
        if offer.accepted:
            accepted_by_posting[pid].append(cid)
            accepted_by_window[window].append(cid)
    for pid, cids in accepted_by_posting.items():
        headcount = snap.postings[pid].headcount
        if len(cids) > headcount:
            add(
                "headcount",
                (pid,),
                f"{len(cids)} accepted offers, headcount {headcount}: {few(cids)}",
            )
    for (office, start), cids in accepted_by_window.items():
        capacity = windows.get((office, start))
        if capacity is not None and len(cids) > capacity:
            add(
                "onboarding_capacity",
                (office, start.isoformat()),
                f"{len(cids)} accepted offers start {start} in {office}, capacity {capacity}",
            )
    for cid, pids in accepted_by_candidate.items():
        if len(pids) > 1:
            add("multiple_accepts", (cid,), f"accepted {len(pids)} offers: {few(pids)}")
    return out
