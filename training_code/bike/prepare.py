"""Processing job: check hour.csv, build features, split Kaggle-style, profile the data.

    python -m training_code.bike.prepare \
        --input /opt/ml/processing/input --output /opt/ml/processing/output

Writes ``<output>/{train,validation,test}/<split>.csv`` (header; ``dteday``, features, ``cnt``)
and ``<output>/profile/`` (profile.json and PNG plots). A bad file fails the job with a
message naming the column and the lines, written to ``<root>/output/{message,failure}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pandas as pd

from training_code.bike import features as F
from training_code.contract import (
    data_files,
    opt_ml_root,
    processing_failure_files,
    run_job,
)
from training_code.plotting import plt, save


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line; defaults follow the SageMaker processing layout under the root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opt-ml", help="stand-in for /opt/ml (default $SM_ROOT or /opt/ml)")
    parser.add_argument("--input", help="hour.csv or a folder holding it")
    parser.add_argument("--output", help="folder for train/, validation/, test/, profile/")
    parser.add_argument("--validation-from-day", type=int, default=15)
    parser.add_argument("--test-from-day", type=int, default=20)
    args = parser.parse_args(argv)
    root = opt_ml_root(args.opt_ml)
    args.root = root
    args.input = Path(args.input or root / "processing" / "input")
    args.output = Path(args.output or root / "processing" / "output")
    return args


def read_hours(path: Path) -> pd.DataFrame:
    """Read hour.csv as text so the checks, not the CSV parser, judge every value."""
    files = data_files(path)
    source = files[0].name if len(files) == 1 else f"{len(files)} files in {path}"
    raw = pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)
    return F.validate(raw, source)


def profile(hours: pd.DataFrame, table: pd.DataFrame, splits: dict, folder: Path) -> dict:
    """Row counts, distributions and correlations with cnt as JSON, plus three PNG plots."""
    folder.mkdir(parents=True, exist_ok=True)
    numeric = hours.drop(columns=["dteday"])
    describe = numeric.describe(percentiles=[0.25, 0.5, 0.75]).T
    correlation = table[F.FEATURES].corrwith(table[F.TARGET]).sort_values()
    by_hour = table.groupby(["workingday", "hr"])[F.TARGET].mean().unstack(level=0).round(2)
    counts, edges = pd.cut(table[F.TARGET], bins=20, retbins=True)
    report = {
        "rows": {"total": len(table), **{name: len(part) for name, part in splits.items()}},
        "dates": {
            name: [part[F.ID_COLUMN].min(), part[F.ID_COLUMN].max()]
            for name, part in splits.items()
            if len(part)
        },
        "columns": {
            column: {k: round(float(v), 6) for k, v in stats.items()}
            for column, stats in describe.iterrows()
        },
        "cnt_histogram": {
            "edges": [round(float(e), 3) for e in edges],
            "counts": [int(n) for n in counts.value_counts(sort=False)],
        },
        "correlation_with_cnt": {k: round(float(v), 6) for k, v in correlation.items()},
        "mean_cnt_by_hour": {
            ("working_day" if flag else "day_off"): [float(v) for v in by_hour[flag].fillna(0)]
            for flag in by_hour.columns
        },
    }
    (folder / "profile.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.hist(table[F.TARGET], bins=50, color="tab:blue")
    ax.set(title="Rentals per hour", xlabel="cnt", ylabel="hours")
    save(fig, folder / "cnt_distribution.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    for flag in by_hour.columns:
        ax.plot(
            by_hour.index, by_hour[flag], marker="o", label="working day" if flag else "day off"
        )
    ax.set(title="Mean rentals by hour", xlabel="hour", ylabel="mean cnt")
    ax.legend()
    save(fig, folder / "cnt_by_hour.png")

    fig, ax = plt.subplots(figsize=(6, 5))
    ax.barh(correlation.index, correlation.to_numpy(), color="tab:green")
    ax.set(title="Correlation with cnt", xlabel="Pearson r")
    save(fig, folder / "correlation_with_cnt.png")
    return report


def main(argv: list[str] | None = None) -> None:
    """Check, featurise, split and profile; see the module docstring."""
    args = parse_args(argv)

    def job() -> None:
        hours = read_hours(args.input)
        table = F.build_features(hours)
        splits = F.split_kaggle(table, args.validation_from_day, args.test_from_day)
        for name, part in splits.items():
            (args.output / name).mkdir(parents=True, exist_ok=True)
            part.to_csv(args.output / name / f"{name}.csv", index=False)
        report = profile(hours, table, splits, args.output / "profile")
        print(f"prepared bike-sharing rows: {json.dumps(report['rows'])}", flush=True)

    run_job(job, processing_failure_files(args.root))


if __name__ == "__main__":
    main()
