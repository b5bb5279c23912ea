"""Bank marketing jobs: features, the workshop split, the built-in XGBoost contract."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from training_code.bank import features as F

from .conftest import run_job, stage_training

METRIC_REGEX = re.compile(r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+).*")


def test_prepare_writes_label_first_headerless_csv(bank_prepared):
    description = json.loads((bank_prepared / "features" / "features.json").read_text())
    train = pd.read_csv(bank_prepared / "train" / "train.csv", header=None)
    assert train.shape[1] == 1 + len(description["features"])
    assert set(train[0].unique()) <= {0, 1}
    assert "duration" not in description["features"]
    assert not set(F.ECONOMIC_INDICATORS) & set(description["features"])
    assert {"no_previous_contact", "not_working"} <= set(description["features"])


def test_recommended_keeps_economic_indicators(bank_small, tmp_path):
    result = run_job(
        "training_code.bank.prepare",
        "--opt-ml",
        tmp_path / "opt_ml",
        "--input",
        bank_small,
        "--output",
        tmp_path,
        "--feature-set",
        "recommended",
    )
    assert result.returncode == 0, result.stderr
    features = json.loads((tmp_path / "features" / "features.json").read_text())["features"]
    assert set(F.ECONOMIC_INDICATORS) <= set(features) and "duration" not in features


def test_split_matches_the_workshop_np_split(bank_small):
    data = F.validate(pd.read_csv(bank_small, sep=";", dtype=str), "bank")
    table, _ = F.engineer(data, "workshop")
    splits = F.split_workshop(table, seed=1729)
    order = table.sample(frac=1, random_state=1729).index.to_numpy()
    expected = np.split(order, [int(0.7 * len(table)), int(0.9 * len(table))])
    for part, rows in zip(("train", "validation", "test"), expected, strict=True):
        assert splits[part].index.tolist() == rows.tolist()


def test_non_numeric_value_names_column_and_line(bank_small, tmp_path):
    lines = bank_small.read_text().splitlines()
    lines[3] = lines[3].replace(";999;", ";soon;", 1)  # pdays on file line 4
    bad = tmp_path / "bank.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = run_job("training_code.bank.prepare", "--opt-ml", tmp_path / "opt_ml",
                     "--input", bad, "--output", tmp_path / "out")  # fmt: skip
    assert result.returncode != 0
    failure = (tmp_path / "opt_ml" / "output" / "failure").read_text()
    assert "column 'pdays' is not numeric at line 4" in failure


def test_xgboost_honours_the_builtin_contract(tmp_path, bank_prepared):
    root = stage_training(
        tmp_path / "job",
        {"num_round": "20", "eta": "0.2", "max_depth": "5", "objective": "binary:logistic",
         "eval_metric": "auc", "_tuning_objective_metric": "validation:auc"},
        {"train": bank_prepared / "train", "validation": bank_prepared / "validation"},
    )  # fmt: skip
    (root / "input" / "config" / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "text/csv"}})
    )
    result = run_job("training_code/bank/train_xgboost.py", "--opt-ml", root, script=True)
    assert result.returncode == 0, result.stderr
    rounds = [line for line in result.stdout.splitlines() if METRIC_REGEX.match(line)]
    assert len(rounds) == 20
    assert rounds[-1].startswith("[19]#011train-auc:")
    assert (root / "model" / "xgboost-model").exists()

    result = run_job("training_code.contract", "pack-model", root / "model")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "evaluation"
    result = run_job("training_code.bank.evaluate", "--opt-ml", tmp_path / "opt_ml-eval",
                     "--model", root / "model.tar.gz", "--test", bank_prepared / "test",
                     "--output", out)  # fmt: skip
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "evaluation.json").read_text())["binary_classification_metrics"]
    for name in ("auc", "pr_auc", "accuracy", "precision", "recall", "f1"):
        assert set(metrics[name]) == {"value", "standard_deviation"}
        assert 0.0 <= metrics[name]["value"] <= 1.0
    matrix = metrics["confusion_matrix"]
    assert sum(matrix[a][p] for a in "01" for p in "01") == len(
        pd.read_csv(bank_prepared / "test" / "test.csv", header=None)
    )
    assert {"roc.png", "precision_recall.png", "calibration.png"} <= {
        p.name for p in out.glob("*.png")
    }


def test_xgboost_rejects_unknown_hyperparameters_and_content_types(tmp_path, bank_prepared):
    root = stage_training(tmp_path / "a", {"num_round": "5", "num_rounds": "5"},
                          {"train": bank_prepared / "train"})  # fmt: skip
    result = run_job("training_code.bank.train_xgboost", "--opt-ml", root)
    assert result.returncode != 0
    assert "num_rounds" in (root / "output" / "failure").read_text()

    root = stage_training(tmp_path / "b", {"num_round": "5"}, {"train": bank_prepared / "train"})
    (root / "input" / "config" / "inputdataconfig.json").write_text(
        json.dumps({"train": {"ContentType": "application/x-parquet"}})
    )
    result = run_job("training_code.bank.train_xgboost", "--opt-ml", root)
    assert result.returncode != 0
    assert "text/csv" in (root / "output" / "failure").read_text()


def test_logistic_regression_trains_on_the_same_channels(tmp_path, bank_prepared):
    root = stage_training(tmp_path / "job", {"C": "0.5"},
                          {"train": bank_prepared / "train",
                           "validation": bank_prepared / "validation"})  # fmt: skip
    result = run_job("training_code.bank.train_linear", "--opt-ml", root)
    assert result.returncode == 0, result.stderr
    assert METRIC_REGEX.match(result.stdout.splitlines()[-1])
    assert (root / "model" / "model.joblib").exists()
