"""Exported seasons replayed by the independent validator, clean and deliberately corrupted.

Every heuristic plays whole seasons in the environment; ``envs.export`` writes
each realised season as a snapshot plus ``schedule.csv`` and ``offers.csv``, and
``scheduler.validator.check_schedule`` must find no hard violation. Then one
real exported season is broken one rule at a time and the validator must name
the right kind.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import gymnasium as gym
import pandas as pd
import pytest
import yaml

import envs
from envs.export import export_season
from policies import make_policy
from policies.rollout import run_episode
from scheduler.validator import Violation, check_schedule

HEURISTICS = ("random", "fifo", "urgency", "greedy")
SEEDS = (0, 1, 2)
CORRUPT_SEED = 1
"""A tiny greedy season with screens, onsite loops and offers (checked in ``season``)."""
PACIFIC = ZoneInfo("America/Los_Angeles")


def play(scenario: str, policy: str, seed: int, out: Path) -> Path:
    """Play one whole season and export it to ``out``."""
    env = gym.make(envs.ENV_ID, scenario=scenario)
    run_episode(env, make_policy(policy, seed=seed), seed)
    return export_season(env.unwrapped, out)


def table(where: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(where / f"{name}.csv", dtype=str, keep_default_na=False)


def save(frame: pd.DataFrame, where: Path, name: str) -> None:
    frame.to_csv(where / f"{name}.csv", index=False)


def check(where: Path) -> list[Violation]:
    return check_schedule(where, where / "schedule.csv", where / "offers.csv")


def of_kind(violations: list[Violation], kind: str) -> list[Violation]:
    return [v for v in violations if v.kind == kind]


# Clean seasons -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("policy", HEURISTICS)
def test_heuristic_tiny_season_replays_without_violations(
    policy: str, seed: int, tmp_path: Path
) -> None:
    where = play("tiny", policy, seed, tmp_path / "season")
    for name in ("schedule", "offers", "candidates", "postings", "interviewers", "busy"):
        assert (where / f"{name}.csv").is_file()
    assert check(where) == []
    schedule = table(where, "schedule")
    assert set(schedule["stage"]) <= {"screen", "loop"}
    if policy != "random":
        assert (schedule["stage"] == "screen").any()


def test_greedy_tiny_seasons_have_loops_and_offers(tmp_path: Path) -> None:
    loops = offers = 0
    for seed in SEEDS:
        where = play("tiny", "greedy", seed, tmp_path / f"seed{seed}")
        loops += int((table(where, "schedule")["stage"] == "loop").sum())
        offers += len(table(where, "offers"))
    assert loops >= 1
    assert offers >= 1


def test_greedy_default_season_replays_without_violations(tmp_path: Path) -> None:
    where = play("default", "greedy", 0, tmp_path / "season")
    assert check(where) == []
    assert len(table(where, "schedule")) > 0


# Corrupted seasons ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean tiny greedy season (read-only; tests corrupt a copy)."""
    where = play("tiny", "greedy", CORRUPT_SEED, tmp_path_factory.mktemp("replay") / "season")
    schedule = table(where, "schedule")
    assert check(where) == []
    assert (schedule["stage"] == "screen").any()
    assert ((schedule["stage"] == "loop") & (schedule["office"] != "virtual")).any()
    assert len(table(where, "offers")) > 0
    return where


@pytest.fixture
def copy(season: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(season, tmp_path / "season"))


def _areas(row: pd.Series, *columns: str) -> set[str]:
    return {item for c in columns for item in str(row[c]).split(";") if item}


def _candidate_hours(where: Path) -> tuple[int, int]:
    data = yaml.safe_load((where / "scenario.yaml").read_text())
    interview = data["scenario"]["interview"]
    return interview["candidate_local_start_hour"], interview["candidate_local_end_hour"]


def test_double_booked_interviewer_is_caught(copy: Path) -> None:
    schedule = table(copy, "schedule")
    candidates = table(copy, "candidates").set_index("candidate_id", drop=False)
    interviewers = table(copy, "interviewers").set_index("interviewer_id", drop=False)
    busy = table(copy, "busy")
    first_hour, last_hour = _candidate_hours(copy)
    screen = schedule[schedule["stage"] == "screen"].iloc[0]
    who = screen["interviewer_ids"]
    start, end = (
        dt.datetime.fromisoformat(screen["start"]),
        dt.datetime.fromisoformat(screen["end"]),
    )

    def fits(cand: pd.Series) -> bool:
        """Form in, a shared area, local hours, normal length, free at that time."""
        cid = cand["candidate_id"]
        if cid == screen["candidate_id"] or not cand["form_completed_date"]:
            return False
        if dt.date.fromisoformat(cand["form_completed_date"]) > start.astimezone(PACIFIC).date():
            return False
        if not _areas(cand, "primary_area", "secondary_area") & _areas(
            interviewers.loc[who], "areas"
        ):
            return False
        if cand["accommodation"]:
            return False
        tz = ZoneInfo(cand["timezone"])
        ls, le = start.astimezone(tz), end.astimezone(tz)
        if (
            ls.date() != le.date()
            or ls.hour < first_hour
            or le.hour * 60 + le.minute > 60 * last_hour
        ):
            return False
        taken = pd.concat(
            [
                schedule.loc[schedule["candidate_id"] == cid, ["start", "end"]],
                busy.loc[busy["person_id"] == cid, ["start", "end"]],
            ]
        )
        return not any(
            dt.datetime.fromisoformat(s) < end and start < dt.datetime.fromisoformat(e)
            for s, e in zip(taken["start"], taken["end"], strict=True)
        )

    other = next(c for _, c in candidates.iterrows() if fits(c))
    extra = screen.copy()
    extra["interview_id"] = "IVX00001"
    extra["candidate_id"] = other["candidate_id"]
    save(pd.concat([schedule, extra.to_frame().T], ignore_index=True), copy, "schedule")

    found = check(copy)
    double = of_kind(found, "interviewer_double_booked")
    assert [v.ids for v in double] == [(who, screen["interview_id"], "IVX00001")]
    # the extra screen may also exceed the interviewer's caps, but breaks nothing else
    assert {v.kind for v in found} <= {"interviewer_double_booked", "daily_cap", "weekly_cap"}


def test_offer_in_the_first_week_of_a_posting_is_caught(copy: Path) -> None:
    offers = table(copy, "offers")
    postings = table(copy, "postings").set_index("posting_id")
    offer = offers.iloc[0]
    opened = dt.date.fromisoformat(postings.loc[offer["posting_id"], "open_date"])
    offers.loc[0, "offer_date"] = (opened + dt.timedelta(days=3)).isoformat()
    save(offers, copy, "offers")

    found = of_kind(check(copy), "posting_open_period")
    assert [v.ids for v in found] == [(offer["candidate_id"], offer["posting_id"])]


def test_start_window_shorter_than_twelve_weeks_is_caught(copy: Path) -> None:
    offer = table(copy, "offers").iloc[0]
    candidates = table(copy, "candidates")
    start = dt.date.fromisoformat(offer["start_date"])
    mask = candidates["candidate_id"] == offer["candidate_id"]
    assert mask.sum() == 1
    candidates.loc[mask, "available_until"] = (start + dt.timedelta(days=60)).isoformat()
    save(candidates, copy, "candidates")

    found = check(copy)
    assert {v.kind for v in found} == {"start_window"}
    assert [v.ids for v in found] == [(offer["candidate_id"], offer["posting_id"])]


def test_unqualified_screener_is_caught(copy: Path) -> None:
    schedule = table(copy, "schedule")
    candidates = table(copy, "candidates").set_index("candidate_id", drop=False)
    interviewers = table(copy, "interviewers")
    swap = None
    for i, row in schedule[schedule["stage"] == "screen"].iterrows():
        wanted = _areas(candidates.loc[row["candidate_id"]], "primary_area", "secondary_area")
        strangers = [
            who["interviewer_id"]
            for _, who in interviewers.iterrows()
            if not _areas(who, "areas") & wanted
        ]
        if strangers:
            swap = i, strangers[0]
            break
    assert swap is not None, "every interviewer shares an area with every screened candidate"
    i, stranger = swap
    schedule.loc[i, "interviewer_ids"] = stranger
    save(schedule, copy, "schedule")

    found = of_kind(check(copy), "unqualified")
    assert (schedule.loc[i, "interview_id"], stranger) in {v.ids for v in found}


def test_screen_without_extended_time_is_caught(copy: Path) -> None:
    schedule = table(copy, "schedule")
    candidates = table(copy, "candidates")
    screens = schedule[schedule["stage"] == "screen"]
    plain = set(candidates.loc[candidates["accommodation"] == "", "candidate_id"])
    screen = screens[screens["candidate_id"].isin(plain)].iloc[0]
    candidates.loc[candidates["candidate_id"] == screen["candidate_id"], "accommodation"] = (
        "extended_time"
    )
    save(candidates, copy, "candidates")

    found = of_kind(check(copy), "accommodation")
    assert (screen["interview_id"],) in {v.ids for v in found}
    assert "extended_time" in next(v.detail for v in found if v.ids == (screen["interview_id"],))


def test_onsite_loop_of_a_virtual_only_candidate_is_caught(copy: Path) -> None:
    schedule = table(copy, "schedule")
    candidates = table(copy, "candidates")
    onsite = schedule[(schedule["stage"] == "loop") & (schedule["office"] != "virtual")]
    loop = onsite.iloc[0]
    mask = candidates["candidate_id"] == loop["candidate_id"]
    candidates.loc[mask, "accommodation"] = "virtual_only"
    save(candidates, copy, "candidates")

    found = check(copy)
    assert (loop["interview_id"],) in {v.ids for v in of_kind(found, "accommodation")}
    assert {v.kind for v in found} == {"accommodation"}
