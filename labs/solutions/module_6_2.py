"""Module 6.2, exercise: ranges read off the trials.

For each hyperparameter, the range its best quarter of trials covered: a narrower search
around what worked (keep a margin; a best value on a range's edge says "widen it" instead).
"""

import pandas as pd


def ranges_of_the_best(results: pd.DataFrame, hyperparameters, *, share=0.25) -> pd.DataFrame:
    """min and max of each hyperparameter over the best ``share`` of completed trials, and
    whether the best trial sits on the edge of the searched values (then widen, not narrow)."""
    done = results[results["TrainingJobStatus"] == "Completed"]
    ranked = done.sort_values("FinalObjectiveValue", ascending=False)
    best = ranked.head(max(1, round(len(ranked) * share)))
    rows = {}
    for name in hyperparameters:
        top = ranked.iloc[0][name]
        rows[name] = {
            "low": best[name].min(),
            "high": best[name].max(),
            "best on the edge": top in (done[name].min(), done[name].max()),
        }
    return pd.DataFrame(rows).T


# In the notebook:
# ranges_of_the_best(results, hyperparameters)
