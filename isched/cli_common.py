"""What every ``isched`` command shares: the app, its consoles and the one-line error rule."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

app = typer.Typer(
    help="Interview scheduling for an internship hiring season.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(width=None if sys.stdout.isatty() else 150, emoji=False)
err = Console(stderr=True, emoji=False)  # paths print as given (no :smile:)
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
        except KeyboardInterrupt:  # each output file is written whole or not at all
            err.print("interrupted", markup=False, highlight=False)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@contextlib.contextmanager
def on_interrupt(say: Callable[[], str]) -> Iterator[None]:
    """Ctrl-C inside: ``interrupted: `` and what ``say()`` tells of the outputs (asked then,
    inside the handler, so it can count what was done and read ``sys.exception()``), one
    line on stderr, exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        err.print(f"interrupted: {say()}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None


def interrupted_leaves(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    """``on_interrupt`` for work staged beside ``out_dir`` (``experiments.files.staged_dir``):
    nothing of it was written."""
    return on_interrupt(lambda: _nothing_written(out_dir))


def _nothing_written(out_dir: Path) -> str:
    return f"{out_dir} is as it was (nothing written)"


def interrupted_writing(out_dir: Path) -> contextlib.AbstractContextManager[None]:
    """``interrupted_leaves`` for work that ends by putting its files in place under
    ``scheduler.interrupts.held``: a Ctrl-C that came while they were moved in says that
    they were written whole."""
    from scheduler.interrupts import WrittenThenInterrupted

    def say() -> str:
        stop = sys.exception()  # asked inside on_interrupt's handler: the interrupt
        if isinstance(stop, WrittenThenInterrupted):
            written = ", ".join(Path(name).name for name in stop.written)
            return f"wrote {written} to {out_dir} whole, then stopped"
        return _nothing_written(out_dir)

    return on_interrupt(say)


def _click_error_class() -> type[Exception]:
    """Click's base error class, from typer's public ``BadParameter`` (typer vendors click)."""
    return next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def run_app(command: typer.Typer, args: list[str] | None = None) -> int:
    """Run ``command`` and return its exit code; a usage error is one line on stderr (exit 2)."""
    click_error = _click_error_class()
    try:
        code = command(args=args, prog_name="isched", standalone_mode=False)
    except click_error as problem:
        if type(problem).__name__ == "NoArgsIsHelpError":  # the help is already printed
            return 2
        err.print(usage_line(problem), markup=False, highlight=False, soft_wrap=True)
        return int(getattr(problem, "exit_code", 2))
    except typer.Abort:
        err.print("aborted", markup=False, highlight=False)
        return 1
    return code if isinstance(code, int) else 0


def usage_line(problem: Exception) -> str:
    """``error: MESSAGE; see 'isched COMMAND --help'``, the message on one line."""
    message = " ".join(str(getattr(problem, "format_message", problem.__str__)()).split())
    ctx = getattr(problem, "ctx", None)
    hint = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
    return f"error: {message.rstrip('.')}{hint}"


def comma_list(text: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated option."""
    return [item.strip() for item in text.split(",") if item.strip()]


def seed_option(seed: int, option: str = "--seed", most: int | None = None) -> None:
    """Seeds of seasons and generators are whole numbers from 0 (numpy and Gymnasium's rule);
    a solver's or a network's seed is also at most ``most`` (CP-SAT's 2**31 - 1, torch's)."""
    if seed < 0:
        raise InputProblem(f"{option} must be at least 0, got {seed}")
    if most is not None and seed > most:
        raise InputProblem(f"{option} must be at most {most}, got {seed}")


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


def writable_dir(path: Path, option: str, given: Path | None = None) -> None:
    """Fail early, before any work, when ``path`` cannot become an output directory
    (``given``: the path the user gave, when ``path`` is the folder of an output file)."""
    shown = given or path
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise InputProblem(f"{option} {shown}: {part} is a file, expected a directory")
            _can_write_in(part, shown, option)
            return


STDOUT = Path("-")
"""``--out -``: the rows go to standard output as CSV."""


def writable_file(path: Path, option: str) -> None:
    """Fail early, before any work, when ``path`` cannot become an output file (``-``,
    standard output, always can)."""
    if path == STDOUT:
        return
    if path.suffix.lower() not in ("", ".csv", ".parquet"):
        raise InputProblem(f"{option} {path}: rows are written as .csv or .parquet, "
                           f"not {path.suffix}")  # fmt: skip
    if path.is_dir():
        raise InputProblem(f"{option} {path}: is a directory, expected a CSV file path")
    writable_dir(path.parent, option, path)


def write_rows_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """One CSV row per dict (a Parquet file when ``path`` ends in ``.parquet``), written
    atomically (``experiments.files.write_atomic``); ``-`` writes CSV to standard output."""
    import pandas as pd

    from experiments.files import write_atomic

    frame = pd.DataFrame(rows)
    if path == STDOUT:
        sys.stdout.write(frame.to_csv(index=False))
        sys.stdout.flush()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        write_atomic(path, frame.to_parquet(index=False))
    else:
        write_atomic(path, frame.to_csv(index=False))


def _can_write_in(folder: Path, path: Path, option: str) -> None:
    """Whether a file can be made in ``folder`` (the nearest existing folder of ``path``)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".isched-probe-"):
            pass
    except OSError as problem:
        why = problem.strerror or type(problem).__name__
        raise InputProblem(f"{option} {path}: cannot write in {folder} ({why})") from None
