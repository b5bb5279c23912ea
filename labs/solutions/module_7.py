"""Module 7, exercise 1: is the gap between champion and challenger real?

Score the same held-out rows with each variant (``target_variant``), then bootstrap: resample
the rows with replacement, compute both AUCs on each sample, and read the 95 % interval of the
difference. An interval that includes 0 says the test cannot tell the models apart.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score


def bootstrap_auc_difference(y_true, champion, challenger, *, samples=200, seed=1729) -> dict:
    """The challenger's AUC minus the champion's on the same rows, with a bootstrap 95 %
    interval."""
    y_true, champion, challenger = (
        np.asarray(a, dtype=float) for a in (y_true, champion, challenger)
    )
    rng = np.random.default_rng(seed)
    differences = []
    while len(differences) < samples:
        rows = rng.integers(0, len(y_true), len(y_true))
        if y_true[rows].min() == y_true[rows].max():  # one class only: no AUC
            continue
        differences.append(
            roc_auc_score(y_true[rows], challenger[rows])
            - roc_auc_score(y_true[rows], champion[rows])
        )
    low, high = np.percentile(differences, [2.5, 97.5])
    observed = roc_auc_score(y_true, challenger) - roc_auc_score(y_true, champion)
    return {"difference": observed, "low": low, "high": high, "includes 0": low <= 0 <= high}


def scores_of(endpoint, rows: pd.DataFrame, variant: str) -> list[float]:
    """Each row (label first) through one variant of ``endpoint`` (an SDK v3 ``Endpoint``)."""
    return [
        float(
            endpoint.invoke(
                body=",".join(map(str, row.iloc[1:])),
                content_type="text/csv",
                target_variant=variant,
            ).body.read()
        )
        for _, row in rows.iterrows()
    ]


# In the notebook:
# champion = scores_of(endpoint, held_out, "champion")
# challenger = scores_of(endpoint, held_out, "challenger")
# bootstrap_auc_difference(held_out[0], champion, challenger)
