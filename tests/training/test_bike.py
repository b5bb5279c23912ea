"""Bike sharing jobs: prepare checks and split, train/evaluate contract, determinism."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from .conftest import DATA, run_job, stage_training

REGRESSION_METRICS = {"mse", "rmse", "mae", "r2", "rmsle"}


def test_prepare_writes_splits_and_profile(bike_prepared):
    for name in ("train", "validation", "test"):
        assert (bike_prepared / name / f"{name}.csv").exists()
    profile = json.loads((bike_prepared / "profile" / "profile.json").read_text())
    assert profile["rows"]["total"] == sum(
        profile["rows"][n] for n in ("train", "validation", "test")
    )
    assert "hr" in profile["correlation_with_cnt"]
    assert len(list((bike_prepared / "profile").glob("*.png"))) == 3


def test_split_rules_keep_test_days_out_of_training(bike_prepared):
    day = {n: pd.to_datetime(pd.read_csv(bike_prepared / n / f"{n}.csv")["dteday"]).dt.day
           for n in ("train", "validation", "test")}  # fmt: skip
    assert (day["train"] < 15).all()
    assert day["validation"].between(15, 19).all()
    assert (day["test"] >= 20).all()
    assert len(day["test"]) > 0


def test_target_parts_are_not_features(bike_prepared):
    columns = pd.read_csv(bike_prepared / "train" / "train.csv", nrows=1).columns
    assert "casual" not in columns and "registered" not in columns
    assert "cnt" in columns


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda df: df.drop(columns=["hum"]), "missing column(s) 'hum'"),
        (
            lambda df: df.assign(temp=df["temp"].where(df.index != 3, "warm")),
            "column 'temp' is not numeric at line 5",
        ),  # row 3 sits on line 5 under the header
        (lambda df: pd.concat([df, df.iloc[[0]]]), "duplicate"),
        (lambda df: df.assign(hr=df["hr"].where(df.index != 0, "24")), "column 'hr' outside"),
    ],
)
def test_bad_input_fails_with_a_message_naming_the_column(tmp_path, mutate, expected):
    hours = pd.read_csv(DATA / "bike-sharing" / "hour.csv", dtype=str, nrows=200)
    bad = tmp_path / "hour.csv"
    mutate(hours).to_csv(bad, index=False)
    result = run_job("training_code.bike.prepare", "--opt-ml", tmp_path / "opt_ml",
                     "--input", bad, "--output", tmp_path / "out")  # fmt: skip
    assert result.returncode != 0
    failure = (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert expected in failure
    assert expected in (tmp_path / "opt_ml" / "output" / "message").read_text()
    assert not (tmp_path / "out" / "train").exists()


def _train_and_evaluate(tmp_path, bike_prepared, name: str, hyperparameters: dict) -> dict:
    root = stage_training(
        tmp_path / name, hyperparameters,
        {"train": bike_prepared / "train", "validation": bike_prepared / "validation"},
    )  # fmt: skip
    # The plain script path is how a SageMaker entry point runs.
    result = run_job("training_code/bike/train.py", "--opt-ml", root, script=True)
    assert result.returncode == 0, result.stderr
    assert "validation:rmsle=" in result.stdout
    assert (root / "model" / "model.joblib").exists()
    out = tmp_path / f"{name}-evaluation"
    result = run_job(
        "training_code.bike.evaluate",
        "--opt-ml",
        tmp_path / "opt_ml-eval",
        "--model",
        root / "model",
        "--test",
        bike_prepared / "test",
        "--output",
        out,
    )
    assert result.returncode == 0, result.stderr
    return json.loads((out / "evaluation.json").read_text())


def test_train_and_evaluate_write_a_model_quality_report(tmp_path, bike_prepared):
    report = _train_and_evaluate(tmp_path, bike_prepared, "tree", {"model": "tree"})
    metrics = report["regression_metrics"]
    assert set(metrics) == REGRESSION_METRICS
    for value in metrics.values():
        assert set(value) == {"value", "standard_deviation"}
        assert isinstance(value["value"], float)
    assert report["dataset"]["item_count"] > 0
    assert (tmp_path / "tree-evaluation" / "predicted_vs_actual.png").exists()
    assert (tmp_path / "tree-evaluation" / "residuals.png").exists()


def test_same_seed_same_metrics(tmp_path, bike_prepared):
    hyperparameters = {"model": "gbm", "max_iter": "50", "seed": "7"}
    first = _train_and_evaluate(tmp_path, bike_prepared, "a", hyperparameters)
    second = _train_and_evaluate(tmp_path, bike_prepared, "b", hyperparameters)
    assert first["regression_metrics"] == second["regression_metrics"]


def test_bad_hyperparameter_fails_the_training_job(tmp_path, bike_prepared):
    root = stage_training(tmp_path / "job", {"model": "forest"}, {"train": bike_prepared / "train"})
    result = run_job("training_code.bike.train", "--opt-ml", root)
    assert result.returncode != 0
    assert "model='forest'" in (root / "output" / "failure").read_text()
