"""The researcher's ``isched`` commands: datasets, training, experiments and bounds."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from experiments.files import staged_dir
from isched.cli_common import (
    STDOUT,
    InputProblem,
    app,
    comma_list,
    err,
    interrupted_leaves,
    on_interrupt,
    one_line_errors,
    out,
    progress,
    seed_option,
    writable_dir,
    writable_file,
    write_rows_csv,
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
    seed_option(seed)
    if jobs < 1:
        raise InputProblem("--jobs must be at least 1")
    from experiments.config import TUNING_SEEDS_END

    last = seed + episodes * len(behavior_labels(names, epsilons)) - 1
    if last >= TUNING_SEEDS_END:
        err.print(f"warning: seeds {max(seed, TUNING_SEEDS_END)}-{last} are test seeds (from "
                  f"{TUNING_SEEDS_END}): a model trained on them must not be measured on "
                  "them", markup=False, soft_wrap=True)  # fmt: skip
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
    seed_option(seed, most=2**32 - 1)  # numpy's and torch's seeds
    if threads < 1:
        raise InputProblem(f"--threads must be at least 1, got {threads}")
    if ensemble is not None and (ensemble < 1 or algo != "cql"):
        raise InputProblem("--ensemble: a whole number of at least 1, for --algo cql only")
    if device not in ("auto", "cpu", "cuda"):
        raise InputProblem(f"--device {device}: choose auto, cpu or cuda")
    writable_dir(out_dir, "--out")
    from policies.offline.train import train_model

    with interrupted_leaves(out_dir), staged_dir(out_dir) as staging:
        summary = train_model(dataset_dir, algo, staging, device=device, steps=steps,
                              seed=seed, threads=threads, ensemble=ensemble)  # fmt: skip
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

    from experiments.config import TUNING_SEEDS_END, load_config, seeds_role
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
            if config.seed_start < TUNING_SEEDS_END:  # fine for tuning, not held out
                err.print(f"warning: {seeds_role(config.seed_start, config.seed_count)}",
                          markup=False, highlight=False, soft_wrap=True)  # fmt: skip
            bar.update(task, completed=done, total=total)
            bar.reset(task, completed=done, total=total)  # the ETA counts only this run

        def row(_: dict[str, Any]) -> None:
            counts["new"] += 1
            bar.advance(task)

        def kept() -> str:
            return (
                f"{counts['new']} new rows kept in {out_dir}; the same command goes on from there"
            )

        with on_interrupt(kept):
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


def trained_steps(summary: dict[str, Any], asked: int) -> str:
    """``N steps``, and that PPO rounds ``--steps`` up to whole rollouts when it did."""
    done = int(summary.get("trained_steps", asked))
    return f"{done} steps" if done == asked else f"{done} steps ({asked} asked, whole rollouts)"


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
    seed_option(seed, most=2**32 - 1)  # numpy's and torch's seeds
    gym.make(envs.ENV_ID, scenario=scenario)  # an unknown scenario fails before any work
    writable_dir(out_dir, "--out")
    settings = PpoSettings(scenario=scenario, steps=steps, seed=seed, eval_every=eval_every)
    with interrupted_leaves(out_dir), staged_dir(out_dir) as staging:
        summary = run(settings, staging)
    out.print(
        f"trained MaskablePPO for {trained_steps(summary, steps)} in "
        f"{summary['train_seconds']:.1f} s "
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
    out_csv: Annotated[
        Path | None, typer.Option("--out", help="Write one row per season (- for stdout).")
    ] = None,
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
    seed_option(seed)
    if out_csv is not None:
        writable_file(out_csv, "--out")
    name = load_scenario(scenario).name  # an unknown scenario fails before any work
    rows: list[dict[str, Any]] = []
    kept = f"; {out_csv} is as it was" if out_csv not in (None, STDOUT) else ""
    stopped = on_interrupt(
        lambda: f"{len(rows)} of {episodes} seasons bounded, no row written{kept}"
    )
    with stopped, progress() as bar:
        task = bar.add_task(f"{kind} bound", total=episodes)
        for e in range(episodes):
            found = bound_row(kind)(scenario, seed + e)
            rows.append({"scenario": name, "seed": seed + e, "kind": kind,
                         "bound": found["return"], "status": found["status"],
                         "seconds": found["seconds"]})  # fmt: skip
            bar.advance(task)
    if out_csv is not None:
        write_rows_csv(rows, out_csv)
    if out_csv == STDOUT:  # the rows are the output: no table after them
        return
    seasons = "1 season" if episodes == 1 else f"{episodes} seasons"
    table = Table(title=f"{name}: {kind} bound, {seasons} from seed {seed}")
    for column in ("seed", "bound", "status", "seconds"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(str(r["seed"]), f"{r['bound']:.2f}", r["status"], f"{r['seconds']:.1f}")
    out.print(table)
    m, lo, hi = mean_ci(r["bound"] for r in rows)
    ci = f" [95% CI {lo:.2f}, {hi:.2f}]" if episodes > 1 else " (one season: no CI)"
    out.print(f"mean {kind} bound {m:.2f}{ci} over {seasons}", markup=False, highlight=False)
