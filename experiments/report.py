"""``DIR/report.md`` and ``DIR/report.html``: the config, tables, plots, the command that
reproduces them and a plain reading generated from the numbers.

A report is a list of blocks (heading, paragraph, bullets, table, image, code)
rendered twice, to Markdown and to HTML, so both say the same. ``summary_blocks``
(tables and reading without wall-clock numbers) is also written as
``DIR/summary.md``, the part ``experiments.readme`` copies into the README.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import plots
from experiments.config import ExperimentConfig, member_dir, member_label, seeds_role
from experiments.files import write_atomic
from experiments.stats import Estimate
from experiments.summary import (
    PolicyLine,
    ScenarioSummary,
    TrainingSpread,
    normalized_scores,
    summarize,
)


@dataclass
class Block:
    kind: str
    """heading, text, bullets, table, image or code."""
    content: object
    level: int = 2


def write_report(
    config: ExperimentConfig, frame: pd.DataFrame, out_dir: Path, command: str
) -> list[Path]:
    """Plots, report.md, report.html and summary.md for the rows in ``frame``."""
    summaries = summarize(frame, config.baseline)
    figures = make_plots(config, frame, summaries, out_dir)
    summary = summary_blocks(summaries, command)
    blocks = [
        Block("heading", f"Experiment {config.name}", 1),
        Block(
            "text",
            f"{len(frame)} rows: {_count(len(config.scenarios), 'scenario')}, "
            f"{_count(len(config.policies), 'policy', 'policies')}, "
            f"{_count(len(config.bounds), 'bound')}, "
            f"{seeds_role(config.seed_start, config.seed_count)}.",
        ),
        *summary,
        Block("heading", "Decision time"),
        decision_table(summaries),
        Block("heading", "Plots"),
        *[Block("image", p.relative_to(out_dir).as_posix()) for p in figures if p.suffix == ".png"],
        Block("heading", "Config"),
        Block(
            "text",
            f"config hash {config.digest()}; code "
            f"{', '.join(sorted(set(frame['code_version'])))}; packages "
            f"{'; '.join(sorted(set(frame['packages'])))}.",
        ),
        Block("code", config.text.rstrip()),
    ]
    write_atomic(out_dir / "summary.md", render_markdown(summary))
    write_atomic(out_dir / "report.md", render_markdown(blocks))
    write_atomic(out_dir / "report.html", render_html(blocks, config.name))
    return [out_dir / "report.md", out_dir / "report.html", *figures]


def make_plots(
    config: ExperimentConfig, frame: pd.DataFrame, summaries: list[ScenarioSummary], out_dir: Path
) -> list[Path]:
    where = out_dir / "plots"
    figures = plots.policy_intervals(summaries, where)
    if any(len(s.lines) > 1 for s in summaries):
        figures += plots.improvement(summaries, where)
    scores = normalized_scores(frame, summaries)
    if scores:
        figures += plots.performance_profiles(scores, where)
    models = {}
    for step in config.train:
        folder = out_dir / "models" / step.name
        if step.training_seeds:
            for seed in step.training_seeds:
                models[member_label(step.name, seed)] = member_dir(folder, seed)
        else:
            models[step.name] = folder
    logged = {n: d for n, d in models.items() if (d / "train_log.csv").is_file()}
    if logged:
        figures += plots.learning_curves(logged, where)
    return figures


def summary_blocks(summaries: list[ScenarioSummary], command: str) -> list[Block]:
    """The reproducing command, the reading and one results table per scenario."""
    blocks = [
        Block("heading", "Reproduce"),
        Block("code", command),
        Block("heading", "Reading"),
        Block("bullets", reading(summaries)),
    ]
    for s in summaries:
        blocks.append(Block("heading", f"{s.scenario} (baseline {s.baseline})", 3))
        blocks.append(results_table(s))
        if s.training:
            blocks.append(Block("text", f"Trained with several seeds ({s.scenario}): each "
                                "member's mean return and its paired difference to "
                                f"{s.baseline}; the line above is their mean, season by "
                                "season."))  # fmt: skip
            blocks.append(training_table(s))
    return blocks


def shown(line: PolicyLine) -> str:
    """A policy's name in tables and sentences (a trained group says over how many seeds)."""
    if line.training_seeds:
        return f"{line.policy} (mean of {_count(line.training_seeds, 'training seed')})"
    return line.policy


def training_table(s: ScenarioSummary) -> Block:
    header = ["policy", "training seeds", "mean return per seed", "mean (sd over seeds)",
              f"each seed minus {s.baseline} (paired)"]  # fmt: skip
    rows = [
        [
            t.policy,
            ", ".join(str(x) for x in t.seeds),
            " / ".join(f"{m:.2f}" for m in t.means),
            f"{np.mean(t.means):.2f} ({t.sd:.2f})",
            " / ".join(_signed(v) for v in t.versus_baseline),
        ]
        for t in s.training
    ]
    return Block("table", (header, rows))


def results_table(s: ScenarioSummary) -> Block:
    header = [
        "policy",
        "seasons",
        "IQM [95% CI]",
        "mean [95% CI]",
        f"minus {s.baseline} (paired)",
        f"P(> {s.baseline})",
        "gap to bound",
        "hires",
        "fill",
        "interviews / hire",
    ]
    rows = []
    for line in s.lines:
        rows.append(
            [
                shown(line),
                str(line.seasons),
                str(line.iqm),
                str(line.mean),
                _signed(line.versus_baseline),
                _prob(line.improvement),
                str(line.gap) if line.gap else "n/a",
                _num(line.kpis.get("hires"), 1),
                _num(line.kpis.get("fill_rate"), 2),
                _num(line.kpis.get("interviews_per_hire"), 1),
            ]
        )
    for kind, bound in s.bounds.items():
        rows.append([f"{kind} (bound)", "", "", str(bound), "", "", "", "", "", ""])
    return Block("table", (header, rows))


def decision_table(summaries: list[ScenarioSummary]) -> Block:
    header = [
        "scenario",
        "policy",
        "median per decision (ms)",
        "mean per decision (ms)",
        "per working day (ms)",
        "baseline's per day ÷ this (paired)",
    ]
    rows = [
        [
            s.scenario,
            line.policy,
            _num(line.kpis.get("decision_ms_median"), 3),
            _num(line.kpis.get("decision_ms_mean"), 3),
            _num(line.kpis.get("decision_ms_per_day"), 1),
            "—" if line.policy == s.baseline else _ratio(line.baseline_time_ratio),
        ]
        for s in summaries
        for line in s.lines
    ]
    return Block("table", (header, rows))


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _ratio(e: Estimate | None) -> str:
    if e is None:
        return "n/a"
    return f"{e.value:.1f}× [{e.low:.1f}, {e.high:.1f}]"


def reading(summaries: list[ScenarioSummary]) -> list[str]:
    """Plain sentences from the numbers: who beats the baseline, by how much, how surely."""
    out = []
    for s in summaries:
        most = max(line.seasons for line in s.lines)
        ranked = [line for line in s.lines if line.seasons == most]  # the same seasons
        best = max(ranked, key=lambda line: line.iqm.value)
        sentence = f"On {s.scenario}, {shown(best)} has the highest IQM return, {best.iqm}"
        if len(ranked) < len(s.lines):
            sentence += f", of the policies that played all {most} seasons"
        if best.gap is not None:
            sentence += f"; the tightest bound lies {best.gap} above it per season"
        out.append(sentence + ".")
        fewer = [f"{line.policy} ({line.seasons})" for line in s.lines if line.seasons < most]
        if fewer:
            out.append(f"{s.scenario}: played on fewer seasons, so not ranked by IQM: "
                       f"{', '.join(fewer)}; compare them by their paired lines.")  # fmt: skip
        for line in s.lines:
            d, p = line.versus_baseline, line.improvement
            if d is None or p is None:
                continue
            if line.paired < 2:
                out.append(f"{s.scenario}: {line.policy} has {line.paired} season paired with "
                           f"{s.baseline}: too few to compare.")  # fmt: skip
                continue
            name = shown(line)
            if d.low > 0 or d.high < 0:
                verdict = f"{name} {'beats' if d.low > 0 else 'loses to'} {s.baseline}"
            else:
                verdict = f"{name} and {s.baseline} are not distinguishable"
            out.append(
                f"{s.scenario}: {verdict}: {_signed(d)} per season (paired over "
                f"{line.paired} seasons), probability of improvement {_prob(p)}."
            )
        out += [spread_sentence(s.scenario, t) for t in s.training]
    return out


def spread_sentence(scenario: str, t: TrainingSpread) -> str:
    """How far a trained group's members lie apart."""
    seeds = ", ".join(str(x) for x in t.seeds)
    means = " / ".join(f"{m:.2f}" for m in t.means)
    return (f"{scenario}: {t.policy} over training seeds {seeds} returns {means} "
            f"(sd {t.sd:.2f} over seeds).")  # fmt: skip


def _signed(e: Estimate | None) -> str:
    return "—" if e is None else f"{e.value:+.2f} [{e.low:+.2f}, {e.high:+.2f}]"


def _prob(e: Estimate | None) -> str:
    return "—" if e is None else f"{e.value:.2f} [{e.low:.2f}, {e.high:.2f}]"


def _num(value: float | None, digits: int) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def render_markdown(blocks: list[Block]) -> str:
    parts = []
    for b in blocks:
        if b.kind == "heading":
            parts.append(f"{'#' * b.level} {b.content}")
        elif b.kind == "text":
            parts.append(str(b.content))
        elif b.kind == "bullets":
            parts.append("\n".join(f"- {item}" for item in b.content))  # type: ignore[attr-defined]
        elif b.kind == "code":
            parts.append(f"```\n{b.content}\n```")
        elif b.kind == "image":
            parts.append(f"![{Path(str(b.content)).stem}]({b.content})")
        elif b.kind == "table":
            head: list[str] = list(b.content[0])  # type: ignore[index]
            body: list[list[str]] = list(b.content[1])  # type: ignore[index]
            lines = [
                "| " + " | ".join(head) + " |",
                "| " + " | ".join("---" for _ in head) + " |",
            ]
            lines += ["| " + " | ".join(row) + " |" for row in body]
            parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def render_html(blocks: list[Block], title: str) -> str:
    e = html.escape
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
        "text-align:right}td:first-child{text-align:left}img{max-width:100%}"
        "pre{background:#f4f4f4;padding:1em}</style></head><body>",
    ]
    for b in blocks:
        if b.kind == "heading":
            parts.append(f"<h{b.level}>{e(str(b.content))}</h{b.level}>")
        elif b.kind == "text":
            parts.append(f"<p>{e(str(b.content))}</p>")
        elif b.kind == "bullets":
            items = "".join(f"<li>{e(item)}</li>" for item in b.content)  # type: ignore[attr-defined]
            parts.append(f"<ul>{items}</ul>")
        elif b.kind == "code":
            parts.append(f"<pre>{e(str(b.content))}</pre>")
        elif b.kind == "image":
            parts.append(f"<p><img src='{e(str(b.content))}' alt='{e(str(b.content))}'></p>")
        elif b.kind == "table":
            header: list[str] = list(b.content[0])  # type: ignore[index]
            rows: list[list[str]] = list(b.content[1])  # type: ignore[index]
            head = "".join(f"<th>{e(h)}</th>" for h in header)
            body = "".join(
                "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
