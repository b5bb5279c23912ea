"""Processing job: score a bike-sharing model on the test split; write the quality report.

    python -m training_code.bike.evaluate --model /opt/ml/processing/model \
        --test /opt/ml/processing/test --output /opt/ml/processing/evaluation

``--model`` is the model dir or the training job's ``model.tar.gz``. Writes
``evaluation.json`` (SageMaker model-quality ``regression_metrics``: mse, rmse, mae, r2, plus
rmsle) and ``predicted_vs_actual.png`` / ``residuals.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import joblib
import numpy as np
import pandas as pd

from training_code.bike import features as F
from training_code.bike.models import predict_counts
from training_code.contract import (
    data_files,
    opt_ml_root,
    processing_failure_files,
    run_job,
    unpack_model,
)
from training_code.plotting import plt, save
from training_code.quality_report import regression_report, write_report


def plot(y: np.ndarray, p: np.ndarray, dates: pd.Series, folder: Path) -> list[Path]:
    """Predicted vs actual (log axes, like the metric) and residuals on the log scale."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(y + 1, p + 1, s=3, alpha=0.3)
    top = max(y.max(), p.max()) + 1
    ax.plot([1, top], [1, top], color="black", linewidth=1)
    ax.set(xscale="log", yscale="log", xlabel="actual cnt + 1", ylabel="predicted cnt + 1")
    ax.set_title("Predicted vs actual (test)")
    first = save(fig, folder / "predicted_vs_actual.png")

    residual = np.log1p(p) - np.log1p(y)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.scatter(np.log1p(p), residual, s=3, alpha=0.3)
    left.axhline(0, color="black", linewidth=1)
    left.set(xlabel="log1p(predicted)", ylabel="log1p(pred) - log1p(actual)", title="Residuals")
    daily = pd.Series(residual**2).groupby(dates.to_numpy()).mean()
    right.plot(pd.to_datetime(daily.index), np.sqrt(daily.to_numpy()), marker=".", linewidth=0)
    right.set(ylabel="RMSLE of the day", title="Error by test day")
    right.tick_params(axis="x", labelrotation=45)
    second = save(fig, folder / "residuals.png")
    return [first, second]


def main(argv: list[str] | None = None) -> None:
    """Entry point; paths default to the SageMaker processing layout under the root."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opt-ml", help="stand-in for /opt/ml (default $SM_ROOT or /opt/ml)")
    parser.add_argument("--model", help="model dir or model.tar.gz")
    parser.add_argument("--test", help="folder (or file) with the prepared test split")
    parser.add_argument("--output", help="folder for evaluation.json and plots")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap deviations")
    args = parser.parse_args(argv)
    root = opt_ml_root(args.opt_ml)
    model_path = Path(args.model or root / "processing" / "model")
    test_path = Path(args.test or root / "processing" / "test")
    output = Path(args.output or root / "processing" / "evaluation")

    def job() -> None:
        with tempfile.TemporaryDirectory() as scratch:
            model = joblib.load(unpack_model(model_path, Path(scratch)) / "model.joblib")
        test = pd.concat([pd.read_csv(f) for f in data_files(test_path)], ignore_index=True)
        y = test[F.TARGET].to_numpy(dtype=float)
        p = predict_counts(model, test[F.feature_columns(test)])
        report = regression_report(y, p, seed=args.seed)
        write_report(report, output / "evaluation.json")
        plot(y, p, test[F.ID_COLUMN], output)
        m = report["regression_metrics"]
        print(
            f"test rows={len(test)} rmsle={m['rmsle']['value']:.4f} "
            f"rmse={m['rmse']['value']:.2f} mae={m['mae']['value']:.2f} r2={m['r2']['value']:.4f}",
            flush=True,
        )

    run_job(job, processing_failure_files(root))


if __name__ == "__main__":
    main()
