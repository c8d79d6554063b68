"""isched compare: config errors, a smoke run on both backends, resume after SIGKILL, plots."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.config import ConfigError, load_config
from experiments.plots import learning_curves
from experiments.report import write_report
from experiments.runner import TIMING_COLUMNS, run_experiment
from tests.cli_runner import isched

SMOKE = """\
name: smoke
scenarios: [tiny]
policies: [greedy_fit, urgency]
bounds: [hindsight]
seeds: {start: 500000, count: 3}
"""
SMOKE_OUTPUTS = ("results.parquet", "report.md", "report.html", "plots/policies.png",
                 "plots/policies.svg", "plots/profiles.png", "plots/improvement.png")  # fmt: skip


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (``ray.init`` takes seconds)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns that must not depend on the backend or the wall clock."""
    return frame.drop(columns=[c for c in TIMING_COLUMNS if c in frame]).reset_index(drop=True)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("scenarios: [tiny]\npolicies: [greedy]\n", "'seeds'"),
        ("scenarios: [nowhere]\npolicies: [greedy]\nseeds: {start: 0, count: 1}\n",
         "'scenarios[0]'"),
        ("scenarios: [tiny]\npolicies: [bogus]\nseeds: {start: 0, count: 1}\n", "'policies[0]'"),
        ("scenarios: [tiny]\npolicies: [{name: cpsat, options: {speed: 9}}]\n"
         "seeds: {start: 0, count: 1}\n", "'policies[0]'"),
        ("scenarios: [tiny]\npolicies: [greedy]\nseeds: {start: 0, count: 0}\n", "'seeds.count'"),
        ("scenarios: [tiny]\npolicies: [greedy]\nbounds: [oracle]\nseeds: {start: 0, count: 1}\n",
         "'bounds[0]'"),
        ("scenarios: [tiny]\npolicies: [rl:@nope]\nseeds: {start: 500000, count: 1}\n",
         "'policies[0]'"),
        ("scenarios: [tiny]\npolicies: [greedy]\nseeds: {start: 0, count: 1}\n"
         "train: [{name: m, kind: ppo, steps: 10}]\n", "'seeds.start'"),
        ("scenarios: [tiny]\npolicies: [greedy]\nseeds: {start: 0, count: 1}\nepisodes: 3\n",
         "'episodes'"),
        ("scenarios: [tiny\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_config_is_one_line_naming_the_file_and_key(tmp_path, text, key) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as problem:
        load_config(path)
    message = str(problem.value)
    assert str(path) in message and key in message and "\n" not in message


def test_a_config_with_several_bad_sections_names_them_all_in_one_line(tmp_path) -> None:
    path = write(
        tmp_path,
        "scenarios: [nowhere]\npolicies: [bogus]\nbounds: [oracle]\n"
        "seeds: {start: 0, count: 0}\nbaseline: greedy\n",
    )
    with pytest.raises(ConfigError) as problem:
        load_config(path)
    message = str(problem.value)
    assert "\n" not in message and message.count(str(path)) == 1
    for key in ("'scenarios[0]'", "'policies[0]'", "'bounds[0]'", "'seeds.count'"):
        assert key in message, (key, message)


def test_a_bound_not_in_this_checkout_is_one_clear_line(tmp_path, monkeypatch) -> None:
    from experiments import bounds

    monkeypatch.setitem(bounds.BOUND_ROWS, "information", "policies.not_yet_here:row")
    path = write(
        tmp_path, "scenarios: [tiny]\nbounds: [information]\nseeds: {start: 0, count: 1}\n"
    )
    with pytest.raises(ConfigError, match="'bounds\\[0\\]': bound 'information' is not available"):
        load_config(path)


def test_compare_cli_reports_a_bad_config_without_a_traceback(tmp_path) -> None:
    path = write(tmp_path, "scenarios: [tiny]\npolicies: [greedy]\nseeds: {start: x, count: 1}\n")
    result = isched("compare", path, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "'seeds.start'" in result.stderr
    assert "Traceback" not in result.stderr


def test_smoke_config_runs_end_to_end_on_both_backends_with_the_same_numbers(
    tmp_path, ray_session
) -> None:
    config = write(tmp_path, SMOKE)
    local = isched("compare", config, "--out", tmp_path / "local")
    assert local.returncode == 0, local.stderr
    out = tmp_path / "local"
    for name in SMOKE_OUTPUTS:
        assert (out / name).is_file(), name
    frame = pd.read_parquet(out / "results.parquet")
    assert len(frame) == 9 and not frame.duplicated(["scenario", "policy", "seed"]).any()
    for column in ("return", "hires", "fill_rate", "decision_ms_mean", "decision_ms_median",
                   "decision_ms_per_day", "config_hash", "code_version", "packages"):  # fmt: skip
        assert column in frame, column
    report = (out / "report.md").read_text()
    assert "isched compare" in report and "probability of improvement" in report
    assert "9 rows: 1 scenario, 2 policies, 1 bound," in report
    # decision time per day against the baseline's, paired by season: the speed bar's number
    assert "baseline's per day ÷ this (paired)" in report
    assert re.search(r"\| \d+\.\d× \[\d+\.\d, \d+\.\d\] \|", report), report

    ray_out = tmp_path / "ray"
    ray_frame = run_experiment(load_config(config), ray_out, backend="ray", workers=2)
    write_report(load_config(config), ray_frame, ray_out, "isched compare --backend ray")
    for name in SMOKE_OUTPUTS:
        assert (ray_out / name).is_file(), name
    pd.testing.assert_frame_equal(numbers(frame), numbers(ray_frame))
    assert pd.read_parquet(ray_out / "results.parquet").shape == frame.shape


def started_compare(config: Path, out: Path, rows: int) -> subprocess.Popen[str]:
    """``isched compare CONFIG --out OUT --workers 2`` in its own process group, once it
    has finished ``rows`` rows."""
    command = [sys.executable, "-m", "isched.cli", "compare", str(config), "--out", str(out),
               "--workers", "2"]  # fmt: skip
    job = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((out / "rows").glob("*.json"))) < rows:
        time.sleep(0.01)
    return job


def test_a_run_killed_with_sigkill_resumes_to_exactly_the_rows_of_a_whole_run(tmp_path) -> None:
    config = write(
        tmp_path,
        "scenarios: [tiny]\npolicies: [greedy_fit, cpsat]\nseeds: {start: 500000, count: 4}\n",
    )
    out = tmp_path / "killed"
    job = started_compare(config, out, rows=2)
    os.killpg(job.pid, signal.SIGKILL)  # the runner and its pool, mid-run
    assert job.wait() == -signal.SIGKILL
    kept = len(list((out / "rows").glob("*.json")))
    assert 2 <= kept < 8, "the run was not interrupted midway"

    again = isched("compare", config, "--out", out)
    assert again.returncode == 0, again.stderr
    assert f"({8 - kept} new)" in again.stdout
    whole = isched("compare", config, "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr
    resumed = pd.read_parquet(out / "results.parquet")
    expected = pd.read_parquet(tmp_path / "whole" / "results.parquet")
    assert not resumed.duplicated(["scenario", "policy", "seed"]).any()
    pd.testing.assert_frame_equal(numbers(resumed), numbers(expected))


def test_ctrl_c_ends_a_run_at_once_with_its_workers_and_says_how_to_go_on(tmp_path) -> None:
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it, mid-run with two
    workers: exit 130 within seconds, one line, no process of the run left; then resumed."""
    config = write(
        tmp_path,
        "scenarios: [default]\npolicies: [fifo, cpsat]\nseeds: {start: 500000, count: 4}\n",
    )
    out = tmp_path / "stopped"
    job = started_compare(config, out, rows=1)
    os.killpg(job.pid, signal.SIGINT)
    _, stderr = job.communicate(timeout=20)
    assert job.returncode == 130
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr  # the whole stderr when it says more than one line
    (line,) = lines
    assert line.startswith("interrupted: ") and "the same command goes on" in line
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):  # no worker of the run is left
        os.killpg(job.pid, 0)
    kept = len(list((out / "rows").glob("*.json")))
    again = isched("compare", config, "--out", out, "--workers", "2")
    assert again.returncode == 0, again.stderr
    assert f"({8 - kept} new)" in again.stdout


def test_gantt_of_an_exported_season(tmp_path) -> None:
    import gymnasium as gym

    import envs
    from envs.export import export_season
    from policies import make_policy
    from policies.rollout import run_episode

    env = gym.make(envs.ENV_ID, scenario="tiny")
    run_episode(env, make_policy("greedy_fit"), 3)
    season = export_season(env.unwrapped, tmp_path / "season")
    result = isched("plot", season, season / "schedule.csv", "--out", tmp_path / "plots")
    assert result.returncode == 0, result.stderr
    for name in ("gantt_interviewers", "gantt_offices"):
        for fmt in ("png", "svg"):
            assert (tmp_path / "plots" / f"{name}.{fmt}").stat().st_size > 1000
    import pandas as pd

    bad = tmp_path / "bad.csv"  # offers.csv is not a schedule; then a bad start
    dated = pd.read_csv(season / "schedule.csv", dtype=str, keep_default_na=False)
    dated.loc[0, "start"] = "next week"
    for text, words in (((season / "offers.csv").read_text(),
                         "column interview_id: missing required column"),
                        (dated.to_csv(index=False), "row 2, column start")):  # fmt: skip
        bad.write_text(text)
        result = isched("plot", season, bad, "--out", tmp_path / "nothing")
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, lines
        assert lines[0].startswith("error: bad.csv"), lines
        assert words in lines[0] and not (tmp_path / "nothing").exists()


def test_train_steps_build_learned_policies_inside_the_experiment_once(tmp_path) -> None:
    config = write(
        tmp_path,
        "scenarios: [tiny]\npolicies: [greedy_fit, rl:@bc, ppo:@ppo]\n"
        "seeds: {start: 500000, count: 2}\ntrain:\n"
        "  - {name: bc, kind: offline, behaviors: [greedy_fit], episodes: 2, algo: bc, steps: 50}\n"
        "  - {name: ppo, kind: ppo, steps: 600, n_steps: 256, eval_every: 300}\n",
    )
    first = isched("compare", config, "--out", tmp_path / "out")
    assert first.returncode == 0, first.stderr
    out = tmp_path / "out"
    frame = pd.read_parquet(out / "results.parquet")
    assert set(frame["policy"]) == {"greedy_fit", "rl:@bc", "ppo:@ppo"} and len(frame) == 6
    log = pd.read_csv(out / "models" / "ppo" / "train_log.csv")
    assert {"step", "seconds", "steps_per_s", "eval_return"} <= set(log.columns)
    assert (out / "plots" / "learning_curves.png").is_file()
    again = isched("compare", config, "--out", out)
    assert again.returncode == 0 and "(0 new)" in again.stdout
    assert "done before, kept" in again.stderr


def test_learning_curves_draw_the_logs_of_every_kind_of_training(tmp_path) -> None:
    """PPO logs a return, behaviour cloning a loss, IQL (the shipped model) critic losses."""
    ppo, bc = tmp_path / "ppo", tmp_path / "bc"
    for folder, text in (
        (ppo, "step,seconds,eval_return\n100,1.0,-3.5\n200,2.0,1.5\n"),
        (bc, "step,seconds,loss,accuracy\n50,0.5,2.1,0.3\n100,1.0,1.2,0.6\n"),
    ):
        folder.mkdir()
        (folder / "train_log.csv").write_text(text)
    shipped = Path(__file__).resolve().parents[1] / "models" / "default"
    paths = learning_curves({"ppo": ppo, "bc": bc, "iql": shipped}, tmp_path / "plots")
    assert sorted(p.suffix for p in paths) == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_gantt_of_a_solve_result(tmp_path) -> None:
    snapshot, plan = tmp_path / "snap", tmp_path / "plan"
    assert (
        isched("generate", "--scenario", "tiny", "--seed", "0", "--out", snapshot).returncode == 0
    )
    solved = isched("solve", snapshot, "--out", plan, "--time-limit", "5", "--workers", "1")
    assert solved.returncode == 0, solved.stderr
    result = isched("plot", snapshot, plan / "schedule.csv", "--out", tmp_path / "plots")
    assert result.returncode == 0, result.stderr
    for name in ("gantt_interviewers", "gantt_offices"):
        for fmt in ("png", "svg"):
            assert (tmp_path / "plots" / f"{name}.{fmt}").stat().st_size > 1000


def test_shipped_configs_load_and_keep_tuning_and_test_seeds_apart() -> None:
    """Every config in experiments/configs loads; a tuning config plays only tuning
    seeds, every other one only test seeds."""
    from experiments.config import TUNING_SEEDS_END

    configs = sorted((Path(__file__).parent.parent / "experiments/configs").glob("*.yaml"))
    assert len(configs) >= 4
    for path in configs:
        config = load_config(path)
        tuning = "tuning" in path.stem
        if tuning:
            assert max(config.seeds) < TUNING_SEEDS_END, path
        else:
            assert min(config.seeds) >= TUNING_SEEDS_END, path


def test_rerun_recomputes_the_rows_it_names_and_keeps_the_rest(tmp_path) -> None:
    """A finished row is reused whatever the code version; ``--rerun`` runs it again."""
    import json

    config = write(tmp_path, SMOKE)
    out = tmp_path / "out"
    first = isched("compare", config, "--out", out)
    assert first.returncode == 0, first.stderr
    truth = pd.read_parquet(out / "results.parquet").set_index(["policy", "seed"])["return"]
    stale = {}
    for path in (out / "rows").glob("*.json"):  # rows as an older code would have left them
        row = json.loads(path.read_text())
        row["return"] = 999.0
        path.write_text(json.dumps(row))
        stale[row["policy"]] = stale.get(row["policy"], 0) + 1
    kept = isched("compare", config, "--out", out)
    assert kept.returncode == 0 and "(0 new)" in kept.stdout
    assert (pd.read_parquet(out / "results.parquet")["return"] == 999.0).all()
    again = isched("compare", config, "--out", out, "--rerun", "hindsight,urgency")
    assert again.returncode == 0, again.stderr
    assert f"({stale['hindsight'] + stale['urgency']} new)" in again.stdout
    frame = pd.read_parquet(out / "results.parquet").set_index(["policy", "seed"])["return"]
    for label in ("hindsight", "urgency"):
        assert frame[label].tolist() == truth[label].tolist()
    assert (frame["greedy_fit"] == 999.0).all()
    bad = isched("compare", config, "--out", out, "--rerun", "cpsat")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "--rerun cpsat: not a policy or bound of the config" in bad.stderr


def test_the_shipped_model_in_a_config_resolves_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rl:models/default`` in a config plays the project's model, not ``./models/default``."""
    from experiments.runner import plan_tasks

    config = tmp_path / "shipped.yaml"
    config.write_text("scenarios: [tiny]\npolicies: [fifo, rl:models/default]\n"
                      "seeds: {start: 500000, count: 1}\n")  # fmt: skip
    monkeypatch.chdir(tmp_path)
    tasks = plan_tasks(load_config(config), tmp_path / "o")
    names = {task.label: task.policy_name for task in tasks}
    shipped = Path(__file__).resolve().parents[1] / "models" / "default"
    assert names["rl:models/default"] == f"rl:{shipped}"


def test_a_model_replaced_under_the_same_path_is_a_new_task(tmp_path: Path) -> None:
    """Retraining into the same folder must not read the old model's rows back: the task id
    holds the model's files (not its README or training log)."""
    import shutil

    from experiments.runner import plan_tasks

    shipped = Path(__file__).resolve().parents[1] / "models" / "default"
    model = tmp_path / "m"
    shutil.copytree(shipped, model)
    config = tmp_path / "c.yaml"
    config.write_text(f"scenarios: [tiny]\npolicies: [fifo, rl:{model}]\n"
                      "seeds: {start: 500000, count: 2}\n")  # fmt: skip

    def ids() -> dict[tuple[str, int], str]:
        return {(t.label, t.seed): t.task_id for t in plan_tasks(load_config(config), tmp_path)}

    first = ids()
    (model / "train_log.csv").write_text("step\n1\n")
    (model / "README.md").write_text("retitled\n")
    assert ids() == first
    settings = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**settings, "note": "retrained"}))
    again = ids()
    for (label, seed), task_id in first.items():
        assert (again[(label, seed)] == task_id) == (label == "fifo"), label


def test_the_reading_gives_no_verdict_on_one_paired_season() -> None:
    from experiments.report import reading
    from experiments.stats import Estimate
    from experiments.summary import PolicyLine, ScenarioSummary

    one = Estimate(1.5, 1.5, 1.5)  # one season: a zero-width interval
    many = Estimate(1.5, 0.5, 2.5)

    def line(policy: str, versus: Estimate | None, paired: int) -> PolicyLine:
        return PolicyLine(policy, 3, one, one, versus, None if versus is None else one, None,
                          paired=paired)  # fmt: skip

    lines = [line("fifo", None, 0), line("a", one, 1), line("b", many, 3)]
    summary = ScenarioSummary("tiny", "fifo", lines, {}, 0.0, 1.0)
    text = "\n".join(reading([summary]))
    assert "a has 1 season paired with fifo: too few to compare" in text
    assert "a beats" not in text
    assert "b beats fifo: +1.50 [+0.50, +2.50] per season (paired over 3 seasons)" in text


def test_the_reading_ranks_only_policies_that_played_the_same_seasons() -> None:
    """A policy given fewer seasons (``seeds: N``) is not named the leader on its IQM."""
    from experiments.report import reading
    from experiments.stats import Estimate
    from experiments.summary import PolicyLine, ScenarioSummary

    def line(policy: str, seasons: int, iqm: float) -> PolicyLine:
        value = Estimate(iqm, iqm - 1, iqm + 1)
        return PolicyLine(policy, seasons, value, value, None, None, None)

    lines = [line("greedy_fit", 3, -5.2), line("planner", 2, -1.5), line("fifo", 3, -9.0)]
    text = "\n".join(reading([ScenarioSummary("tsurge", "greedy_fit", lines, {}, 0.0, 1.0)]))
    assert "On tsurge, greedy_fit has the highest IQM return" in text
    assert "of the policies that played all 3 seasons" in text
    assert "not ranked by IQM: planner (2)" in text
    assert "planner has the highest" not in text


def test_the_profiles_ceiling_is_the_tightest_bound_on_the_mean() -> None:
    """Two bound kinds that cross season by season: the plots' ceiling is the lower of their
    means (a bound), not the mean of per-season minima (which bounds nothing)."""
    from experiments.summary import summarize

    rows = [{"scenario": "s", "kind": kind, "policy": name, "seed": seed, "return": value}
            for seed, (a, b, p) in enumerate([(10.0, 14.0, 5.0), (14.0, 10.0, 6.0)])
            for kind, name, value in (("bound", "a", a), ("bound", "b", b),
                                      ("policy", "fifo", p))]  # fmt: skip
    (summary,) = summarize(pd.DataFrame(rows))
    assert summary.ceiling == 12.0  # the mean of the per-season minima would be 10.0


def test_the_report_and_the_cli_say_when_seeds_are_not_held_out(tmp_path) -> None:
    """A run on tuning seeds is fine for tuning, but its report must not call them test
    seeds: the report names them tuning seeds and ``compare`` warns in one line."""
    from experiments.config import TUNING_SEEDS_END, seeds_role

    assert seeds_role(TUNING_SEEDS_END, 3) == f"3 test seeds from {TUNING_SEEDS_END}"
    assert "tuning seeds from 1000 (not held out" in seeds_role(1000, 2)
    straddle = seeds_role(TUNING_SEEDS_END - 1, 2)
    assert f"{TUNING_SEEDS_END - 1}-{TUNING_SEEDS_END - 1} tuning seeds" in straddle
    config = write(
        tmp_path, "scenarios: [tiny]\npolicies: [fifo]\nseeds: {start: 1000, count: 2}\n"
    )
    result = isched("compare", config, "--out", tmp_path / "o", "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert "warning: 2 tuning seeds from 1000 (not held out" in result.stderr
    report = (tmp_path / "o" / "report.md").read_text()
    assert "2 tuning seeds from 1000" in report and "test seeds" not in report.split("\n\n")[1]


def test_a_copy_of_a_shipped_config_runs_from_any_directory(tmp_path, monkeypatch) -> None:
    """Its scenario paths (``experiments/scenarios/outage.yaml``) resolve under the project
    root when neither the working directory nor the copy's folder holds them."""
    shipped = Path(__file__).resolve().parents[1] / "experiments" / "configs" / "planner.yaml"
    copy = tmp_path / "mine" / "planner.yaml"
    copy.parent.mkdir()
    copy.write_text(shipped.read_text())
    monkeypatch.chdir(tmp_path)
    config = load_config(copy)
    outage = [s for s in config.scenarios if s.label == "outage"]
    assert outage and Path(outage[0].source).is_file()
    assert Path(outage[0].source).parts[-2:] == ("scenarios", "outage.yaml")
