"""Module 3, exercise: one-hot encode the hour for the linear model.

A linear model gives ``hr`` one weight, so it can only say "later is busier". With one column
per hour (one-hot encoding), it learns a level for each hour of the day: the commuter peaks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error


def rmsle(actual, predicted) -> float:
    return float(np.sqrt(mean_squared_error(np.log1p(actual), np.log1p(predicted))))


def _one_hot_hour(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    hours = pd.get_dummies(frame["hr"].astype(int), prefix="hr", dtype=float)
    hours = hours.reindex(columns=[f"hr_{h}" for h in range(24)], fill_value=0.0)
    return pd.concat([frame[[f for f in features if f != "hr"]], hours], axis=1)


def linear_with_one_hot_hour(
    train: pd.DataFrame, test: pd.DataFrame, features: list[str]
) -> dict[str, float]:
    """RMSLE on ``test`` of the linear model with ``hr`` as one number and as 24 columns."""
    scores = {}
    for name, encode in (
        ("hour as a number", lambda frame: frame[features]),
        ("hour one-hot", lambda frame: _one_hot_hour(frame, features)),
    ):
        model = LinearRegression().fit(encode(train), np.log1p(train["cnt"]))
        predictions = np.expm1(model.predict(encode(test))).clip(min=0)
        scores[name] = rmsle(test["cnt"], predictions)
    return scores
