"""Training job (script mode): fit the linear, tree or GBM model on the prepared bike data.

    SM_ROOT=/tmp/opt_ml python -m training_code.bike.train       # or --opt-ml /tmp/opt_ml

Reads channels ``train`` and ``validation`` (CSV with header, as ``prepare`` writes them) and
``hyperparameters.json``: ``model`` = linear | tree | gbm, ``target_transform`` = log1p | none,
``seed``, ``refit_on_validation`` (true: after reporting validation metrics, refit on train +
validation, the data the test period follows), plus the model's own (see models.DEFAULTS).
Writes ``model.joblib`` and ``model.json`` to the model dir, and logs
``validation:rmsle=0.28800;`` style lines for a SageMaker metric definition.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import joblib
import numpy as np
import pandas as pd

from training_code.bike import features as F
from training_code.bike.models import build_model, predict_counts
from training_code.contract import (
    Hyperparameters,
    JobError,
    TrainingPaths,
    data_files,
    read_hyperparameters,
    run_training_job,
)
from training_code.quality_report import rmsle


def read_channel(folder: Path) -> pd.DataFrame:
    """All CSV files of a channel as one table."""
    table = pd.concat([pd.read_csv(f) for f in data_files(folder)], ignore_index=True)
    if F.TARGET not in table.columns:
        raise JobError(f"{folder}: no {F.TARGET!r} column; is this a prepared bike-sharing file?")
    return table


def validation_metrics(model, table: pd.DataFrame) -> dict[str, float]:
    """RMSLE, RMSE and MAE of ``model`` on a prepared table."""
    y = table[F.TARGET].to_numpy(dtype=float)
    p = predict_counts(model, table[F.feature_columns(table)])
    return {
        "rmsle": rmsle(y, p),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
        "mae": float(np.mean(np.abs(y - p))),
    }


def train(paths: TrainingPaths) -> dict:
    """Fit, report validation metrics, optionally refit, save. Returns the model metadata."""
    hp = Hyperparameters(read_hyperparameters(paths.config_dir))
    train_table = read_channel(paths.channel("train"))
    validation_dir = paths.channel("validation")
    validation = read_channel(validation_dir) if validation_dir.exists() else None
    features = F.feature_columns(train_table)

    model = build_model(hp)
    model.fit(train_table[features], train_table[F.TARGET])
    metrics = {}
    if validation is not None:
        metrics = validation_metrics(model, validation)
        print("".join(f"validation:{k}={v:.5f};" for k, v in metrics.items()), flush=True)
        if hp.bool("refit_on_validation", True):
            both = pd.concat([train_table, validation], ignore_index=True)
            model = build_model(hp).fit(both[features], both[F.TARGET])
            print(f"refit on train + validation ({len(both)} rows)", flush=True)

    paths.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, paths.model_dir / "model.joblib")
    metadata = {
        "model": hp.str("model", "gbm"),
        "features": features,
        "hyperparameters": hp.raw,
        "validation_metrics": metrics,
        "train_rows": len(train_table),
    }
    (paths.model_dir / "model.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    return metadata


def main(argv: list[str] | None = None) -> None:
    run_training_job(train, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
