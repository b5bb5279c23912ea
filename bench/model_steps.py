"""The engine of the model-quality benchmark (bench/model_quality.py): the workshop's ML
(modules 2-3, 5, 6) run straight through the training programs, outside the rehearsal, so
their quality can be measured against its targets over many seeds in minutes. The rehearsal
itself (``make up``) runs the same programs only through the emulated SageMaker.

Each step plays SageMaker's part: it lays out an ``/opt/ml`` tree per job under the work bucket,
runs the ``training_code`` program as a subprocess through its contract (arguments, config
files, channels, exit code and failure file; ``workshop_artifacts.programs``, which synth uses
for the serving models too), packs models into ``model.tar.gz`` and collects the reports.
Nothing here imports ``training_code``: the steps see the programs only as SageMaker would.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from workshop_artifacts.programs import (
    WORKSHOP_SPLIT_SEED,
    WORKSHOP_XGBOOST,
    run_bank_prepare,
    run_program,
    train_and_pack,
)
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "data"
BANK_AUC_TARGETS = {"workshop": 0.78, "recommended": 0.80}
TUNING_SECONDS_TARGET = 90.0


def stage_raw(workspace: Workspace, key: str) -> Path:
    """The raw-bucket copy of a vendored dataset (copied from ``data/`` on first use)."""
    target = workspace.bucket("raw") / key
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA / key, target)
    return target


def _value(report: dict, family: str, name: str) -> float:
    return float(report[family][name]["value"])


def _pngs(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.png"))


class BikeSharingStep:
    """Modules 2-3: prepare hour.csv, train linear / tree / GBM, evaluate on the test days."""

    name = "bike-sharing"
    models = ("linear", "tree", "gbm")

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        raw = stage_raw(workspace, "bike-sharing/hour.csv")
        work = workspace.bucket("work") / "bike-sharing"
        curated = workspace.bucket("curated") / "bike-sharing"
        prepared = curated / "prepared"
        log("bike-sharing: prepare (checks, features, Kaggle split, profile)")
        run_program(
            "training_code.bike.prepare",
            ["--opt-ml", work / "prepare", "--input", raw, "--output", prepared],
            log,
        )
        report = StepReport(title="Bike sharing (modules 2-3): RMSLE on the Kaggle test days")
        report.artifacts += [prepared / "profile" / "profile.json", *_pngs(prepared / "profile")]
        channels = {"train": prepared / "train", "validation": prepared / "validation"}
        rows, rmsle = [], {}
        for model in self.models:
            log(f"bike-sharing: train + evaluate {model}")
            tarball = train_and_pack(
                "training_code.bike.train", work / f"train-{model}", {"model": model},
                channels, curated / "models" / model, log,
            )  # fmt: skip
            evaluation = curated / "evaluation" / model
            run_program(
                "training_code.bike.evaluate",
                ["--opt-ml", work / f"evaluate-{model}", "--model", tarball,
                 "--test", prepared / "test", "--output", evaluation],
                log,
            )  # fmt: skip
            quality = json.loads((evaluation / "evaluation.json").read_text())
            metrics = {k: _value(quality, "regression_metrics", k)
                       for k in ("rmsle", "rmse", "mae", "r2")}  # fmt: skip
            rmsle[model] = metrics["rmsle"]
            rows.append({"model": model, **{k: round(v, 4) for k, v in metrics.items()}})
            report.artifacts += [evaluation / "evaluation.json", *_pngs(evaluation)]
        best = min(rmsle, key=rmsle.get)
        report.metrics += [
            Metric(f"RMSLE best model ({best})", rmsle[best], "<= 0.40", rmsle[best] <= 0.40),
            Metric("RMSLE decision tree", rmsle["tree"], "<= 0.50", rmsle["tree"] <= 0.50),
            Metric("RMSLE linear regression", rmsle["linear"]),
        ]
        report.tables["bike test metrics"] = rows
        report.lines.append(f"best model: {best}; models in {curated / 'models'}")
        return report


def bank_case(feature_set: str, split_seed: int) -> str:
    """Folder of one (feature set, split seed) case; the workshop's seed keeps the plain name."""
    return feature_set if split_seed == WORKSHOP_SPLIT_SEED else f"{feature_set}-seed{split_seed}"


def prepare_bank(
    workspace: Workspace, feature_set: str, log: Log, split_seed: int = WORKSHOP_SPLIT_SEED
) -> Path:
    """Run the bank prepare job for a feature set and split seed; returns the prepared folder."""
    raw = stage_raw(workspace, "bank-marketing/bank-additional-full.csv")
    case = bank_case(feature_set, split_seed)
    prepared = workspace.bucket("curated") / "bank-marketing" / case / "prepared"
    work = workspace.bucket("work") / "bank-marketing" / case
    return run_bank_prepare(raw, prepared, work / "prepare", feature_set, split_seed, log)


def evaluate_bank(workspace: Workspace, tarball: Path, test: Path, name: str, log: Log) -> dict:
    """Run the bank evaluation job; returns the parsed report and its folder."""
    output = tarball.parent.parent / "evaluation" / name
    run_program(
        "training_code.bank.evaluate",
        ["--opt-ml", workspace.bucket("work") / "bank-marketing" / f"evaluate-{name}",
         "--model", tarball, "--test", test, "--output", output],
        log,
    )  # fmt: skip
    return {"report": json.loads((output / "evaluation.json").read_text()), "folder": output}


class BankMarketingStep:
    """Module 5: prepare, train XGBoost (built-in contract) and logistic regression, evaluate."""

    name = "bank-marketing"

    def __init__(self, feature_set: str = "workshop"):
        self.feature_set = feature_set

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        prepared = prepare_bank(workspace, self.feature_set, log)
        curated = prepared.parent
        work = workspace.bucket("work") / "bank-marketing" / self.feature_set
        channels = {"train": prepared / "train", "validation": prepared / "validation"}
        report = StepReport(
            title=f"Bank marketing (module 5, {self.feature_set} features): test-set quality"
        )
        rows = []
        for name, module, hyperparameters in (
            ("xgboost", "training_code.bank.train_xgboost", WORKSHOP_XGBOOST),
            ("logistic", "training_code.bank.train_linear", {"C": "1.0"}),
        ):
            log(f"bank-marketing: train + evaluate {name}")
            tarball = train_and_pack(
                module, work / f"train-{name}", hyperparameters, channels,
                curated / "models" / name, log,
            )  # fmt: skip
            result = evaluate_bank(workspace, tarball, prepared / "test", name, log)
            m = result["report"]["binary_classification_metrics"]
            row = {"model": name, **{k: round(m[k]["value"], 4)
                                     for k in ("auc", "pr_auc", "accuracy", "precision",
                                               "recall", "f1")}}  # fmt: skip
            rows.append(row)
            report.metrics.append(Metric(f"ROC AUC {name} (untuned)", m["auc"]["value"]))
            report.artifacts += [result["folder"] / "evaluation.json", *_pngs(result["folder"])]
        report.tables["bank test metrics (threshold 0.5)"] = rows
        report.lines.append("targets apply after tuning (TuningStep)")
        return report


class TuningStep:
    """Modules 6.1 + 6.2: local Bayesian tuning from the spec file, test AUC, analysis page."""

    name = "tuning"

    def __init__(
        self,
        feature_set: str = "workshop",
        max_jobs: int | None = None,
        split_seed: int = WORKSHOP_SPLIT_SEED,
    ):
        self.feature_set = feature_set
        self.max_jobs = max_jobs
        self.split_seed = split_seed

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        prepared = prepare_bank(workspace, self.feature_set, log, self.split_seed)
        case = bank_case(self.feature_set, self.split_seed)
        curated = prepared.parent
        tuning = curated / "tuning"
        if tuning.exists():
            shutil.rmtree(tuning)
        args = ["--train", prepared / "train", "--validation", prepared / "validation",
                "--output", tuning, "--work",
                workspace.bucket("work") / "bank-marketing" / case / "tuning-jobs",
                "--job-prefix", f"bank-{case}"]  # fmt: skip
        if self.max_jobs:
            args += ["--max-jobs", self.max_jobs]
        log(f"tuning: {self.max_jobs or 'spec'} jobs over the spec's ranges ({self.feature_set})")
        run_program("training_code.tuning.local_tuner", args, log)
        best = json.loads((tuning / "best.json").read_text())
        result = evaluate_bank(workspace, tuning / "best" / "model.tar.gz", prepared / "test",
                               "tuned-xgboost", log)  # fmt: skip
        analysis = tuning / "analysis"
        run_program(
            "training_code.tuning.analysis",
            ["--results", tuning / "tuning_results.csv", "--output", analysis,
             "--objective-type", best["objective_type"],
             "--objective-name", best["objective_metric"]],
            log,
        )  # fmt: skip
        auc = result["report"]["binary_classification_metrics"]["auc"]["value"]
        target = BANK_AUC_TARGETS.get(self.feature_set)
        seconds = float(best["wall_seconds"])
        report = StepReport(title=f"Tuning (module 6, {self.feature_set} features)")
        report.metrics += [
            Metric(
                f"ROC AUC test, tuned ({self.feature_set})", auc,
                f">= {target:.2f}" if target else "", auc >= target if target else None,
            ),
            Metric(f"best {best['objective_metric']}", best["best_objective_value"]),
            Metric(
                f"tuning wall seconds ({best['jobs']} jobs)", seconds,
                f"<= {TUNING_SECONDS_TARGET:.0f}", seconds <= TUNING_SECONDS_TARGET,
            ),
        ]  # fmt: skip
        tuned = {k: v for k, v in best["best_hyperparameters"].items() if not k.startswith("_")}
        report.lines += [
            f"best job {best['best_training_job']}: {json.dumps(tuned)}",
            f"analysis page: {analysis / 'tuning_report.html'}",
        ]
        report.artifacts += [
            analysis / "tuning_report.html", *_pngs(analysis),
            result["folder"] / "evaluation.json", *_pngs(result["folder"]),
        ]  # fmt: skip
        return report
