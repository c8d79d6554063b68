"""The ``isched`` command line as a user runs it: a subprocess, exit codes, stdout and stderr.

These tests start a fresh interpreter for every command (the other CLI tests run it in
the test's own interpreter, ``cli_runner.isched``), so what a first import does is tested.

Contract: /work/shared/CLI.md. Everything runs on the ``tiny`` scenario to stay fast.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import isched as isched_in_process
from cli_runner import isched_process as isched

from scheduler.tables import read_snapshot
from scheduler.validator import KINDS, check_schedule

COMMANDS = ("generate", "simulate", "check", "demo")
SNAPSHOT_FILES = (
    "postings.csv",
    "candidates.csv",
    "interviewers.csv",
    "rooms.csv",
    "busy.csv",
    "start_windows.csv",
    "scenario.yaml",
)
SIMULATE = (
    "simulate", "--scenario", "tiny", "--policy", "fifo,greedy", "--episodes", "2", "--seed", "0",
    "--json",
)  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2, a single non-empty stderr line without a traceback, containing ``words``."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for word in words:
        assert word in line, (word, line)
    return line


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False)


# Help ------------------------------------------------------------------------------------


ALL_COMMANDS = ("generate", "simulate", "check", "solve", "serve", "demo", "plot", "collect",
                "train", "compare", "train-ppo", "bound")  # fmt: skip


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_help_of_every_command(command: str, tmp_path: Path) -> None:
    result = isched(command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    assert command in result.stdout
    assert list(tmp_path.iterdir()) == []  # --help writes nothing


def test_demo_plays_the_shipped_model_beside_the_rules_and_cpsat_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from isched.cli import app

    monkeypatch.chdir(tmp_path)  # not the repository root
    result = CliRunner().invoke(app, ["demo", "--episodes", "1"])
    assert result.exit_code == 0, result.output
    played = pd.read_csv(tmp_path / "out/demo/simulate.csv")["policy"].tolist()
    assert {"greedy_fit", "cpsat", "rl:models/default"} <= set(played), played
    assert "no hard violations" in result.output
    assert (tmp_path / "out/demo/schedule/schedule.ics").is_file()


def test_top_level_help_lists_the_commands(tmp_path: Path) -> None:
    result = isched("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ALL_COMMANDS:
        assert command in result.stdout
    from isched.cli import app

    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    assert names == set(ALL_COMMANDS)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("simulate", "--bogus"), ("--bogus", "isched simulate --help")),
        (("simulate", "--episodes", "abc"), ("--episodes", "integer", "isched simulate --help")),
        (("nosuch",), ("nosuch", "isched --help")),
        (("solve",), ("Missing argument", "isched solve --help")),
    ],
)
def test_a_usage_error_is_one_line(
    args: tuple[str, ...], words: tuple[str, ...], tmp_path: Path
) -> None:
    result = isched(*args, cwd=tmp_path)
    assert_one_line_error(result, *words)
    assert "╭" not in result.stderr and "Usage:" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def console_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed ``isched`` console script (skip where it is not installed)."""
    script = Path(sys.executable).parent / "isched"
    if not script.exists():
        pytest.skip("the isched console script is not installed next to this interpreter")
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def test_a_usage_error_is_one_line_from_the_console_script(tmp_path: Path) -> None:
    result = console_script("check", "--bogus", cwd=tmp_path)
    assert_one_line_error(result, "--bogus", "isched check --help")


def test_installed_console_script_runs(tmp_path: Path) -> None:
    result = console_script("check", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


# generate --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        SIMULATE,
        ("check", "--bogus"),
        ("simulate", "--scenario", "tiny", "--policy", "nope"),
        ("generate", "--scenario", "no-such.yaml", "--out", "x"),
    ],
    ids=["rows", "usage", "unknown-policy", "missing-file"],
)
def test_the_other_tests_in_process_runs_give_what_a_fresh_interpreter_gives(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    """The other CLI tests call ``isched`` in their own interpreter: exit code, stdout and
    stderr must be those of the program started afresh."""
    before = Path.cwd()
    fresh, here = isched(*args, cwd=tmp_path), isched_in_process(*args, cwd=tmp_path)
    assert Path.cwd() == before  # the run's own directory is left with it
    assert (here.returncode, here.stderr) == (fresh.returncode, fresh.stderr)
    if "--json" in args:  # the rows, but for the clock's columns
        clock = {"seconds", "decision_ms_median"}
        rows = [[{k: v for k, v in row.items() if k not in clock} for row in json.loads(r.stdout)]
                for r in (fresh, here)]  # fmt: skip
        assert rows[0] == rows[1] and len(rows[0]) == 4
    else:
        assert here.stdout == fresh.stdout


def test_generate_writes_a_readable_deterministic_snapshot(tmp_path: Path) -> None:
    runs = []
    for name in ("first", "second"):
        out = tmp_path / name
        result = isched("generate", "--scenario", "tiny", "--seed", "0", "--out", out)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        for file in SNAPSHOT_FILES:
            assert (out / file).is_file(), file
        runs.append(out)

    snapshot, config, meta = read_snapshot(runs[0])
    assert config.name == "tiny"
    assert snapshot.postings and snapshot.interviewers
    assert meta["snapshot_date"] is not None
    day = dt.date.fromisoformat(str(meta["snapshot_date"]))
    assert any(c.stage == "applied" for c in snapshot.candidates)
    for cand in snapshot.candidates:  # nothing from later in the season
        assert cand.applied_date <= day, cand
        assert cand.form_completed_date is None or cand.form_completed_date <= day, cand
        assert (cand.form_completed_date is None) == (cand.stage == "applied"), cand

    first = sorted(p.name for p in runs[0].iterdir())
    assert first == sorted(p.name for p in runs[1].iterdir())
    for name in first:
        assert (runs[0] / name).read_bytes() == (runs[1] / name).read_bytes(), name


# simulate --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path, Path]:
    """One ``simulate --json --out --export`` run: its JSON rows, the CSV and the export dir."""
    root = tmp_path_factory.mktemp("simulate")
    csv, export = root / "rows.csv", root / "seasons"
    result = isched(*SIMULATE, "--out", csv, "--export", export)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout), csv, export


def test_simulate_prints_json_rows_per_policy_and_episode(simulated) -> None:
    rows, _, _ = simulated
    assert len(rows) == 4
    assert [(r["policy"], r["seed"]) for r in rows] == [
        ("fifo", 0),
        ("fifo", 1),
        ("greedy", 0),
        ("greedy", 1),
    ]
    for row in rows:
        assert {"policy", "seed", "return", "hires"} <= set(row)
        assert isinstance(row["return"], float)
        assert row["hires"] >= 0
        assert row["hard_violations"] == 0  # every exported season replayed clean


def test_simulate_is_reproducible(simulated) -> None:
    rows, _, _ = simulated
    again = isched(*SIMULATE)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert [(r["policy"], r["seed"], r["return"], r["hires"]) for r in rerun] == [
        (r["policy"], r["seed"], r["return"], r["hires"]) for r in rows
    ]


def test_simulate_says_how_violations_are_counted_when_no_season_is_written() -> None:
    result = isched("simulate", "--scenario", "tiny", "--policy", "greedy", "--episodes", "1")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if "greedy" in line)
    assert row.rstrip(" │").endswith("—")  # nothing was checked, so no count
    assert "checked when written with --export DIR" in result.stdout


def test_simulate_out_writes_the_rows(simulated) -> None:
    rows, csv, _ = simulated
    frame = pd.read_csv(csv)
    assert len(frame) == len(rows)
    assert list(frame["policy"]) == [r["policy"] for r in rows]
    assert list(frame["seed"]) == [r["seed"] for r in rows]
    assert list(frame["return"]) == pytest.approx([r["return"] for r in rows])
    assert not csv.with_suffix(".csv.tmp").exists()


def test_simulate_export_is_replayed_clean_by_check(simulated) -> None:
    _, _, export = simulated
    for policy in ("fifo", "greedy"):
        for seed in (0, 1):
            where = export / policy / f"seed{seed}"
            for file in (*SNAPSHOT_FILES, "schedule.csv", "offers.csv"):
                assert (where / file).is_file(), (policy, seed, file)
    where = export / "greedy" / "seed0"
    result = isched("check", where, where / "schedule.csv", "--offers", where / "offers.csv")
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "no hard violations" in result.stdout


# check with violations -------------------------------------------------------------------


@pytest.fixture
def broken(simulated, tmp_path: Path) -> tuple[Path, int]:
    """A copy of the greedy seed-0 export with one screen double-booked; (dir, violations)."""
    _, _, export = simulated
    where = Path(shutil.copytree(export / "greedy" / "seed0", tmp_path / "season"))
    schedule = read(where / "schedule.csv")
    screen = schedule[schedule["stage"] == "screen"].iloc[0]
    others = read(where / "candidates.csv")
    other = others.loc[
        (others["candidate_id"] != screen["candidate_id"]) & (others["form_completed_date"] != ""),
        "candidate_id",
    ].iloc[0]
    extra = screen.copy()
    extra["interview_id"] = "IVX00001"
    extra["candidate_id"] = other
    write(pd.concat([schedule, extra.to_frame().T], ignore_index=True), where / "schedule.csv")
    found = check_schedule(where, where / "schedule.csv", where / "offers.csv")
    assert "interviewer_double_booked" in {v.kind for v in found}
    return where, len(found)


def test_check_reports_one_line_per_violation(broken) -> None:
    where, count = broken
    result = isched("check", where, where / "schedule.csv", "--offers", where / "offers.csv")
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == count
    assert all(line.split(" ", 1)[0] in KINDS for line in lines), lines
    assert any(line.startswith("interviewer_double_booked ") for line in lines)
    assert any("IVX00001" in line for line in lines)


def test_check_json_gives_one_object_per_violation(broken) -> None:
    where, count = broken
    result = isched(
        "check", where, where / "schedule.csv", "--offers", where / "offers.csv", "--json"
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    objects = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert len(objects) == count
    for obj in objects:
        assert set(obj) == {"kind", "ids", "detail"}
        assert obj["kind"] in KINDS
        assert isinstance(obj["ids"], list) and obj["ids"]
        assert isinstance(obj["detail"], str) and obj["detail"]
    double = [o for o in objects if o["kind"] == "interviewer_double_booked"]
    assert double and "IVX00001" in double[0]["ids"]


# Bad input: exit 2, one line on stderr ---------------------------------------------------


def test_unknown_policy(tmp_path: Path) -> None:
    result = isched("simulate", "--scenario", "tiny", "--policy", "nosuch", cwd=tmp_path)
    assert_one_line_error(result, "nosuch")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["generate", "--scenario", "tiny", "--seed", "-1"], "--seed must be at least 0"),
        (["simulate", "--scenario", "tiny", "--policy", "greedy", "--seed", "-1"], "--seed"),
        (["bound", "--scenario", "tiny", "--seed", "-1"], "--seed must be at least 0"),
        (["collect", "--scenario", "tiny", "--seed", "-1"], "--seed must be at least 0"),
        (["train-ppo", "--seed", "-1"], "--seed must be at least 0"),
        (["simulate", "--scenario", "tiny", "--policy", ""], "--policy: name at least one"),
        (["simulate", "--scenario", "tiny", "--policy", " , "], "--policy: name at least one"),
    ],
)
def test_a_negative_seed_or_no_policy_is_one_line_not_a_traceback(
    tmp_path: Path, args: list[str], words: str
) -> None:
    from typer.testing import CliRunner

    from isched.cli import app

    out = (
        ["--out", str(tmp_path / "out")] if args[0] in ("generate", "collect", "train-ppo") else []
    )
    result = CliRunner().invoke(app, [*args, *out])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_a_missing_or_binary_scenario_file_is_named(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from isched.cli import app

    (tmp_path / "binary.yaml").write_bytes(b"base: default\n\xff\n")
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    for name, words in (
        ("missing.yaml", "no such scenario file"),
        ("binary.yaml", "not UTF-8 text"),
        ("empty.yaml", "empty scenario file"),
    ):
        args = ["generate", "--scenario", str(tmp_path / name), "--out", str(tmp_path / "out")]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2
        assert result.stderr.strip().startswith(f"error: {tmp_path / name}: {words}")
        assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_scenario(tmp_path: Path) -> None:
    result = isched("generate", "--scenario", "nosuch", "--out", tmp_path / "out")
    assert_one_line_error(result, "nosuch")
    assert not (tmp_path / "out").exists()


def test_check_missing_snapshot_dir(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    result = isched("check", missing, missing / "schedule.csv")
    assert_one_line_error(result, str(missing))


def test_check_unknown_time_zone_names_file_row_and_column(simulated, tmp_path: Path) -> None:
    _, _, export = simulated
    where = Path(shutil.copytree(export / "greedy" / "seed0", tmp_path / "season"))
    candidates = read(where / "candidates.csv")
    candidates.loc[1, "timezone"] = "Mars/Olympus_Mons"  # data row 2 = spreadsheet row 3
    write(candidates, where / "candidates.csv")
    result = isched("check", where, where / "schedule.csv", "--offers", where / "offers.csv")
    assert_one_line_error(result, "candidates.csv", "row 3", "timezone", "Mars/Olympus_Mons")
    assert result.stdout.strip() == ""


# Bad input that once ended in a traceback -------------------------------------------------


def test_malformed_scenario_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_candidates: [1\n")
    assert_one_line_error(isched("simulate", "--scenario", bad, "--episodes", "1"), "bad.yaml")


def test_scenario_that_is_a_directory(tmp_path: Path) -> None:
    assert_one_line_error(isched("simulate", "--scenario", tmp_path, "--episodes", "1"))


def test_generate_out_is_an_existing_file(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    result = isched("generate", "--scenario", "tiny", "--seed", "0", "--out", taken)
    assert_one_line_error(result, "taken")


def test_simulate_out_is_a_directory(tmp_path: Path) -> None:
    result = isched("simulate", "--scenario", "tiny", "--episodes", "1", "--out", tmp_path)
    assert_one_line_error(result, "is a directory")


def test_scenario_with_negative_size(tmp_path: Path) -> None:
    bad = tmp_path / "neg.yaml"
    bad.write_text("base: tiny\nn_candidates: -3\n")
    result = isched("simulate", "--scenario", bad, "--episodes", "1")
    assert_one_line_error(result, "neg.yaml", "n_candidates")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("n_candidates: lots", "n_candidates"),
        ("patience_mean_days: soon", "patience_mean_days"),
        ("max_per_week: [1, two]", "max_per_week"),
        ("rewards: {hire_value: [1]}", "hire_value"),
    ],
)
def test_scenario_field_of_the_wrong_type(tmp_path: Path, line: str, field: str) -> None:
    bad = tmp_path / "typed.yaml"
    bad.write_text(f"base: tiny\n{line}\n")
    result = isched("simulate", "--scenario", bad, "--episodes", "1")
    assert_one_line_error(result, "typed.yaml", field)


def test_scenario_number_in_exponent_form_is_a_number(tmp_path: Path) -> None:
    """YAML 1.1 reads ``1e9`` as text; the scenario takes it as the number it is."""
    from scheduler.scenario import load_scenario

    path = tmp_path / "patient.yaml"
    path.write_text("base: tiny\npatience_mean_days: 1e9\n")
    assert load_scenario(path).patience_mean_days == 1e9
    result = isched("simulate", "--scenario", path, "--episodes", "1")
    assert result.returncode == 0, result.stderr


def test_a_season_without_hires_has_no_hire_kpis(tmp_path: Path) -> None:
    """Quality and interviews per hire of a season with no hire are NaN (null in JSON, a dash
    in the table), not 0, so that means over seasons are not pulled towards 0."""
    from typer.testing import CliRunner

    from envs.layout import END_DAY
    from isched.cli import app
    from policies.base import _REGISTRY, register_policy

    class Idle:
        """Ends every day at once: no interview, no offer, no hire."""

        def reset(self, env: object) -> None:
            pass

        def act(self, obs: object, info: object) -> int:
            return END_DAY

    register_policy("idle_for_test")(lambda seed=0, **_: Idle())
    try:
        args = ["simulate", "--scenario", "tiny", "--policy", "idle_for_test,greedy_fit",
                "--episodes", "2", "--seed", "0"]  # fmt: skip
        rows = json.loads(CliRunner().invoke(app, [*args, "--json"]).stdout)
        idle = [r for r in rows if r["policy"] == "idle_for_test"]
        assert [r["hires"] for r in idle] == [0.0, 0.0]
        for key in ("mean_hire_quality", "interviews_per_hire", "time_to_offer_days"):
            assert [r[key] for r in idle] == [None, None], key
        assert all(isinstance(r["mean_hire_quality"], float) for r in rows if r["hires"] > 0)
        table = CliRunner().invoke(app, args).stdout
        assert "—" in next(line for line in table.splitlines() if "idle_for_test" in line)
    finally:
        _REGISTRY.pop("idle_for_test")


def test_train_ppo_says_how_many_steps_it_trained(tmp_path: Path) -> None:
    """PPO trains whole rollouts: the line and config.json say the steps it really took."""
    out = tmp_path / "ppo"
    result = isched("train-ppo", "--steps", "100", "--out", out)
    assert result.returncode == 0, result.stderr
    trained = json.loads((out / "config.json").read_text())["trained_steps"]
    assert trained >= 100
    expected = "100 steps" if trained == 100 else f"{trained} steps (100 asked, whole rollouts)"
    assert f"trained MaskablePPO for {expected}" in result.stdout
    log = pd.read_csv(out / "train_log.csv")  # evaluated every 10 steps asked, but once a policy
    assert list(log["step"]) == [10, trained]  # the first rollout's, then the trained one


def test_out_dash_writes_the_rows_to_standard_output_and_nothing_else(tmp_path: Path) -> None:
    """``--out -`` of simulate and bound: CSV on stdout (one row per season, pipe-able into
    pandas), no file named ``-``, no table after the rows; with ``--json`` it is refused."""
    import io

    for args, rows in ((("simulate", "--policy", "greedy_fit,fifo", "--episodes", "2"), 4),
                       (("bound", "--kind", "hindsight", "--episodes", "3"), 3)):  # fmt: skip
        result = isched(*args, "--scenario", "tiny", "--out", "-", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        frame = pd.read_csv(io.StringIO(result.stdout))
        assert len(frame) == rows and "seed" in frame.columns
        assert list(tmp_path.iterdir()) == []
    xlsx = isched("simulate", "--episodes", "1", "--out", tmp_path / "rows.xlsx")
    assert xlsx.returncode == 2 and "written as .csv or .parquet, not .xlsx" in xlsx.stderr
    assert list(tmp_path.iterdir()) == []
    both = isched("simulate", "--episodes", "1", "--out", "-", "--json")
    assert both.returncode == 2 and "standard output" in both.stderr
    assert len(both.stderr.strip().splitlines()) == 1


def test_ctrl_c_of_simulate_says_so_and_leaves_only_whole_seasons(tmp_path: Path) -> None:
    """SIGINT in the middle of ``simulate --export``: exit 130, one line saying there is no
    summary, and every season folder under the export passes ``isched check``."""
    import signal
    import time

    export = tmp_path / "ex"
    args = [sys.executable, "-m", "isched.cli", "simulate", "--scenario", "default",
            "--policy", "greedy_fit", "--episodes", "50", "--export", str(export)]  # fmt: skip
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(export.glob("greedy_fit/seed*"))) < 2:
        time.sleep(0.2)
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130 and stdout == ""
    assert stderr.strip().splitlines() == [
        f"interrupted: no summary; each season written under {export} is whole"
    ]
    seasons = sorted(export.glob("greedy_fit/*"))
    assert 2 <= len(seasons) < 50
    for where in seasons:
        assert check_schedule(where, where / "schedule.csv", where / "offers.csv") == []


def test_every_bound_kind_reports_its_status_in_one_vocabulary() -> None:
    """``isched bound`` rows say OPTIMAL whether CP-SAT (hindsight) or HiGHS (information,
    penalized) solved them, so a filter on the column works for every kind."""
    import io

    statuses = set()
    for kind in ("hindsight", "information", "penalized"):
        result = isched("bound", "--scenario", "tiny", "--kind", kind, "--episodes", "2",
                        "--out", "-")  # fmt: skip
        assert result.returncode == 0, result.stderr
        statuses |= set(pd.read_csv(io.StringIO(result.stdout))["status"])
    assert statuses == {"OPTIMAL"}
