"""Module 2, exercises.

1. Which weather brings the fewest rentals? Ask Athena in SQL, check the answer with pandas.
2. A ``rush_hour`` feature: 1 for the commuters' hours (7-9 and 16-19) of working days.
"""

from __future__ import annotations

import pandas as pd
import workshop

WEATHER_SQL = """
SELECT weathersit, COUNT(*) AS hours, AVG(cnt) AS mean_rentals
FROM bike_sharing_hourly
GROUP BY weathersit
ORDER BY weathersit
"""
RUSH_HOURS = (7, 8, 9, 16, 17, 18, 19)


def demand_by_weather(hour: pd.DataFrame) -> pd.DataFrame:
    """Hours and mean rentals per weather situation (1 clear ... 4 heavy rain), from Athena,
    checked against the same question asked of ``hour`` in pandas."""
    from_sql = workshop.athena_query(WEATHER_SQL)
    from_pandas = (
        hour.groupby("weathersit")["cnt"].agg(hours="size", mean_rentals="mean").reset_index()
    )
    pd.testing.assert_frame_equal(
        from_sql.astype({"weathersit": "int64", "hours": "int64"}),
        from_pandas.astype({"weathersit": "int64", "hours": "int64"}),
        check_dtype=False,
    )
    return from_sql


def add_rush_hour(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a ``rush_hour`` column: 1 in the commuters' hours of working days."""
    rush = frame["hr"].isin(RUSH_HOURS) & (frame["workingday"] == 1)
    return frame.assign(rush_hour=rush.astype(int))
