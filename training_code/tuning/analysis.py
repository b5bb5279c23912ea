"""Tuning analysis (module 6.2): trials table, objective plots and one self-contained HTML page.

    python -m training_code.tuning.analysis --results tuning_results.csv --output DIR \
        [--objective-type Maximize] [--objective-name validation:auc]

The input is the local tuner's ``tuning_results.csv`` or any table shaped like sagemaker's
``HyperparameterTuningJobAnalytics(job).dataframe()``: FinalObjectiveValue, TrainingStartTime,
TrainingEndTime, TrainingJobName, TrainingJobStatus, TrainingElapsedTimeSeconds and one column
per tuned hyperparameter. Writes ``trials.csv`` (sorted best first), ``objective_over_time.png``,
``objective_vs_<hyperparameter>.png`` and ``tuning_report.html`` (images inlined).
"""

from __future__ import annotations

import argparse
import base64
import html
import re
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from training_code.contract import JobError, run_job
from training_code.plotting import plt, save

# Columns of the analytics dataframe that are not hyperparameters.
META_COLUMNS = {
    "FinalObjectiveValue", "TrainingStartTime", "TrainingEndTime", "TrainingJobName",
    "TrainingJobStatus", "TrainingElapsedTimeSeconds", "TrainingJobDefinitionName",
}  # fmt: skip


def hyperparameter_columns(results: pd.DataFrame) -> list[str]:
    """Every column that is not analytics metadata is a tuned hyperparameter."""
    return [c for c in results.columns if c not in META_COLUMNS]


def sorted_trials(results: pd.DataFrame, maximize: bool = True) -> pd.DataFrame:
    """Trials best first; failed trials (no objective) last."""
    missing = META_COLUMNS - {"TrainingJobDefinitionName", "TrainingElapsedTimeSeconds",
                              "TrainingJobStatus"} - set(results.columns)  # fmt: skip
    if missing:
        raise JobError(f"tuning results lack column(s) {', '.join(sorted(missing))}")
    table = results.copy()
    table["FinalObjectiveValue"] = pd.to_numeric(table["FinalObjectiveValue"], errors="coerce")
    for column in ("TrainingStartTime", "TrainingEndTime"):
        table[column] = pd.to_datetime(table[column], utc=True, format="ISO8601")
    for column in hyperparameter_columns(table):  # SageMaker may report numbers as text
        as_number = pd.to_numeric(table[column], errors="coerce")
        if as_number.notna().all():
            table[column] = as_number
    table = table.sort_values(
        ["FinalObjectiveValue", "TrainingStartTime"], ascending=[not maximize, True],
        na_position="last", kind="stable",
    )  # fmt: skip
    table.insert(0, "rank", range(1, len(table) + 1))
    return table.reset_index(drop=True)


def plot_over_time(trials: pd.DataFrame, maximize: bool, name: str, path: Path) -> Path:
    """Objective of each job at its start time, with the best-so-far line."""
    ordered = trials.sort_values("TrainingStartTime")
    running = ordered["FinalObjectiveValue"].cummax() if maximize else ordered[
        "FinalObjectiveValue"].cummin()  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.scatter(ordered["TrainingStartTime"], ordered["FinalObjectiveValue"], label="job")
    ax.step(ordered["TrainingStartTime"], running, where="post", color="tab:red",
            label="best so far")  # fmt: skip
    ax.set(xlabel="training start time", ylabel=name, title="Objective over time")
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend()
    return save(fig, path)


def plot_against(trials: pd.DataFrame, column: str, name: str, path: Path) -> Path:
    """Objective against one hyperparameter."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(trials[column], trials["FinalObjectiveValue"], c=range(len(trials)), cmap="viridis")
    ax.set(xlabel=column, ylabel=name, title=f"{name} vs {column}")
    return save(fig, path)


def _inline(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def analyse(
    results: pd.DataFrame, output: Path, maximize: bool = True, name: str = "objective"
) -> dict[str, Path]:
    """Write the table, plots and HTML page; returns their paths by role."""
    output.mkdir(parents=True, exist_ok=True)
    trials = sorted_trials(results, maximize)
    done = trials[trials["FinalObjectiveValue"].notna()]
    if done.empty:
        raise JobError("no trial has an objective value")
    files = {"table": output / "trials.csv"}
    trials.to_csv(files["table"], index=False)
    files["over_time"] = plot_over_time(done, maximize, name, output / "objective_over_time.png")
    for column in hyperparameter_columns(results):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", column)
        files[column] = plot_against(done, column, name, output / f"objective_vs_{safe}.png")

    best = done.iloc[0]
    shown = trials.copy()
    for column in ("TrainingStartTime", "TrainingEndTime"):
        shown[column] = shown[column].dt.strftime("%Y-%m-%d %H:%M:%S")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Tuning analysis</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:right}} img{{margin:4px}}</style>
</head><body>
<h1>Hyperparameter tuning: {html.escape(name)}</h1>
<p>{len(trials)} training jobs, {len(done)} with an objective.
Best: <b>{html.escape(str(best["TrainingJobName"]))}</b> with {html.escape(name)} =
<b>{best["FinalObjectiveValue"]:.5f}</b> ({"maximised" if maximize else "minimised"}).</p>
<h2>Objective over time</h2>{_inline(files["over_time"])}
<h2>Objective against each hyperparameter</h2>
{"".join(_inline(files[c]) for c in hyperparameter_columns(results))}
<h2>Trials, best first</h2>
{shown.to_html(index=False, float_format=lambda v: f"{v:.5g}", na_rep="failed")}
</body></html>
"""
    files["html"] = output / "tuning_report.html"
    files["html"].write_text(page, encoding="utf-8")
    return files


def main(argv: list[str] | None = None) -> None:
    """Entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True, help="CSV of the trials")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--objective-type", choices=("Maximize", "Minimize"), default="Maximize")
    parser.add_argument("--objective-name", default="validation:auc")
    args = parser.parse_args(argv)

    def job() -> None:
        files = analyse(
            pd.read_csv(args.results), args.output,
            args.objective_type == "Maximize", args.objective_name,
        )  # fmt: skip
        print(f"tuning analysis: {files['html']}", flush=True)

    run_job(job, [args.output / "failure"])


if __name__ == "__main__":
    main()
