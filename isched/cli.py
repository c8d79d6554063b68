"""The ``isched`` command line (contract: CLI.md): the coordinator's commands.

The research commands (collect, train, compare, train-ppo, bound) are in
``isched.cli_research``; both register on the one ``app`` of ``isched.cli_common``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from isched.cli_common import (
    STDOUT,
    InputProblem,
    app,
    comma_list,
    err,
    interrupted_writing,
    on_interrupt,
    one_line_errors,
    out,
    progress,
    run_app,
    seed_option,
    writable_dir,
    writable_file,
    write_rows_csv,
)

__all__ = ["InputProblem", "app", "comma_list", "main"]


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

    seed_option(seed)
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
        Path | None,
        typer.Option("--out", help="Write one row per episode (CSV, .parquet; - for stdout)."),
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
    if not names:
        raise InputProblem("--policy: name at least one policy (e.g. greedy_fit,cpsat)")
    twice = next((name for i, name in enumerate(names) if name in names[:i]), None)
    if twice is not None:
        raise InputProblem(f"--policy: {twice} is named twice")
    for name in names:
        make_policy(name)  # fail early on an unknown name
    if episodes < 1:
        raise InputProblem("--episodes must be at least 1")
    seed_option(seed)
    if export is not None:
        writable_dir(export, "--export")
    if out_csv is not None:
        writable_file(out_csv, "--out")
    if out_csv == STDOUT and as_json:
        raise InputProblem("--out - and --json both write to standard output: choose one")

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

        kept = f"; each season written under {export} is whole" if export else ""
        with on_interrupt(lambda: f"no summary{kept}"):
            rows = run(scenario, names, episodes, seed, on_episode=done)
    played = [r for r in rows if r["policy"] != "hindsight"]  # the bound plays no season
    for row, found in zip(played, checked, strict=False):
        row["hard_violations"] = found
    if out_csv is not None:
        write_rows_csv(rows, out_csv)
    if out_csv == STDOUT:  # the rows are the output: no table after them
        return
    if as_json:  # NaN (a KPI of a season without hires) is not JSON: null
        out.print_json(json.dumps([{k: None if v != v else v for k, v in r.items()} for r in rows]))
        return
    seasons = "1 season" if episodes == 1 else f"{episodes} seasons"
    table = Table(title=f"{rows[0]['scenario']}: {seasons} from seed {seed}")
    for column in ("policy", "return (95% CI)", "hires", "fill", "quality", "to offer (d)",
                   "drop-off", "interviews/hire", "violations"):  # fmt: skip
        table.add_column(column, justify="right")
    for name in names:
        mine = [r for r in rows if r["policy"] == name]
        m, lo, hi = mean_ci(r["return"] for r in mine)

        def avg(key: str, rows: list[dict[str, Any]] = mine) -> float:
            """The mean over the seasons that have the KPI (NaN: a season without hires)."""
            found = [r[key] for r in rows if r[key] == r[key]]
            return sum(found) / len(found) if found else math.nan

        table.add_row(
            name,
            f"{m:.2f} [{lo:.2f}, {hi:.2f}]" if len(mine) > 1 else f"{m:.2f} (one season)",
            f"{avg('hires'):.1f}",
            f"{avg('fill_rate'):.2f}",
            _or_dash(avg("mean_hire_quality"), "{:+.2f}"),
            _or_dash(avg("time_to_offer_days"), "{:.1f}"),
            _or_dash(avg("drop_off_rate"), "{:.2f}"),
            _or_dash(avg("interviews_per_hire"), "{:.1f}"),
            f"{sum(r.get('hard_violations', 0) for r in mine)}"
            if checked and name != "hindsight"  # a bound plays no season to check
            else "—",
        )
    if not checked:
        table.caption = "violations: each season is checked when written with --export DIR"
    out.print(table)


def _or_dash(value: float, fmt: str) -> str:
    return "—" if value != value else fmt.format(value)


@app.command()
@one_line_errors
def check(
    snapshot_dir: Annotated[
        Path, typer.Argument(help="Snapshot directory (CSV or Parquet tables) or .xlsx workbook.")
    ],
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

    from scheduler.solver import SolveOptions, get_solver, solve_snapshot
    from scheduler.solver.registry import built_in
    from scheduler.solver.warnings import report_warnings

    if not built_in(solver):  # the policies take 0.8 s to import
        import policies.learned_solver  # noqa: F401  (registers rl:MODEL_DIR)

    if time_limit <= 0:
        raise InputProblem("--time-limit must be above 0")
    if workers < 1:
        raise InputProblem("--workers must be at least 1")
    seed_option(seed, most=2**31 - 1)  # CP-SAT's and HiGHS's random_seed is an int32
    get_solver(solver)  # an unknown name fails before any work
    tables: contextlib.AbstractContextManager[Path] = contextlib.nullcontext(snapshot_dir)
    if snapshot_dir.suffix.lower() == ".xlsx" and snapshot_dir.is_file():
        from scheduler.workbook import unpacked_workbook

        tables = unpacked_workbook(snapshot_dir)  # one sheet per table
    elif snapshot_dir.is_file():
        raise InputProblem(f"{snapshot_dir}: a file; expected a snapshot directory or an .xlsx "
                           "workbook (unzip a .zip snapshot first)")  # fmt: skip
    elif not snapshot_dir.is_dir():
        raise InputProblem(f"{snapshot_dir}: no such snapshot directory")
    if previous is not None and not previous.is_file():
        raise InputProblem(f"--previous {previous}: no such file")
    writable_dir(out_dir, "--out")
    options = SolveOptions(solver=solver, time_limit=time_limit, workers=workers, seed=seed)
    busy = err.status(f"solving ({solver}, up to {time_limit:g} s)...")
    spinner = busy if err.is_terminal else contextlib.nullcontext()
    # Ctrl-C ends the search and writes nothing, or comes after all three files are in place
    with spinner, tables as snapshot_path, interrupted_writing(out_dir):
        result = solve_snapshot(snapshot_path, options, previous)
        names = result.write(out_dir)
    r = result.report
    gap = "n/a" if r["gap"] is None else f"{100 * r['gap']:.2f}% ({r['bound_source']} bound)"
    out.print(
        f"{r['status']}: scheduled {r['scheduled']}, unscheduled {len(r['unscheduled'])}, "
        f"gap {gap}, {r['solve_seconds']:.1f} s; wrote {', '.join(names)} to {out_dir}",
        markup=False,
        highlight=False,
    )
    for line in report_warnings(r):
        err.print(f"warning: {line}", markup=False, highlight=False, soft_wrap=True)


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
"""The trained model that ships with the repository (``rl:models/default`` resolves under
the project root from any working directory)."""


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
    from policies.offline.checkpoint import model_dir_of

    if (model_dir_of(SHIPPED_MODEL) / "model.pt").is_file():  # the model in the repository
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


from isched import cli_research  # noqa: E402, F401  (registers the research commands after these)


def main(args: list[str] | None = None) -> None:
    """The ``isched`` command: a usage error is one line on stderr, exit 2."""
    sys.exit(run_app(app, args))


if __name__ == "__main__":
    main()
