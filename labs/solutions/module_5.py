"""Module 5, exercise 1: a threshold from money, not from 0.5.

Calling a client costs ``call_cost``; a subscription is worth ``deposit_value``. Calling every
client scored at or above a threshold earns ``deposit_value`` per subscriber reached minus
``call_cost`` per call; the best threshold maximises that on the test set. In the notebook:
``profit_by_threshold(test["y"], scores)``.
"""

import numpy as np
import pandas as pd


def profit_by_threshold(y_true, scores, *, call_cost=5.0, deposit_value=100.0) -> pd.DataFrame:
    """Profit of calling everyone scored at or above each distinct score, best first."""
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    ranked_scores = np.asarray(scores, dtype=float)[order]
    reached = np.cumsum(np.asarray(y_true)[order])
    calls = np.arange(1, len(order) + 1)
    table = pd.DataFrame(
        {
            "threshold": ranked_scores,
            "calls": calls,
            "subscribers": reached,
            "profit": reached * deposit_value - calls * call_cost,
        }
    )
    # Clients with equal scores are called together: keep the last row of each score.
    table = table.drop_duplicates("threshold", keep="last")
    return table.sort_values("profit", ascending=False, ignore_index=True)


def best_threshold(y_true, scores, *, call_cost=5.0, deposit_value=100.0) -> dict:
    """The most profitable threshold, with the profit of calling everyone beside it."""
    table = profit_by_threshold(y_true, scores, call_cost=call_cost, deposit_value=deposit_value)
    best = table.iloc[0]
    everyone = int(np.sum(y_true)) * deposit_value - len(scores) * call_cost
    return {
        "threshold": float(best["threshold"]),
        "calls": int(best["calls"]),
        "profit": float(best["profit"]),
        "profit calling everyone": float(everyone),
    }


# In the notebook:
# best_threshold(test["y"], scores)
