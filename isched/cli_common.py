"""What every ``isched`` command shares: the app, its consoles and the one-line error rule."""

from __future__ import annotations

import sys
from collections.abc import Callable
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

    return wrapper  # type: ignore[return-value]


def comma_list(text: str) -> list[str]:
    """The non-empty, stripped items of a comma-separated option."""
    return [item.strip() for item in text.split(",") if item.strip()]


def seed_option(seed: int, option: str = "--seed") -> None:
    """Seeds of seasons and generators are whole numbers from 0 (numpy and Gymnasium's rule)."""
    if seed < 0:
        raise InputProblem(f"{option} must be at least 0, got {seed}")


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
