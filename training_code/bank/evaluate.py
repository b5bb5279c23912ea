"""Processing job: score a bank-marketing model on the test split; write the quality report.

    python -m training_code.bank.evaluate --model /opt/ml/processing/model \
        --test /opt/ml/processing/test --output /opt/ml/processing/evaluation --threshold 0.5

``--model`` is a model dir or ``model.tar.gz`` holding ``xgboost-model`` (built-in XGBoost) or
``model.joblib`` (logistic regression). Writes ``evaluation.json`` (SageMaker model-quality
``binary_classification_metrics``: auc, pr_auc, accuracy, precision, recall, f1, ... at the
threshold, confusion matrix, curves) and ``roc.png``, ``precision_recall.png``,
``calibration.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
from sklearn.calibration import calibration_curve

from training_code.bank.channels import read_label_first_csv
from training_code.contract import (
    JobError,
    opt_ml_root,
    processing_failure_files,
    run_job,
    unpack_model,
)
from training_code.plotting import plt, save
from training_code.quality_report import binary_classification_report, write_report


def predict_probability(model_dir: Path, features: np.ndarray) -> np.ndarray:
    """P(y = yes) from whichever model the folder holds."""
    if (model_dir / "xgboost-model").exists():
        import xgboost as xgb

        from training_code.bank.train_xgboost import load_booster

        booster = load_booster(model_dir / "xgboost-model")
        return booster.predict(xgb.DMatrix(features))
    if (model_dir / "model.joblib").exists():
        import joblib

        return joblib.load(model_dir / "model.joblib").predict_proba(features)[:, 1]
    raise JobError(f"{model_dir}: neither xgboost-model nor model.joblib found")


def plot(y: np.ndarray, prob: np.ndarray, report: dict, folder: Path) -> list[Path]:
    """ROC, precision-recall and calibration (reliability) curves."""
    m = report["binary_classification_metrics"]
    fig, ax = plt.subplots(figsize=(5, 5))
    roc = m["receiver_operating_characteristic_curve"]
    ax.plot(roc["false_positive_rates"], roc["true_positive_rates"],
            label=f"AUC {m['auc']['value']:.3f}")  # fmt: skip
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    ax.legend(loc="lower right")
    paths = [save(fig, folder / "roc.png")]

    fig, ax = plt.subplots(figsize=(5, 5))
    pr = m["precision_recall_curve"]
    ax.plot(pr["recalls"], pr["precisions"], label=f"PR AUC {m['pr_auc']['value']:.3f}")
    ax.axhline(y.mean(), color="grey", linestyle="--", linewidth=1, label="positive share")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    ax.legend(loc="upper right")
    paths.append(save(fig, folder / "precision_recall.png"))

    fig, ax = plt.subplots(figsize=(5, 5))
    observed, predicted = calibration_curve(y, prob, n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    ax.set(xlabel="mean predicted probability", ylabel="observed share of yes",
           title="Calibration (test, deciles)")  # fmt: skip
    ax.legend(loc="upper left")
    paths.append(save(fig, folder / "calibration.png"))
    return paths


def main(argv: list[str] | None = None) -> None:
    """Entry point; paths default to the SageMaker processing layout under the root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opt-ml", help="stand-in for /opt/ml (default $SM_ROOT or /opt/ml)")
    parser.add_argument("--model", help="model dir or model.tar.gz")
    parser.add_argument("--test", help="folder (or file) with the label-first test CSV")
    parser.add_argument("--output", help="folder for evaluation.json and plots")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap deviations")
    args = parser.parse_args(argv)
    root = opt_ml_root(args.opt_ml)
    model_path = Path(args.model or root / "processing" / "model")
    test_path = Path(args.test or root / "processing" / "test")
    output = Path(args.output or root / "processing" / "evaluation")

    def job() -> None:
        features, labels = read_label_first_csv(test_path, "test")
        with tempfile.TemporaryDirectory() as scratch:
            prob = predict_probability(unpack_model(model_path, Path(scratch)), features)
        report = binary_classification_report(labels, prob, args.threshold, seed=args.seed)
        write_report(report, output / "evaluation.json")
        plot(labels, prob, report, output)
        m = report["binary_classification_metrics"]
        print(
            f"test rows={len(labels)} auc={m['auc']['value']:.4f} "
            f"pr_auc={m['pr_auc']['value']:.4f} f1={m['f1']['value']:.4f} "
            f"at threshold {args.threshold}",
            flush=True,
        )

    run_job(job, processing_failure_files(root))


if __name__ == "__main__":
    main()
