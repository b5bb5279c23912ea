"""Local stand-in for SageMaker's Bayesian HyperparameterTuner (module 6.1).

    python -m training_code.tuning.local_tuner --train DIR --validation DIR --output DIR \
        [--spec bank_xgboost_tuning.json] [--max-jobs 20] [--seed 1729]

Reads the same spec file as the SageMaker tuner; optuna's TPE sampler (seeded) searches the
same ranges with the same budget. Every trial is a training job of the local built-in-XGBoost
stand-in, run in-process for speed but through its contract: its own /opt/ml tree with
hyperparameters.json (strings), inputdataconfig.json and channels, and the objective is read
back from its log lines with the spec's regex, as SageMaker reads CloudWatch. Trials run one
after another: on two cores parallel jobs only compete (``MaxParallelTrainingJobs`` is honoured
in AWS only).

Writes ``tuning_results.csv`` shaped like sagemaker's
``HyperparameterTuningJobAnalytics(...).dataframe()``, ``best.json`` and ``best/model.tar.gz``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import optuna
import pandas as pd

from training_code.bank import train_xgboost
from training_code.contract import (
    JobError,
    TrainingPaths,
    run_job,
    write_model_tarball,
)
from training_code.tuning.spec import DEFAULT_SPEC, Range, TuningSpec


def suggest(trial: optuna.Trial, r: Range) -> float | int | str:
    """One value for a range, as SageMaker would pick it (Auto scaling = linear here)."""
    log = r.scaling == "Logarithmic"
    if r.kind == "Continuous":
        return trial.suggest_float(r.name, r.low, r.high, log=log)
    if r.kind == "Integer":
        return trial.suggest_int(r.name, int(r.low), int(r.high), log=log)
    return trial.suggest_categorical(r.name, list(r.values))


def as_hyperparameter(value: float | int | str) -> str:
    """SageMaker hands hyperparameters over as strings."""
    return repr(value) if isinstance(value, float) else str(value)


def stage_job(root: Path, hyperparameters: dict[str, str], channels: dict[str, Path]) -> None:
    """Lay out one training job's /opt/ml tree: config files and channel folders."""
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hyperparameters, indent=2))
    (config / "inputdataconfig.json").write_text(
        json.dumps({name: {"ContentType": "text/csv"} for name in channels}, indent=2)
    )
    for name, source in channels.items():
        target = root / "input" / "data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            continue
        try:
            target.symlink_to(source.resolve(), target_is_directory=True)
        except OSError:  # no symlinks (some filesystems): copy, as SageMaker's File mode does
            shutil.copytree(source, target)


def tune(
    spec: TuningSpec,
    channels: dict[str, Path],
    work: Path,
    max_jobs: int | None = None,
    seed: int | None = None,
    job_prefix: str = "local-tuning",
    log=print,
) -> pd.DataFrame:
    """Run the trials; return one row per training job, analytics-dataframe shaped."""
    pattern = re.compile(spec.objective_regex)
    maximize = spec.objective_type == "Maximize"
    rows: list[dict] = []

    def objective(trial: optuna.Trial) -> float:
        chosen = {r.name: suggest(trial, r) for r in spec.ranges}
        name = f"{job_prefix}-{trial.number + 1:03d}"
        hyperparameters = {
            **spec.static_hyperparameters,
            **{k: as_hyperparameter(v) for k, v in chosen.items()},
            "_tuning_objective_metric": spec.objective_metric,  # as SageMaker adds it
        }
        root = work / name
        stage_job(root, hyperparameters, channels)
        lines: list[str] = []
        started = datetime.now(UTC)
        status, value = "Completed", math.nan
        try:
            train_xgboost.train(TrainingPaths.resolve(root), log=lines.append)
            matches = [float(m.group(1)) for line in lines if (m := pattern.match(line))]
            if not matches:
                raise JobError(f"no line matched the objective regex {spec.objective_regex!r}")
            value = matches[-1]  # SageMaker's final objective value: the last one emitted
        except Exception as error:  # a failed job is a result, as in SageMaker
            status = "Failed"
            (root / "output").mkdir(parents=True, exist_ok=True)
            (root / "output" / "failure").write_text(str(error), encoding="utf-8")
        ended = datetime.now(UTC)
        (root / "output").mkdir(parents=True, exist_ok=True)
        (root / "output" / "training.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
        rows.append(
            {
                **{k: float(v) if not isinstance(v, str) else v for k, v in chosen.items()},
                "TrainingJobName": name,
                "TrainingJobStatus": status,
                "FinalObjectiveValue": value,
                "TrainingStartTime": started.isoformat(),
                "TrainingEndTime": ended.isoformat(),
                "TrainingElapsedTimeSeconds": round((ended - started).total_seconds(), 3),
            }
        )
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in chosen.items())  # fmt: skip
        log(f"{name} {status} {spec.objective_metric}={value:.5f} ({shown})")
        return value  # NaN marks the trial failed for optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize" if maximize else "minimize",
        sampler=optuna.samplers.TPESampler(seed=spec.seed if seed is None else seed),
    )
    study.optimize(objective, n_trials=max_jobs or spec.max_jobs, n_jobs=1)
    return pd.DataFrame(rows)


def best_job(results: pd.DataFrame, maximize: bool) -> pd.Series:
    """The completed job with the best objective (first one on ties, as trials are ordered)."""
    done = results[results["TrainingJobStatus"] == "Completed"]
    if done.empty:
        raise JobError("every tuning job failed; see */output/failure under the work folder")
    index = (
        done["FinalObjectiveValue"].idxmax() if maximize else done["FinalObjectiveValue"].idxmin()
    )
    return done.loc[index]


def main(argv: list[str] | None = None) -> None:
    """Entry point: tune, then write results, the best job and its packed model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--train", type=Path, required=True, help="train channel folder")
    parser.add_argument("--validation", type=Path, required=True, help="validation channel")
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--work", type=Path, help="trial /opt/ml trees (default OUTPUT/jobs)")
    parser.add_argument("--max-jobs", type=int, help="override MaxNumberOfTrainingJobs")
    parser.add_argument("--seed", type=int, help="override the sampler seed")
    parser.add_argument("--job-prefix", default="local-tuning")
    args = parser.parse_args(argv)

    def job() -> None:
        spec = TuningSpec.load(args.spec)
        work = args.work or args.output / "jobs"
        started = time.perf_counter()
        results = tune(
            spec, {"train": args.train, "validation": args.validation}, work,
            args.max_jobs, args.seed, args.job_prefix,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        args.output.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.output / "tuning_results.csv", index=False)
        best = best_job(results, spec.objective_type == "Maximize")
        model_dir = work / best["TrainingJobName"] / "model"
        write_model_tarball(model_dir, args.output / "best" / "model.tar.gz")
        hyperparameters = json.loads(
            (work / best["TrainingJobName"] / "input/config/hyperparameters.json").read_text()
        )
        summary = {
            "best_training_job": best["TrainingJobName"],
            "objective_metric": spec.objective_metric,
            "objective_type": spec.objective_type,
            "best_objective_value": float(best["FinalObjectiveValue"]),
            "best_hyperparameters": hyperparameters,
            "jobs": len(results),
            "failed_jobs": int((results["TrainingJobStatus"] != "Completed").sum()),
            "wall_seconds": round(seconds, 2),
            "seed": spec.seed if args.seed is None else args.seed,
        }
        (args.output / "best.json").write_text(json.dumps(summary, indent=2) + "\n")
        print(
            f"tuning done: {len(results)} jobs in {seconds:.1f} s; best {best['TrainingJobName']} "
            f"{spec.objective_metric}={best['FinalObjectiveValue']:.5f}",
            flush=True,
        )

    run_job(job, [args.output / "failure"])


if __name__ == "__main__":
    main()
