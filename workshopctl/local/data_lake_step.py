"""Local data lake: the vendored files land in ``raw/`` as in the bucket; DuckDB plays Athena.

The tables are declared from the same dataset descriptions the Glue tables are built from, and
the named queries are the very SQL files the stack deploys, so a query that breaks here would
break in Athena too (the tests also parse each one in Athena's dialect).
"""

from __future__ import annotations

import fnmatch
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb

from workshop_spec.datasets import (
    CSV_DATASETS,
    DATA_DIR,
    NAMED_QUERIES,
    NOT_DEPLOYED,
    CsvDataset,
    NamedQuery,
)
from workshopctl.local.workspace import Log, StepReport, Workspace

# Glue (Hive DDL) types → DuckDB types.
_DUCKDB_TYPES = {
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "string": "VARCHAR",
    "date": "DATE",
}


def land_raw_data(raw_root: Path) -> list[Path]:
    """Copy data/ into ``raw_root`` exactly as the stack's BucketDeployment copies it to S3."""
    landed = []
    for source in sorted(DATA_DIR.rglob("*")):
        relative = source.relative_to(DATA_DIR)
        if source.is_dir() or _excluded(relative):
            continue
        target = raw_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            shutil.copyfile(source, target)
        landed.append(target)
    return landed


def _excluded(relative: Path) -> bool:
    return any(
        fnmatch.fnmatch(relative.as_posix(), pattern) or relative.parts[0] == pattern
        for pattern in NOT_DEPLOYED
    )


def connect(raw_root: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per Glue table, over the files in ``raw_root``."""
    connection = duckdb.connect()
    for dataset in CSV_DATASETS:
        connection.execute(_view_sql(dataset, raw_root))
    return connection


def _view_sql(dataset: CsvDataset, raw_root: Path) -> str:
    columns = ", ".join(f"'{c.name}': '{_DUCKDB_TYPES[c.type]}'" for c in dataset.columns)
    location = (raw_root / dataset.raw_prefix).as_posix()
    quote = "'\"'" if dataset.quoted else "''"
    return (
        f"CREATE OR REPLACE VIEW {dataset.table} AS SELECT * FROM read_csv("
        f"'{location}/*', delim='{dataset.delimiter}', quote={quote}, header=true, "
        f"columns={{{columns}}})"
    )


def missing_tables(connection: duckdb.DuckDBPyConnection, sql: str) -> set[str]:
    """Tables ``sql`` reads that ``connection`` does not declare (CTE names are not tables)."""
    declared = connection.execute(
        "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
    ).fetchall()
    # Parsed on an empty connection: on one that has the views, DuckDB 2.0 binds them while it
    # lists the tables, and binding the read_csv views fails there.
    referenced = duckdb.connect().get_table_names(sql, qualified=False)
    return set(referenced) - {row[0] for row in declared}


def run_named_queries(
    connection: duckdb.DuckDBPyConnection, queries: Sequence[NamedQuery] = NAMED_QUERIES
) -> dict[str, list[dict]]:
    """Run every named query whose tables this connection declares; returns rows per name.

    Queries over tables another step declares (the reviews tables: ReviewsStep) are skipped.
    """
    results = {}
    for query in queries:
        if missing_tables(connection, query.sql):
            continue
        cursor = connection.execute(query.sql)
        names = [column[0] for column in cursor.description]
        results[query.name] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return results


def format_rows(rows: list[dict], *, limit: int) -> str:
    """Rows as an aligned text table for the terminal (the HTML report has them all)."""
    if not rows:
        return "      (no rows)"
    names = list(rows[0])
    shown = [[str(row[name]) for name in names] for row in rows[:limit]]
    widths = [max(len(name), *(len(r[i]) for r in shown)) for i, name in enumerate(names)]
    lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in shown]
    if len(rows) > limit:
        lines.append(f"... {len(rows) - limit} more rows in the report")
    return "\n".join("      " + line for line in lines)


class DataLakeStep:
    """Module 2's data engineering start: land the datasets, query them with Athena's SQL."""

    name = "data lake (S3 + Glue + Athena → local folder + DuckDB)"

    def run(self, workspace: Workspace, log: Log) -> StepReport:
        raw = workspace.bucket("raw")
        landed = land_raw_data(raw)
        log(f"landed {len(landed)} files in {raw}")
        connection = connect(raw)
        results = run_named_queries(connection)
        report = StepReport(title="Data lake")
        report.lines.append(f"{len(landed)} files in {raw} (the raw bucket's layout)")
        for name, rows in results.items():
            log(f"named query {name}: {len(rows)} rows\n{format_rows(rows, limit=8)}")
            report.tables[f"named query: {name}"] = rows
        return report
