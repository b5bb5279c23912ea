"""The local target's report: one HTML page with every step's numbers and plots, and a short
summary for the terminal."""

from __future__ import annotations

import html
import os
from pathlib import Path

from workshopctl.local.workspace import Metric, StepReport

_MAX_TABLE_ROWS = 30

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: .2rem; }
section { border-top: 1px solid #ddd; padding-top: .5rem; margin-top: 1.5rem; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
td, th { border: 1px solid #ccc; padding: .2rem .5rem; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.met { color: #176e1a; font-weight: 600; } .missed { color: #b00020; font-weight: 600; }
img { max-width: 32rem; margin: .3rem; border: 1px solid #eee; }
"""


def _verdict(metric: Metric) -> str:
    if metric.met is None:
        return ""
    return "met" if metric.met else "MISSED"


def _css_class(metric: Metric) -> str:
    return {True: "met", False: "missed", None: ""}[metric.met]


def _metric_value(metric: Metric) -> str:
    """A number to four significant digits; an outcome ("promoted", "Failed") as it is."""
    if isinstance(metric.value, int | float):
        return f"{metric.value:.4g}"
    return str(metric.value)


def _table_html(rows: list[dict]) -> str:
    if not rows:
        return "<p>(no rows)</p>"
    names = list(rows[0])
    head = "".join(f"<th>{html.escape(str(name))}</th>" for name in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(row.get(n, '')))}</td>" for n in names) + "</tr>"
        for row in rows[:_MAX_TABLE_ROWS]
    )
    more = (
        f"<p>({len(rows) - _MAX_TABLE_ROWS} more rows)</p>" if len(rows) > _MAX_TABLE_ROWS else ""
    )
    return f"<table><tr>{head}</tr>{body}</table>{more}"


def _section_html(report: StepReport, base: Path) -> str:
    parts = [f"<section><h2>{html.escape(report.title)}</h2>"]
    parts.append(f"<p class='sub'>{report.seconds:.1f} s</p>")
    parts += [f"<p>{html.escape(line)}</p>" for line in report.lines]
    if report.metrics:
        rows = "".join(
            f"<tr><td>{html.escape(m.name)}</td><td>{html.escape(_metric_value(m))}</td>"
            f"<td>{html.escape(m.target)}</td>"
            f"<td class='{_css_class(m)}'>{_verdict(m)}</td></tr>"
            for m in report.metrics
        )
        parts.append(
            f"<table><tr><th>metric</th><th>value</th><th>target</th><th></th></tr>{rows}</table>"
        )
    for name, rows in report.tables.items():
        parts.append(f"<h3>{html.escape(name)}</h3>{_table_html(rows)}")
    images = [a for a in report.artifacts if a.suffix == ".png"]
    others = [a for a in report.artifacts if a.suffix != ".png"]
    parts += [f"<img src='{_relative(a, base)}' alt='{html.escape(a.name)}'>" for a in images]
    if others:
        links = "".join(
            f"<li><a href='{_relative(a, base)}'>{html.escape(a.name)}</a></li>" for a in others
        )
        parts.append(f"<ul>{links}</ul>")
    parts.append("</section>")
    return "".join(parts)


def _relative(path: Path, base: Path) -> str:
    return html.escape(os.path.relpath(path, base))


def write_html(reports: list[StepReport], path: Path, *, failed: str | None = None) -> Path:
    total = sum(r.seconds for r in reports)
    status = f"<p class='missed'>Stopped: {html.escape(failed)}</p>" if failed else ""
    body = "".join(_section_html(report, path.parent) for report in reports)
    path.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Workshop rehearsal</title>"
        f"<style>{_STYLE}</style></head><body><h1>Workshop rehearsal (local target)</h1>"
        f"<p class='sub'>{len(reports)} steps in {total:.1f} s; no AWS account, no Docker</p>"
        f"{status}{body}</body></html>"
    )
    return path


def terminal_summary(reports: list[StepReport]) -> str:
    lines = []
    for report in reports:
        lines.append(f"  {report.title:<48} {report.seconds:7.1f} s")
        for metric in report.metrics:
            verdict = _verdict(metric)
            target = f" (target {metric.target}: {verdict})" if metric.target else ""
            lines.append(f"      {metric.name}: {_metric_value(metric)}{target}")
    lines.append(f"  {'total':<48} {sum(r.seconds for r in reports):7.1f} s")
    return "\n".join(lines)
