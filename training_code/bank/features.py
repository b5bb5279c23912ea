"""Bank marketing: the schema of bank-additional-full.csv and the workshop's features.

The workshop (module 5) adds two flags, one-hot encodes every categorical column and drops
``duration`` plus the five economic indicators. ``duration`` (length of the call) is only known
after the call, whose outcome is the label, so it leaks; the indicators are legitimate and the
``recommended`` feature set keeps them.
"""

from __future__ import annotations

import pandas as pd

from training_code import datachecks as checks

LABEL = "y"
NUMERIC = [
    "age", "duration", "campaign", "pdays", "previous",
    "emp.var.rate", "cons.price.idx", "cons.conf.idx", "euribor3m", "nr.employed",
]  # fmt: skip
CATEGORICAL = [
    "job", "marital", "education", "default", "housing", "loan", "contact", "month",
    "day_of_week", "poutcome",
]  # fmt: skip
# Every level each categorical column takes in bank-additional-full.csv (the UCI description
# lists the same, and months jan and feb, in which the campaign made no call). The one-hot
# columns come from this list, not from the rows at hand: a model trained on any slice of the
# data reads the same columns as one trained on all of it, as the serving endpoint's callers
# send one row format whichever model answers. A level outside it is refused.
LEVELS = {
    "job": ["admin.", "blue-collar", "entrepreneur", "housemaid", "management", "retired",
            "self-employed", "services", "student", "technician", "unemployed", "unknown"],
    "marital": ["divorced", "married", "single", "unknown"],
    "education": ["basic.4y", "basic.6y", "basic.9y", "high.school", "illiterate",
                  "professional.course", "university.degree", "unknown"],
    "default": ["no", "unknown", "yes"],
    "housing": ["no", "unknown", "yes"],
    "loan": ["no", "unknown", "yes"],
    "contact": ["cellular", "telephone"],
    "month": ["apr", "aug", "dec", "jul", "jun", "mar", "may", "nov", "oct", "sep"],
    "day_of_week": ["fri", "mon", "thu", "tue", "wed"],
    "poutcome": ["failure", "nonexistent", "success"],
}  # fmt: skip
SOURCE_COLUMNS = [*NUMERIC[:2], *NUMERIC[2:5], *CATEGORICAL, *NUMERIC[5:], LABEL]
RANGES = {"age": (0, 120), "duration": (0, 1e6), "campaign": (1, 1e4), "pdays": (0, 999),
          "previous": (0, 1e4)}  # fmt: skip
ECONOMIC_INDICATORS = [
    "emp.var.rate",
    "cons.price.idx",
    "cons.conf.idx",
    "euribor3m",
    "nr.employed",
]
FEATURE_SETS = {
    "workshop": ["duration", *ECONOMIC_INDICATORS],  # what the original notebook dropped
    "recommended": ["duration"],  # drop the leak only
}
NOT_WORKING_JOBS = ["student", "retired", "unemployed"]


def validate(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check columns, numeric types, ranges and the label; return typed data."""
    checks.require_columns(raw, SOURCE_COLUMNS, source)
    df = checks.to_numeric(raw, NUMERIC, source)
    for column in CATEGORICAL:
        empty = df[column].isna() | (df[column].astype(str).str.strip() == "")
        if empty.any():
            raise checks.DataError(
                f"{source}: column {column!r} is empty at {checks._lines(df.index[empty])}"
            )
        checks.check_allowed(df, column, LEVELS[column], source)
    for column, (low, high) in RANGES.items():
        checks.check_range(df, column, low, high, source)
    checks.check_allowed(df, LABEL, ["yes", "no"], source)
    return df


def engineer(df: pd.DataFrame, feature_set: str) -> tuple[pd.DataFrame, list[str]]:
    """The workshop's features; returns (label-first table, feature names).

    Column order follows the original notebook: ``pd.get_dummies`` keeps numeric columns first
    (flags appended last), then one block of dummies per categorical column.
    """
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"feature set {feature_set!r}: use one of {', '.join(FEATURE_SETS)}")
    data = df.copy()
    data["no_previous_contact"] = (data["pdays"] == 999).astype(int)  # 999 = never contacted
    data["not_working"] = data["job"].isin(NOT_WORKING_JOBS).astype(int)
    label = (data.pop(LABEL) == "yes").astype(int)
    for column in CATEGORICAL:  # the schema's levels, in the order get_dummies sorts them
        data[column] = pd.Categorical(data[column], categories=LEVELS[column])
    encoded = pd.get_dummies(data, columns=CATEGORICAL, dtype=int)
    encoded = encoded.drop(columns=FEATURE_SETS[feature_set])
    features = list(encoded.columns)
    return pd.concat([label.rename(LABEL), encoded], axis=1), features


def split_workshop(
    table: pd.DataFrame, seed: int = 1729, train: float = 0.7, validation: float = 0.2
) -> dict[str, pd.DataFrame]:
    """The workshop's shuffle-and-cut split (70/20/10 by default).

    Same rows as the original ``np.split(df.sample(frac=1, random_state=1729),
    [int(0.7 * len(df)), int(0.9 * len(df))])``, written with ``iloc`` because ``np.split``
    on a DataFrame no longer works in pandas 3.
    """
    if not (0 < train < 1 and 0 <= validation < 1 and train + validation < 1):
        raise ValueError("need 0 < train, 0 <= validation and train + validation < 1")
    shuffled = table.sample(frac=1, random_state=seed)
    first, second = int(train * len(table)), int((train + validation) * len(table))
    return {
        "train": shuffled.iloc[:first],
        "validation": shuffled.iloc[first:second],
        "test": shuffled.iloc[second:],
    }
