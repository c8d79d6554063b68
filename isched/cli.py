"""The ``isched`` command line (contract: CLI.md)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="Interview scheduling for an internship hiring season.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class InputProblem(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


def one_line_errors(func: F) -> F:
    """Turn bad-input exceptions into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        import yaml

        from scheduler.tables import TableError

        try:
            return func(*args, **kwargs)
        except (TableError, InputProblem, ValueError, OSError, yaml.YAMLError) as problem:
            message = str(problem).splitlines()[0] if str(problem) else type(problem).__name__
            err.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def comma_list(text: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated option."""
    return [item.strip() for item in text.split(",") if item.strip()]


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def writable_dir(path: Path, option: str) -> None:
    """Fail early, before any work, when ``path`` cannot become an output directory."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise InputProblem(f"{option} {path}: {part} is a file, expected a directory")
            return


@app.command()
@one_line_errors
def generate(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the snapshot tables.")],
    scenario: Annotated[str, typer.Option(help="tiny, default, large or a YAML file.")] = "default",
    seed: Annotated[int, typer.Option(help="Season seed.")] = 0,
    day: Annotated[
        int | None,
        typer.Option(help="Working day of the snapshot (default: a fifth into the season)."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Write a coordinator snapshot of a seeded season as tables.

    The season is played with the greedy policy up to DAY; the snapshot holds
    the postings, the candidates still to schedule, interviewers, rooms, start
    windows, calendar busy blocks over the planning horizon and scenario.yaml.
    """
    import gymnasium as gym

    import envs
    from envs.export import coordinator_snapshot
    from envs.season_env import season_state
    from policies.rollout import play_until

    writable_dir(out_dir, "--out")
    env = gym.make(envs.ENV_ID, scenario=scenario)
    try:
        target = play_until(env, seed, day)
    except ValueError as problem:
        raise InputProblem(str(problem)) from None
    inner = season_state(env)
    path = coordinator_snapshot(env, seed, out_dir, fmt=fmt)
    n = sum(1 for _ in path.glob("*"))
    out.print(
        f"wrote {n} files to {path} ({inner.config.name}, seed {seed}, "
        f"day {target}: {inner.days[target]})"
    )


@app.command()
@one_line_errors
def simulate(
    scenario: Annotated[str, typer.Option(help="tiny, default, large or a YAML file.")] = "tiny",
    policy: Annotated[str, typer.Option(help="Comma-separated policy names.")] = "greedy",
    episodes: Annotated[int, typer.Option(help="Seasons per policy.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the first season.")] = 0,
    out_csv: Annotated[
        Path | None, typer.Option("--out", help="Write one row per episode.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
    export: Annotated[
        Path | None, typer.Option(help="Write each realised season under DIR/POLICY/seedN.")
    ] = None,
) -> None:
    """Run whole seasons in the environment and print KPIs per policy."""
    from envs.export import export_season
    from policies import make_policy
    from policies.rollout import mean_ci
    from policies.rollout import simulate as run
    from scheduler.validator import check_schedule

    names = comma_list(policy)
    for name in names:
        make_policy(name)  # fail early on an unknown name
    if episodes < 1:
        raise InputProblem("--episodes must be at least 1")
    if export is not None:
        writable_dir(export, "--export")
    if out_csv is not None and out_csv.is_dir():
        raise InputProblem(f"--out {out_csv}: is a directory, expected a CSV file path")

    with progress() as bar:
        task = bar.add_task("seasons", total=episodes * len(names))

        checked: list[int] = []

        def done(name: str, episode: int, env: Any) -> None:
            if export is not None:
                safe = name.replace(":", "_").replace("/", "_")
                where = export_season(env.unwrapped, export / safe / f"seed{seed + episode}")
                found = check_schedule(where, where / "schedule.csv", where / "offers.csv")
                checked.append(len(found))
            bar.advance(task)

        rows = run(scenario, names, episodes, seed, on_episode=done)
    played = [r for r in rows if r["policy"] != "hindsight"]  # the bound plays no season
    for row, found in zip(played, checked, strict=False):
        row["hard_violations"] = found
    if out_csv is not None:
        import pandas as pd

        out_csv.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_csv.with_suffix(out_csv.suffix + ".tmp")
        pd.DataFrame(rows).to_csv(tmp, index=False)
        tmp.replace(out_csv)
    if as_json:
        out.print_json(json.dumps(rows))
        return
    table = Table(title=f"{rows[0]['scenario']}: {episodes} seasons from seed {seed}")
    for column in ("policy", "return (95% CI)", "hires", "fill", "quality", "to offer (d)",
                   "drop-off", "interviews/hire", "violations"):  # fmt: skip
        table.add_column(column, justify="right")
    for name in names:
        mine = [r for r in rows if r["policy"] == name]
        m, lo, hi = mean_ci(r["return"] for r in mine)

        def avg(key: str, rows: list[dict[str, Any]] = mine) -> float:
            return sum(r[key] for r in rows) / len(rows)

        table.add_row(
            name,
            f"{m:.2f} [{lo:.2f}, {hi:.2f}]",
            f"{avg('hires'):.1f}",
            f"{avg('fill_rate'):.2f}",
            f"{avg('mean_hire_quality'):+.2f}",
            f"{avg('time_to_offer_days'):.1f}",
            f"{avg('drop_off_rate'):.2f}",
            f"{avg('interviews_per_hire'):.1f}",
            f"{sum(r.get('hard_violations', 0) for r in mine)}" if checked else "use --export",
        )
    out.print(table)


@app.command()
@one_line_errors
def check(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory.")],
    schedule: Annotated[Path, typer.Argument(help="schedule.csv to check.")],
    offers: Annotated[Path | None, typer.Option(help="offers.csv to check too.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per violation.")] = False,
) -> None:
    """The independent validator: exit 0 when no hard constraint is violated, else 1."""
    from scheduler.validator import check_schedule

    for path in (snapshot_dir, schedule, *([offers] if offers else [])):
        if not path.exists():
            raise InputProblem(f"{path}: no such file or directory")
    violations = check_schedule(snapshot_dir, schedule, offers)
    for v in violations:
        out.print(json.dumps(v.to_dict()) if as_json else str(v), markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip
    if violations:
        raise typer.Exit(1)
    if not as_json:
        out.print("no hard violations")


@app.command()
@one_line_errors
def solve(
    snapshot_dir: Annotated[
        Path,
        typer.Argument(help="Snapshot directory (isched generate), or a workbook SNAPSHOT.xlsx."),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for schedule.csv, schedule.ics, report.json.")
    ],
    solver: Annotated[
        str, typer.Option(help="cpsat or greedy (PREFIX:ARG names, e.g. rl:MODEL_DIR, as added).")
    ] = "cpsat",
    time_limit: Annotated[
        float, typer.Option("--time-limit", help="Seconds for the whole solve.")
    ] = 30.0,
    workers: Annotated[int, typer.Option(help="CP-SAT search workers (1: reproducible).")] = 2,
    seed: Annotated[int, typer.Option(help="CP-SAT random seed.")] = 0,
    previous: Annotated[
        Path | None,
        typer.Option(help="Previous schedule.csv: re-plan, keeping confirmed interviews."),
    ] = None,
) -> None:
    """Schedule the screens and loops of a snapshot over its planning horizon.

    Writes OUT/schedule.csv, OUT/schedule.ics and OUT/report.json (what could not
    be placed, and the constraint that blocked it). Nothing is written on bad input.
    """
    import contextlib

    import policies.learned_solver  # noqa: F401  (registers rl:MODEL_DIR)
    from scheduler.solver import SolveOptions, get_solver, solve_snapshot, write_outputs

    if time_limit <= 0:
        raise InputProblem("--time-limit must be above 0")
    if workers < 1:
        raise InputProblem("--workers must be at least 1")
    get_solver(solver)  # an unknown name fails before any work
    tables: contextlib.AbstractContextManager[Path] = contextlib.nullcontext(snapshot_dir)
    if snapshot_dir.suffix.lower() == ".xlsx" and snapshot_dir.is_file():
        from scheduler.workbook import unpacked_workbook

        tables = unpacked_workbook(snapshot_dir)  # one sheet per table
    elif not snapshot_dir.is_dir():
        raise InputProblem(f"{snapshot_dir}: no such snapshot directory")
    if previous is not None and not previous.is_file():
        raise InputProblem(f"--previous {previous}: no such file")
    writable_dir(out_dir, "--out")
    options = SolveOptions(solver=solver, time_limit=time_limit, workers=workers, seed=seed)
    busy = err.status(f"solving ({solver}, up to {time_limit:g} s)...")
    with busy if err.is_terminal else contextlib.nullcontext(), tables as snapshot_path:
        result = solve_snapshot(snapshot_path, options, previous)
        snapshot = result.problem.snapshot
        names = write_outputs(out_dir, result.schedule, result.report, snapshot, result.previous)
    r = result.report
    gap = "n/a" if r["gap"] is None else f"{100 * r['gap']:.2f}% ({r['bound_source']} bound)"
    out.print(
        f"{r['status']}: scheduled {r['scheduled']}, unscheduled {len(r['unscheduled'])}, "
        f"gap {gap}, {r['solve_seconds']:.1f} s; wrote {', '.join(names)} to {out_dir}",
        markup=False,
        highlight=False,
    )


@app.command()
@one_line_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[
        str, typer.Option(help="SQLite file of the job store, or an SQLAlchemy database URL.")
    ] = "isched.db",
    workers: Annotated[int, typer.Option(help="Jobs solved at once; the rest wait.")] = 2,
    files: Annotated[
        Path | None, typer.Option(help="Folder for job files (default: DB.files beside the DB).")
    ] = None,
    max_upload_mb: Annotated[
        float, typer.Option("--max-upload-mb", help="Largest upload, in MB.")
    ] = 50.0,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request line.")
    ] = False,
) -> None:
    """The coordinator's web app and REST API (token: $ISCHED_TOKEN, or DB.token)."""
    import uvicorn

    from isched.web.app import create_app
    from isched.web.settings import MB, make_settings

    if workers < 1:
        raise InputProblem("--workers must be at least 1")
    if not 0 < max_upload_mb <= 4096:
        raise InputProblem("--max-upload-mb must be above 0 and at most 4096")
    settings, generated = make_settings(db, files, workers, max_upload=int(max_upload_mb * MB))
    if generated:
        out.print(f"access token (shown once; stored beside the database): {settings.token}",
                  markup=False, highlight=False)  # fmt: skip
    out.print(f"isched web app on http://{host}:{port}/ (API docs: /docs)", markup=False)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", access_log=access_log)


SHIPPED_MODEL = Path("models/default")
"""The trained model that ships with the repository (loaded by path, from the working
directory: ``make demo`` runs in the repository root)."""


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Where the demo writes.")] = Path(
        "out/demo"
    ),
    episodes: Annotated[int, typer.Option(help="Seasons per policy.")] = 3,
) -> None:
    """The main job on the built-in default scenario, end to end, with no input."""
    out.rule("1. A coordinator snapshot of the default season")
    generate(out_dir=out_dir / "snapshot", scenario="default", seed=0, day=None, fmt="csv")
    out.rule("2. The interview calendar for the next two weeks (CP-SAT), checked")
    solve(snapshot_dir=out_dir / "snapshot", out_dir=out_dir / "schedule", solver="cpsat",
          time_limit=30.0, workers=2, seed=0, previous=None)  # fmt: skip
    check(snapshot_dir=out_dir / "snapshot", schedule=out_dir / "schedule" / "schedule.csv",
          offers=None, as_json=False)  # fmt: skip
    out.rule("3. Whole seasons per policy, each replayed by the independent validator")
    policies = "random,fifo,urgency,greedy,greedy_fit,cpsat"
    if (SHIPPED_MODEL / "model.pt").is_file():  # the trained model in the repository
        policies += f",rl:{SHIPPED_MODEL.as_posix()}"
    simulate(
        scenario="default",
        policy=policies,
        episodes=episodes,
        seed=0,
        out_csv=out_dir / "simulate.csv",
        as_json=False,
        export=out_dir / "seasons",
    )
    out.print(
        f"results in {out_dir}/: snapshot/, schedule/ (schedule.csv, schedule.ics, report.json), "
        "simulate.csv, seasons/POLICY/seedN/"
    )


@app.command()
@one_line_errors
def collect(
    out_dir: Annotated[Path, typer.Option("--out", help="Dataset directory to write.")],
    scenario: Annotated[str, typer.Option(help="tiny, default, large or a YAML file.")] = "tiny",
    behavior: Annotated[
        str,
        typer.Option(help="Comma-separated behaviour policies; NAME+epsE for a fixed epsilon."),
    ] = "random,fifo,urgency,greedy",
    episodes: Annotated[int, typer.Option(help="Seasons per behaviour variant.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the first season.")] = 0,
    epsilon: Annotated[
        str,
        typer.Option(
            help="Comma-separated epsilons: each behaviour is also collected taking a random "
            "valid action with this probability (0 = plain)."
        ),
    ] = "0,0.2,0.5",
    jobs: Annotated[int, typer.Option(help="Processes rolling out seasons (same data).")] = 1,
    label: Annotated[
        str | None,
        typer.Option(
            help="Also record, in every logged state, the action this planner would take "
            "there (column target_action; for --algo hindsight), e.g. cpsat."
        ),
    ] = None,
    minari_id: Annotated[
        str | None,
        typer.Option(
            "--minari",
            help="Also export as this Minari dataset id (under $MINARI_DATASETS_PATH).",
        ),
    ] = None,
) -> None:
    """Roll out behaviour policies and log their transitions as an offline-RL dataset.

    Writes DATASET_DIR/transitions.parquet (scalar columns), arrays.npz (observations
    and action masks) and manifest.json. Every episode is a different season: variant
    V plays seeds SEED + V * EPISODES ... SEED + (V + 1) * EPISODES - 1. With
    --minari ID the dataset is exported to Minari as well (one episode per season).
    With --label cpsat every row also holds the planner's action in that state.
    """
    from policies.offline.dataset import behavior_labels, write_dataset
    from policies.offline.dataset import collect as run

    names = comma_list(behavior)
    try:
        epsilons = [float(e) for e in comma_list(epsilon)]
    except ValueError:
        raise InputProblem(f"--epsilon {epsilon}: expected comma-separated numbers") from None
    if not names:
        raise InputProblem("--behavior: name at least one policy")
    if not epsilons or any(not 0.0 <= e <= 1.0 for e in epsilons):
        raise InputProblem("--epsilon: values must be between 0 and 1")
    if episodes < 1:
        raise InputProblem("--episodes must be at least 1")
    if jobs < 1:
        raise InputProblem("--jobs must be at least 1")
    if label is not None:
        from policies.base import policy_names

        if label not in policy_names():
            raise InputProblem(f"--label {label}: not a policy name (e.g. cpsat)")
    writable_dir(out_dir, "--out")
    if minari_id is not None:
        minari_problem(minari_id)
    labels = behavior_labels(names, epsilons)
    with progress() as bar:
        task = bar.add_task("seasons", total=episodes * len(labels))
        data, manifest = run(scenario, names, episodes, seed, epsilons,
                             on_episode=lambda name, e: bar.advance(task), jobs=jobs,
                             label_with=label)  # fmt: skip
    write_dataset(out_dir, data, manifest)
    out.print(
        f"wrote {data['action'].size} transitions of {episodes * len(labels)} seasons "
        f"({', '.join(labels)}) to {out_dir}" + (f", labelled by {label}" if label else "")
    )
    if minari_id is not None:
        from experiments.minari_export import to_minari

        exported = to_minari(data, manifest, minari_id)
        out.print(f"exported Minari dataset {minari_id} ({exported.total_episodes} episodes)")


def minari_problem(dataset_id: str) -> None:
    """Raise ``InputProblem`` unless Minari is installed and ``dataset_id`` is free and valid."""
    try:
        from minari.dataset.minari_dataset import parse_dataset_id
        from minari.storage import get_dataset_path
    except ImportError:
        raise InputProblem("--minari: Minari is not installed (pip install minari)") from None
    try:
        parse_dataset_id(dataset_id)
    except ValueError:
        raise InputProblem(
            f"--minari {dataset_id}: expected (namespace/)name-vN, e.g. isched/default-mixed-v0"
        ) from None
    if get_dataset_path(dataset_id).exists():
        path = get_dataset_path(dataset_id)
        raise InputProblem(f"--minari {dataset_id}: a Minari dataset of that id exists ({path})")


@app.command()
@one_line_errors
def train(
    dataset_dir: Annotated[Path, typer.Argument(help="Dataset directory (isched collect).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    algo: Annotated[str, typer.Option(help="cql, iql, bcq, bc or hindsight.")] = "cql",
    steps: Annotated[int | None, typer.Option(help="Gradient steps (default: per algo).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of torch, numpy and sampling.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "cpu",
    threads: Annotated[int, typer.Option(help="Torch CPU threads.")] = 1,
    ensemble: Annotated[
        int | None, typer.Option(help="cql: Q-networks averaged when acting (default 3).")
    ] = None,
) -> None:
    """Train an offline-RL policy (masked CQL, IQL, BCQ or behaviour cloning) on a dataset.

    Writes MODEL_DIR/model.pt, config.json and train_log.csv; run the result with
    `isched simulate --policy rl:MODEL_DIR`.
    """
    from policies.offline import ALGOS

    if algo not in ALGOS:
        raise InputProblem(f"--algo {algo}: choose from {', '.join(ALGOS)}")
    if not (dataset_dir / "manifest.json").is_file():
        raise InputProblem(f"{dataset_dir}: not a dataset directory (no manifest.json)")
    if steps is not None and steps < 1:
        raise InputProblem("--steps must be at least 1")
    if ensemble is not None and (ensemble < 1 or algo != "cql"):
        raise InputProblem("--ensemble: a whole number of at least 1, for --algo cql only")
    if device not in ("auto", "cpu", "cuda"):
        raise InputProblem(f"--device {device}: choose auto, cpu or cuda")
    writable_dir(out_dir, "--out")
    from policies.offline.train import train_model

    summary = train_model(dataset_dir, algo, out_dir, device=device, steps=steps, seed=seed,
                          threads=threads, ensemble=ensemble)  # fmt: skip
    out.print(
        f"trained {algo} for {summary['steps']} steps on {summary['transitions']} transitions "
        f"in {summary['seconds']:.1f} s; wrote {out_dir}/model.pt (policy rl:{out_dir})"
    )


@app.command()
@one_line_errors
def compare(
    config_path: Annotated[Path, typer.Argument(help="Experiment config (YAML, CLI.md).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Results, report and plots go here.")],
    backend: Annotated[str, typer.Option(help="local (process pool) or ray.")] = "local",
    address: Annotated[
        str | None, typer.Option(help="Address of an existing Ray cluster (with --backend ray).")
    ] = None,
    workers: Annotated[int, typer.Option(help="Processes, or CPUs of a local Ray.")] = 2,
    rerun: Annotated[
        str,
        typer.Option(
            help="Comma-separated policy labels or bound kinds whose finished rows run "
            "again (after a change to their code)."
        ),
    ] = "",
) -> None:
    """Run an experiment: every policy and bound on every scenario and test seed.

    Writes DIR/results.parquet (one row per scenario, policy, seed), DIR/report.md,
    DIR/report.html and DIR/plots/. Running it again resumes: finished rows are kept
    and only missing ones run. A row is kept whatever the code version: after a
    change to a policy or a bound, name it in --rerun.
    """
    from rich.progress import TimeRemainingColumn

    from experiments.config import load_config
    from experiments.report import write_report
    from experiments.runner import BACKENDS, run_experiment

    if backend not in BACKENDS:
        raise InputProblem(f"--backend {backend}: choose from {', '.join(BACKENDS)}")
    if workers < 1:
        raise InputProblem("--workers must be at least 1")
    if address is not None and backend != "ray":
        raise InputProblem("--address needs --backend ray")
    config = load_config(config_path)
    writable_dir(out_dir, "--out")
    command = f"isched compare {config_path} --out {out_dir}" + (
        f" --backend {backend}" if backend != "local" else ""
    )
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    counts = {"new": 0}
    with bar:
        task = bar.add_task("seasons", total=None)

        def start(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.reset(task, completed=done, total=total)  # the ETA counts only this run

        def row(_: dict[str, Any]) -> None:
            counts["new"] += 1
            bar.advance(task)

        frame = run_experiment(
            config,
            out_dir,
            backend=backend,
            workers=workers,
            address=address,
            on_start=start,
            on_row=row,
            on_message=lambda m: err.print(m, markup=False),
            rerun=comma_list(rerun),
        )
    write_report(config, frame, out_dir, command)
    out.print(
        f"{len(frame)} rows ({counts['new']} new) in {out_dir}/results.parquet; "
        f"report {out_dir}/report.md, {out_dir}/report.html, plots in {out_dir}/plots/",
        markup=False,
        highlight=False,
    )


@app.command()
@one_line_errors
def plot(
    snapshot_dir: Annotated[Path, typer.Argument(help="Snapshot directory (simulate --export).")],
    schedule: Annotated[Path, typer.Argument(help="schedule.csv (simulate --export or solve).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the charts.")],
) -> None:
    """Gantt charts of a schedule per interviewer and per office, coloured by stage."""
    from experiments.plots import gantt

    if not snapshot_dir.is_dir():
        raise InputProblem(f"{snapshot_dir}: no such snapshot directory")
    if not schedule.is_file():
        raise InputProblem(f"{schedule}: no such file")
    writable_dir(out_dir, "--out")
    paths = gantt(snapshot_dir, schedule, out_dir)
    out.print(f"wrote {', '.join(p.name for p in paths)} to {out_dir}", markup=False)


@app.command("train-ppo")
@one_line_errors
def train_ppo(
    out_dir: Annotated[Path, typer.Option("--out", help="Model directory to write.")],
    scenario: Annotated[str, typer.Option(help="tiny, default, large or a YAML file.")] = "tiny",
    steps: Annotated[int, typer.Option(help="Environment steps of training.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the network and the training seasons.")] = 0,
    eval_every: Annotated[
        int, typer.Option(help="Steps between learning-curve rows (0: a tenth of --steps).")
    ] = 0,
) -> None:
    """Train MaskablePPO (sb3-contrib) online on the env; run it as ppo:MODEL_PATH.

    Trains on tuning seasons (seeds below 500000), logs the return on three fixed
    tuning seasons against steps and wall time in MODEL_PATH/train_log.csv.
    """
    import gymnasium as gym

    import envs
    from policies.ppo import PpoSettings
    from policies.ppo import train_ppo as run

    if steps < 1:
        raise InputProblem("--steps must be at least 1")
    if eval_every < 0:
        raise InputProblem("--eval-every must not be negative")
    gym.make(envs.ENV_ID, scenario=scenario)  # an unknown scenario fails before any work
    writable_dir(out_dir, "--out")
    summary = run(
        PpoSettings(scenario=scenario, steps=steps, seed=seed, eval_every=eval_every), out_dir
    )
    out.print(
        f"trained MaskablePPO for {steps} steps in {summary['train_seconds']:.1f} s "
        f"(return {summary['final_eval_return']:.2f} on tuning seasons); "
        f"wrote {out_dir} (policy ppo:{out_dir})",
        markup=False,
    )


@app.command()
@one_line_errors
def bound(
    scenario: Annotated[str, typer.Option(help="tiny, default, large or a YAML file.")] = "tiny",
    kind: Annotated[
        str,
        typer.Option(
            help="hindsight, information, penalized or quality_known"
            " (a reference for cpsat_quality_known)."
        ),
    ] = "information",
    episodes: Annotated[int, typer.Option(help="Seasons.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the first season (as isched simulate).")] = 0,
    out_csv: Annotated[Path | None, typer.Option("--out", help="Write one row per season.")] = None,
) -> None:
    """Upper bounds on what any online policy can earn: one row per season and the mean.

    hindsight reveals the whole season (it bounds every season's return);
    information reveals no more than the env lets a policy learn (it bounds the
    expected return: compare means over many seasons); penalized holds seats per
    season and charges a penalty for what it reveals (in expectation too).
    """
    from experiments.bounds import bound_row, check_bound
    from policies.rollout import mean_ci
    from scheduler.scenario import load_scenario

    problem = check_bound(kind)
    if problem is not None:
        raise InputProblem(f"--kind: {problem}")
    if episodes < 1:
        raise InputProblem("--episodes must be at least 1")
    if out_csv is not None and out_csv.is_dir():
        raise InputProblem(f"--out {out_csv}: is a directory, expected a CSV file path")
    name = load_scenario(scenario).name  # an unknown scenario fails before any work
    rows = []
    with progress() as bar:
        task = bar.add_task(f"{kind} bound", total=episodes)
        for e in range(episodes):
            found = bound_row(kind)(scenario, seed + e)
            rows.append({"scenario": name, "seed": seed + e, "kind": kind,
                         "bound": found["return"], "status": found["status"],
                         "seconds": found["seconds"]})  # fmt: skip
            bar.advance(task)
    if out_csv is not None:
        import pandas as pd

        out_csv.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_csv.with_suffix(out_csv.suffix + ".tmp")
        pd.DataFrame(rows).to_csv(tmp, index=False)
        tmp.replace(out_csv)
    table = Table(title=f"{name}: {kind} bound, {episodes} seasons from seed {seed}")
    for column in ("seed", "bound", "status", "seconds"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r["seed"]), f"{r['bound']:.2f}", r["status"], f"{r['seconds']:.1f}")
    out.print(table)
    m, lo, hi = mean_ci(r["bound"] for r in rows)
    out.print(f"mean {kind} bound {m:.2f} [95% CI {lo:.2f}, {hi:.2f}] over {episodes} seasons",
              markup=False, highlight=False)  # fmt: skip


def main() -> None:
    app()


if __name__ == "__main__":
    main()
