"""The named layout of the env's actions and observation: one home for every index.

Actions: ``Discrete(N_ACTIONS)``; action ``slot * N_VERBS + verb`` applies a
``Verb`` to the candidate in window slot ``slot``; the last action ``END_DAY``
ends the day. Observation: ``GLOBAL_FEATURES`` season features (index ``G``)
followed by ``WINDOW`` rows of ``SLOT_FEATURES`` per-slot features (index
``F``). Code reads ``row[F.hireable]`` or ``obs[G.day]``, never a number::

    slots = slot_rows(obs)            # (WINDOW, SLOT_FEATURES) view
    slots[:, F.quality_mean]
    action_of(3, Verb.LOOP)
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

WINDOW = 16
"""Candidate slots visible at once; the same for every scenario."""
N_OFFER_OPTIONS = 4
"""Offer options per candidate: (posting, start window) pairs, best first."""


class Verb(IntEnum):
    """What an action does to the candidate in its window slot."""

    SCREEN = 0
    LOOP = 1
    REJECT = 2
    OFFER_0 = 3
    OFFER_1 = 4
    OFFER_2 = 5
    OFFER_3 = 6

    @property
    def offer_option(self) -> int:
        """The offer option index of an ``OFFER_*`` verb (-1 for the others)."""
        return int(self) - Verb.OFFER_0 if self >= Verb.OFFER_0 else -1


OFFER_VERBS = tuple(v for v in Verb if v >= Verb.OFFER_0)
VERBS = tuple(v.name.lower() for v in Verb)
"""Verb names in action order: ``screen``, ``loop``, ``reject``, ``offer_0`` .. ``offer_3``."""
N_VERBS = len(Verb)
N_ACTIONS = WINDOW * N_VERBS + 1
END_DAY = N_ACTIONS - 1


class Stage(IntEnum):
    """A candidate's stage in the env."""

    APPLIED = 0
    NEW = 1
    SCREENED = 2
    LOOPED = 3
    OFFERED = 4
    HIRED = 5
    DECLINED = 6
    REJECTED = 7
    WITHDRAWN = 8


STAGE_NAMES = tuple(s.name.lower() for s in Stage)
ACTIVE = (Stage.NEW, Stage.SCREENED, Stage.LOOPED)
"""Stages in which a candidate waits for a decision."""


class G(IntEnum):
    """Index of each season feature by name: ``obs[G.days_left]``; counts are per seat."""

    day = 0
    days_left = 1
    headcount_left = 2
    offers_out = 3
    hires = 4
    queue = 5
    active = 6
    actions_today = 7
    onboarding_left = 8
    postings_offerable = 9
    season_size = 10
    drop_off = 11
    pending_screens = 12
    pending_loops = 13
    pending_screen_quality = 14
    pending_loop_quality = 15


class F(IntEnum):
    """Index of each per-slot feature by name: ``slot_rows(obs)[k, F.hireable]``."""

    present = 0
    stage_new = 1
    stage_screened = 2
    stage_looped = 3
    quality_mean = 4
    quality_sd = 5
    days_since_contact = 6
    days_since_form = 7
    patience_risk = 8
    deadline_risk = 9
    can_screen = 10
    can_loop = 11
    offer_options = 12
    can_offer = 13
    accommodation = 14
    publications = 15
    rebook = 16
    primary_area_open = 17
    hireable = 18
    areas_open = 19
    area_pipeline = 20
    booking_wait = 21
    offer_accept = 22


GLOBAL_FEATURE_NAMES = tuple(g.name for g in G)
"""Season features, in order."""
SLOT_FEATURE_NAMES = tuple(f.name for f in F)
"""Per-slot features, in order."""
GLOBAL_FEATURES = len(GLOBAL_FEATURE_NAMES)
SLOT_FEATURES = len(SLOT_FEATURE_NAMES)
OBS_SIZE = GLOBAL_FEATURES + WINDOW * SLOT_FEATURES
LAYOUT_VERSION = f"v1:{GLOBAL_FEATURES}+{WINDOW}x{SLOT_FEATURES}:{N_ACTIONS}"
"""Identifies this layout; a trained model records it and refuses another."""


def action_of(slot: int, verb: Verb | int) -> int:
    """The action applying ``verb`` to window slot ``slot``."""
    return slot * N_VERBS + int(verb)


def decode_action(action: int) -> tuple[int, Verb | None]:
    """(window slot, verb) of an action; ``(-1, None)`` for ``END_DAY``."""
    if action == END_DAY:
        return -1, None
    return action // N_VERBS, Verb(action % N_VERBS)


def slot_rows(obs: np.ndarray) -> np.ndarray:
    """The per-slot block of an observation (or a batch) as ``(..., WINDOW, SLOT_FEATURES)``."""
    obs = np.asarray(obs)
    return obs[..., GLOBAL_FEATURES:].reshape(*obs.shape[:-1], WINDOW, SLOT_FEATURES)


def verb_mask(mask: np.ndarray) -> np.ndarray:
    """The action mask without ``END_DAY`` as ``(WINDOW, N_VERBS)``."""
    return np.asarray(mask)[: WINDOW * N_VERBS].reshape(WINDOW, N_VERBS)
