"""Ctrl-C while a solve's files are swapped into an existing folder: all of them, then stop."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import typer

from isched.cli import generate
from isched.cli_common import interrupted_writing
from scheduler.interrupts import WrittenThenInterrupted, held
from scheduler.solver import SolveOptions, SolveResult, output, solve_snapshot

NAMES = ("schedule.csv", "report.json", "schedule.ics")


def test_held_finishes_the_block_then_raises() -> None:
    reached = False
    with pytest.raises(WrittenThenInterrupted) as stop, held(["a.csv", "b.json"]):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # a KeyboardInterrupt would come here, were SIGINT not held
        reached = True
    assert reached
    assert stop.value.written == ["a.csv", "b.json"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_held_without_a_signal_changes_nothing() -> None:
    with held(["a.csv"]):
        value = 1
    assert value == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def solved(root: Path, seed: int) -> SolveResult:
    snap = root / f"tiny-{seed}"
    generate(out_dir=snap, scenario="tiny", seed=seed, day=None, fmt="csv")
    return solve_snapshot(snap, SolveOptions(time_limit=5, workers=1))


def test_ctrl_c_between_two_replacements_still_puts_all_three_files_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = solved(tmp_path, 0), solved(tmp_path, 3)
    out, fresh = tmp_path / "plan", tmp_path / "fresh"
    old.write(out)
    new.write(fresh)
    before = {name: (out / name).read_bytes() for name in NAMES}
    replace = os.replace
    calls: list[str] = []

    def replace_then_ctrl_c(src: str, dst: str) -> None:
        replace(src, dst)
        if Path(dst).parent != out:  # a file written whole inside the temporary folder
            return
        calls.append(Path(dst).name)
        if len(calls) == 1:  # Ctrl-C after the first of the three
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)

    monkeypatch.setattr(output.os, "replace", replace_then_ctrl_c)
    with pytest.raises(WrittenThenInterrupted) as stop:
        new.write(out)
    assert calls == list(NAMES)
    assert [Path(name).name for name in stop.value.written] == list(NAMES)
    after = {name: (out / name).read_bytes() for name in NAMES}
    fresh_bytes = {name: (fresh / name).read_bytes() for name in NAMES}
    assert after["schedule.csv"] == fresh_bytes["schedule.csv"] != before["schedule.csv"]
    assert after["schedule.ics"] != before["schedule.ics"]
    assert not list(tmp_path.glob(".plan.*"))  # no temporary folder left beside it


def test_the_command_says_whether_its_files_were_written(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan"
    with pytest.raises(typer.Exit) as done, interrupted_writing(out):
        raise WrittenThenInterrupted([str(out / name) for name in NAMES])
    assert done.value.exit_code == 130
    said = capfd.readouterr().err.strip()
    assert said == f"interrupted: wrote {', '.join(NAMES)} to {out} whole, then stopped"
    with pytest.raises(typer.Exit) as done, interrupted_writing(out):
        raise KeyboardInterrupt
    assert done.value.exit_code == 130
    assert capfd.readouterr().err.strip() == f"interrupted: {out} is as it was (nothing written)"
