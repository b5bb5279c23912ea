"""Module 1, exercise: how big is each table of the data lake in S3, and what would one query that
reads all of it cost in Athena?

Why it matters: Athena bills the bytes a query reads, so the size of a table's files is the most
a query over it can cost; the 10 MB minimum per query makes small tables cost the same.
"""

from __future__ import annotations

import boto3
import pandas as pd
import workshop


def table_sizes() -> pd.DataFrame:
    """One row per Glue table: its files, their size, and the price of a full scan."""
    env = workshop.environment()
    s3 = boto3.client("s3", region_name=env.region)
    rows = []
    for table in workshop.tables().to_dict("records"):
        bucket, _, prefix = table["location"].removeprefix("s3://").partition("/")
        sizes = [
            item["Size"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        rows.append(
            {
                "table": table["table"],
                "files": len(sizes),
                "MB": sum(sizes) / workshop.MB,
                "USD per full scan": workshop.athena_query_cost(sum(sizes))["usd"],
            }
        )
    return pd.DataFrame(rows).sort_values("MB", ascending=False, ignore_index=True)
