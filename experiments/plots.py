"""Figures of an experiment and of a schedule (matplotlib, Agg; each as PNG and SVG).

- ``policy_intervals``: IQM and mean with 95% intervals per policy, one panel per scenario;
- ``performance_profiles``: fraction of seasons above each normalised score, with bands;
- ``improvement``: probability of improvement over the baseline, per scenario;
- ``learning_curves``: ``train_log.csv`` of trained models against steps and seconds;
- ``gantt``: a season or a solve result per interviewer and per office, coloured by stage.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from experiments import stats  # noqa: E402
from experiments.files import write_atomic  # noqa: E402
from experiments.summary import ScenarioSummary  # noqa: E402

STAGE_COLOURS = {"screen": "#4C72B0", "loop": "#DD8452"}


def save(fig: Figure, out_dir: Path, name: str) -> list[Path]:
    """Write ``fig`` as OUT/NAME.png and OUT/NAME.svg (atomically); the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in ("png", "svg"):
        buffer = io.BytesIO()
        # a fixed date keeps the SVG the same from run to run
        fig.savefig(
            buffer,
            format=fmt,
            dpi=120,
            bbox_inches="tight",
            metadata={"Date": None} if fmt == "svg" else {"Software": None},
        )
        write_atomic(out_dir / f"{name}.{fmt}", buffer.getvalue())
        paths.append(out_dir / f"{name}.{fmt}")
    plt.close(fig)
    return paths


def policy_intervals(summaries: list[ScenarioSummary], out_dir: Path) -> list[Path]:
    """IQM (bar) and mean (dot) with 95% stratified-bootstrap intervals, per scenario."""
    n = len(summaries)
    height = 0.5 + 0.35 * max(len(s.lines) + len(s.bounds) for s in summaries)
    same = len({tuple(line.policy for line in s.lines) for s in summaries}) == 1
    fig, axes = plt.subplots(
        1, n, figsize=(4.5 * n, height), squeeze=False, sharey=same, layout="constrained"
    )  # labels once, or room for each panel's
    for ax, s in zip(axes[0], summaries, strict=True):
        names = [line.policy for line in s.lines]
        y = np.arange(len(names))
        iqm = [line.iqm for line in s.lines]
        ax.errorbar(
            [e.value for e in iqm],
            y,
            fmt="s",
            color="#4C72B0",
            label="IQM",
            xerr=_err(iqm),
            capsize=3,
        )
        means = [line.mean for line in s.lines]
        ax.errorbar(
            [e.value for e in means],
            y + 0.25,
            fmt="o",
            color="#999999",
            label="mean",
            xerr=_err(means),
            capsize=2,
            markersize=3,
        )
        for k, (kind, bound) in enumerate(s.bounds.items()):
            ax.axvline(bound.value, linestyle="--", color=f"C{3 + k}", label=f"{kind} bound")
        ax.set_yticks(y, names)
        if not same or ax is axes[0][0]:  # a shared axis is inverted once
            ax.invert_yaxis()
        ax.set_title(s.scenario)
        ax.set_xlabel("return per season")
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].legend(loc="best", fontsize="small")
    return save(fig, out_dir, "policies")


def _err(estimates: list[stats.Estimate]) -> np.ndarray:
    return np.array([[e.value - e.low for e in estimates], [e.high - e.value for e in estimates]])


def performance_profiles(scores: dict[str, np.ndarray], out_dir: Path) -> list[Path]:
    """Fraction of (season, scenario) runs with a normalised score above tau, with 95% bands."""
    everything = np.concatenate([s.ravel() for s in scores.values()])
    taus = np.linspace(min(0.0, everything.min()), max(1.0, everything.max()), 101)
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, (policy, x) in enumerate(scores.items()):
        point, low, high = stats.performance_profile(x, taus)
        ax.plot(taus, point, color=f"C{k % 10}", label=policy)
        ax.fill_between(taus, low, high, color=f"C{k % 10}", alpha=0.2)
    ax.set_xlabel("normalised return τ (0: random or worst, 1: tightest bound or best)")
    ax.set_ylabel("fraction of seasons above τ")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return save(fig, out_dir, "profiles")


def improvement(summaries: list[ScenarioSummary], out_dir: Path) -> list[Path]:
    """P(policy beats the baseline) with 95% intervals, one panel per scenario."""
    n = len(summaries)
    fig, axes = plt.subplots(
        1, n, figsize=(4.5 * n, 0.6 + 0.35 * len(summaries[0].lines)), squeeze=False
    )
    for ax, s in zip(axes[0], summaries, strict=True):
        lines = [line for line in s.lines if line.improvement is not None]
        poi = [line.improvement for line in lines if line.improvement is not None]
        y = np.arange(len(lines))
        ax.errorbar([e.value for e in poi], y, xerr=_err(poi), fmt="o", capsize=3)
        ax.axvline(0.5, color="grey", linestyle=":")
        ax.set_yticks(y, [line.policy for line in lines])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(f"{s.scenario}: P(policy > {s.baseline})")
        ax.grid(axis="x", alpha=0.3)
    return save(fig, out_dir, "improvement")


CURVE_LABELS = {"eval_return": "return on tuning seasons", "loss": "training loss",
                "q_loss": "critic loss", "policy_loss": "policy loss"}  # fmt: skip
"""The columns a learning curve may show, in order of preference, with their axis labels."""


def curve_column(log: pd.DataFrame) -> str:
    """The column a learning curve shows: the return on tuning seasons (PPO), else the
    first training loss the algorithm logs (``CURVE_LABELS`` order)."""
    for column in CURVE_LABELS:
        if column in log:
            return column
    raise ValueError(f"train_log.csv has none of {', '.join(CURVE_LABELS)}: {list(log)}")


def learning_curves(model_dirs: dict[str, Path], out_dir: Path) -> list[Path]:
    """Each model's ``train_log.csv`` against steps and wall seconds: the return on tuning
    seasons where the log has one (PPO), else the training loss (offline), one row each."""
    logs = {name: pd.read_csv(d / "train_log.csv") for name, d in model_dirs.items()}
    columns = {name: curve_column(log) for name, log in logs.items()}
    kinds = sorted(set(columns.values()))
    fig, axes = plt.subplots(len(kinds), 2, figsize=(10, 3.6 * len(kinds)), squeeze=False)
    for k, (name, log) in enumerate(logs.items()):
        column = columns[name]
        by_step, by_time = axes[kinds.index(column)]
        seconds = log["train_seconds"] if "train_seconds" in log else log["seconds"]
        by_step.plot(log["step"], log[column], marker=".", color=f"C{k}", label=name)
        by_time.plot(seconds, log[column], marker=".", color=f"C{k}", label=name)
    for row, column in enumerate(kinds):
        for ax, x in zip(axes[row], ("training steps", "training wall time (s)"), strict=True):
            ax.set_xlabel(x)
            ax.set_ylabel(CURVE_LABELS[column])
            ax.grid(alpha=0.3)
        axes[row][0].legend(fontsize="small")
    return save(fig, out_dir, "learning_curves")


def gantt(snapshot_dir: Path, schedule_csv: Path, out_dir: Path) -> list[Path]:
    """The schedule per interviewer and per office (room or virtual), coloured by stage.

    The schedule is read by the validator's reader first, so a file that is not a
    schedule.csv fails in one line naming the file, row and column."""
    from scheduler.validator_io import read_schedule

    read_schedule(schedule_csv)
    schedule = pd.read_csv(schedule_csv, dtype=str, keep_default_na=False)
    if schedule.empty:
        raise ValueError(f"{schedule_csv}: no interviews to plot")
    for column in ("start", "end"):
        schedule[column] = pd.to_datetime(schedule[column], utc=True)
    sessions = _sessions(schedule)
    interviewers = snapshot_dir / "interviewers.csv"
    order = (
        list(pd.read_csv(interviewers, dtype=str)["interviewer_id"])
        if interviewers.is_file()
        else sorted(set(sessions["row"]))
    )
    by_person = _draw(
        sessions,
        [p for p in order if p in set(sessions["row"])],
        "interviewer",
        schedule_csv.parent.name,
    )
    places = schedule.assign(
        row=np.where(
            schedule["room_id"] != "",
            schedule["office"] + " / " + schedule["room_id"],
            schedule["office"],
        )
    )
    by_office = _draw(places, sorted(set(places["row"])), "office / room", schedule_csv.parent.name)
    return save(by_person, out_dir, "gantt_interviewers") + save(
        by_office, out_dir, "gantt_offices"
    )


def _sessions(schedule: pd.DataFrame) -> pd.DataFrame:
    """One row per interviewer session: a loop's interviewers each hold their own session."""
    rows = []
    for r in schedule.itertuples(index=False):
        people = [p for p in str(r.interviewer_ids).split(";") if p]
        starts = [s for s in str(getattr(r, "session_starts", "") or "").split(";") if s]
        if len(starts) == len(people) > 1:
            begins = [pd.Timestamp(s).tz_convert("UTC") for s in starts]
            length = (r.end - begins[-1]) if begins[-1] < r.end else (r.end - r.start) / len(people)
            rows += [
                {"row": p, "start": b, "end": b + length, "stage": r.stage, "status": r.status}
                for p, b in zip(people, begins, strict=True)
            ]
        else:
            rows += [
                {"row": p, "start": r.start, "end": r.end, "stage": r.stage, "status": r.status}
                for p in people
            ]
    return pd.DataFrame(rows)


def _draw(bars: pd.DataFrame, rows: list[str], what: str, title: str) -> Figure:
    """Horizontal bars per row; a bar is at least 1/300 of the span wide so it shows."""
    first, last = bars["start"].min(), bars["end"].max()
    span = max((last - first).total_seconds() / 86400.0, 1.0)
    fig, ax = plt.subplots(figsize=(12, 1.0 + 0.18 * len(rows)))
    index = {name: k for k, name in enumerate(rows)}
    for stage, part in bars.groupby("stage"):
        x = (part["start"] - first).dt.total_seconds().to_numpy() / 86400.0
        width = np.maximum((part["end"] - part["start"]).dt.total_seconds() / 86400.0, span / 300)
        y = part["row"].map(index).to_numpy()
        missed = (part["status"] == "no_show").to_numpy()
        colour = STAGE_COLOURS.get(str(stage), "grey")
        ax.barh(
            y[~missed], width[~missed], left=x[~missed], height=0.7, color=colour, label=str(stage)
        )
        if missed.any():
            ax.barh(
                y[missed],
                width[missed],
                left=x[missed],
                height=0.7,
                color="white",
                edgecolor=colour,
                hatch="///",
                label=f"{stage} (no-show)",
            )
    ax.set_yticks(range(len(rows)), rows, fontsize=6 if len(rows) > 40 else 8)
    ax.invert_yaxis()
    ax.set_xlabel(f"days from {first:%Y-%m-%d} (UTC)")
    ax.set_ylabel(what)
    ax.set_title(f"{title}: interviews per {what}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="upper right")
    return fig
