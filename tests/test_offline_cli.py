"""``isched collect`` -> ``train`` -> ``simulate --policy rl:DIR``, as a user runs them."""

from __future__ import annotations

import json
import time
from pathlib import Path

import gymnasium as gym
import pytest
from cli_runner import isched

import envs
import envs.layout
from policies import make_policy


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("offline")
    result = isched("collect", "--scenario", "tiny", "--behavior", "greedy,random",
                    "--episodes", "2", "--seed", "0", "--out", root / "data")  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifest = json.loads((root / "data" / "manifest.json").read_text())
    assert sorted(manifest["behaviors"]) == ["greedy", "greedy+eps0.2", "greedy+eps0.5", "random"]
    result = isched("train", root / "data", "--algo", "cql", "--out", root / "model",
                    "--steps", "100", "--seed", "1", "--ensemble", "2")  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("model.pt", "config.json", "train_log.csv"):
        assert (root / "model" / name).is_file(), name
    return root / "model"


def test_collect_train_simulate_pipeline(model_dir: Path) -> None:
    started = time.perf_counter()
    result = isched("simulate", "--scenario", "tiny", "--policy", f"rl:{model_dir},greedy",
                    "--episodes", "2", "--seed", "50", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["policy"] for r in rows] == [f"rl:{model_dir}"] * 2 + ["greedy"] * 2
    assert all(r["invalid_actions"] == 0 for r in rows)
    assert time.perf_counter() - started < 60
    config = json.loads((model_dir / "config.json").read_text())
    assert config["algo"] == "cql" and config["settings"]["steps"] == 100
    assert config["settings"]["seed"] == 1 and config["settings"]["ensemble"] == 2


def test_rl_policy_acts_validly_in_the_env(model_dir: Path) -> None:
    policy = make_policy(f"rl:{model_dir}")
    env = gym.make(envs.ENV_ID, scenario="tiny")
    obs, info = env.reset(seed=3)
    policy.reset(env)
    for _ in range(300):
        action = policy.act(obs, info)
        assert info["action_mask"][action] == 1
        obs, _, terminated, _, info = env.step(action)
        if terminated:
            break


def test_bad_input_is_one_line(tmp_path: Path, model_dir: Path) -> None:
    result = isched("train", tmp_path, "--algo", "cql", "--out", tmp_path / "m")
    assert result.returncode == 2 and "not a dataset directory" in result.stderr
    assert "Traceback" not in result.stderr
    result = isched("train", tmp_path, "--algo", "dqn", "--out", tmp_path / "m")
    assert result.returncode == 2 and "--algo" in result.stderr
    data = model_dir.parent / "data"
    for algo, size in (("cql", "0"), ("bc", "2")):
        result = isched("train", data, "--algo", algo, "--ensemble", size, "--out", tmp_path / "e")
        assert result.returncode == 2 and "--ensemble" in result.stderr
        assert not (tmp_path / "e").exists()
    result = isched("collect", "--behavior", "nope", "--out", tmp_path / "d")
    assert result.returncode == 2 and "unknown policy" in result.stderr
    assert not (tmp_path / "d").exists()
    result = isched("simulate", "--policy", f"rl:{tmp_path}", "--episodes", "1")
    assert result.returncode == 2 and "model.pt" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["collect", "train"])
def test_help(command: str) -> None:
    result = isched(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and command in result.stdout


def test_learned_policy_writes_a_coordinator_schedule_that_passes_check(
    model_dir: Path, tmp_path: Path
) -> None:
    from scheduler.validator import check_schedule

    snap, out = tmp_path / "snap", tmp_path / "plan"
    assert isched("generate", "--scenario", "tiny", "--seed", "3", "--out", snap).returncode == 0
    result = isched("solve", snap, "--out", out, "--solver", f"rl:{model_dir}")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "FEASIBLE"
    assert report["bound_source"] == "lp" and report["bound"] >= report["objective"]
    assert (out / "schedule.ics").is_file()
    assert check_schedule(snap, out / "schedule.csv") == []
    assert isched("solve", snap, "--out", tmp_path / "x", "--solver", "rl:").returncode == 2


def test_a_model_for_another_layout_is_refused_in_one_line(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    import torch

    old = tmp_path / "old"
    shutil.copytree(model_dir, old)
    payload = torch.load(old / "model.pt", weights_only=True)
    payload["layout"] = "v0:40+10x20:31"
    torch.save(payload, old / "model.pt")
    snap = tmp_path / "snap"
    assert isched("generate", "--scenario", "tiny", "--seed", "3", "--out", snap).returncode == 0
    for args in (("simulate", "--scenario", "tiny", "--policy", f"rl:{old}", "--episodes", "1"),
                 ("solve", snap, "--out", tmp_path / "plan", "--solver", f"rl:{old}")):  # fmt: skip
        result = isched(*args)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert "v0:40+10x20:31" in result.stderr and "retrain" in result.stderr


def test_iql_trains_from_the_cli_and_acts_validly(model_dir: Path, tmp_path: Path) -> None:
    data = model_dir.parent / "data"
    result = isched("train", data, "--algo", "iql", "--out", tmp_path / "iql", "--steps", "60")
    assert result.returncode == 0, result.stderr
    config = json.loads((tmp_path / "iql" / "config.json").read_text())
    assert config["algo"] == "iql" and config["layout"] == envs.layout.LAYOUT_VERSION
    result = isched("simulate", "--scenario", "tiny", "--policy", f"rl:{tmp_path / 'iql'}",
                    "--episodes", "1", "--seed", "50", "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["invalid_actions"] == 0


def test_a_damaged_model_or_dataset_is_one_line(model_dir: Path, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from isched.cli import app

    damaged = tmp_path / "damaged"
    shutil.copytree(model_dir, damaged)
    model = (model_dir / "model.pt").read_bytes()
    data = tmp_path / "data"
    shutil.copytree(model_dir.parent / "data", data)
    arrays = (data / "arrays.npz").read_bytes()
    cases = [
        (damaged / "model.pt", b"garbage\n", ["simulate", "--scenario", "tiny", "--policy",
                                              f"rl:{damaged}", "--episodes", "1"]),
        (damaged / "model.pt", model[:5000], ["simulate", "--scenario", "tiny", "--policy",
                                              f"rl:{damaged}", "--episodes", "1"]),
        (data / "arrays.npz", arrays[:1000], ["train", str(data), "--algo", "bc", "--steps",
                                              "5", "--out", str(tmp_path / "m")]),
    ]  # fmt: skip
    for path, content, args in cases:
        path.write_bytes(content)
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and path.name in lines[0], lines
    assert not (tmp_path / "m").exists()


def test_ctrl_c_of_train_leaves_the_model_folder_as_it_was(model_dir: Path, tmp_path: Path) -> None:
    """SIGINT while ``train`` retrains into an existing model folder: exit 130, one line,
    and every file of the old model byte for byte (the run was staged beside it)."""
    import shutil
    import signal
    import subprocess
    import sys

    target = tmp_path / "model"
    shutil.copytree(model_dir, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    args = [sys.executable, "-m", "isched.cli", "train", str(model_dir.parent / "data"),
            "--algo", "bc", "--steps", "200000", "--out", str(target)]  # fmt: skip
    run = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(tmp_path.glob(".model.*.tmp/*")):
        time.sleep(0.1)  # training has begun writing into its staging folder
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == 130
    assert stderr.strip().splitlines() == [f"interrupted: {target} is as it was (nothing written)"]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no staging folder left
