"""The season model, the solver and the validator tell one story.

A coordinator's own tables carry no ``scenario.yaml``: the validator then reads
the same documented defaults the solver plans with. Weekly caps count ISO weeks
whatever weekday a season starts on. An offer goes only to a posting of the
team that ran the candidate's loop, after a held screen and loop; no-shows are
exported as such. Each rule is checked on real exported seasons, and a broken
copy of one is caught.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import gymnasium as gym
import pandas as pd
import pytest
import yaml

import envs
from envs.export import export_season
from policies import make_policy
from policies.rollout import run_episode
from scheduler.rules import iso_week, week_of_day
from scheduler.validator import Violation, check_schedule
from tests.cli_runner import isched

ROOT = Path(__file__).resolve().parents[1]

POLICIES = ("random", "fifo", "urgency", "greedy", "greedy_fit", "cpsat")
"""The heuristics and the planner."""
OFFER_POLICIES = (*POLICIES, "cpsat_rolling", f"rl:{ROOT / 'models' / 'default'}")
"""Every policy whose offers are checked: the heuristics, both planners, the shipped model."""


def play(scenario: str | Path, policy: str, seed: int, out: Path) -> Path:
    env = gym.make(envs.ENV_ID, scenario=str(scenario))
    run_episode(env, make_policy(policy, seed=seed), seed)
    return export_season(env, out)


def table(where: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(where / f"{name}.csv", dtype=str, keep_default_na=False)


def check(where: Path) -> list[Violation]:
    return check_schedule(where, where / "schedule.csv", where / "offers.csv")


def loop_teams(where: Path) -> dict[str, set[str]]:
    """Per candidate, the teams of the postings of their held loops."""
    schedule = table(where, "schedule")
    teams = table(where, "postings").set_index("posting_id")["team"]
    held = schedule[(schedule["stage"] == "loop") & (schedule["status"] != "no_show")]
    out: dict[str, set[str]] = {}
    for cid, pid in zip(held["candidate_id"], held["posting_id"], strict=True):
        out.setdefault(cid, set()).add(teams[pid])
    return out


@pytest.mark.parametrize("scenario", ["tiny", "default"])
def test_a_snapshot_without_scenario_yaml_solves_and_checks(scenario: str, tmp_path: Path):
    snap, plan = tmp_path / "snap", tmp_path / "plan"
    made = isched("generate", "--scenario", scenario, "--seed", "1", "--day", "8", "--out", snap)
    assert made.returncode == 0, made.stderr
    (snap / "scenario.yaml").unlink()
    solved = isched("solve", snap, "--out", plan, "--time-limit", "5", "--workers", "1")
    assert solved.returncode == 0, solved.stderr
    assert (table(plan, "schedule")["stage"] == "loop").any()
    checked = isched("check", snap, plan / "schedule.csv")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_iso_weeks_start_on_monday() -> None:
    import datetime as dt

    wednesday = dt.date(2027, 2, 3)
    days = [wednesday + dt.timedelta(days=k) for k in (0, 1, 2, 5, 6, 7, 12)]
    assert week_of_day(days) == [0, 0, 0, 1, 1, 1, 2]
    assert iso_week(dt.date(2027, 2, 7)) != iso_week(dt.date(2027, 2, 8))  # Sunday, Monday


@pytest.fixture(scope="module")
def wednesday_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenarios") / "wednesday.yaml"
    path.write_text(yaml.safe_dump({"base": "tiny", "season_start": "2027-02-03"}))
    return path


@pytest.mark.parametrize("policy", POLICIES[:-1])
def test_a_season_starting_on_a_wednesday_replays_clean(
    policy: str, wednesday_scenario: Path, tmp_path: Path
) -> None:
    for seed in (0, 1):
        where = play(wednesday_scenario, policy, seed, tmp_path / f"s{seed}")
        assert check(where) == []


@pytest.mark.parametrize("policy", OFFER_POLICIES)
def test_every_offer_goes_to_the_team_that_ran_the_loop(policy: str, tmp_path: Path) -> None:
    offers = 0
    for seed in (0, 1, 2):
        where = play("tiny", policy, seed, tmp_path / f"s{seed}")
        teams = loop_teams(where)
        posting_team = table(where, "postings").set_index("posting_id")["team"]
        offers_made = table(where, "offers")
        for cid, pid in zip(offers_made["candidate_id"], offers_made["posting_id"], strict=True):
            assert posting_team[pid] in teams[cid]
            offers += 1
        assert check(where) == []
    if policy != "random":
        assert offers > 0


def test_default_offers_go_to_the_loop_team(tmp_path: Path) -> None:
    where = play("default", "greedy_fit", 0, tmp_path / "season")
    teams = loop_teams(where)
    posting_team = table(where, "postings").set_index("posting_id")["team"]
    offers = table(where, "offers")
    assert len(offers) > 20
    assert all(
        posting_team[pid] in teams[cid]
        for cid, pid in zip(offers["candidate_id"], offers["posting_id"], strict=True)
    )
    assert check(where) == []


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean default greedy_fit season with no-shows and offers (tests corrupt a copy)."""
    where = play("default", "greedy_fit", 1, tmp_path_factory.mktemp("house") / "season")
    assert (table(where, "schedule")["status"] == "no_show").any()
    assert check(where) == []
    return where


@pytest.fixture
def copy(season: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(season, tmp_path / "season"))


def test_an_offer_to_another_team_is_caught(copy: Path) -> None:
    offers, postings = table(copy, "offers"), table(copy, "postings")
    teams = loop_teams(copy)
    for k, (cid, pid) in enumerate(zip(offers["candidate_id"], offers["posting_id"], strict=True)):
        area = postings.set_index("posting_id").loc[pid, "area"]
        others = postings[(postings["area"] == area) & ~postings["team"].isin(teams[cid])]
        if len(others):
            offers.loc[k, "posting_id"] = others["posting_id"].iloc[0]
            break
    else:
        pytest.fail("no area with postings of two teams")
    offers.to_csv(copy / "offers.csv", index=False)
    found = [v for v in check(copy) if v.kind == "offer_team"]
    assert [v.ids for v in found] == [(cid, offers.loc[k, "posting_id"])]


def test_an_offer_after_a_no_show_loop_is_caught(copy: Path) -> None:
    schedule, offers = table(copy, "schedule"), table(copy, "offers")
    cid = offers["candidate_id"].iloc[0]
    loops = (schedule["candidate_id"] == cid) & (schedule["stage"] == "loop")
    schedule.loc[loops, "status"] = "no_show"
    schedule.to_csv(copy / "schedule.csv", index=False)
    found = [v for v in check(copy) if v.kind == "stage_order"]
    assert (cid, offers["posting_id"].iloc[0]) in {v.ids for v in found}
    assert all("held loop" in v.detail for v in found)


def test_a_loop_after_a_no_show_screen_only_is_caught(copy: Path) -> None:
    schedule = table(copy, "schedule")
    loop = schedule[schedule["stage"] == "loop"].iloc[0]
    screens = (schedule["candidate_id"] == loop["candidate_id"]) & (schedule["stage"] == "screen")
    schedule.loc[screens, "status"] = "no_show"
    schedule.to_csv(copy / "schedule.csv", index=False)
    found = [v for v in check(copy) if v.kind == "stage_order"]
    assert (loop["interview_id"], loop["candidate_id"]) in {v.ids for v in found}
