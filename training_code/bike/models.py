"""The bike-sharing models: the workshop's linear regression and decision tree, plus a GBM.

All three learn log1p(cnt) by default: the metric (RMSLE) is an error on that scale, counts
are skewed, and a log model cannot predict negative rentals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeRegressor

from training_code.contract import Hyperparameters

MODELS = ("linear", "tree", "gbm")
# Hyperparameter names and defaults per model (defaults chosen on the validation split).
DEFAULTS: dict[str, dict[str, float | int]] = {
    "linear": {"alpha": 0.0},
    "tree": {"max_depth": 0, "min_samples_leaf": 8},
    "gbm": {
        "learning_rate": 0.05,
        "max_iter": 1000,
        "max_leaf_nodes": 15,
        "min_samples_leaf": 20,
        "l2_regularization": 0.0,
    },
}
COMMON = {"model", "target_transform", "seed", "refit_on_validation"}
# Categorical for the linear model only: trees split integers directly.
LINEAR_CATEGORICAL = ["hour_by_day_type", "mnth", "weekday", "weathersit", "season", "yr"]


def add_hour_by_day_type(X: pd.DataFrame) -> pd.DataFrame:
    """Hour x working day as one category: commuter peaks exist on working days only,
    and a linear model cannot find that interaction by itself."""
    return X.assign(hour_by_day_type=X["hr"] * 2 + X["workingday"])


def _linear(hp: Hyperparameters):
    alpha = hp.float("alpha", DEFAULTS["linear"]["alpha"], low=0)
    encode = ColumnTransformer(
        [("onehot", OneHotEncoder(handle_unknown="ignore"), LINEAR_CATEGORICAL)],
        remainder=StandardScaler(),
    )
    regressor = Ridge(alpha=alpha) if alpha > 0 else LinearRegression()
    return Pipeline(
        [
            ("interactions", FunctionTransformer(add_hour_by_day_type)),
            ("encode", encode),
            ("regress", regressor),
        ]
    )


def _tree(hp: Hyperparameters, seed: int):
    max_depth = hp.int("max_depth", DEFAULTS["tree"]["max_depth"], low=0)
    return DecisionTreeRegressor(
        max_depth=max_depth or None,  # 0 means unlimited (hyperparameters are strings)
        min_samples_leaf=hp.int("min_samples_leaf", DEFAULTS["tree"]["min_samples_leaf"], low=1),
        random_state=seed,
    )


def _gbm(hp: Hyperparameters, seed: int):
    d = DEFAULTS["gbm"]
    return HistGradientBoostingRegressor(
        learning_rate=hp.float("learning_rate", d["learning_rate"], low=1e-6, high=1),
        max_iter=hp.int("max_iter", d["max_iter"], low=1),
        max_leaf_nodes=hp.int("max_leaf_nodes", d["max_leaf_nodes"], low=2),
        min_samples_leaf=hp.int("min_samples_leaf", d["min_samples_leaf"], low=1),
        l2_regularization=hp.float("l2_regularization", d["l2_regularization"], low=0),
        early_stopping=False,  # a fixed number of rounds keeps runs deterministic and comparable
        random_state=seed,
    )


def build_model(hp: Hyperparameters):
    """An unfitted estimator for ``hp['model']`` with the given hyperparameters."""
    kind = hp.str("model", "gbm", choices=MODELS)
    hp.reject_unknown(COMMON | set(DEFAULTS[kind]))
    seed = hp.int("seed", 0, low=0)
    estimator = {"linear": lambda: _linear(hp), "tree": lambda: _tree(hp, seed)}.get(
        kind, lambda: _gbm(hp, seed)
    )()
    if hp.str("target_transform", "log1p", choices=("log1p", "none")) == "none":
        return estimator
    return TransformedTargetRegressor(
        regressor=estimator, func=np.log1p, inverse_func=np.expm1, check_inverse=False
    )


def predict_counts(model, X: pd.DataFrame) -> np.ndarray:
    """Predicted rentals, never negative."""
    return np.clip(model.predict(X), 0, None)
