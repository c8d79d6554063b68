"""A train step with ``training_seeds``: one model per seed, one policy line, the spread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.config import ConfigError, load_config
from experiments.summary import summarize
from tests.cli_runner import isched

GROUPED = """\
scenarios: [tiny]
policies: [greedy_fit, rl:@bc, rl:@single]
seeds: {start: 500000, count: 3}
train:
  - {name: bc, kind: offline, behaviors: [greedy_fit], episodes: 2, algo: bc, steps: 60,
     training_seeds: [0, 1, 2]}
  - {name: single, kind: offline, behaviors: [greedy_fit], episodes: 2, algo: bc, steps: 60,
     train_seed: 1}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def grouped_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("grouped")
    config = write(tmp, GROUPED)
    done = isched("compare", config, "--out", tmp / "out", "--workers", "2")
    assert done.returncode == 0, done.stderr
    return config, tmp / "out"


def test_each_training_seed_plays_as_a_member_and_the_policy_is_their_mean(grouped_run) -> None:
    config, out = grouped_run
    frame = pd.read_parquet(out / "results.parquet")
    members = frame[frame["group"] == "rl:@bc"]
    assert sorted(set(members["policy"])) == ["rl:@bc#0", "rl:@bc#1", "rl:@bc#2"]
    assert sorted(set(members["training_seed"])) == [0, 1, 2] and len(members) == 9
    for seed in (0, 1, 2):
        assert (out / "models" / "bc" / f"seed{seed}" / "model.pt").is_file()
    assert (out / "models" / "bc" / "data").is_dir()  # collected once, for all members
    # a member is the model a one-seed step with that seed builds: the same returns
    one = frame[frame["policy"] == "rl:@single"].set_index("seed")["return"]
    same = members[members["training_seed"] == 1].set_index("seed")["return"]
    assert one.tolist() == same.tolist()
    (s,) = summarize(frame, "greedy_fit")
    line = next(x for x in s.lines if x.policy == "rl:@bc")
    per_season = members.groupby("seed")["return"].mean()
    assert line.training_seeds == 3 and line.seasons == 3
    assert line.mean.value == pytest.approx(per_season.mean())
    assert all(x.policy != "rl:@bc#0" for x in s.lines)
    (spread,) = s.training
    by_member = members.groupby("training_seed")["return"].mean()
    assert spread.seeds == [0, 1, 2] and spread.means == pytest.approx(by_member.tolist())
    assert spread.sd == pytest.approx(float(np.std(by_member, ddof=1)))
    report = (out / "report.md").read_text()
    assert "rl:@bc (mean of 3 training seeds)" in report
    assert "| rl:@bc | 0, 1, 2 |" in report


def test_a_grouped_run_resumes_and_reruns_its_members_by_the_policy_label(grouped_run) -> None:
    config, out = grouped_run
    kept = isched("compare", config, "--out", out)
    assert kept.returncode == 0 and "(0 new)" in kept.stdout
    assert "train step bc: done before, kept" in kept.stderr
    again = isched("compare", config, "--out", out, "--rerun", "rl:@bc")
    assert again.returncode == 0 and "(9 new)" in again.stdout, again.stdout


@pytest.mark.parametrize(
    ("step", "words"),
    [
        ("training_seeds: [0, 0]", "distinct whole numbers"),
        ("training_seeds: []", "distinct whole numbers"),
        ("training_seeds: [1, -2]", "distinct whole numbers"),
        ("training_seeds: [0, 1], train_seed: 3", "give 'train_seed' or 'training_seeds'"),
    ],
)
def test_bad_training_seeds_are_one_line_naming_the_step(tmp_path, step, words) -> None:
    text = ("scenarios: [tiny]\npolicies: [rl:@m]\nseeds: {start: 500000, count: 1}\n"
            f"train: [{{name: m, kind: offline, {step}}}]\n")  # fmt: skip
    with pytest.raises(ConfigError) as problem:
        load_config(write(tmp_path, text))
    message = str(problem.value)
    assert "'train[0].training_seeds'" in message and words in message
    assert "\n" not in message


def test_a_ppo_step_takes_training_seeds_instead_of_its_seed(tmp_path) -> None:
    text = ("scenarios: [tiny]\npolicies: [ppo:@p]\nseeds: {start: 500000, count: 1}\n"
            "train: [{name: p, kind: ppo, steps: 10, training_seeds: [4, 5]}]\n")  # fmt: skip
    config = load_config(write(tmp_path, text))
    (step,) = config.train
    assert step.training_seeds == (4, 5)
    assert step.member_settings(5)["seed"] == 5 and "training_seeds" not in step.member_settings(5)
    assert config.policies[0].training_seeds == (4, 5)
    with pytest.raises(ConfigError, match="give 'seed' or 'training_seeds'"):
        load_config(write(tmp_path, text.replace("steps: 10", "steps: 10, seed: 1")))
