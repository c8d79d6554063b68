"""Rewrite the README's marked results section from an experiment's report.

    python -m experiments.readme REPORT_DIR [--readme README.md] [--assets experiments/results]

Copies REPORT_DIR/plots/policies.png (and profiles.png) under ASSETS and puts the
report's summary.md (command, reading, tables; no wall-clock numbers, so the same
results give the same text) between ``<!-- results:start -->`` and
``<!-- results:end -->``. Headings move one level down, under the README's own.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from experiments.files import write_atomic

START, END = "<!-- results:start -->", "<!-- results:end -->"
FIGURES = ("policies", "profiles")


def section(report_dir: Path, assets: Path, readme: Path, title: str) -> str:
    """The section's text; copies the figures it links to under ``assets``."""
    summary = (report_dir / "summary.md").read_text()
    lines = [f"#{line}" if line.startswith("#") else line for line in summary.splitlines()]
    parts = [f"### {title}", "", *lines, ""]
    assets.mkdir(parents=True, exist_ok=True)
    for name in FIGURES:
        figure = report_dir / "plots" / f"{name}.png"
        if figure.is_file():
            target = assets / f"{report_dir.name}_{name}.png"
            shutil.copyfile(figure, target)
            link = target.resolve().relative_to(readme.resolve().parent).as_posix()
            parts += [f"![{name}]({link})", ""]
    return "\n".join(parts)


def rewrite(readme: Path, text: str) -> None:
    """Replace what lies between the markers of ``readme`` with ``text``."""
    old = readme.read_text()
    if old.count(START) != 1 or old.count(END) != 1 or old.index(START) > old.index(END):
        raise ValueError(f"{readme}: expected one {START} ... {END} section")
    head, rest = old.split(START)
    _, tail = rest.split(END)
    write_atomic(readme, f"{head}{START}\n{text.rstrip()}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--readme", type=Path, default=Path("README.md"))
    parser.add_argument("--assets", type=Path, default=Path("experiments/results"))
    parser.add_argument("--title", default="Headline experiment (`make evaluate`)")
    args = parser.parse_args(argv)
    try:
        rewrite(args.readme, section(args.report_dir, args.assets, args.readme, args.title))
    except (OSError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"rewrote the results section of {args.readme} from {args.report_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
