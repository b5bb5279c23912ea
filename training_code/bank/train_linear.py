"""Training job (script mode): logistic regression on the same channels as built-in XGBoost.

Reads ``train`` / ``validation`` (CSV, label first, no header) and ``hyperparameters.json``
(``C``, ``max_iter``, ``class_weight`` = none | balanced, ``seed``); standardises features and
fits scikit-learn's LogisticRegression. Saves ``model.joblib`` and logs one line in the
built-in XGBoost format (``[0]#011train-auc:...#011validation-auc:...``) so the same metric
definitions apply to both models.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a plain script: make `training_code` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import joblib
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from training_code.bank.channels import read_label_first_csv
from training_code.contract import (
    Hyperparameters,
    TrainingPaths,
    read_hyperparameters,
    run_training_job,
)

MODEL_FILE = "model.joblib"


def train(paths: TrainingPaths) -> dict[str, float]:
    """Fit, log AUCs, save; returns the logged metrics."""
    hp = Hyperparameters(read_hyperparameters(paths.config_dir))
    hp.reject_unknown({"C", "max_iter", "class_weight", "seed"})
    weight = hp.str("class_weight", "none", choices=("none", "balanced"))
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(
            C=hp.float("C", 1.0, low=1e-9),
            max_iter=hp.int("max_iter", 1000, low=1),
            class_weight=None if weight == "none" else weight,
            random_state=hp.int("seed", 0, low=0),
        ),
    )
    sets = {"train": read_label_first_csv(paths.channel("train"), "train")}
    if paths.channel("validation").exists():
        sets["validation"] = read_label_first_csv(paths.channel("validation"), "validation")
    model.fit(*sets["train"])
    metrics = {
        name: float(roc_auc_score(y, model.predict_proba(X)[:, 1])) for name, (X, y) in sets.items()
    }
    print("[0]#011" + "#011".join(f"{k}-auc:{v:.5f}" for k, v in metrics.items()), flush=True)
    paths.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, paths.model_dir / MODEL_FILE)
    return metrics


def main(argv: list[str] | None = None) -> None:
    run_training_job(train, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    main()
