"""Module 4's storage question, measured on files: how many bytes each named query reads
from the ETL's Parquet and from the raw TSV (the reviews benchmark, bench/reviews_etl.py, and
the query tests use it; the rehearsal's Athena reports ``DataScannedInBytes`` the same way).

DuckDB stands in for Athena over a folder of raw TSV files and the ETL's Parquet output: views
``reviews_parquet`` and ``reviews_tsv`` declared like the Glue tables run every
``queries/reviews_*.sql`` file, once over the Parquet files and once over the raw TSV (the same
SQL text, with ``reviews_parquet`` bound to the TSV by a CTE that adds the ``year`` column the
ETL derives).

How bytes read are measured: DuckDB's profiler counts every byte its file system reads for a
query (``io.total_bytes_read``), after it has pruned partitions (``product_category = ...``
opens only that folder's files), projected columns (only the column chunks a query uses) and
skipped row groups by their statistics. That is the quantity Athena bills as "data scanned".
Its external-file cache does not hold local files, so repeated runs read the same bytes. A text
table has no partitions, columns or statistics to skip by, so its queries read every byte of
every file (the CSV sniffer is off: it would read each file twice). Queries with ``LIMIT`` and
no filter may stop early on both sides; DuckDB reads whole Parquet row groups, so such a
query reads more from Parquet than from the first few lines of a text file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from training_code.reviews import schema
from workshop_spec.datasets import QUERIES_DIR

LOCAL_SCALE = 1.0  # the real 23,486 reviews: the ETL takes ~10 s, the JVM's start included
BYTES_RATIO_TARGET = 10.0
# The queries the bytes target applies to, and what lets Parquet skip bytes there. Not the
# low-rated bodies: review_body is ~80 % of the data, so projecting it saves little and Snappy
# compresses text ~1.7x (it reads ~2.3x fewer bytes); nor the LIMIT sample, which stops early.
TARGETED_QUERIES = {
    "reviews_low_rated_in_category": "partition pruning + column projection",
    "reviews_top_products_by_rating": "column projection (no text columns)",
}
REPORT_ROWS = 10
REPORT_TEXT_CHARS = 160

_DUCKDB_TYPES = {"string": "VARCHAR", "int": "INTEGER", "date": "DATE", "boolean": "BOOLEAN"}


def reviews_queries() -> dict[str, str]:
    """The module's named queries: ``queries/reviews_*.sql``, by file stem."""
    return {
        path.stem: path.read_text().strip() for path in sorted(QUERIES_DIR.glob("reviews_*.sql"))
    }


def connect_reviews(raw_root: Path, curated_root: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB with ``reviews_parquet`` (curated, hive-partitioned) and ``reviews_tsv`` (raw)
    declared like the Glue tables, over the files in the two bucket folders."""
    connection = duckdb.connect()
    parquet = (curated_root / schema.CURATED_PREFIX).as_posix()
    connection.execute(
        f"CREATE OR REPLACE VIEW {schema.CURATED_TABLE} AS SELECT * FROM read_parquet("
        f"'{parquet}/*/*.parquet', hive_partitioning=true, "
        f"hive_types={{'{schema.PARTITION_COLUMN.name}': 'VARCHAR'}})"
    )
    columns = ", ".join(f"'{c.name}': '{_DUCKDB_TYPES[c.type]}'" for c in schema.RAW_COLUMNS)
    tsv = (raw_root / schema.RAW_PREFIX).as_posix()
    # As the table's LazySimpleSerDe reads them: tab-separated, no quoting, no escapes, and an
    # empty field is an empty string (only \\N is NULL).
    connection.execute(
        f"CREATE OR REPLACE VIEW {schema.RAW_TABLE} AS SELECT * FROM read_csv("
        f"'{tsv}/{schema.tsv_file_name('*')}*', delim='\\t', quote='', escape='', header=true, "
        f"nullstr='\\N', auto_detect=false, columns={{{columns}}})"
    )
    return connection


def over_raw_tsv(sql: str) -> str:
    """The same query text with ``reviews_parquet`` bound to the raw TSV table."""
    return (
        f"WITH {schema.CURATED_TABLE} AS "
        f"(SELECT *, CAST(year(review_date) AS INTEGER) AS year FROM {schema.RAW_TABLE})\n{sql}"
    )


@dataclass(frozen=True)
class QueryRun:
    rows: list[dict]
    bytes_read: int


def run_measured(connection: duckdb.DuckDBPyConnection, sql: str) -> QueryRun:
    """Run ``sql``; returns its rows and the bytes DuckDB's file system read for it."""
    connection.execute("PRAGMA enable_profiling='no_output'")
    try:
        cursor = connection.execute(sql)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        profile = json.loads(connection.get_profiling_information(format="json"))
    finally:
        connection.execute("PRAGMA disable_profiling")
    return QueryRun(rows=rows, bytes_read=int(profile["io"]["total_bytes_read"]))


@dataclass(frozen=True)
class QueryComparison:
    name: str
    parquet: QueryRun
    tsv: QueryRun

    @property
    def ratio(self) -> float:
        """How many times more bytes the raw TSV query read than the Parquet one."""
        return self.tsv.bytes_read / max(self.parquet.bytes_read, 1)


def compare_queries(connection: duckdb.DuckDBPyConnection) -> list[QueryComparison]:
    """Every reviews query over Parquet and over the raw TSV, with the bytes each read."""
    return [
        QueryComparison(
            name=name,
            parquet=run_measured(connection, sql),
            tsv=run_measured(connection, over_raw_tsv(sql)),
        )
        for name, sql in reviews_queries().items()
    ]
