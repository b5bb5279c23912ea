"""training_code/ on the library versions of the images it runs in, with the real data.

* scikit-learn image 1.4-2 (Python 3.10): bike prepare → train (script mode, every model) →
  evaluate, and bank prepare (the processing step that feeds the built-in XGBoost);
* built-in XGBoost 1.7-1 (Python 3.9): the bank training under the built-in's contract (the
  program that stands in for the algorithm locally) and the pipeline's evaluation step, which
  runs in the algorithm image.

The jobs see the SageMaker container contract: an /opt/ml tree under a temporary folder.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.training.conftest import stage_training

from .conftest import DATA, assert_ran, run_on

WORKSHOP_XGBOOST = {
    "objective": "binary:logistic", "eval_metric": "auc", "num_round": "100", "max_depth": "5",
    "eta": "0.2", "gamma": "4", "min_child_weight": "6", "subsample": "0.8",
    "early_stopping_rounds": "10",
}  # fmt: skip


@pytest.fixture(scope="module")
def bike_prepared(sklearn_python, tmp_path_factory):
    out = tmp_path_factory.mktemp("bike") / "prepared"
    assert_ran(run_on(sklearn_python, "training_code.bike.prepare", "--opt-ml",
                      out.parent / "opt_ml", "--input", DATA / "bike-sharing" / "hour.csv",
                      "--output", out))  # fmt: skip
    return out


def test_bike_prepare_writes_splits_and_profile_on_sklearn_image(bike_prepared):
    for name in ("train", "validation", "test"):
        assert len(pd.read_csv(bike_prepared / name / f"{name}.csv")) > 0
    assert (bike_prepared / "profile" / "profile.json").exists()
    assert len(list((bike_prepared / "profile").glob("*.png"))) == 3


@pytest.mark.parametrize("model", ["linear", "tree", "gbm"])
def test_bike_trains_and_evaluates_on_sklearn_image(sklearn_python, bike_prepared, tmp_path, model):
    root = stage_training(
        tmp_path / "job", {"model": model},
        {"train": bike_prepared / "train", "validation": bike_prepared / "validation"},
    )  # fmt: skip
    trained = run_on(sklearn_python, "training_code/bike/train.py", "--opt-ml", root, script=True)
    assert_ran(trained)
    assert "validation:rmsle=" in trained.stdout
    assert (root / "model" / "model.joblib").exists()
    out = tmp_path / "evaluation"
    assert_ran(run_on(sklearn_python, "training_code.bike.evaluate", "--opt-ml",
                      tmp_path / "opt_ml-eval", "--model", root / "model", "--test",
                      bike_prepared / "test", "--output", out))  # fmt: skip
    metrics = json.loads((out / "evaluation.json").read_text())["regression_metrics"]
    assert 0 < metrics["rmsle"]["value"] < 2
    assert {"predicted_vs_actual.png", "residuals.png"} <= {p.name for p in out.glob("*.png")}


def test_bank_prepare_writes_label_first_channels_on_sklearn_image(bank_prepared):
    features = json.loads((bank_prepared / "features" / "features.json").read_text())["features"]
    train = pd.read_csv(bank_prepared / "train" / "train.csv", header=None)
    assert train.shape[1] == 1 + len(features)
    assert set(train[0].unique()) <= {0, 1}


def test_bank_xgboost_trains_and_evaluates_on_xgboost_builtin(
    xgboost_python, bank_prepared, tmp_path
):
    root = stage_training(
        tmp_path / "job", WORKSHOP_XGBOOST,
        {"train": bank_prepared / "train", "validation": bank_prepared / "validation"},
    )  # fmt: skip
    trained = run_on(xgboost_python, "training_code/bank/train_xgboost.py", "--opt-ml", root,
                     script=True)  # fmt: skip
    assert_ran(trained)
    assert any("#011validation-auc:" in line for line in trained.stdout.splitlines())
    assert (root / "model" / "xgboost-model").exists()
    assert_ran(run_on(xgboost_python, "training_code.contract", "pack-model", root / "model"))

    out = tmp_path / "evaluation"
    assert_ran(run_on(xgboost_python, "training_code.bank.evaluate", "--opt-ml",
                      tmp_path / "opt_ml-eval", "--model", root / "model.tar.gz", "--test",
                      bank_prepared / "test", "--output", out))  # fmt: skip
    metrics = json.loads((out / "evaluation.json").read_text())["binary_classification_metrics"]
    assert metrics["auc"]["value"] > 0.75  # the workshop's features reach ~0.78 on the test set
    assert {"roc.png", "precision_recall.png", "calibration.png"} <= {
        p.name for p in out.glob("*.png")
    }
