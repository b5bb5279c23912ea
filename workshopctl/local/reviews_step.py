"""Module 4 locally: generate the reviews, run the Spark ETL, query Parquet and TSV with DuckDB.

The step does what the deployed module does, with the same programs and SQL:

1. ``training_code.reviews.generate`` writes the raw TSV files into the raw bucket
   (``reviews/tsv/``), as the Glue table ``reviews_tsv`` reads them;
2. ``training_code.reviews.etl`` (the Glue job's script) runs on local pyspark into the curated
   bucket: Parquet under ``reviews/parquet/product_category=<name>/``, rejected rows under
   ``reviews/quarantine/``, counts in ``reviews/etl-summary.json``;
3. DuckDB plays Athena: views ``reviews_parquet`` and ``reviews_tsv`` declared like the Glue
   tables run every ``queries/reviews_*.sql`` file, once over the Parquet files and once over
   the raw TSV (the same SQL text, with ``reviews_parquet`` bound to the TSV by a CTE that adds
   the ``year`` column the ETL derives).

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
from training_code.reviews.generate import DEFAULT_SEED
from workshop_artifacts.programs import run_program
from workshop_spec.datasets import QUERIES_DIR
from workshopctl.local.data_lake_step import format_rows
from workshopctl.local.workspace import Log, Metric, StepReport, Workspace

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


def _shortened(rows: list[dict]) -> list[dict]:
    def short(value):
        if isinstance(value, str) and len(value) > REPORT_TEXT_CHARS:
            return value[: REPORT_TEXT_CHARS - 1] + "…"
        return value

    return [{k: short(v) for k, v in row.items()} for row in rows[:REPORT_ROWS]]


class ReviewsStep:
    """Module 4: reviews data set → Spark ETL → Parquet, queried like Athena, bytes compared."""

    name = "reviews"

    def __init__(self, scale: float = LOCAL_SCALE, seed: int = DEFAULT_SEED) -> None:
        self.scale = scale
        self.seed = seed

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        raw, curated = workspace.bucket("raw"), workspace.bucket("curated")
        log(f"reviews: generate scale {self.scale:g} (seed {self.seed}) into the raw bucket")
        run_program(
            "training_code.reviews.generate",
            ["--scale", self.scale, "--seed", self.seed, "--output", raw],
            log,
        )
        summary_path = curated / schema.SUMMARY_KEY
        log("reviews: Spark ETL (the Glue job's script) on local pyspark")
        run_program(
            "training_code.reviews.etl",
            ["--source", raw / schema.RAW_PREFIX, "--target", curated / schema.CURATED_PREFIX,
             "--quarantine", curated / schema.QUARANTINE_PREFIX, "--summary", summary_path],
            log,
        )  # fmt: skip
        etl = json.loads(summary_path.read_text())
        comparisons = compare_queries(connect_reviews(raw, curated))
        return self._report(etl, comparisons, raw, curated, summary_path, log)

    def _report(self, etl, comparisons, raw, curated, summary_path, log) -> StepReport:
        report = StepReport(title="Reviews (module 4): Spark ETL, Parquet vs raw TSV")
        report.lines += [
            f"{etl['rows_in']:,} reviews in {raw / schema.RAW_PREFIX} (scale {self.scale:g})",
            f"ETL: {etl['rows_out']:,} rows to {curated / schema.CURATED_PREFIX}, "
            f"{etl['rows_quarantined']:,} quarantined in {curated / schema.QUARANTINE_PREFIX}",
            "bytes read = DuckDB's file-system reads per query (Athena's 'data scanned'); the raw "
            "TSV has no partitions or columns to skip; a LIMIT without a filter stops early; "
            f"the query tables show the first {REPORT_ROWS} rows",
        ]
        report.metrics += [
            Metric("reviews ETL rows quarantined (generated data)", etl["rows_quarantined"],
                   "== 0", etl["rows_quarantined"] == 0),
            Metric("reviews ETL rows/s (local pyspark, cold JVM)", etl["rows_per_second"] or 0),
        ]  # fmt: skip
        bytes_rows = []
        for comparison in comparisons:
            bytes_rows.append({
                "query": comparison.name,
                "rows": len(comparison.parquet.rows),
                "parquet_bytes": comparison.parquet.bytes_read,
                "tsv_bytes": comparison.tsv.bytes_read,
                "tsv / parquet": float(f"{comparison.ratio:.3g}"),
            })  # fmt: skip
            if comparison.name in TARGETED_QUERIES:
                report.metrics.append(
                    Metric(
                        f"bytes read TSV/Parquet, {comparison.name} "
                        f"({TARGETED_QUERIES[comparison.name]})",
                        comparison.ratio, f">= {BYTES_RATIO_TARGET:.0f}",
                        comparison.ratio >= BYTES_RATIO_TARGET,
                    )
                )  # fmt: skip
            report.tables[f"named query: {comparison.name}"] = _shortened(comparison.parquet.rows)
            log(f"named query {comparison.name}: {len(comparison.parquet.rows)} rows\n"
                f"{format_rows(_shortened(comparison.parquet.rows)[:5], limit=5)}")  # fmt: skip
        report.tables["reviews: bytes read per query (DuckDB profiler)"] = bytes_rows
        log(f"bytes read, Parquet vs raw TSV:\n{format_rows(bytes_rows, limit=len(bytes_rows))}")
        report.artifacts.append(summary_path)
        return report
