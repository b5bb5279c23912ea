"""Module 8, exercise 1: has what the endpoint receives drifted from what the model learnt on?

Data capture keeps the requests; the pipeline's training split is the baseline. The population
stability index (PSI) of each feature compares the two distributions over the baseline's
deciles: sum over bins of (actual share - expected share) * ln(actual share / expected share).
A common reading: below 0.1 stable, 0.1-0.2 worth a look, above 0.2 drifted (SageMaker Model
Monitor does this kind of comparison on a schedule, against a baseline it computes for you).
"""

import numpy as np
import pandas as pd

SMALLEST_SHARE = 1e-4  # an empty bin would make the logarithm infinite


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.histogram(values, bins=edges)[0]
    return np.clip(counts / max(len(values), 1), SMALLEST_SHARE, None)


def population_stability_index(expected, actual, *, bins: int = 10) -> float:
    """PSI of ``actual`` against ``expected`` over ``expected``'s quantile bins (a feature with
    few values, e.g. a one-hot column, gets one bin per value)."""
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    values = np.unique(expected)
    if len(values) <= bins:
        middles = (values[:-1] + values[1:]) / 2
        edges = np.concatenate([[-np.inf], middles, [np.inf]])
    else:
        inner = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1])
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
    e, a = _shares(expected, edges), _shares(actual, edges)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_report(baseline: pd.DataFrame, captured: pd.DataFrame, *, alert: float = 0.2):
    """Each feature's PSI (columns in the same order in both frames), worst first, with
    whether it crosses ``alert``."""
    rows = [
        {"feature": column, "PSI": population_stability_index(baseline[column], captured[column])}
        for column in baseline.columns
    ]
    table = pd.DataFrame(rows).sort_values("PSI", ascending=False).set_index("feature")
    table["drifted"] = table["PSI"] > alert
    return table


# In the notebook (features only: the training split's label column dropped):
# baseline = workshop.read_csv(train_uri, header=None).iloc[:, 1:]
# baseline.columns = captured_inputs.columns = range(baseline.shape[1])
# drift_report(baseline, captured_inputs).head(10)
