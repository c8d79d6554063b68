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

GLOBAL_FEATURE_NAMES = (
    "day", "days_left", "headcount_left", "offers_out", "hires", "queue", "active",
    "actions_today", "onboarding_left", "postings_offerable", "season_size", "drop_off",
    "pending_screens", "pending_loops", "pending_screen_quality", "pending_loop_quality",
)  # fmt: skip
"""Season features, in order (``obs[G.name]``); counts are per seat of headcount."""
SLOT_FEATURE_NAMES = (
    "present", "stage_new", "stage_screened", "stage_looped", "quality_mean", "quality_sd",
    "days_since_contact", "days_since_form", "patience_risk", "deadline_risk", "can_screen",
    "can_loop", "offer_options", "can_offer", "accommodation", "publications", "rebook",
    "primary_area_open", "hireable", "areas_open", "area_pipeline", "booking_wait",
    "offer_accept",
)  # fmt: skip
"""Per-slot features, in order (``slot_rows(obs)[k, F.name]``)."""

G = IntEnum("G", [(name, j) for j, name in enumerate(GLOBAL_FEATURE_NAMES)])  # type: ignore[misc]
"""Index of each season feature by name: ``obs[G.days_left]``."""
F = IntEnum("F", [(name, j) for j, name in enumerate(SLOT_FEATURE_NAMES)])  # type: ignore[misc]
"""Index of each per-slot feature by name: ``row[F.hireable]``."""

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
