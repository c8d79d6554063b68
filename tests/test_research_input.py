"""Bad input to the research commands is one clear line: scenario files whose fields have
the wrong shape or values no season can have, policy names with a wrong ``:ARG``, damaged
dataset manifests and result rows, paths that look like markup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import isched

from experiments.runner import RowStore
from policies import make_policy
from policies.offline.dataset import load_manifest
from scheduler.scenario import load_scenario


def one_line_error(result, *words: str) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("hours: 5", "hours must be a mapping"),
        ("rewards: 3", "rewards must be a mapping"),
        ("max_per_day: 3", "max_per_day must be a list"),
        ("max_per_day: [1, 2, 3]", "max_per_day must be a range"),
        ("timezones: abc", "timezones must be a mapping of IANA time zones"),
        ("timezones: {}", "timezones must be a mapping of IANA time zones"),
        ("timezones: {Mars/Base: 1.0}", "unknown IANA time zone 'Mars/Base'"),
        ("timezones: {America/New_York: 0}", "must not all be zero"),
        ("season_start: 5", "season_start must be a date"),
        ('season_start: "2027-13-01"', "season_start must be a date"),
        ("horizon_days: 0", "horizon_days must be at least 1"),
        ("patience_mean_days: 1.0", "patience_mean_days must be at least 2"),
        ("deadline_mean_days: -5", "deadline_mean_days must be at least 8"),
        ("screen_noise_sd: -1", "screen_noise_sd must be above 0"),
        ("screen_noise_sd: 0", "screen_noise_sd must be above 0"),
        ("loop_noise_sd: 0.0", "loop_noise_sd must be above 0"),
        ("patience_mean_days: .inf", "patience_mean_days must be a finite number"),
        ("deadline_mean_days: -.inf", "deadline_mean_days must be a finite number"),
        ("onboarding_share: -1", "onboarding_share must not be negative"),
        ("start_window_offsets_days: []", "start_window_offsets_days must list days"),
        ("season_start: 2027-02-31", "season_start must be a date (YYYY-MM-DD), not '2027-02-31'"),
        ("hours: {slot_minutes: 0}", "hours.slot_minutes must divide an hour"),
        ("hours: {slot_minutes: 7}", "hours.slot_minutes must divide an hour"),
        ("hours: {start_hour: 17, end_hour: 9}", "start_hour < end_hour, not 17 and 9"),
        ("hours: {end_hour: 30}", "start_hour < end_hour, not 9 and 30"),
        ("interview: {loop_sessions: 0}", "interview.loop_sessions must be at least 1"),
        ("interview: {screen_slots: 0}", "interview.screen_slots must be at least 1"),
        ("interview: {break_slots: -1}", "interview.break_slots must not be negative"),
        ("interview: {session_slots: 40}", "a loop with extended time and breaks takes 125 slots"),
        ("interview: {candidate_local_end_hour: 3}", "candidate_local_end_hour must be hours"),
    ],
)
def test_a_scenario_field_no_season_can_have_is_named(
    tmp_path: Path, line: str, words: str
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(f"base: tiny\n{line}\n")
    with pytest.raises(ValueError) as found:
        load_scenario(path)
    assert str(found.value).startswith(f"{path}: ") and words in str(found.value)


def test_an_unknown_base_scenario_is_named(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text("base: tinny\n")
    with pytest.raises(ValueError, match="base: unknown scenario 'tinny' \\(use one of tiny"):
        load_scenario(path)


def test_dates_and_time_zones_that_a_season_can_have_load(tmp_path: Path) -> None:
    path = tmp_path / "fine.yaml"
    path.write_text("base: tiny\nseason_start: 2027-02-08\ntimezones: {Asia/Kolkata: 2}\n")
    config = load_scenario(path)
    assert (config.season_start.isoformat(), config.timezones) == (
        "2027-02-08", {"Asia/Kolkata": 2.0},
    )  # fmt: skip


def test_a_badly_shaped_scenario_is_one_line_from_simulate_and_compare(tmp_path: Path) -> None:
    """It crashed with a traceback; compare also left an empty folder behind."""
    bad = tmp_path / "s1.yaml"
    bad.write_text("base: tiny\nhours: 5\n")
    one_line_error(isched("simulate", "--scenario", bad, "--episodes", "1"), "s1.yaml", "hours")
    config = tmp_path / "c.yaml"
    config.write_text(f"scenarios: [{bad}]\npolicies: [fifo]\nseeds: {{start: 500000, count: 2}}\n")
    line = one_line_error(isched("compare", config, "--out", tmp_path / "cx"), "hours")
    assert line.count("s1.yaml") == 1, line
    assert not (tmp_path / "cx").exists()


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("rl", "rl needs an argument, rl:MODEL_DIR"),
        ("rl:", "rl needs an argument, rl:MODEL_DIR"),
        ("fifo:3", "fifo takes no ':' argument"),
        ("hindsight:x", "hindsight takes no ':' argument"),
    ],
)
def test_a_policy_name_with_a_wrong_argument_is_named(name: str, words: str) -> None:
    with pytest.raises(ValueError) as found:
        make_policy(name)
    assert str(found.value) == f"policy '{name}': {words}" + (
        f"; use '{name.split(':')[0]}'" if "takes no" in words else ""
    )


def test_a_policy_option_it_does_not_take_is_named() -> None:
    with pytest.raises(ValueError, match="policy 'fifo': .*bogus"):
        make_policy("fifo", bogus=1)
    for name in ("cpsat", "cpsat_rolling"):  # options that go on to a settings class
        takes = rf"^policy '{name}': unknown option 'nonsense' \({name} takes: .*time_limit"
        with pytest.raises(ValueError, match=takes):
            make_policy(name, nonsense=3)
    none = r"^policy 'greedy_fit': unknown option 'x' \(greedy_fit takes no options\)$"
    with pytest.raises(ValueError, match=none):
        make_policy("greedy_fit", x=1)
    with pytest.raises(ValueError, match=r"unknown option 'temperature' \(rl takes no options\)$"):
        make_policy("rl:models/default", temperature=0.1)  # refused, not ignored
    assert make_policy("cpsat", hold_margin=0.5).cfg.hold_margin == 0.5  # type: ignore[attr-defined]


def test_a_policy_argument_error_is_one_line_from_simulate() -> None:
    one_line_error(
        isched("simulate", "--scenario", "tiny", "--policy", "rl", "--episodes", "1"),
        "rl needs an argument",
    )


def test_a_damaged_manifest_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("{x")
    with pytest.raises(ValueError, match=r"manifest\.json: not valid JSON"):
        load_manifest(tmp_path)


def test_a_damaged_result_row_runs_again_instead_of_stopping_the_resume(tmp_path: Path) -> None:
    store = RowStore(tmp_path)
    for task_id in ("a1", "b2", "c3"):
        store.write({"task_id": task_id, "return": 1.0})
    (store.dir / "b2.json").write_text('{"task_id": "b2", "ret')  # cut short outside the run
    (store.dir / "c3.json").write_text(json.dumps({"task_id": "other"}))
    assert store.done() == {"a1"}
    assert sorted(p.name for p in store.dir.iterdir()) == ["a1.json"]


def test_paths_in_error_lines_print_as_given(tmp_path: Path) -> None:
    """Rich's emoji codes (``:smile:``) are not rendered in a path."""
    path = tmp_path / "run:smile:.yaml"
    one_line_error(isched("simulate", "--scenario", path, "--episodes", "1"), f"{path}: no such")


def test_a_ray_address_where_nothing_answers_is_one_line_before_any_work(tmp_path: Path) -> None:
    """Ray retries an unreachable address for minutes; compare says so at once."""
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "c.yaml"
    config.write_text("scenarios: [tiny]\npolicies: [fifo]\nseeds: {start: 0, count: 1}\n")
    out = tmp_path / "out"
    result = isched("compare", config, "--out", out, "--backend", "ray",
                    "--address", f"127.0.0.1:{port}")  # fmt: skip
    one_line_error(result, f"--address 127.0.0.1:{port}", "no Ray cluster answers there")
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("simulate", "--scenario", "tiny", "--policy", "fifo", "--episodes", "1", "--out"),
        ("simulate", "--scenario", "tiny", "--policy", "fifo", "--episodes", "1", "--export"),
        ("bound", "--scenario", "tiny", "--kind", "hindsight", "--episodes", "1", "--out"),
    ],
)
def test_an_output_path_that_cannot_be_written_is_named_before_any_work(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    """Not a bare library message about a temporary file the user never named."""
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    target = blocked / "x.csv"
    result = isched(*args, target)
    line = one_line_error(result, f"{args[-1]} {target}", "is a file, expected a directory")
    assert ".tmp" not in line and result.stdout == ""
    if Path("/proc/self").is_dir():  # a folder no file can be made in, even by root
        result = isched(*args, Path("/proc/isched-x.csv"))
        one_line_error(result, f"{args[-1]} /proc/isched-x.csv", "cannot write in /proc")
        assert result.stdout == ""


def test_a_snapshots_scenario_file_is_a_scenario(tmp_path: Path) -> None:
    """The scenario.yaml that `isched generate` writes beside the tables loads as the
    scenario it was generated from (simulate --scenario SNAP/scenario.yaml)."""
    snap = tmp_path / "snap"
    assert isched("generate", "--scenario", "tiny", "--seed", "4", "--out", snap).returncode == 0
    assert load_scenario(snap / "scenario.yaml") == load_scenario("tiny")
    played = [
        isched("simulate", "--scenario", scenario, "--policy", "fifo", "--episodes", "1", "--json")
        for scenario in ("tiny", snap / "scenario.yaml")
    ]
    assert all(p.returncode == 0 for p in played), [p.stderr for p in played]
    first, second = (json.loads(p.stdout) for p in played)
    same = ("return", "hires", "offers", "steps", "drop_off_rate", "mean_hire_quality")
    assert [{k: r[k] for k in same} for r in first] == [{k: r[k] for k in same} for r in second]


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("{future_weight: high}", "future_weight: expected a number, got 'high'"),
        ("{time_limit: fast}", "time_limit: expected a number, got 'fast'"),
        ("{time_limit: -1}", "time_limit: must be above 0, got -1"),
        ("{decision_bins: 2.5}", "decision_bins: expected a whole number, got 2.5"),
        ("{stuck_days: true}", "stuck_days: expected a whole number, got True"),
    ],
)
def test_a_policy_option_of_the_wrong_kind_is_named_before_any_work(
    options: str, words: str, tmp_path: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("scenarios: [tiny]\npolicies: [{name: cpsat, options: " + options + "}]\n"
                      "seeds: {start: 500000, count: 1}\n")  # fmt: skip
    out = tmp_path / "out"
    one_line_error(isched("compare", config, "--out", out), "c.yaml", "'policies[0]'", words)
    assert not out.exists()


def test_the_rolling_planner_checks_its_settings_too() -> None:
    with pytest.raises(ValueError, match="^workers: must be at least 1, got 0$"):
        make_policy("cpsat_rolling", workers=0)
    with pytest.raises(ValueError, match="^time_limit: expected a number, got 'fast'$"):
        make_policy("cpsat_rolling", time_limit="fast")
    make_policy("cpsat_rolling", time_limit=1, fallback_offer_mean=-0.5)  # ints and signs fine


def test_any_season_seed_plays_cpsat_rolling_and_a_solver_seed_is_checked(tmp_path: Path) -> None:
    """CP-SAT takes an int32 seed: a season seed past it is folded in; ``solve --seed``
    outside 0..2**31-1 is one line."""
    result = isched("simulate", "--scenario", "tiny", "--policy", "cpsat_rolling",
                    "--episodes", "1", "--seed", str(2**31 + 7), "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    snap = tmp_path / "snap"
    assert isched("generate", "--scenario", "tiny", "--seed", "0", "--out", snap).returncode == 0
    for seed, words in ((2**31, "at most 2147483647"), (-1, "at least 0")):
        out = tmp_path / f"out{seed}"
        one_line_error(isched("solve", snap, "--out", out, "--seed", str(seed)), "--seed", words)
        assert not out.exists()


def test_simulate_refuses_a_policy_named_twice_and_writes_parquet_when_asked(
    tmp_path: Path,
) -> None:
    one_line_error(isched("simulate", "--policy", "fifo,greedy,fifo"), "fifo is named twice")
    out = tmp_path / "rows.parquet"
    result = isched("simulate", "--scenario", "tiny", "--policy", "fifo,hindsight",
                    "--episodes", "1", "--out", out, "--export", tmp_path / "seasons")  # fmt: skip
    assert result.returncode == 0, result.stderr
    import pandas as pd

    rows = pd.read_parquet(out)
    assert list(rows["policy"]) == ["fifo", "hindsight"]
    hindsight = result.stdout[result.stdout.index("hindsight") :].splitlines()[0]
    assert hindsight.rstrip(" │").endswith("—")  # a bound: no season checked


def test_collect_on_test_seeds_warns(tmp_path: Path) -> None:
    result = isched("collect", "--scenario", "tiny", "--behavior", "fifo", "--epsilon", "0",
                    "--episodes", "2", "--seed", "499999", "--out", tmp_path / "d")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "warning: seeds 500000-500000 are test seeds" in result.stderr


def test_code_version_says_when_the_code_differs_from_its_commit() -> None:
    """Rows, manifests and models carry the commit and ``+dirty`` for uncommitted edits of
    tracked files, as git sees this checkout now."""
    import subprocess

    from policies.rollout import code_version

    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=root).stdout.strip()  # fmt: skip

    code_version.cache_clear()  # HEAD may have moved since this process first asked
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    assert code_version() == git("rev-parse", "--short", "HEAD") + ("+dirty" if dirty else "")
