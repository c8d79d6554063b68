"""``isched solve``: schedules that pass the independent validator, re-plans, bad input.

Snapshots come from ``isched generate`` (tiny and one default); every schedule
written here is checked by ``scheduler.validator.check_schedule``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import isched
from typer.testing import CliRunner

from isched.cli import app, generate
from scheduler.solver import SolveOptions, solve_snapshot
from scheduler.validator import check_schedule

REASONS = {
    "form_incomplete", "no_open_posting", "no_qualified_interviewer", "candidate_hours",
    "stage_gap", "no_room", "interviewer_calendars", "capacity_taken",
}  # fmt: skip
REPORT_KEYS = {
    "status", "objective", "bound", "bound_source", "gap", "solve_seconds", "scheduled",
    "unscheduled", "interviewer_load", "variables", "constraints", "workers", "seed",
    "time_limit", "moved_confirmed",
}  # fmt: skip
COLUMNS = [
    "interview_id", "candidate_id", "posting_id", "stage", "interviewer_ids", "start", "end",
    "office", "room_id", "status", "session_starts", "sequence", "calendar_status",
]  # fmt: skip


def snapshot(root: Path, scenario: str, seed: int, day: int | None = None) -> Path:
    out = root / f"{scenario}-{seed}-{day}"
    generate(out_dir=out, scenario=scenario, seed=seed, day=day, fmt="csv")
    return out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def solve(snap: Path, out: Path, previous: Path | None = None, **options: object) -> dict:
    """Solve in-process, write OUT, return the report."""
    result = solve_snapshot(snap, SolveOptions(**options), previous)  # type: ignore[arg-type]
    result.write(out)
    return result.report


def assert_valid(snap: Path, out: Path) -> None:
    found = check_schedule(snap, out / "schedule.csv")
    assert found == [], [str(v) for v in found]


@pytest.fixture(scope="module")
def snaps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("snapshots")
    return {
        "tiny-0": snapshot(root, "tiny", 0),
        "tiny-2-d8": snapshot(root, "tiny", 2, 8),
        "tiny-3-d8": snapshot(root, "tiny", 3, 8),
        "default-0": snapshot(root, "default", 0),
    }


def test_solve_help_names_the_options() -> None:
    result = CliRunner().invoke(app, ["solve", "--help"])
    assert result.exit_code == 0
    for option in ("--out", "--solver", "--time-limit", "--workers", "--seed", "--previous"):
        assert option in result.output


# Valid schedules -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny-0", "tiny-2-d8", "tiny-3-d8"])
def test_cli_schedule_passes_the_validator(snaps: dict[str, Path], name: str, tmp_path: Path):
    snap, out = snaps[name], tmp_path / "out"
    result = isched("solve", snap, "--out", out, "--time-limit", "10")
    assert result.returncode == 0, result.stderr
    assert "scheduled" in result.stdout and "gap" in result.stdout
    assert {p.name for p in out.iterdir()} == {"schedule.csv", "report.json", "schedule.ics"}
    assert_valid(snap, out)
    schedule = read(out / "schedule.csv")
    assert list(schedule.columns) == COLUMNS
    assert set(schedule["status"]) <= {"proposed"} and set(schedule["sequence"]) <= {"0"}
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= REPORT_KEYS
    assert report["status"] == "OPTIMAL" and report["gap"] == 0
    assert report["scheduled"] == len(schedule)
    assert {u["reason"] for u in report["unscheduled"]} <= REASONS
    candidates = read(snap / "candidates.csv")
    waiting = candidates[candidates["stage"].isin(["applied", "new", "screened"])]
    assert report["scheduled"] + len(report["unscheduled"]) == len(waiting)
    assert sum(report["interviewer_load"].values()) == sum(
        len(ids.split(";")) for ids in schedule["interviewer_ids"]
    )


def test_default_with_a_short_time_limit(snaps: dict[str, Path], tmp_path: Path) -> None:
    snap, out = snaps["default-0"], tmp_path / "out"
    result = isched("solve", snap, "--out", out, "--time-limit", "4", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert_valid(snap, out)
    report = json.loads((out / "report.json").read_text())
    assert report["status"] in ("OPTIMAL", "FEASIBLE")
    assert report["bound_source"] in ("cpsat", "lp") and report["gap"] <= 0.01
    assert report["bound"] >= report["objective"]
    assert report["solve_seconds"] < 10


def test_greedy_and_decomposed_solves_pass_the_validator(snaps: dict[str, Path], tmp_path: Path):
    snap = snaps["default-0"]
    greedy = solve(snap, tmp_path / "greedy", solver="greedy", time_limit=5)
    assert greedy["status"] == "FEASIBLE" and greedy["solution_source"] == "greedy"
    assert_valid(snap, tmp_path / "greedy")
    split = solve(snap, tmp_path / "split", time_limit=6, max_variables=1500)
    assert len(split["parts"]) >= 3  # week 1 by office, then week 2
    assert {p["office"] for p in split["parts"]} >= {"los_gatos", "los_angeles"}
    assert split["objective"] >= greedy["objective"]
    assert_valid(snap, tmp_path / "split")


def test_workers_1_is_reproducible(
    snaps: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker stops on deterministic time, before the wall clock (which holds the
    time limit), so the same snapshot and seed give the same schedule. A small share of
    deterministic time keeps the wall clock far off on a busy machine."""
    from scheduler.solver import cpsat

    monkeypatch.setattr(cpsat, "DETERMINISTIC_PER_SECOND", 0.1)
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        report = solve(snaps["default-0"], out, workers=1, seed=7, time_limit=20)
        assert not any(part["stopped_by_clock"] for part in report["parts"]), report["parts"]
    first, second = ((o / "schedule.csv").read_bytes() for o in outs)
    assert first == second


def test_one_worker_keeps_the_time_limit_on_the_wall_clock() -> None:
    """--time-limit is the whole solve's seconds with one worker too: CP-SAT's wall-clock
    limit is the job's time left, its deterministic limit a fraction of the limit."""
    from ortools.sat.python import cp_model

    from scheduler.solver import cpsat

    solver = cp_model.CpSolver()
    cpsat.parameters(solver, 60.0, 1, 0, True, wall_limit=57.5)
    assert solver.parameters.max_time_in_seconds == 57.5
    assert solver.parameters.max_deterministic_time == 60.0 * cpsat.DETERMINISTIC_PER_SECOND
    cpsat.parameters(solver, 60.0, 1, 0, True)
    assert solver.parameters.max_time_in_seconds == 60.0


def test_one_workers_wall_clock_is_what_is_left_after_the_models_conversion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Converting a ``large`` model to CP-SAT takes seconds; the wall-clock limit is the
    job's time left once that is done, so the job ends within --time-limit."""
    from scheduler.solver import cpsat
    from scheduler.solver.linear import LinearModel

    model = LinearModel()
    xs = [model.add_var(("x", k), obj=k + 1) for k in range(4)]
    model.add_row(xs, hi=2)
    converted_at: list[float] = []
    limits: list[float | None] = []
    convert, set_parameters = cpsat.to_cp_model, cpsat.parameters

    def slow_convert(m: LinearModel):  # type: ignore[no-untyped-def]
        out = convert(m)
        time.sleep(0.3)
        converted_at.append(time.perf_counter())
        return out

    def spy(solver, time_limit, workers, seed, tuned, wall_limit=None):  # type: ignore[no-untyped-def]
        limits.append(wall_limit)
        set_parameters(solver, time_limit, workers, seed, tuned, wall_limit)

    monkeypatch.setattr(cpsat, "to_cp_model", slow_convert)
    monkeypatch.setattr(cpsat, "parameters", spy)
    deadline = time.perf_counter() + 5.0
    result = cpsat.solve(model, time_limit=5.0, workers=1, seed=0, deadline=deadline)
    assert result.status == "OPTIMAL" and result.objective == 7
    assert limits[0] is not None and limits[0] <= deadline - converted_at[0] + 1e-6


# Re-plan ---------------------------------------------------------------------------------------


def test_replan_keeps_confirmed_and_moves_the_removed_interviewers_rows(
    snaps: dict[str, Path], tmp_path: Path
) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(snaps["default-0"], snap)
    solve(snap, tmp_path / "first", time_limit=3)
    before = read(tmp_path / "first" / "schedule.csv")
    before["status"] = "confirmed"
    previous = tmp_path / "previous.csv"
    before.to_csv(previous, index=False)
    people = before["interviewer_ids"].str.split(";").explode()
    victim = people.value_counts().index[0]
    for table, column in (("interviewers", "interviewer_id"), ("busy", "person_id")):
        frame = read(snap / f"{table}.csv")
        frame[frame[column] != victim].to_csv(snap / f"{table}.csv", index=False)

    report = solve(snap, tmp_path / "second", previous, time_limit=5)
    assert_valid(snap, tmp_path / "second")
    after = read(tmp_path / "second" / "schedule.csv").set_index("interview_id")
    hit = before["interviewer_ids"].str.split(";").apply(lambda ids: victim in ids)
    for _, row in before[~hit].iterrows():
        kept = after.loc[row["interview_id"]]
        assert (kept["start"], kept["interviewer_ids"]) == (row["start"], row["interviewer_ids"])
        # confirmed since the first plan (status edited, calendar_status not): a revision
        confirmed = str(int(row["sequence"]) + 1)
        assert (kept["status"], kept["sequence"]) == ("confirmed", confirmed)
        assert kept["calendar_status"] == "confirmed"
    moved = {m["interview_id"]: m for m in report["moved_confirmed"]}
    assert set(moved) == set(before.loc[hit, "interview_id"])
    for iid, entry in moved.items():
        assert victim in entry["reason"]
        if iid in after.index:
            assert victim not in after.loc[iid, "interviewer_ids"].split(";")
            assert after.loc[iid, "status"] == "proposed"
            assert after.loc[iid, "sequence"] == "1"
    assert report["kept_confirmed"] == int((~hit).sum())
    args = ["solve", str(snap), "--out", str(tmp_path / "third"), "--previous", str(previous)]
    result = CliRunner().invoke(app, [*args, "--time-limit", "5"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    warned = [line.split()[2] for line in lines if line.startswith("warning: confirmed")]
    assert sorted(warned) == sorted(moved)  # one line per confirmed interview that moved


def test_replan_of_an_unchanged_plan_moves_nothing(snaps: dict[str, Path], tmp_path: Path):
    snap = snaps["tiny-2-d8"]
    solve(snap, tmp_path / "first", time_limit=5)
    report = solve(snap, tmp_path / "second", tmp_path / "first" / "schedule.csv", time_limit=5)
    assert report["moved"] == 0 and report["moved_confirmed"] == []
    first, second = (read(tmp_path / n / "schedule.csv") for n in ("first", "second"))
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("solver", ["greedy", "rl:models/default"])
def test_replan_of_an_unchanged_cpsat_plan_by_another_solver_moves_nothing(
    snaps: dict[str, Path], tmp_path: Path, solver: str
) -> None:
    """Re-planning keeps every previous placement that still fits, whichever solver re-plans."""
    import policies.learned_solver  # noqa: F401  (registers rl:MODEL_DIR, as isched solve does)

    snap = snaps["default-0"]
    solve(snap, tmp_path / "first", time_limit=5, workers=1)
    first = read(tmp_path / "first" / "schedule.csv")
    assert len(first) > 10
    report = solve(snap, tmp_path / "second", tmp_path / "first" / "schedule.csv", solver=solver)
    assert report["moved"] == 0 and report["moved_confirmed"] == []
    second = read(tmp_path / "second" / "schedule.csv")
    kept = first.merge(second, on=["interview_id", "start", "end", "interviewer_ids"])
    assert len(kept) == len(first)
    assert_valid(snap, tmp_path / "second")


# Blocking reasons -------------------------------------------------------------------------------


def test_unscheduled_reasons_name_the_blocking_constraint(snaps: dict[str, Path], tmp_path: Path):
    snap = tmp_path / "snap"
    shutil.copytree(snaps["tiny-2-d8"], snap)
    cands = read(snap / "candidates.csv")
    new = cands.index[cands["stage"] == "new"].tolist()
    loops = cands.index[(cands["stage"] == "screened") & (cands["posting_id"] != "")].tolist()
    assert len(new) >= 3 and len(loops) >= 2
    cands.loc[new[0], ["timezone", "primary_area"]] = ["Asia/Kolkata", "nlp"]  # 9-17 Pacific
    # is 22:30-06:30 in Kolkata, outside 7-21 local
    cands.loc[new[1], "primary_area"] = "computer_graphics"
    cands.loc[new[1], "secondary_area"] = ""
    horizon_end = "2027-03-31"
    cands.loc[loops[0], "last_interview_date"] = horizon_end
    cands.loc[loops[1], ["onsite", "accommodation"]] = ["true", "accessible_room"]
    cands.to_csv(snap / "candidates.csv", index=False)
    people = read(snap / "interviewers.csv")
    people["areas"] = people["areas"].str.replace("computer_graphics", "nlp")
    people.to_csv(snap / "interviewers.csv", index=False)
    rooms = read(snap / "rooms.csv")
    rooms["accessible"] = "false"
    rooms.to_csv(snap / "rooms.csv", index=False)

    report = solve(snap, tmp_path / "out", time_limit=5)
    assert_valid(snap, tmp_path / "out")
    reason = {u["candidate_id"]: u["reason"] for u in report["unscheduled"]}
    assert reason[cands.loc[new[0], "candidate_id"]] == "candidate_hours"
    assert reason[cands.loc[new[1], "candidate_id"]] == "no_qualified_interviewer"
    assert reason[cands.loc[loops[0], "candidate_id"]] == "stage_gap"
    assert reason[cands.loc[loops[1], "candidate_id"]] == "no_room"


def test_fully_booked_interviewers_block_with_interviewer_calendars(
    snaps: dict[str, Path], tmp_path: Path
) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(snaps["tiny-0"], snap)
    people = read(snap / "interviewers.csv")
    people["max_per_week"] = "0"
    people.to_csv(snap / "interviewers.csv", index=False)
    report = solve(snap, tmp_path / "out", time_limit=5)
    assert report["scheduled"] == 0
    reasons = {u["reason"] for u in report["unscheduled"]}
    assert "interviewer_calendars" in reasons and "capacity_taken" not in reasons


# Bad input ---------------------------------------------------------------------------------------


def _edit(table: str, change) -> object:  # noqa: ANN001
    def apply(root: Path) -> None:
        frame = read(root / f"{table}.csv")
        result = change(frame)
        (frame if result is None else result).to_csv(root / f"{table}.csv", index=False)

    return apply


def _set(table: str, column: str, value: str):  # noqa: ANN202
    return _edit(table, lambda f: f.__setitem__(column, [value] + list(f[column][1:])))


BAD = {
    "missing column": (_edit("rooms", lambda f: f.drop(columns=["capacity"])), ("rooms.csv",
                                                                                "capacity")),
    "unknown area": (_set("postings", "area", "astrology"), ("postings.csv", "row 2", "area")),
    "end before start": (
        _edit("busy", lambda f: f.assign(end=f["start"])),
        ("busy.csv", "row 2", "end"),
    ),
    "duplicate ids": (
        _edit("interviewers", lambda f: pd.concat([f, f.iloc[:1]])),
        ("interviewers.csv", "interviewer_id", "duplicate"),
    ),
    "unknown time zone": (_set("candidates", "timezone", "Mars/Olympus"),
                          ("candidates.csv", "row 2", "timezone")),
    "empty file": (lambda root: (root / "postings.csv").write_text(""), ("postings.csv", "empty")),
    "year 9999": (_set("busy", "end", "9999-12-31T23:59:00+00:00"),
                  ("busy.csv", "row 2", "end", "outside the years")),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_snapshot_exits_2_with_one_line_and_writes_nothing(
    snaps: dict[str, Path], tmp_path: Path, case: str
) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(snaps["tiny-0"], snap)
    breaks, words = BAD[case]
    breaks(snap)
    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    existing.mkdir()
    (existing / "schedule.csv").write_text("old\n")
    for out in (fresh, existing):
        result = CliRunner().invoke(app, ["solve", str(snap), "--out", str(out)])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        for word in words:
            assert word in lines[0], (word, lines[0])
    assert not fresh.exists()
    assert [p.name for p in existing.iterdir()] == ["schedule.csv"]
    assert (existing / "schedule.csv").read_text() == "old\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_bad_previous_schedule_and_options_exit_2(snaps: dict[str, Path], tmp_path: Path):
    previous = tmp_path / "previous.csv"
    previous.write_text("interview_id,candidate_id,stage\nIV1,C1,screen\n")
    cases = [
        (["--previous", str(previous)], ("previous.csv", "interviewer_ids", "missing")),
        (["--solver", "magic"], ("unknown solver",)),
        (["--time-limit", "0"], ("--time-limit",)),
    ]
    for extra, words in cases:
        out = tmp_path / "out"
        result = CliRunner().invoke(app, ["solve", str(snaps["tiny-0"]), "--out", str(out), *extra])
        assert result.exit_code == 2, result.output
        assert all(w in result.stderr for w in words), result.stderr
        assert not out.exists()


def test_validator_counts_the_screen_held_before_the_snapshot(
    snaps: dict[str, Path], tmp_path: Path
) -> None:
    """Loops of ``screened`` candidates rely on ``last_interview_date``: the validator reads it
    as the screen, so a loop too soon after it is still a ``stage_order`` violation."""
    snap = tmp_path / "snap"
    shutil.copytree(snaps["tiny-3-d8"], snap)
    solve(snap, tmp_path / "out", time_limit=5)
    schedule = read(tmp_path / "out" / "schedule.csv")
    loop = schedule[schedule["stage"] == "loop"].iloc[0]
    cands = read(snap / "candidates.csv")
    cands.loc[cands["candidate_id"] == loop["candidate_id"], "last_interview_date"] = loop["start"][
        :10
    ]
    cands.to_csv(snap / "candidates.csv", index=False)
    found = check_schedule(snap, tmp_path / "out" / "schedule.csv")
    assert [v.kind for v in found] == ["stage_order"]
    assert "0 working days after the screen" in found[0].detail
