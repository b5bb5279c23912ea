"""Module 4, exercise: a dashboard refreshes "ratings of one category" every 5 minutes. What
does a month of it cost on the text table, and on the Parquet table filtered on the partition?
"""

from __future__ import annotations

import boto3
import pandas as pd
import workshop

DASHBOARD_SQL = """
SELECT star_rating, COUNT(*) AS reviews
FROM {table}
WHERE product_category = '{category}'
GROUP BY star_rating
"""


def dashboard_cost(category: str = "Dresses", refreshes_per_day: int = 24 * 12) -> pd.DataFrame:
    """Bytes scanned per refresh (Athena's DataScannedInBytes) and the cost of 30 days of
    refreshes, for the query on ``reviews_tsv`` and on ``reviews_parquet``."""
    env = workshop.environment()
    athena = boto3.client("athena", region_name=env.region)
    rows = []
    for table in ("reviews_tsv", "reviews_parquet"):
        answer = workshop.athena_query(DASHBOARD_SQL.format(table=table, category=category))
        query_id = answer.attrs["query_execution_id"]
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        scanned = execution["Statistics"]["DataScannedInBytes"]
        per_query = workshop.athena_query_cost(scanned)["usd"]
        rows.append(
            {
                "table": table,
                "reviews": int(answer["reviews"].sum()),
                "bytes scanned": scanned,
                "USD per refresh": per_query,
                "USD per 30 days": per_query * refreshes_per_day * 30,
            }
        )
    return pd.DataFrame(rows)
