"""Bike sharing: the schema of hour.csv, its checks, and the features built from it.

Columns ``casual`` and ``registered`` are checked but never become features: they add up to the
target ``cnt``, so any model given them would "predict" the answer it was handed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training_code import datachecks as checks

SOURCE_COLUMNS = [
    "instant", "dteday", "season", "yr", "mnth", "hr", "holiday", "weekday", "workingday",
    "weathersit", "temp", "atemp", "hum", "windspeed", "casual", "registered", "cnt",
]  # fmt: skip
# Inclusive ranges from the UCI description; temperatures etc. are normalised to [0, 1].
RANGES = {
    "instant": (1, np.inf), "season": (1, 4), "yr": (0, 1), "mnth": (1, 12), "hr": (0, 23),
    "holiday": (0, 1), "weekday": (0, 6), "workingday": (0, 1), "weathersit": (1, 4),
    "temp": (0, 1), "atemp": (0, 1), "hum": (0, 1), "windspeed": (0, 1),
    "casual": (0, np.inf), "registered": (0, np.inf), "cnt": (0, np.inf),
}  # fmt: skip
TARGET = "cnt"
ID_COLUMN = "dteday"  # kept in the prepared files for plots and split checks, never a feature
# The dataset's first day: the origin of the growth trend, fixed so that any slice of the data
# gets the same feature values.
TREND_ORIGIN = pd.Timestamp("2011-01-01")
FEATURES = [
    "hr", "weekday", "mnth", "yr", "season", "holiday", "workingday", "holiday_period",
    "days_since_start", "weathersit", "weather_prev_hour", "weather_max_3h",
    "temp", "atemp", "hum", "windspeed",
]  # fmt: skip


def validate(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check schema, types, ranges, consistency and uniqueness; return typed data."""
    checks.require_columns(raw, SOURCE_COLUMNS, source)
    df = checks.to_numeric(raw, [c for c in SOURCE_COLUMNS if c != "dteday"], source)
    dates = pd.to_datetime(df["dteday"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        bad = df.index[dates.isna()]
        raise checks.DataError(
            f"{source}: column 'dteday' is not a YYYY-MM-DD date at {checks._lines(bad)}"
        )
    df["dteday"] = dates
    for column, (low, high) in RANGES.items():
        checks.check_range(df, column, low, high, source)
    mismatch = df["casual"] + df["registered"] != df["cnt"]
    if mismatch.any():
        raise checks.DataError(
            f"{source}: column 'cnt' differs from casual + registered at "
            f"{checks._lines(df.index[mismatch])}"
        )
    checks.check_unique(df, ["instant"], source)
    checks.check_unique(df, ["dteday", "hr"], source)
    return df


def holiday_period(dates: pd.Series) -> pd.Series:
    """1 on days most offices close although the source's federal calendar says work day.

    The source flags federal holidays only; Christmas Eve to New Year and the Friday after
    Thanksgiving behave like holidays too. These dates are known a year ahead, so using them
    is no leak.
    """
    month, day = dates.dt.month, dates.dt.day
    christmas_to_new_year = ((month == 12) & (day >= 24)) | ((month == 1) & (day == 1))
    friday_after_thanksgiving = (
        (month == 11) & (dates.dt.day_of_week == 4) & (day >= 23) & (day <= 29)
    )
    return (christmas_to_new_year | friday_after_thanksgiving).astype(int)


def weather_context(df: pd.DataFrame) -> pd.DataFrame:
    """Weather of the previous hour and the worst of the last three hours.

    Rain that just stopped still keeps riders away. Weather is observed (or forecast) before
    the hour it describes, so these use no future information. Hours missing from the file
    (no rentals recorded) carry the last known weather forward.
    """
    stamps = df["dteday"] + pd.to_timedelta(df["hr"], unit="h")
    weather = pd.Series(df["weathersit"].to_numpy(), index=stamps).sort_index()
    hourly = weather.resample("h").mean().ffill()
    previous = hourly.shift(1).reindex(stamps).to_numpy()
    worst_3h = hourly.rolling(3, min_periods=1).max().reindex(stamps).to_numpy()
    current = df["weathersit"].to_numpy()
    return pd.DataFrame(
        {
            "weather_prev_hour": np.where(np.isnan(previous), current, previous),
            "weather_max_3h": worst_3h,
        },
        index=df.index,
    )


def build_features(df: pd.DataFrame) -> pd.DataFrame:
    """The model table: ``dteday`` (id), the FEATURES, and the target ``cnt``."""
    period = holiday_period(df["dteday"])
    out = df[["dteday", *[c for c in FEATURES if c in df.columns]]].copy()
    out["holiday_period"] = period
    # A day in the holiday period is a holiday and no working day, whatever the federal
    # calendar says.
    out["holiday"] = df["holiday"].where(period == 0, 1)
    out["workingday"] = df["workingday"].where(period == 0, 0)
    out["days_since_start"] = (df["dteday"] - TREND_ORIGIN).dt.days
    out = out.join(weather_context(df))
    out["dteday"] = df["dteday"].dt.strftime("%Y-%m-%d")
    out[TARGET] = df[TARGET]
    return out[[ID_COLUMN, *FEATURES, TARGET]]


def split_kaggle(
    table: pd.DataFrame, validation_from_day: int = 15, test_from_day: int = 20
) -> dict[str, pd.DataFrame]:
    """Kaggle's split: days 1-19 of each month train, day 20 on test.

    The validation set is the last days of the train period (15-19 by default): it sits right
    before the test days, as the test sits at the month's end.
    """
    if not 1 < validation_from_day <= test_from_day <= 31:
        raise ValueError("need 1 < validation_from_day <= test_from_day <= 31")
    day = pd.to_datetime(table[ID_COLUMN]).dt.day
    parts = {
        "train": table[day < validation_from_day],
        "validation": table[(day >= validation_from_day) & (day < test_from_day)],
        "test": table[day >= test_from_day],
    }
    return {name: part.reset_index(drop=True) for name, part in parts.items()}


def feature_columns(table: pd.DataFrame) -> list[str]:
    """The feature columns of a prepared table: everything but the id and the target."""
    return [c for c in table.columns if c not in (ID_COLUMN, TARGET)]
